"""Behavioural checks of a model: does its label follow the stance, and only the stance?

A check set is a table (JSON Lines or CSV) of edited passages, one per row:

- ``check_id``: a unique name;
- ``capability``: ``flip`` (a minimal edit that turns the passage's stance around while keeping its
  topic words; ``expected`` is the edited passage's label, coded blind) or an invariance, an edit
  that must not change the label: ``names`` (names, places and numbers swapped), ``convention``
  (another transcription convention), ``fillers`` (hesitations and fillers added or removed),
  ``speaker-label`` (the speaker labels of a transcript restyled);
- ``doc_id``, ``passage_id``: the passage the edit comes from (so that out-of-fold judging knows its interview);
- ``original``: the passage before the edit; ``text``: after it;
- ``expected``: for ``flip``, the label the edited passage should get; empty for invariances, whose
  expectation is "the same label as the original";
- ``format``: ``passage`` (default) or ``transcript`` (``original`` and ``text`` are short transcripts
  with speaker labels, segmented as ``ethos segment`` does; the interviewee's speech is judged);
- optional: ``original_label`` (the original's coded label), ``note``.

A flip *behaves* when the edited passage gets ``expected``; an invariance when the edited passage
gets the label the original gets. Both are judged out-of-fold when the passage's interview is in the
model's training data (by the fold model that did not see it), else by the model itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .cleaning import clean
from .annotations import is_scratch_file
from .errors import InputError

FLIP = "flip"
INVARIANCES = ("names", "convention", "fillers", "speaker-label")
CAPABILITIES = (FLIP,) + INVARIANCES
CHECK_SUFFIXES = (".jsonl", ".csv")
REQUIRED = ("check_id", "capability", "doc_id", "original", "text")


@dataclass(frozen=True)
class CheckItem:
    check_id: str
    capability: str
    doc_id: str
    passage_id: str
    original: str
    text: str
    expected: str | None
    format: str = "passage"
    original_label: str | None = None
    source: str = ""


def check_files(paths: Sequence[Path]) -> list[Path]:
    """The check tables named by ``paths`` (a folder stands for the tables inside it)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CHECK_SUFFIXES and not is_scratch_file(p))
            if not found:
                raise InputError(f"{path}: no check tables in this folder (.jsonl or .csv)")
            files.extend(found)
        elif not path.exists():
            raise InputError(f"{path}: no such file")
        else:
            files.append(path)
    return files


def read_checks(paths: Sequence[Path], labels: Sequence[str]) -> list[CheckItem]:
    """Every check item of the tables under ``paths``; a malformed row is an error naming its file and line."""
    from .tables import read_rows, require_columns

    items, seen = [], {}
    for path in check_files(paths):
        rows = read_rows(path)
        require_columns(path, rows, REQUIRED)
        for number, row in rows:
            where = f"{path}, line {number}"
            field = lambda name: str(row.get(name) or "").strip()  # noqa: E731
            capability = field("capability")
            if capability not in CAPABILITIES:
                raise InputError(f"{where}: unknown capability '{capability}' (one of {', '.join(CAPABILITIES)})")
            expected = field("expected") or None
            if capability == FLIP and expected not in labels:
                raise InputError(f"{where}: a flip needs an expected label, one of {', '.join(labels)} (found '{expected or ''}')")
            if capability != FLIP and expected is not None and expected not in labels:
                raise InputError(f"{where}: unknown expected label '{expected}'")
            fmt = field("format") or "passage"
            if fmt not in ("passage", "transcript"):
                raise InputError(f"{where}: format is 'passage' or 'transcript', not '{fmt}'")
            check_id = field("check_id")
            if not check_id or check_id in seen:
                raise InputError(f"{where}: " + (f"check_id '{check_id}' is also on {seen[check_id]}" if check_id else "empty check_id"))
            seen[check_id] = where
            if not field("original") or not field("text"):
                raise InputError(f"{where}: empty original or text")
            items.append(CheckItem(check_id, capability, field("doc_id"), field("passage_id"), str(row["original"]), str(row["text"]),
                                   expected, fmt, field("original_label") or None, path.name))
    if not items:
        raise InputError("the check tables hold no check")
    return items


