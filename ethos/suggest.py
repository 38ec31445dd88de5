"""Which passages to code next: those the model is least sure of, spread over interviews, not alike.

Coding time is the scarce resource of a study. A passage the model already labels with confidence
teaches it little; a passage where its two most probable labels are close (a small *margin*) sits
near its decision boundary, and a coder's label there moves the boundary. Taken alone, the smallest
margins cluster: one ambiguous interview, or the same formula repeated, would fill the list. So the
passages are taken in order of margin, but with at most a few from one interview and none that is a
near-duplicate of one already taken (cosine similarity of their rows in the model's own TF-IDF step).

The margin is computed on calibrated probabilities (``softmax(scores / T)``, the model's temperature
scaling), which are comparable from one passage to the next, not on raw decision scores.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .cleaning import clean
from .errors import AnnotationError, EthosError, InputError
from .model.pipeline import EthosModel
from .document import Passage

#: The columns of an annotation file, in the order coders see them.
ANNOTATION_COLUMNS = ("doc_id", "passage_id", "text", "label", "coder", "start", "end", "note")
#: Two passages at least this similar (cosine of their TF-IDF rows) are taken for near-duplicates.
MAX_SIMILARITY = 0.8
_TOLERANCE = 1e-9


# --- passages already coded ------------------------------------------------------------------------

@dataclass(frozen=True)
class Coded:
    """The passages present in annotation files, whatever their label (an empty label included: a
    passage handed out for coding and not yet coded is not suggested twice)."""

    units: frozenset[tuple[str, str]] = frozenset()
    texts: frozenset[tuple[str, str]] = frozenset()  # (doc_id, clean text)
    files: tuple[Path, ...] = ()

    def covers(self, passage: Passage) -> bool:
        """Same (doc_id, passage_id), or the same clean text in the same interview (a transcript
        segmented again with other settings numbers its passages differently)."""
        return (passage.doc_id, passage.passage_id) in self.units or (passage.doc_id, passage.clean) in self.texts


def coded_passages(paths: Sequence[Path]) -> Coded:
    """The passages of the annotation files under ``paths`` (folders stand for every .csv and .jsonl
    below them). Only ``doc_id`` and ``passage_id`` are required: labels are not checked here."""
    from .annotations import annotation_files
    from .tables import read_rows

    units: set[tuple[str, str]] = set()
    texts: set[tuple[str, str]] = set()
    files = annotation_files(paths)
    for path in files:
        try:
            rows = read_rows(path)
        except InputError as error:
            raise AnnotationError(str(error)) from None
        if rows and not {"doc_id", "passage_id"} <= set(rows[0][1]):
            raise AnnotationError(f"{path}: an annotation file needs the columns doc_id and passage_id")
        for _, row in rows:
            doc_id, passage_id = (row.get("doc_id") or "").strip(), (row.get("passage_id") or "").strip()
            if not doc_id:
                continue
            if passage_id:
                units.add((doc_id, passage_id))
            text = clean(row.get("text") or "")
            if text.strip():
                texts.add((doc_id, text))
    return Coded(frozenset(units), frozenset(texts), tuple(files))


# --- selection ------------------------------------------------------------------------------------

def margins(probabilities: np.ndarray) -> np.ndarray:
    """Probability of the most probable label minus that of the second, per row (shape ``(n,)``).

    0 is a passage the model cannot decide; 1 a passage it is sure of.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise ValueError("margins need a passages x labels array with at least two labels")
    top = np.sort(probabilities, axis=1)
    return top[:, -1] - top[:, -2]


def default_per_interview(n: int, interviews: int) -> int:
    """Twice an even share: ``ceil(2 n / interviews)``, so no interview gives more than twice its share
    of the list and interviews with nothing uncertain are not forced in."""
    return max(1, math.ceil(2 * n / max(1, interviews)))


@dataclass
class Selection:
    """Indices chosen (most uncertain first) and what was passed over on the way."""

    chosen: list[int]
    per_interview: int
    capped: int = 0  # passed over: their interview had its share already
    near_duplicates: int = 0  # passed over: too similar to a passage already chosen


