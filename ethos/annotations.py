"""Annotation files: who coded which passage with which label.

Files are CSV (comma or semicolon, with or without BOM) or JSONL, one row per coding decision, with
at least ``doc_id``, ``passage_id``, ``text``, ``label``, ``coder`` (optional ``start``, ``end``,
``note``). A passage is identified by ``(doc_id, passage_id)``; the coder ``gold`` holds adjudicated
labels. Nothing here ever writes to an annotation file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import AnnotationError, InputError
from .tables import TABLE_SUFFIXES, read_rows

LABELS = ("manager", "artisan", "other")
GOLD = "gold"
REQUIRED = ("doc_id", "passage_id", "text", "label", "coder")


@dataclass(frozen=True)
class Coding:
    """One coder's label for one passage, and where it was read."""

    doc_id: str
    passage_id: str
    coder: str
    label: str
    text: str
    source: str
    line: int
    start: int | None = None
    end: int | None = None
    note: str = ""

    @property
    def unit(self) -> tuple[str, str]:
        return (self.doc_id, self.passage_id)


def annotation_files(paths: Sequence[Path]) -> list[Path]:
    """The annotation files named, a folder standing for every .csv and .jsonl below it."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not p.name.startswith("."))
            if not found:
                raise AnnotationError(f"{path}: no annotation files (.csv, .jsonl) in this folder")
            files.extend(found)
        elif not path.exists():
            raise AnnotationError(f"{path}: no such file or folder")
        else:
            files.append(path)
    return files


def read_codings(paths: Sequence[Path], labels: Sequence[str] = LABELS) -> list[Coding]:
    """Every coding decision in the files, checked: known labels, required columns, no coder giving
    two labels to one passage. Errors name the file and line."""
    codings: list[Coding] = []
    seen: dict[tuple[str, str, str], Coding] = {}
    allowed = set(labels)
    for path in annotation_files(paths):
        try:
            rows = read_rows(path)
        except InputError as error:
            raise AnnotationError(str(error)) from None
        if not rows:
            continue
        present = set(rows[0][1])
        missing = [c for c in REQUIRED if c not in present]
        if missing:
            raise AnnotationError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (an annotation file needs {', '.join(REQUIRED)})")
        for number, row in rows:
            coding = _coding(path, number, row, allowed)
            key = (coding.doc_id, coding.passage_id, coding.coder)
            previous = seen.get(key)
            if previous is not None:
                if previous.label != coding.label:
                    raise AnnotationError(
                        f"{path}, line {number}: coder '{coding.coder}' gives passage ({coding.doc_id}, {coding.passage_id}) "
                        f"the label '{coding.label}', but '{previous.label}' in {previous.source}, line {previous.line}"
                    )
                continue
            seen[key] = coding
            codings.append(coding)
    if not codings:
        raise AnnotationError("no coding decisions found in the annotation files")
    return codings


def _coding(path: Path, number: int, row: dict, allowed: set[str]) -> Coding:
    def field(name: str) -> str:
        return (row.get(name) or "").strip()

    for name in ("doc_id", "passage_id", "coder", "label"):
        if not field(name):
            raise AnnotationError(f"{path}, line {number}: empty {name}")
    label = field("label").lower()
    if label not in allowed:
        raise AnnotationError(f"{path}, line {number}: unknown label '{field('label')}' (the codebook's labels are {', '.join(sorted(allowed))})")
    return Coding(
        field("doc_id"), field("passage_id"), field("coder"), label, row.get("text") or "", str(path), number,
        _offset(path, number, row, "start"), _offset(path, number, row, "end"), field("note"),
    )


def _offset(path: Path, number: int, row: dict, name: str) -> int | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # "x", "nan", "inf", "1e999"
        raise AnnotationError(f"{path}, line {number}: {name} must be a whole number, not '{value}'") from None


def coders(codings: Iterable[Coding]) -> list[str]:
    """Coders in order of first appearance."""
    return list(dict.fromkeys(c.coder for c in codings))
