"""Every annotation file of the data folder, as the studio sees and writes them.

The folder is looked at again before every page and every coding: a file added, removed or changed
by someone else (another command, a text editor, a second studio) is read again, so the studio never
shows stale codings and never writes over a change it has not seen. Each coder writes to a file of
their own (the file that holds only their rows, else a new ``coder_NAME.csv``), and the coder
``gold`` to the file of gold rows (else a new ``gold.csv``): every other command reads them unchanged.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..annotations import GOLD, MACHINE_CODERS, REQUIRED, Coding, is_scratch_file
from ..codebook import Codebook
from ..document import Passage
from ..errors import EthosError
from ..tables import TABLE_SUFFIXES
from ..text import fold, nfc_field
from .store import AnnotationFile, StoreError, file_lock, quick_signature, signature


class CodingConflict(EthosError):
    """A coding the studio refuses to write, because it would contradict a file it does not own."""


@dataclass(frozen=True)
class Entry:
    """One coder's decision on one passage, as the studio shows it."""

    coding: Coding
    mode: str = ""

    def public(self) -> dict:
        return {"coder": self.coding.coder, "label": self.coding.label, "note": self.coding.note, "mode": self.mode,
                "file": Path(self.coding.source).name}


def check_coder_name(name: str) -> str:
    """A coder's name as typed, checked: what an annotation file's ``coder`` cell may hold."""
    name = nfc_field(name)
    if not name:
        raise EthosError("a coder needs a name")
    if len(name) > 64 or not name.isprintable() or name.startswith((".", "~")):
        raise EthosError("a coder's name is at most 64 printable characters, not starting with a dot")
    if name.lower() in MACHINE_CODERS:
        raise EthosError(f"'{name}' names the model's predictions, not a person: choose another name")
    if name.lower() == GOLD:
        raise EthosError("'gold' holds adjudicated labels: set them on the Adjudication page, under your own name")
    return name


def file_slug(coder: str) -> str:
    """A coder's name as part of a file name: ASCII letters, digits, ``-`` and ``_`` (« Zoé » gives ``zoe``)."""
    ascii_name = unicodedata.normalize("NFKD", coder).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9-]+", "_", ascii_name).strip("_").lower()
    return slug or "coder"


