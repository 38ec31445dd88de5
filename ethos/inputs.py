"""From the paths a user gives to passages: transcripts are read and segmented, passage tables read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .annotations import is_scratch_file
from .cleaning import clean
from .errors import InputError
from .document import Document, Passage
from .readers import TRANSCRIPT_SUFFIXES, read_transcript
from .segment import SegmentOptions, SegmentStats, segment
from .tables import TABLE_SUFFIXES, read_rows, require_columns
from .text import nfc


@dataclass
class Inputs:
    """Passages read from the user's paths, with the documents and statistics behind them."""

    passages: list[Passage] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict)
    stats: list[SegmentStats] = field(default_factory=list)


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files named by the user; a folder stands for the transcripts directly inside it."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TRANSCRIPT_SUFFIXES and not is_scratch_file(p))
            if not found:
                raise InputError(f"{path}: no transcript files in this folder ({', '.join(TRANSCRIPT_SUFFIXES)})")
            files.extend(found)
        elif not path.exists():
            raise InputError(f"{path}: no such file")
        else:
            files.append(path)
    return files


def read_inputs(paths: Sequence[Path], options: SegmentOptions = SegmentOptions()) -> Inputs:
    """Read every path: transcripts are segmented into passages, passage tables taken as they are."""
    inputs = Inputs()
    seen: dict[str, Path] = {}
    for path in expand_paths(paths):
        if path.suffix.lower() in TABLE_SUFFIXES:
            passages = read_passage_table(path)
        else:
            document = read_transcript(path, options.interviewers + options.speakers)
            passages, stats = segment(document, options)
            inputs.documents[document.doc_id] = document
            inputs.stats.append(stats)
        for doc_id in dict.fromkeys(p.doc_id for p in passages):
            if doc_id in seen and seen[doc_id] != path:
                raise InputError(f"{path}: document '{doc_id}' also comes from {seen[doc_id]}; rename one of the files")
            seen[doc_id] = path
        inputs.passages.extend(passages)
    return inputs


def read_passage_table(path: Path) -> list[Passage]:
    """Passages from a CSV or JSONL table with a ``text`` column (``doc_id``, ``passage_id`` optional)."""
    rows = read_rows(path)
    if not rows:
        raise InputError(f"{path}: the table has no rows")
    require_columns(path, rows, ["text"])
    passages = []
    seen = set()
    for number, row in rows:
        text = row.get("text", "")
        if not text.strip():
            raise InputError(f"{path}, line {number}: empty text")
        doc_id = nfc(row.get("doc_id") or path.stem)
        passage_id = row.get("passage_id") or f"r{number:04d}"
        if (doc_id, passage_id) in seen:
            raise InputError(f"{path}, line {number}: passage ({doc_id}, {passage_id}) appears twice")
        seen.add((doc_id, passage_id))
        start = _int_or_none(row.get("start"))
        end = _int_or_none(row.get("end"))
        passages.append(Passage(doc_id, passage_id, row.get("speaker") or None, text,
                                0 if start is None else start, len(text) if end is None else end, clean(text)))
    return passages


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
