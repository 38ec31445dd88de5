"""Reading ZIP archives (.docx, .odt, .qdpx) and the XML inside them, safely.

Files researchers are given may be damaged or hostile: an archive may declare millions of members,
decompress into gigabytes (a zip bomb), be encrypted or truncated; its XML may declare entities that
expand without end, or an encoding that does not exist. Everything here refuses those with one
:class:`InputError` line naming the file, within fixed limits of memory and time.
"""

from __future__ import annotations

import lzma
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .errors import InputError

#: Largest uncompressed XML part read from a .docx/.odt archive: a larger one is refused (zip bombs).
MAX_XML_BYTES = 64 * 1024 * 1024
#: Largest file read at all.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Most members a .docx/.odt/.qdpx archive may hold: a Word file has a few dozen, a REFI-QDA project one
#: per source; listing millions of them would take gigabytes before a single byte is read.
MAX_ZIP_MEMBERS = 50_000
#: Largest list of members read (the central directory): 8 MiB is some 60,000 members of a real
#: project, and at most 180,000 of the smallest possible ones, listed in about a second.
MAX_ZIP_DIRECTORY_BYTES = 8 * 2**20
_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CHUNK = 1024 * 1024
#: What the zipfile module raises on a damaged archive (names that are not UTF-8, corrupt streams...).
ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError, zlib.error, lzma.LZMAError)


def _declared_directory(handle: IO[bytes]) -> tuple[int, int] | None:
    """The member count and central directory size a ZIP archive declares, read from its end
    records as zipfile reads them, without parsing the directory (``None`` when there is no end
    record: zipfile then says what is wrong)."""
    size = handle.seek(0, 2)
    if size < _EOCD.size:
        return None
    handle.seek(size - _EOCD.size)
    tail = handle.read(_EOCD.size)
    at = 0
    if not (tail.startswith(b"PK\x05\x06") and tail.endswith(b"\0\0")):  # a comment follows the record
        start = max(size - _EOCD.size - 0xFFFF - 1, 0)
        handle.seek(start)
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            return None
    record_at = size - len(tail) + at
    members, directory_size = _EOCD.unpack_from(tail, at)[4:6]
    # a ZIP64 record and its locator, when present, stand just before: zipfile reads them there
    if record_at >= _ZIP64_LOCATOR.size + _ZIP64_EOCD.size:
        handle.seek(record_at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size)
        zip64, locator = handle.read(_ZIP64_EOCD.size), handle.read(_ZIP64_LOCATOR.size)
        if locator.startswith(b"PK\x06\x07") and zip64.startswith(b"PK\x06\x06"):
            members, directory_size = _ZIP64_EOCD.unpack(zip64)[7:9]
    return members, directory_size


def open_archive(path: Path) -> zipfile.ZipFile:
    """A .docx, .odt or .qdpx file as a ZIP archive, refused before its directory is read when it is
    not one, is larger than :data:`MAX_FILE_BYTES`, or declares more than :data:`MAX_ZIP_MEMBERS`
    members or a directory larger than :data:`MAX_ZIP_DIRECTORY_BYTES` (each member listed costs
    memory and time)."""
    kind = path.suffix or "ZIP"
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            if size > MAX_FILE_BYTES:
                raise InputError(f"{path}: file too large ({size // 2**20} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB)")
            declared = _declared_directory(handle)
        if declared is not None and declared[0] > MAX_ZIP_MEMBERS:
            raise InputError(f"{path}: the archive declares {declared[0]:,} members (the limit is {MAX_ZIP_MEMBERS:,}); refused")
        if declared is not None and declared[1] > MAX_ZIP_DIRECTORY_BYTES:
            raise InputError(f"{path}: the archive's list of members takes {declared[1] // 2**20:,} MiB "
                             f"(the limit is {MAX_ZIP_DIRECTORY_BYTES // 2**20} MiB); refused")
        archive = zipfile.ZipFile(path)
    except InputError:
        raise
    except ZIP_ERRORS:
        raise InputError(f"{path}: not a valid {kind} file (it is not a ZIP archive, or it is truncated)") from None
    if len(archive.infolist()) > MAX_ZIP_MEMBERS:  # a count that lies, in a directory within its bound
        archive.close()
        raise InputError(f"{path}: the archive holds more than {MAX_ZIP_MEMBERS:,} members; refused")
    return archive


def read_member(archive: zipfile.ZipFile, path: Path, name: str) -> bytearray:
    """One member of an open archive, uncompressed, refused past :data:`MAX_XML_BYTES` (zip bombs)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise InputError(f"{path}: not a valid {path.suffix} file (no {name} inside)") from None
    if info.file_size > MAX_XML_BYTES:
        raise InputError(f"{path}: {name} is too large once uncompressed ({info.file_size // 2**20} MiB)")
    if info.flag_bits & 0x1:
        raise InputError(f"{path}: {name} is encrypted (password-protected); save the file without a password")
    data = bytearray()
    try:
        with archive.open(info) as handle:
            # in chunks, so that an archive lying about its sizes is stopped at the limit
            while chunk := handle.read(min(_CHUNK, MAX_XML_BYTES + 1 - len(data))):
                data += chunk
                if len(data) > MAX_XML_BYTES:
                    raise InputError(f"{path}: {name} is too large once uncompressed")
    except ZIP_ERRORS as error:
        raise InputError(f"{path}: damaged archive ({error})") from None
    return data


def zip_part(path: Path, name: str) -> bytearray:
    """One member of the archive at ``path`` (see :func:`read_member`)."""
    with open_archive(path) as archive:
        return read_member(archive, path, name)


def parse_xml(data: bytes, path: Path):
    """The root element of an XML document, parsed without entities or DTDs (defusedxml); any
    parsing or encoding error is an :class:`InputError` naming ``path``, in one line."""
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException:
        raise InputError(f"{path}: the XML declares entities or a DTD, which ethos refuses to expand") from None
    except SafeET.ParseError as error:
        raise InputError(f"{path}: malformed XML ({error})") from None
    except (LookupError, ValueError, UnicodeError) as error:  # an encoding declared that Python lacks or expat refuses
        declared = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([^\"']{0,40})", bytes(data[:200]))
        named = f" '{declared.group(1).decode('ascii', 'replace')}'" if declared else ""
        raise InputError(f"{path}: the XML declares an encoding{named} that cannot be read ({error}); save it again as UTF-8") from None
