"""Decoding text files as researchers have them, and writing files without ever half-writing them."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import InputError

#: Bytes that cp1252 leaves undefined: a file holding them is Latin-1 (ISO-8859-1), not Windows-1252.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def looks_binary(data: bytes) -> bool:
    """True for data no text editor would have written: NUL bytes or many control characters."""
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return len(sample) > 0 and controls / len(sample) > 0.05


def decode_text(data: bytes, *, source: str = "input") -> tuple[str, str]:
    """Decode the bytes of a text file and return ``(text, encoding)``.

    Valid UTF-8 (with or without a byte-order mark) is always read as UTF-8; UTF-16 is recognised by
    its byte-order mark; anything else is Windows-1252 (what Word and Excel write on French Windows),
    or Latin-1 when it holds bytes that Windows-1252 leaves undefined. Binary data is refused.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise InputError(f"{source}: not valid UTF-16 text ({error.reason})") from None
    if looks_binary(data):
        raise InputError(f"{source}: this looks like a binary file, not text")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _CP1252_UNDEFINED.intersection(data):
        return data.decode("latin-1"), "latin-1"
    return data.decode("cp1252"), "cp1252"


def read_text(path: Path) -> tuple[str, str]:
    """Read and decode a text file; see :func:`decode_text`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    return decode_text(data, source=str(path))


def _permissions(path: Path) -> int:
    """An existing file's permissions, else what the user's umask gives a new file (mkstemp's are 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it into place only when the block succeeds.

    Readers of ``path`` see the old file or the new one, never a half-written one; a crash leaves the
    old file untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _permissions(path))
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
