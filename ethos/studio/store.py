"""One annotation file, kept durably while coders work in the studio.

A file is read once into records that keep their raw text, so that the rows the studio does not touch
are written back byte for byte (a coder's file under version control shows a one-line diff per coding),
and in its own dialect: comma or semicolon, byte-order mark or not, its line ends, its encoding.

Every change rewrites the whole file atomically: a temporary file in the same folder, written, flushed
and fsync'd, renamed over the file, then the folder fsync'd. A process killed at any moment leaves the
old file or the new one, never a mixture; temporary files are hidden (``.name.xxxx.tmp``), and every
reader of annotation folders passes hidden files over. Writes hold a lock (a thread lock and an
advisory ``flock`` beside the file, for two studios on one folder), and a file that changed on disk
since it was read is read again before the change is applied: it is never overwritten blindly.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import EthosError
from ..tables import neutralise, restore, sniff_delimiter
from ..text import nfc_field
from ..textio import decode_text

#: Columns of a file the studio creates: the annotation format, then how the coding was made.
NEW_COLUMNS = ("doc_id", "passage_id", "text", "label", "coder", "start", "end", "note", "mode", "coded_at")
#: Columns the studio adds to a coder's existing file (extra columns are allowed by the format).
STUDIO_COLUMNS = ("mode", "coded_at")


class StoreError(EthosError):
    """An annotation file the studio cannot safely rewrite (unreadable, malformed): it is left as it is."""


@dataclass(frozen=True)
class Signature:
    """What a file was when last read or written: a change of any of these means someone else wrote it."""

    size: int
    mtime_ns: int
    inode: int
    sha256: str


def signature(path: Path) -> Signature | None:
    try:
        data = path.read_bytes()
        stat = path.stat()
    except FileNotFoundError:
        return None
    return Signature(stat.st_size, stat.st_mtime_ns, stat.st_ino, hashlib.sha256(data).hexdigest())


def quick_signature(path: Path) -> tuple[int, int, int] | None:
    """Size, modification time and inode: enough to notice a change without reading the file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


@dataclass
class Record:
    """One row of the file: its raw text as read (or as written), and its cells by lower-case column."""

    raw: str
    row: dict
    line: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (nfc_field(self.row.get("doc_id")), nfc_field(self.row.get("passage_id")), nfc_field(self.row.get("coder")))


