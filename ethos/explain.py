"""Exact explanations of a linear model's decisions, passage by passage and transcript by transcript.

A decision score is ``intercept + sum_j x_j * w_j``. Each lemma n-gram ``j`` contributes
``x_j * w_j``; the word-vector part, a passage constant times a sum over words, contributes one share
per word (named ``vec:word``). An explanation lists the contributions that weigh most (largest in
absolute value) and puts the sum of all the others in ``rest``, so that
``intercept + contributions + rest`` is the score, to rounding error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from .features import CONCLUSION_PREFIX
from .model.pipeline import EthosModel

VECTOR_PREFIX = "vec:"
#: Grammar words listed with their family in an explanation, at most (``n_members`` counts them all).
MAX_MEMBERS = 8


@dataclass
class Explained:
    """Decision scores, probabilities and the exact contribution of every feature, for some passages.

    Contributions are towards each passage's predicted label, kept as flat arrays (one entry per
    non-zero n-gram of each passage, passage ``i`` at ``indptr[i]:indptr[i + 1]``) so that thousands
    of passages are explained without a Python loop over features; word-vector shares, when the
    model has them, are per-passage dictionaries.
    """

    labels: list[str]
    scores: np.ndarray  # passages x labels
    probabilities: np.ndarray  # passages x labels
    intercepts: np.ndarray  # labels
    names: np.ndarray  # n-gram feature names, in column order
    indptr: np.ndarray
    features: np.ndarray  # column of each contribution
    values: np.ndarray  # each contribution
    word_shares: list[dict[str, float]] | None = None
    #: For each named column, the family its grammar words are reported under ("" when none).
    families: np.ndarray | None = None

    def predicted(self, i: int) -> str:
        return self.labels[int(self.scores[i].argmax())]

    def contributions(self, i: int) -> dict[str, float]:
        """Every feature's contribution to passage ``i``'s winning score, by name."""
        window = slice(self.indptr[i], self.indptr[i + 1])
        shares = {str(self.names[j]): float(v) for j, v in zip(self.features[window], self.values[window])}
        for word, share in (self.word_shares[i] if self.word_shares else {}).items():
            shares[VECTOR_PREFIX + word] = shares.get(VECTOR_PREFIX + word, 0.0) + share
        return shares

    def _family_codes(self) -> tuple[np.ndarray, list[str]] | None:
        """Each named column's family as an index into a list of family names (-1 for none), once."""
        if self.families is None:
            return None
        if not hasattr(self, "_codes"):
            names = sorted({f for f in self.families if f})
            index = {name: k for k, name in enumerate(names)}
            self._codes = (np.array([index.get(f, -1) for f in self.families], dtype=np.int64), names)
        return self._codes

    def _grouped(self, rows: np.ndarray) -> _Grouped:
        """The contributions of passages ``rows`` with grammar words summed into their families, for all
        of them at once (see :class:`_Grouped`)."""
        starts, lengths = self.indptr[rows], self.indptr[rows + 1] - self.indptr[rows]
        owner = np.repeat(np.arange(len(rows)), lengths)
        positions = np.arange(len(owner)) + np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        columns, values = self.features[positions].astype(np.int64), self.values[positions]
        owners, keys, parts = [owner], [columns], [values]
        family_owner = family_of = columns[:0]
        family_values = values[:0]
        codes = self._family_codes()
        n_families = len(codes[1]) if codes is not None else 0
        if codes is not None:
            of = codes[0][columns]
            in_family = of >= 0
            family_owner, family_of, family_columns, family_values = owner[in_family], of[in_family], columns[in_family], values[in_family]
            # one bin per passage and family: each sum adds a passage's values in their stored order
            bins = family_owner * n_families + family_of
            sums = np.bincount(bins, weights=family_values, minlength=len(rows) * n_families)
            present = np.flatnonzero(np.bincount(bins, minlength=len(rows) * n_families))
            owners, keys, parts = [owner[~in_family], present // n_families], [columns[~in_family], -1 - present % n_families], [values[~in_family], sums[present]]
            columns = family_columns
        extra_names: list[list[str]] = [[] for _ in rows]
        for r, i in enumerate(rows):
            shares = self.word_shares[i] if self.word_shares else None
            if shares:
                extra_names[r] = [VECTOR_PREFIX + word for word in shares]
                owners.append(np.full(len(shares), r))
                keys.append(_VECTOR_KEY - np.arange(len(shares)))
                parts.append(np.fromiter(shares.values(), dtype=np.float64, count=len(shares)))
        owner = np.concatenate(owners)
        by_passage = np.argsort(owner, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(rows)))])
        members = np.lexsort((columns, -np.abs(family_values), family_of, family_owner))
        return _Grouped(bounds, np.concatenate(keys)[by_passage], np.concatenate(parts)[by_passage], extra_names,
                        family_owner[members] * n_families + family_of[members], columns[members])

    def _name(self, key: int, extra_names: list[str]) -> str:
        if key >= 0:
            return str(self.names[key])
        if key <= _VECTOR_KEY:
            return extra_names[_VECTOR_KEY - key]
        return self._family_codes()[1][-1 - key]

    def grouped(self, i: int) -> dict[str, float]:
        """Every contribution to passage ``i``'s winning score by the name a report shows: grammar
        words summed into their family. The values sum to the same total as :meth:`contributions`."""
        found = self._grouped(np.array([i]))
        grouped: dict[str, float] = {}
        for key, value in zip(found.keys, found.values):
            name = self._name(int(key), found.extra_names[0])
            grouped[name] = grouped.get(name, 0.0) + float(value)
        return grouped

    def explanation(self, i: int, top: int) -> dict:
        """The ``top`` contributions that weigh most (in absolute value), grammar words summed into their
        family (with its members), and the sum of all the others in ``rest``."""
        return self.explanations(top, [i])[0]

    def explanations(self, top: int, rows: Sequence[int] | None = None) -> list[dict]:
        """:meth:`explanation` of passages ``rows`` (all of them by default), computed together."""
        rows = np.arange(len(self.scores)) if rows is None else np.asarray(rows, dtype=np.int64)
        found = self._grouped(rows)
        bounds, extra_names = found.bounds, found.extra_names
        owner = np.repeat(np.arange(len(rows)), np.diff(bounds))
        order = np.lexsort((found.keys, -np.abs(found.values), owner))  # by passage, then weight, then column
        keys, values = found.keys[order], found.values[order]
        listed_keys, listed_values = keys.tolist(), values.tolist()
        codes = self._family_codes()
        n_families = len(codes[1]) if codes is not None else 0
        # where each passage's members of each family start and end in member_columns
        member_bounds = np.searchsorted(found.member_family, np.arange(len(rows) * n_families + 1)).tolist()
        member_columns = found.member_columns.tolist()
        names, intercepts = self.names.tolist(), self.intercepts.tolist()
        winners = (self.scores[rows].argmax(axis=1) if len(rows) else np.zeros(0, dtype=int)).tolist()
        result = []
        for r, (start, end) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
            features = []
            for j in range(start, min(end, start + top)):
                key = listed_keys[j]
                entry = {"feature": self._name(key, extra_names[r]), "contribution": listed_values[j]}
                if _VECTOR_KEY < key < 0:  # the grammar words behind a family, strongest first
                    first, last = member_bounds[r * n_families - 1 - key], member_bounds[r * n_families - key]
                    entry["members"] = [str(names[c]) for c in member_columns[first:min(last, first + MAX_MEMBERS)]]
                    if last - first > MAX_MEMBERS:
                        entry["n_members"] = last - first
                features.append(entry)
            k = winners[r]
            result.append({"label": self.labels[k], "intercept": intercepts[k], "features": features, "rest": float(values[start + top:end].sum())})
        return result