def select(
    margin: np.ndarray,
    doc_ids: Sequence[str],
    rows,
    n: int,
    *,
    per_interview: int | None = None,
    max_similarity: float = MAX_SIMILARITY,
) -> Selection:
    """Up to ``n`` passages in increasing order of ``margin``, at most ``per_interview`` from one
    interview, none with a cosine similarity of ``max_similarity`` or more with one already chosen.

    ``rows`` is a passages x features matrix (sparse or dense; rows are L2-normalised here). Ties in
    margin keep the input order, so the selection is deterministic.
    """
    from scipy import sparse

    from .model.scorer import unit_rows

    margin = np.asarray(margin, dtype=np.float64)
    if n < 1:
        raise ValueError("n must be at least 1")
    if len(doc_ids) != len(margin) or rows.shape[0] != len(margin):
        raise ValueError("margin, doc_ids and rows must have one entry per passage")
    cap = per_interview if per_interview is not None else default_per_interview(n, len(set(doc_ids)))
    unit = unit_rows(sparse.csr_matrix(rows, dtype=np.float64, copy=True))  # a copy: the caller's rows stay as they are
    selection = Selection([], cap)
    taken: Counter = Counter()
    chosen_rows = None
    for i in np.lexsort((np.arange(len(margin)), margin)):
        if len(selection.chosen) >= n:
            break
        if taken[doc_ids[i]] >= cap:
            selection.capped += 1
            continue
        row = unit[i]
        if chosen_rows is not None and row.nnz and (chosen_rows @ row.T).toarray().max() >= max_similarity - _TOLERANCE:
            selection.near_duplicates += 1
            continue
        selection.chosen.append(int(i))
        taken[doc_ids[i]] += 1
        chosen_rows = row if chosen_rows is None else sparse.vstack([chosen_rows, row], format="csr")
    return selection


# --- the model ------------------------------------------------------------------------------------

def feature_rows(model: EthosModel, texts: Sequence[str]):
    """The TF-IDF rows of the model's lemma n-gram step for clean ``texts`` (sparse, one per text)."""
    return model.ngram_rows(texts)


@dataclass(frozen=True)
class Suggestion:
    """A passage to code, with how unsure the model is of it (kept from the coders' file)."""

    passage: Passage
    margin: float
    probabilities: dict[str, float]
    rank: int  # 1 for the passage the model is least sure of


@dataclass
class Suggestions:
    """The passages to code next, in reading order (interview, then position), and how they were found."""

    suggestions: list[Suggestion]
    requested: int
    passages: int  # read from the paths
    already_coded: int  # left out: present in the annotation files
    repeated: int  # left out: the same clean text as another candidate
    candidates: int
    interviews: int  # among the candidates
    per_interview: int
    capped: int
    near_duplicates: int
    max_similarity: float
    excluded_files: list[Path] = field(default_factory=list)

    def chosen_interviews(self) -> int:
        return len({s.passage.doc_id for s in self.suggestions})


def suggest(
    model: EthosModel,
    passages: Sequence[Passage],
    n: int,
    *,
    coded: Coded = Coded(),
    per_interview: int | None = None,
    max_similarity: float = MAX_SIMILARITY,
) -> Suggestions:
    """The ``n`` passages the model is least sure of, spread over interviews and not alike, leaving out
    passages already coded. Lemmatises through the current lemma session."""
    if n < 1:
        raise EthosError("the number of passages to suggest must be at least 1")
    already = [p for p in passages if coded.covers(p)]
    candidates: list[Passage] = []
    seen: set[str] = set()
    repeated = 0
    for passage in passages:
        if coded.covers(passage) or not passage.clean.strip():
            continue
        if passage.clean in seen:
            repeated += 1
            continue
        seen.add(passage.clean)
        candidates.append(passage)
    if not candidates:
        where = ", ".join(str(f) for f in coded.files[:3]) + (" …" if len(coded.files) > 3 else "")
        raise EthosError(f"nothing to suggest: all {len(passages)} passages are already in the annotation files ({where}); "
                         "`ethos suggest --no-exclude` suggests among them anyway"
                         if already else "nothing to suggest: no passage with words in it")
    texts = [p.clean for p in candidates]
    probabilities = model.probabilities(model.scores(texts))
    margin = margins(probabilities)
    doc_ids = [p.doc_id for p in candidates]
    selection = select(margin, doc_ids, feature_rows(model, texts), n, per_interview=per_interview, max_similarity=max_similarity)
    rank = {i: r for r, i in enumerate(selection.chosen, 1)}
    suggestions = [
        Suggestion(candidates[i], float(margin[i]), {label: float(p) for label, p in zip(model.labels, probabilities[i])}, rank[i])
        for i in sorted(selection.chosen)
    ]
    return Suggestions(suggestions, n, len(passages), len(already), repeated, len(candidates), len(set(doc_ids)),
                       selection.per_interview, selection.capped, selection.near_duplicates, max_similarity, list(coded.files))


def annotation_rows(suggestions: Suggestions, coder: str = "") -> list[dict]:
    """The suggestions as rows of an annotation file, ``label`` empty for the coders to fill in."""
    return [
        {"doc_id": s.passage.doc_id, "passage_id": s.passage.passage_id, "text": s.passage.text, "label": "", "coder": coder,
         "start": s.passage.start, "end": s.passage.end, "note": ""}
        for s in suggestions.suggestions
    ]