@dataclass
class AnnotationFile:
    """An annotation file (CSV or JSON Lines) as records that remember their raw text."""

    path: Path
    kind: str = "csv"  # "csv" | "jsonl"
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    newline: str = "\n"
    header: list[str] = field(default_factory=lambda: list(NEW_COLUMNS))
    header_raw: str = ""
    records: list[Record] = field(default_factory=list)
    signature: Signature | None = None

    # --- reading ---------------------------------------------------------------------------------

    @classmethod
    def read(cls, path: Path) -> "AnnotationFile":
        """The file at ``path``; a file that does not exist yet is an empty one of the studio's format."""
        path = Path(path)
        kind = "jsonl" if path.suffix.lower() == ".jsonl" else "csv"
        try:
            data = path.read_bytes()
            stat = path.stat()
        except FileNotFoundError:
            return cls(path, kind, "utf-8" if kind == "jsonl" else "utf-8-sig")
        except OSError as error:
            raise StoreError(f"{path}: cannot be read ({error.strerror or error})") from None
        sig = Signature(stat.st_size, stat.st_mtime_ns, stat.st_ino, hashlib.sha256(data).hexdigest())
        try:
            text, encoding = decode_text(data, source=str(path)) if data else ("", "utf-8-sig" if kind == "csv" else "utf-8")
        except EthosError as error:
            raise StoreError(str(error)) from None
        newline = "\r\n" if "\r\n" in text[:100_000] else "\n"
        file = cls(path, kind, encoding, newline=newline, signature=sig)
        if kind == "jsonl":
            file._parse_jsonl(text)
        elif text.strip():
            file._parse_csv(text)
        return file

    def _parse_jsonl(self, text: str) -> None:
        self.header = []
        for number, line in enumerate(text.splitlines(keepends=True), 1):
            if not line.strip():
                self.records.append(Record(line, {}, number))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as error:
                raise StoreError(f"{self.path}, line {number}: not valid JSON ({error.msg})") from None
            if not isinstance(obj, dict):
                raise StoreError(f"{self.path}, line {number}: each line must be a JSON object")
            row = {str(k).strip().lower(): "" if v is None else (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
                   for k, v in obj.items()}
            self.records.append(Record(line if line.endswith("\n") else line + self.newline, row, number))

    def _parse_csv(self, text: str) -> None:
        first_line = text.split("\n", 1)[0]
        self.delimiter = sniff_delimiter(first_line)
        if self.delimiter not in ",;":
            raise StoreError(f"{self.path}: a single column is not an annotation file")
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for line in io.StringIO(text, newline=""):
                consumed.append(line)
                yield line

        reader = csv.reader(lines(), delimiter=self.delimiter)
        try:
            self.header = next(reader)
            self.header_raw = "".join(consumed)
            consumed.clear()
            columns = [c.strip().lstrip("\ufeff").lower() for c in self.header]
            for cells in reader:
                raw = "".join(consumed)
                consumed.clear()
                number = reader.line_num
                if not any(cell.strip() for cell in cells):
                    self.records.append(Record(raw, {}, number))
                    continue
                cells = cells + [""] * (len(columns) - len(cells))
                self.records.append(Record(raw, dict(zip(columns, (restore(cell) for cell in cells))), number))
        except csv.Error as error:
            raise StoreError(f"{self.path}, line {reader.line_num}: malformed CSV ({error})") from None
        if self.records and not self.records[-1].raw.endswith(("\n", "\r")):
            self.records[-1].raw += self.newline

    # --- what it holds -------------------------------------------------------------------------

    @property
    def columns(self) -> list[str]:
        return [c.strip().lstrip("\ufeff").lower() for c in self.header]

    def rows(self) -> Iterator[tuple[int, dict]]:
        for record in self.records:
            if record.row:
                yield record.line, record.row

    def coders(self) -> set[str]:
        return {record.key[2] for record in self.records if record.row}

    def find(self, key: tuple[str, str, str]) -> dict | None:
        for record in self.records:
            if record.row and record.key == key:
                return dict(record.row)
        return None

    # --- changing it ---------------------------------------------------------------------------

    def upsert(self, row: dict) -> dict | None:
        """Put ``row`` in place of the row of the same (doc_id, passage_id, coder), else at the end;
        returns the row it replaced. Duplicates of that row are removed (one row per coder and passage)."""
        new = Record("", dict(row))
        self._ensure_columns(row)
        new.raw = self._serialise(new.row)
        previous = None
        kept = []
        for record in self.records:
            if record.row and record.key == new.key:
                if previous is None:
                    previous = dict(record.row)
                    kept.append(new)
                continue
            kept.append(record)
        if previous is None:
            kept.append(new)
        self.records = kept
        return previous

    def remove(self, key: tuple[str, str, str]) -> dict | None:
        """Take the row of ``key`` out; returns it (None when there was none)."""
        previous = None
        kept = []
        for record in self.records:
            if record.row and record.key == key:
                previous = previous or dict(record.row)
                continue
            kept.append(record)
        self.records = kept
        return previous

    def _ensure_columns(self, row: dict) -> None:
        if self.kind == "jsonl":
            return
        missing = [column for column in row if column not in self.columns]
        if missing or not self.header_raw:
            self.header = list(self.header) + missing
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.newline).writerow(self.header)
            self.header_raw = buffer.getvalue()

    def _serialise(self, row: dict) -> str:
        if self.kind == "jsonl":
            record = {k: (int(v) if k in ("start", "end") and str(v).lstrip("-").isdigit() else v) for k, v in row.items()}
            return json.dumps(record, ensure_ascii=False) + "\n"
        cells = [neutralise(row.get(column, "")) for column in self.columns]
        buffer = io.StringIO()
        quoting = csv.QUOTE_ALL if any("\r" in cell for cell in cells) else csv.QUOTE_MINIMAL
        csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.newline, quoting=quoting).writerow(cells)
        return buffer.getvalue()

    def render(self) -> bytes:
        text = self.header_raw + "".join(record.raw for record in self.records)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError:
            # a note with a character Windows-1252 lacks: the file becomes UTF-8 (with a BOM, which Excel reads)
            self.encoding = "utf-8-sig"
            return text.encode(self.encoding)

    def save(self) -> None:
        """Write the file durably (see :func:`durable_write`) and remember what is on disk now."""
        data = self.render()
        durable_write(self.path, data)
        stat = self.path.stat()
        self.signature = Signature(stat.st_size, stat.st_mtime_ns, stat.st_ino, hashlib.sha256(data).hexdigest())


def fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every system
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def durable_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` so that a crash at any moment leaves the old file or the new one:
    a hidden temporary file beside it, fsync'd, renamed over it, and the folder fsync'd."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_folder(path.parent)


def sweep_temporary_files(folder: Path) -> list[Path]:
    """Temporary files a killed studio left in ``folder`` (never read by anyone): removed."""
    removed = []
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed.append(leftover)
    return removed


_thread_locks: dict[Path, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive right to rewrite ``path``: a lock per file within this process, and an advisory
    ``flock`` on a hidden file beside it against other processes (released by the system if the
    process dies, so a killed studio leaves no stale lock)."""
    path = Path(path).resolve()
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(path, threading.Lock())
    with lock:
        try:
            import fcntl
        except ImportError:  # Windows: the thread lock alone
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / f".{path.name}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