class CodingFolder:
    """The annotation files under one folder, indexed by passage, reloaded when they change on disk."""

    def __init__(self, folder: Path, codebook: Codebook):
        self.folder = Path(folder)
        self.codebook = codebook
        allowed = {alias: name for alias, name in codebook.aliases.items() if name in codebook.names}
        self._allowed = allowed | {name: name for name in codebook.names}
        self._lock = threading.RLock()
        self._files: dict[Path, tuple[tuple | None, AnnotationFile | None]] = {}
        self._own: dict[str, Path] = {}
        self.problems: dict[Path, str] = {}
        self.index: dict[tuple[str, str], dict[str, Entry]] = {}
        #: Goes up whenever what the index holds changes (pages use it to know when to refresh).
        self.version = 0
        self.refresh()

    # --- reading ---------------------------------------------------------------------------------

    def _listing(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not is_scratch_file(p)
                      and not any(part.startswith(".") for part in p.relative_to(self.folder).parts))

    def refresh(self) -> bool:
        """Read again the files that changed on disk; True when anything did."""
        with self._lock:
            changed = False
            listing = self._listing()
            for path in list(self._files):
                if path not in listing:
                    del self._files[path]
                    self.problems.pop(path, None)
                    changed = True
            for path in listing:
                quick = quick_signature(path)
                known = self._files.get(path)
                if known is not None and known[0] == quick:
                    continue
                changed = True
                self._load(path, quick)
            if changed:
                self._rebuild()
            return changed

    def _load(self, path: Path, quick: tuple | None) -> None:
        try:
            file = AnnotationFile.read(path)
        except StoreError as error:
            self._files[path] = (quick, None)
            self.problems[path] = str(error)
            return
        missing = [c for c in REQUIRED if c not in file.columns] if file.records else []
        if missing:
            self._files[path] = (quick, None)
            self.problems[path] = f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; the studio leaves this file alone"
            return
        self._files[path] = (quick, file)
        self.problems.pop(path, None)

    def _label(self, value: str) -> str | None:
        value = nfc_field(value)
        return self._allowed.get(value.lower()) or self._allowed.get(fold(value))

    def _rebuild(self) -> None:
        index: dict[tuple[str, str], dict[str, Entry]] = {}
        for path, (_, file) in self._files.items():
            if file is None:
                continue
            unknown = 0
            for line, row in file.rows():
                entry = self._entry(path, line, row)
                if entry is None:
                    unknown += 1
                    continue
                index.setdefault(entry.coding.unit, {}).setdefault(entry.coding.coder, entry)
            if unknown:
                self.problems[path] = f"{path}: {unknown} rows with an empty or unknown label are shown nowhere (the codebook's labels are {', '.join(self.codebook.names)})"
        self.index = index
        self.version += 1

    def _entry(self, path: Path, line: int, row: Mapping[str, str]) -> Entry | None:
        doc_id, passage_id, coder = (nfc_field(row.get(name)) for name in ("doc_id", "passage_id", "coder"))
        label = self._label(row.get("label") or "")
        if not (doc_id and passage_id and coder and label):
            return None

        def offset(name: str) -> int | None:
            try:
                return int(float(row.get(name) or ""))
            except (ValueError, OverflowError):
                return None

        coding = Coding(doc_id, passage_id, coder, label, row.get("text") or "", str(path), line, offset("start"), offset("end"),
                        nfc_field(row.get("note")), nfc_field(row.get("layer")))
        return Entry(coding, nfc_field(row.get("mode")))

    # --- what it holds ---------------------------------------------------------------------------

    def codings(self) -> list[Coding]:
        with self._lock:
            return [entry.coding for coders in self.index.values() for entry in coders.values()]

    def of(self, doc_id: str, passage_id: str) -> dict[str, Entry]:
        with self._lock:
            return dict(self.index.get((doc_id, passage_id), {}))

    def coders(self) -> list[str]:
        with self._lock:
            return sorted({coder for coders in self.index.values() for coder in coders})

    def files(self) -> list[Path]:
        with self._lock:
            return list(self._files)

    def own_file(self, coder: str) -> Path:
        """The file ``coder``'s codings go to: the one file that holds only their rows, else a new one."""
        with self._lock:
            known = self._own.get(coder)
            if known is not None:
                return known
            mine = [path for path, (_, file) in self._files.items()
                    if file is not None and file.coders() == {coder} and not self._holds_copies(file)]
            if mine:
                path = sorted(mine, key=lambda p: (p.suffix.lower() != ".csv", str(p)))[0]
            else:
                stem = GOLD if coder == GOLD else f"coder_{file_slug(coder)}"
                path, n = self.folder / f"{stem}.csv", 1
                while path.exists() and not self._holds_only(path, coder):
                    n += 1
                    path = self.folder / f"{stem}-{n}.csv"
            self._own[coder] = path
            return path

    @staticmethod
    def _holds_copies(file: AnnotationFile) -> bool:
        """Whether a file holds the contrast layer's edited copies (rows of layer ``contrast``): a file a
        script writes (data/scripts/make_checks.py), never one for a coder's new codings."""
        from ..model.data import CONTRAST_LAYER

        return any(nfc_field(row.get("layer")) == CONTRAST_LAYER for _, row in file.rows())

    def _holds_only(self, path: Path, coder: str) -> bool:
        known = self._files.get(path)
        return known is not None and known[1] is not None and known[1].coders() <= {coder}

    # --- writing -------------------------------------------------------------------------------

    def write(self, coder: str, passage: Passage, label: str | None, note: str = "", mode: str = "") -> tuple[dict | None, bool]:
        """Record ``coder``'s ``label`` (None: take their coding out) for ``passage`` in their own file,
        durably, and return the row it replaced and whether the file had changed on disk (and was
        read again first)."""
        if label is not None and label not in self.codebook.names:
            raise EthosError(f"unknown label '{label}' (the codebook's labels are {', '.join(self.codebook.names)})")
        path = self.own_file(coder)
        key = (passage.doc_id, passage.passage_id, coder)
        with file_lock(path):
            with self._lock:
                before = self._files.get(path)
                self.refresh()
                self._refuse_conflicts(path, coder, passage, label)
                known = self._files.get(path)
                if path in self.problems and (known is None or known[1] is None):
                    raise StoreError(self.problems[path])
                file = known[1] if known is not None else None
                # read again since the last look: someone else wrote it (it is merged, never overwritten)
                reloaded = before is not None and before[1] is not None and file is not before[1]
            if file is None or file.signature != signature(path):
                reloaded = reloaded or file is not None
                file = AnnotationFile.read(path)
            if label is None:
                previous = file.remove(key)
            else:
                row = {"doc_id": passage.doc_id, "passage_id": passage.passage_id, "text": passage.text, "label": label, "coder": coder,
                       "start": str(passage.start), "end": str(passage.end), "note": note, "mode": mode,
                       "coded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                previous = file.upsert(row)
            file.save()
            with self._lock:
                self._files[path] = (quick_signature(path), file)
                self.problems.pop(path, None)
                self._own[coder] = path
                self._update(path, file, key, reloaded)
        return previous, reloaded

    def _refuse_conflicts(self, path: Path, coder: str, passage: Passage, label: str | None) -> None:
        elsewhere = self.index.get((passage.doc_id, passage.passage_id), {}).get(coder)
        if elsewhere is not None and Path(elsewhere.coding.source) != path and elsewhere.coding.label != label:
            raise CodingConflict(f"{coder} already coded {passage.doc_id}/{passage.passage_id} as '{elsewhere.coding.label}' in "
                                 f"{elsewhere.coding.source}, a file the studio does not write to: change it there")

    def _update(self, path: Path, file: AnnotationFile, key: tuple[str, str, str], reloaded: bool) -> None:
        if reloaded:
            self._rebuild()
            return
        unit, coder = key[:2], key[2]
        coders = self.index.setdefault(unit, {})
        coders.pop(coder, None)
        for line, row in file.rows():
            if (nfc_field(row.get("doc_id")), nfc_field(row.get("passage_id")), nfc_field(row.get("coder"))) == key:
                entry = self._entry(path, line, row)
                if entry is not None:
                    coders[coder] = entry
                break
        if not coders:
            self.index.pop(unit, None)
        self.version += 1
