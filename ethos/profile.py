"""Ethos profiles of interviewees, and the test of the dualisation hypothesis.

For each interview (document), the share of its passages given each label, with a percentile
bootstrap interval from resampling its passages with replacement. Resampling ``n`` passages whose
labels have shares ``p`` is drawing label counts from ``Multinomial(n, p)``, so a whole bootstrap is
one vectorised draw per interview.

Interviews are grouped by the ``position`` of the metadata (``siege``: head office; ``proximite``:
close to the field). A group's figure is the mean of its interviews' shares (each interview weighs
the same, however long), with an interval from resampling interviews within the group; the
difference ``siege - proximite`` resamples both groups independently (a stratified cluster
bootstrap). The hypothesis predicts a positive difference for ``manager`` and a negative one for
``artisan``.

Every random draw is seeded by the seed and the name of what is resampled (an interview's doc_id,
a group's position), so an interview's interval does not change when other interviews are added.
"""

from __future__ import annotations

import unicodedata
import zlib
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .annotations import is_scratch_file
from .errors import EthosError, InputError
from .readers import TRANSCRIPT_SUFFIXES
from .tables import TABLE_SUFFIXES, read_rows, require_columns

#: The two positions the hypothesis compares, in the order of the difference (first minus second).
POSITIONS = ("siege", "proximite")
RESAMPLES = 2000
LEVEL = 0.95
#: Below this many interviews in a position, its bootstrap intervals are flagged as too narrow.
FEW_INTERVIEWS = 10


# --- inputs ----------------------------------------------------------------------------------------

def normalise_position(value: str) -> str:
    """``Siège`` and ``siege`` are the same position: lower case, accents removed, spaces trimmed."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def read_positions(path: Path) -> dict[str, str]:
    """``{doc_id: position}`` from a metadata table (CSV or JSONL with ``doc_id`` and ``position``).

    Only these two columns are read into the result: pseudonyms and other personal columns never
    leave this function. A row with an empty position is left out (its interview is then reported
    as having no position).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such metadata file (give one with --metadata)")
    rows = read_rows(path)
    if not rows:
        raise InputError(f"{path}: the metadata table has no rows")
    require_columns(path, rows, ["doc_id", "position"])
    positions: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, row in rows:
        doc_id = unicodedata.normalize("NFC", (row.get("doc_id") or "").strip())
        if not doc_id:
            raise InputError(f"{path}, line {number}: empty doc_id")
        if doc_id in lines:
            raise InputError(f"{path}, line {number}: doc_id '{doc_id}' already appears on line {lines[doc_id]}")
        lines[doc_id] = number
        position = normalise_position(row.get("position") or "")
        if position:
            positions[doc_id] = position
    return positions


def are_annotation_files(paths: Sequence[Path]) -> bool:
    """True when every path is an annotation table (a .csv/.jsonl with ``label`` and ``coder``
    columns) or a folder of them and no transcripts; False when any is something to score."""
    for path in map(Path, paths):
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file() and not is_scratch_file(p)]
            if any(p.suffix.lower() in TRANSCRIPT_SUFFIXES for p in files):
                return False
            tables = [p for p in files if p.suffix.lower() in TABLE_SUFFIXES]
            if not tables or not all(_has_label_and_coder(p) for p in tables):
                return False
        elif path.suffix.lower() not in TABLE_SUFFIXES or not path.is_file() or not _has_label_and_coder(path):
            return False
    return True


def _has_label_and_coder(path: Path) -> bool:
    try:
        rows = read_rows(path)
    except InputError:
        return False
    return bool(rows) and {"label", "coder"} <= set(rows[0][1])


# --- statistics ------------------------------------------------------------------------------------

