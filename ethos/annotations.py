"""Annotation files: who coded which passage with which label.

Files are CSV (comma or semicolon, with or without BOM) or JSONL, one row per coding decision, with
at least ``doc_id``, ``passage_id``, ``text``, ``label``, ``coder`` (optional ``start``, ``end``,
``note``, and ``layer``, the layer of the corpus a passage belongs to when it is not its interview's). A passage is identified by ``(doc_id, passage_id)``; the coder ``gold`` holds adjudicated
labels. Nothing here ever writes to an annotation file.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .codebook import CORE_LABELS
from .errors import AnnotationError, InputError
from .tables import TABLE_SUFFIXES, read_rows
from .text import fold, nfc, nfc_field

#: The labels training needs (the codebook may add others).
LABELS = CORE_LABELS
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
    #: The layer of the corpus the passage belongs to, when the file says so (else the metadata's).
    layer: str = ""

    @property
    def unit(self) -> tuple[str, str]:
        return (self.doc_id, self.passage_id)


def is_scratch_file(path: Path) -> bool:
    """Hidden files, and the owner files Word and Excel leave beside a document they have open
    (``~$ent04.docx``), which hold no text: a folder's listing passes over them."""
    return path.name.startswith((".", "~$"))


def annotation_files(paths: Sequence[Path]) -> list[Path]:
    """The annotation files named, a folder standing for every .csv and .jsonl below it."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and not is_scratch_file(p))
            if not found:
                raise AnnotationError(f"{path}: no annotation files (.csv, .jsonl) in this folder")
            files.extend(found)
        elif not path.exists():
            raise AnnotationError(f"{path}: no such file or folder")
        else:
            files.append(path)
    return files


def read_codings(paths: Sequence[Path], labels: Sequence[str] = LABELS, aliases: Mapping[str, str] | None = None) -> list[Coding]:
    """Every coding decision in the files, checked: known labels, required columns, no coder giving
    two labels to one passage. Errors name the file and line. ``aliases`` (folded spelling -> label,
    see :attr:`ethos.codebook.Codebook.aliases`) are other names for the labels. Codings of the same
    span of an interview (same ``doc_id``, ``start``, ``end`` and words) are of one passage, under the
    ``passage_id`` first read for it, when their texts agree."""
    codings: list[Coding] = []
    seen: dict[tuple[str, str, str], Coding] = {}
    spans: dict[tuple[str, int, int, str], str] = {}
    # a label's own name wins over another label's title
    allowed = {alias: label for alias, label in (aliases or {}).items() if label in labels} | {label: label for label in labels}
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
            if coding.start is not None and coding.end is not None and _letters(coding.text):
                # the same span of the same words is the same passage, whatever it is called: `p004`
                # in a file from `ethos suggest`, `s135-287` once coded in QDA software and imported back
                known = spans.setdefault((coding.doc_id, coding.start, coding.end, _letters(coding.text)), coding.passage_id)
                if known != coding.passage_id:
                    coding = dataclasses.replace(coding, passage_id=known)
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
    _warn_about_mismatches(codings)
    return codings


#: Coders that are not people: the model's predictions, as ``score --format qdpx`` and ``agreement --model`` name them.
MACHINE_CODERS = ("ethos", "model")


def _letters(text: str) -> str:
    """A passage's words without case, spacing, punctuation or typography, to compare two copies of it."""
    return "".join(character for character in nfc(text).casefold() if character.isalnum())


def _warn_about_mismatches(codings: Sequence[Coding]) -> None:
    texts: dict[tuple[str, str], tuple[str, Coding]] = {}
    differing: dict[tuple[str, str], tuple[Coding, Coding]] = {}
    for coding in codings:
        text = _letters(coding.text)
        if not text:
            continue
        first = texts.setdefault(coding.unit, (text, coding))
        if first[0] != text:
            differing.setdefault(coding.unit, (first[1], coding))
    pairs = list(differing.values())
    if pairs:
        shown = ", ".join(f"({a.doc_id}, {a.passage_id}) in {a.source} and {b.source}" for a, b in pairs[:3])
        warnings.warn(f"{len(pairs)} passage{'s have' if len(pairs) > 1 else ' has'} different texts under the same doc_id and passage_id: {shown}"
                      f"{' …' if len(pairs) > 3 else ''}; they are compared as one passage: check that the files were cut the same way",
                      stacklevel=3)
    machines = [coder for coder in dict.fromkeys(c.coder for c in codings) if coder.lower() in MACHINE_CODERS]
    if machines:
        warnings.warn(f"coder {', '.join(repr(m) for m in machines)} holds a model's predictions, not a person's coding "
                      "(rename the coder once you have checked and corrected them)", stacklevel=3)


def _coding(path: Path, number: int, row: dict, allowed: dict[str, str]) -> Coding:
    def field(name: str) -> str:
        # composed (NFC): « Hélène » typed on a Mac is the same coder, interview and passage
        return nfc_field(row.get(name))

    for name in ("doc_id", "passage_id", "coder", "label"):
        if not field(name):
            raise AnnotationError(f"{path}, line {number}: empty {name}")
    label = allowed.get(field("label").lower()) or allowed.get(fold(field("label")))
    if label is None:
        names = sorted(set(allowed.values()))
        raise AnnotationError(f"{path}, line {number}: unknown label '{field('label')}' (the codebook's labels are {', '.join(names)})")
    return Coding(
        field("doc_id"), field("passage_id"), field("coder"), label, row.get("text") or "", str(path), number,
        _offset(path, number, row, "start"), _offset(path, number, row, "end"), field("note"), field("layer"),
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