def judged_text(item: CheckItem, which: str) -> str:
    """The clean text a model judges for one side of an item (``original`` or ``text``); a transcript
    is segmented and its interviewee's passages joined."""
    raw = item.original if which == "original" else item.text
    if item.format == "passage":
        return clean(raw)
    from .readers import document_from_text
    from .segment import segment

    passages, _ = segment(document_from_text(item.doc_id or "check", raw))
    return " ".join(p.clean for p in passages)


def run_checks(items: Sequence[CheckItem], judges: dict[str, Callable[[list[str]], list[str]]], judge_of: Callable[[CheckItem], str]) -> list[dict]:
    """Each item's labels for its original and its edit, from the judge ``judge_of(item)`` names
    (``judges`` maps a name to a function from clean texts to labels)."""
    by_judge: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_judge.setdefault(judge_of(item), []).append(i)
    results: list[dict | None] = [None] * len(items)
    for name, indices in by_judge.items():
        texts = [judged_text(items[i], side) for i in indices for side in ("original", "text")]
        labels = judges[name](texts)
        for k, i in enumerate(indices):
            item = items[i]
            original, edited = labels[2 * k], labels[2 * k + 1]
            expected = item.expected if item.capability == FLIP else original
            results[i] = {"check_id": item.check_id, "capability": item.capability, "doc_id": item.doc_id, "passage_id": item.passage_id,
                          "judge": name, "original_label": item.original_label, "predicted_original": original,
                          "expected": expected, "predicted": edited, "behaves": edited == expected}
    return results


def check_report(results: Sequence[dict]) -> dict:
    """Per capability: how many items, the share that behave, and the failures."""
    report: dict = {"capabilities": {}, "n_checks": len(results),
                    "out_of_fold": sum(1 for r in results if r["judge"].startswith("fold")),
                    "about": "flip: the edited passage gets its blind-coded label; invariances: the edited passage gets the original's label"}
    for capability in CAPABILITIES:
        rows = [r for r in results if r["capability"] == capability]
        if not rows:
            continue
        entry = {"n": len(rows), "behaves": sum(r["behaves"] for r in rows)}
        entry["share"] = entry["behaves"] / len(rows)
        if capability == FLIP:
            known = [r for r in rows if r["original_label"]]
            both = [r for r in known if r["behaves"] and r["predicted_original"] == r["original_label"]]
            entry["pairs_right"] = {"n": len(known), "both_right": len(both), "share": len(both) / len(known) if known else None}
        entry["failures"] = [{k: r[k] for k in ("check_id", "doc_id", "passage_id", "predicted_original", "expected", "predicted")}
                             for r in rows if not r["behaves"]]
        report["capabilities"][capability] = entry
    return report


def fold_judge_of(folds_docs: Sequence[set[str]], trained_docs: set[str]) -> Callable[[CheckItem], str]:
    """Which model judges an item: ``fold N`` when its interview is in the test set of fold N, else ``model``."""
    def judge(item: CheckItem) -> str:
        if item.doc_id in trained_docs:
            for number, docs in enumerate(folds_docs, 1):
                if item.doc_id in docs:
                    return f"fold {number}"
        return "model"
    return judge


def fold_judges(pipelines: Sequence, labels: Sequence[str]) -> dict[str, Callable[[list[str]], list[str]]]:
    """Judges from fitted fold pipelines: ``fold 1``, ``fold 2``..."""
    from .model.pipeline import decision_scores

    def judge_with(pipeline):
        return lambda texts: [labels[j] for j in np.asarray(decision_scores(pipeline, texts, labels)).argmax(axis=1)]

    return {f"fold {number}": judge_with(pipeline) for number, pipeline in enumerate(pipelines, 1)}