#: The key of a passage's first word-vector share (the next ones count down from it).
_VECTOR_KEY = -1_000_000


class _Grouped(NamedTuple):
    """Contributions of some passages, flat: passage ``r``'s at ``bounds[r]:bounds[r + 1]``, first its
    columns (key: the column) in stored order, then its families of grammar words (key ``-1 - f``,
    the sum of their columns), then its word-vector shares (key ``_VECTOR_KEY - k``, named
    ``extra_names[r][k]``). ``member_columns`` are the columns of each family's grammar words in each
    passage, by passage and family (``member_family``: ``r * n_families + f``), strongest first."""

    bounds: np.ndarray
    keys: np.ndarray
    values: np.ndarray
    extra_names: list[list[str]]
    member_family: np.ndarray
    member_columns: np.ndarray


def explain(model: EthosModel, texts: Sequence[str]) -> Explained:
    """Scores, calibrated probabilities and every feature's contribution towards each predicted label."""
    tokens = model.tokens(texts)
    matrix = model.feature_matrix(tokens)
    weights, intercept = model.linear()
    scores = np.asarray(matrix @ weights.T) + intercept
    probabilities = model.probabilities(scores) if len(texts) else np.zeros((0, len(model.labels)))
    winners = scores.argmax(axis=1) if len(texts) else np.zeros(0, dtype=int)

    names = model.feature_names()
    n_ngrams = len(names)
    ngrams = matrix[:, :n_ngrams].tocsr()
    ngrams.sort_indices()
    rows = np.repeat(np.arange(len(texts)), np.diff(ngrams.indptr))
    values = ngrams.data * weights[winners[rows], ngrams.indices]
    word_shares = None
    vectors = model.vector_step()
    if vectors is not None:
        word_shares = [vectors.word_shares(tokens[i], weights[winners[i], n_ngrams:]) for i in range(len(texts))]
    return Explained(list(model.labels), scores, probabilities, intercept, names, ngrams.indptr, ngrams.indices, values, word_shares,
                     feature_families(model, names))