def passage_counts(doc_ids: Sequence[str], labels: Sequence[str], label_order: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The interviews (sorted) and their ``interviews x labels`` passage counts.

    ``doc_ids`` and ``labels`` give one passage each.
    """
    if len(doc_ids) != len(labels):
        raise ValueError("one doc_id per label is needed")
    if not doc_ids:
        raise EthosError("no labelled passages to profile")
    index = {label: k for k, label in enumerate(label_order)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise EthosError(f"label{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not in the codebook ({', '.join(label_order)})")
    documents = sorted(set(doc_ids))
    row = {doc_id: i for i, doc_id in enumerate(documents)}
    counts = np.zeros((len(documents), len(label_order)), dtype=np.int64)
    np.add.at(counts, ([row[d] for d in doc_ids], [index[label] for label in labels]), 1)
    return documents, counts


def rng_for(seed: int, name: str) -> np.random.Generator:
    """The random generator for resampling ``name`` (a doc_id, a position) under ``seed``."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def percentile_interval(draws: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """``2 x columns``: the lower and upper percentiles of bootstrap ``draws`` (``resamples x columns``)."""
    tail = (1 - level) / 2 * 100
    return np.percentile(draws, [tail, 100 - tail], axis=0)


def share_draws(counts: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples x labels``: an interview's label shares when its passages are resampled with
    replacement, from its label ``counts`` (one row)."""
    n = int(counts.sum())
    if n == 0:
        raise ValueError("an interview without passages has no shares")
    return rng.multinomial(n, counts / n, size=resamples) / n


def mean_draws(shares: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples x labels``: the mean of the rows of ``shares`` (``interviews x labels``) when the
    interviews are resampled with replacement."""
    n = len(shares)
    weights = rng.multinomial(n, np.full(n, 1 / n), size=resamples) / n
    return weights @ shares


def _label_figures(label_order: Sequence[str], estimate: np.ndarray, interval: np.ndarray | None, key: str, counts: np.ndarray | None = None) -> dict:
    figures = {}
    for k, label in enumerate(label_order):
        entry = {} if counts is None else {"passages": int(counts[k])}
        entry[key] = float(estimate[k])
        entry["ci"] = None if interval is None else [float(interval[0, k]), float(interval[1, k])]
        figures[label] = entry
    return figures


def _group_order(positions: set[str]) -> list[str]:
    return [p for p in POSITIONS if p in positions] + sorted(positions - set(POSITIONS))


def ethos_profile(doc_ids: Sequence[str], labels: Sequence[str], label_order: Sequence[str], positions: Mapping[str, str], *,
                  resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> dict:
    """Shares of each label per interview and per position, and the ``siege - proximite`` difference.

    ``doc_ids`` and ``labels`` give one passage each; ``positions`` maps doc_ids to positions
    (interviews missing from it are profiled, listed in ``without_position`` and left out of the
    groups). Intervals are percentile bootstrap intervals at ``level``; an interval that cannot be
    had (a group of one interview) is ``None``, with the reason in ``notes``.
    """
    if resamples < 1:
        raise EthosError("at least one bootstrap resample is needed")
    if not 0 < level < 1:
        raise EthosError("the interval's level must be between 0 and 1")
    label_order = list(label_order)
    documents, counts = passage_counts(doc_ids, labels, label_order)
    shares = counts / counts.sum(axis=1, keepdims=True)
    notes: list[str] = []

    records = []
    for i, doc_id in enumerate(documents):
        interval = percentile_interval(share_draws(counts[i], resamples, rng_for(seed, doc_id)), level)
        records.append({"doc_id": doc_id, "position": positions.get(doc_id), "passages": int(counts[i].sum()),
                        "labels": _label_figures(label_order, shares[i], interval, "share", counts[i])})

    without = [doc_id for doc_id in documents if doc_id not in positions]
    groups, draws = [], {}
    for position in _group_order({positions[d] for d in documents if d in positions}):
        members = [i for i, d in enumerate(documents) if positions.get(d) == position]
        interval = None
        if len(members) >= 2:
            draws[position] = mean_draws(shares[members], resamples, rng_for(seed, position))
            interval = percentile_interval(draws[position], level)
        else:
            notes.append(f"position '{position}' has a single interview: no interval for its mean")
        if 2 <= len(members) < FEW_INTERVIEWS:
            notes.append(f"position '{position}' has only {len(members)} interviews: a bootstrap over so few gives intervals that are too narrow")
        groups.append({"position": position, "interviews": len(members), "passages": int(counts[members].sum()),
                       "labels": _label_figures(label_order, shares[members].mean(axis=0), interval, "mean_share")})

    difference = None
    by_position = {g["position"]: g for g in groups}
    first, second = POSITIONS
    if first in by_position and second in by_position:
        estimate = np.array([by_position[first]["labels"][label]["mean_share"] - by_position[second]["labels"][label]["mean_share"] for label in label_order])
        interval = percentile_interval(draws[first] - draws[second], level) if first in draws and second in draws else None
        difference = {"positions": [first, second], "labels": _label_figures(label_order, estimate, interval, "difference")}
    else:
        missing = [p for p in POSITIONS if p not in by_position]
        notes.append(f"no interview with position {' or '.join(repr(p) for p in missing)}: no {first} - {second} difference")

    return {
        "labels": label_order,
        "documents": records,
        "groups": groups,
        "difference": difference,
        "without_position": without,
        "bootstrap": {
            "resamples": resamples, "seed": seed, "level": level,
            "interviews": "passages resampled with replacement within each interview, percentile interval",
            "groups": "interviews resampled with replacement within each position (each interview weighs the same), percentile interval",
        },
        "notes": notes,
    }