def feature_families(model: EthosModel, names: np.ndarray) -> np.ndarray | None:
    """For each named feature, the family of grammar words it is reported under ("" for none); None for
    models that did not record their grammar words."""
    from .stance import family

    grammar = model.grammar_lemmas()
    if grammar is None:
        return None
    # the conclusion's grammar words (« fin: en ») join the same families: a report names no lone « en »
    return np.array([family(str(name).removeprefix(CONCLUSION_PREFIX), grammar) or "" for name in names], dtype=object)


def passage_records(passages, explained: Explained, top: int) -> list[dict]:
    """One record per passage, in the contract's shape (plus speaker, offsets and the winning probability)."""
    labels = explained.labels
    winners = explained.scores.argmax(axis=1).tolist() if len(passages) else []
    scores, probabilities = explained.scores.tolist(), explained.probabilities.tolist()
    explanations = explained.explanations(top)
    records = []
    for i, passage in enumerate(passages):
        records.append({
            "doc_id": passage.doc_id,
            "passage_id": passage.passage_id,
            "speaker": passage.speaker,
            "start": passage.start,
            "end": passage.end,
            "text": passage.text,
            "label": labels[winners[i]],
            "probability": probabilities[i][winners[i]],
            "scores": dict(zip(labels, scores[i])),
            "probabilities": dict(zip(labels, probabilities[i])),
            "explanation": explanations[i],
        })
    return records


def document_summary(indices: Sequence[int], explained: Explained, top: int) -> dict:
    """Passages per label and their share, mean probabilities, and the features that weighed most for
    each label over the transcript (summed over the passages given that label)."""
    indices = np.asarray(indices, dtype=int)
    n = len(indices)
    winners = explained.scores[indices].argmax(axis=1) if n else np.zeros(0, dtype=int)
    mean_probability = explained.probabilities[indices].mean(axis=0) if n else np.zeros(len(explained.labels))
    summary = {"passages": n, "labels": {}, "top_features": {}}
    for k, label in enumerate(explained.labels):
        chosen = indices[winners == k]
        count = len(chosen)
        summary["labels"][label] = {"passages": count, "share": count / n if n else 0.0, "mean_probability": float(mean_probability[k])}
        totals: dict[str, float] = {}
        if count:
            spans = [np.arange(explained.indptr[i], explained.indptr[i + 1]) for i in chosen]
            positions = np.concatenate(spans)
            sums = np.bincount(explained.features[positions], weights=explained.values[positions], minlength=len(explained.names))
            for j in np.flatnonzero(sums):
                name = explained.families[j] if explained.families is not None and explained.families[j] else str(explained.names[j])
                totals[name] = totals.get(name, 0.0) + float(sums[j])
            for i in chosen if explained.word_shares else ():
                for word, share in explained.word_shares[i].items():
                    totals[VECTOR_PREFIX + word] = totals.get(VECTOR_PREFIX + word, 0.0) + share
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:top]
        summary["top_features"][label] = [{"feature": name, "contribution": value} for name, value in ranked if value > 0]
    return summary


def score_documents(model: EthosModel, passages, top: int = 5) -> list[dict]:
    """The contract's ``documents`` list: each transcript's summary and explained passages."""
    explained = explain(model, [p.clean for p in passages])
    records = passage_records(passages, explained, top)
    by_doc: dict[str, list[int]] = {}
    for i, passage in enumerate(passages):
        by_doc.setdefault(passage.doc_id, []).append(i)
    return [
        {"doc_id": doc_id, "summary": document_summary(indices, explained, top), "passages": [records[i] for i in indices]}
        for doc_id, indices in by_doc.items()
    ]


def top_features(model: EthosModel, top: int = 20) -> dict[str, list[dict]]:
    """For each label, the lemma n-grams with the largest weights towards it."""
    names = model.feature_names()
    families = feature_families(model, names)
    weights, _ = model.linear()
    result = {}
    for k, label in enumerate(model.labels):
        row = weights[k, : len(names)]
        if model.is_naive_bayes:
            row = row - weights[:, : len(names)].mean(axis=0)  # naive Bayes: weight relative to the other labels
        best = np.argsort(-row, kind="stable")[:top]
        result[label] = [{"feature": str(names[j]), "weight": float(row[j]), **({"family": families[j]} if families is not None and families[j] else {})}
                         for j in best]
    return result


def feature_examples(model: EthosModel, texts: Sequence[str], labels: Sequence[str], features: dict[str, list[dict]]) -> None:
    """Adds to each feature an ``example``: the passage of that label where it weighs most (from ``texts``,
    the clean texts of annotated passages with their ``labels``)."""
    matrix = model.feature_matrix(model.tokens(texts)).tocsc()
    names = model.feature_names()
    column = {str(name): j for j, name in enumerate(names)}
    labels = np.asarray(labels, dtype=object)
    for label, rows in features.items():
        of_label = labels == label
        for row in rows:
            values = matrix[:, column[row["feature"]]].toarray().ravel() * of_label
            row["example"] = texts[int(values.argmax())] if values.max() > 0 else None
