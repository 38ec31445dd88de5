"""A fitted model's features and decision scores from its stored arrays, without scikit-learn.

Importing scikit-learn costs a second (it pulls in scipy.stats and pandas), more than scoring a
thousand passages. A model folder already holds plain data (:mod:`ethos.model.store`): vocabularies,
idf, coefficients. :class:`LinearScorer` computes from them the feature matrix that the pipeline's
``FeatureUnion`` would, operation for operation (n-gram counts, ``1 + log`` counts, idf, rows scaled to
length one with the same sequential sums, blocks weighted and stacked in the same order), so the
numbers are the same to the last bit; the lemma text and stance marks come from the same functions
(:func:`ethos.features.lemma_text`, :func:`ethos.stance.stance_matrix`). Training keeps the pipeline.
Models with word vectors, or with settings other than those the scorer reproduces, keep it too.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

from ..features import CONCLUSION_PREFIX, conclusion_text, lemma_text
from ..nlp import Token
from ..stance import stance_matrix

#: The n-gram settings that shape a transform, with the values the scorer reproduces (those of
#: :func:`ethos.transformers.ngram_vectoriser`); ``ngram_range`` may be any ``[low, high]``.
TFIDF_TRANSFORM = {
    "analyzer": "word", "binary": False, "decode_error": "strict", "encoding": "utf-8", "input": "content", "lowercase": False,
    "norm": "l2", "preprocessor": None, "stop_words": None, "strip_accents": None, "sublinear_tf": True, "token_pattern": "[^ ]+",
    "tokenizer": None, "use_idf": True, "vocabulary": None,
}
#: Settings that only fitting reads, with the types they may have.
TFIDF_FIT = {"max_df": (int, float), "min_df": (int, float), "max_features": (int, type(None)), "smooth_idf": (bool,)}


def unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """``matrix`` with each row divided by its L2 length, in place (empty rows stay empty): scikit-learn's
    ``normalize`` to the last digit, without importing scikit-learn. Each row's length is summed as
    scikit-learn sums it, in column order (a product with ones sums sequentially)."""
    matrix.sort_indices()
    data = matrix.data
    squares = sparse.csr_matrix((data * data, matrix.indices, matrix.indptr), shape=matrix.shape) @ np.ones(matrix.shape[1])
    lengths = np.sqrt(squares)
    lengths[squares == 0.0] = 1.0
    data /= np.repeat(lengths, np.diff(matrix.indptr))
    return matrix


def reproduces(settings: dict) -> bool:
    """Whether :class:`TfidfBlock` computes what a vectoriser with these recorded settings computes."""
    if not isinstance(settings, dict) or set(settings) != {*TFIDF_TRANSFORM, *TFIDF_FIT, "ngram_range"}:
        return False
    if any(settings[name] != value or type(settings[name]) is not type(value) for name, value in TFIDF_TRANSFORM.items()):
        return False
    if any(not isinstance(settings[name], kinds) or isinstance(settings[name], bool) is not (kinds == (bool,)) for name, kinds in TFIDF_FIT.items()):
        return False
    low_high = settings["ngram_range"]
    return (isinstance(low_high, list) and len(low_high) == 2 and all(type(n) is int for n in low_high)
            and 1 <= low_high[0] <= low_high[1])


@dataclass(frozen=True)
class TfidfBlock:
    """TF-IDF rows of lemma n-grams with sublinear counts, rows of length one (a fitted ``NgramTfidf``)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    ngram_range: tuple[int, int] = (1, 2)
    token_pattern: str = r"[^ ]+"

    def names(self) -> np.ndarray:
        names = [""] * len(self.vocabulary)
        for term, j in self.vocabulary.items():
            names[j] = term
        return np.asarray(names, dtype=object)

    def _grams(self, words: list[str]) -> list[str]:
        low, high = self.ngram_range
        grams = list(words) if low == 1 else []
        if low <= 2 <= high:
            grams += [first + " " + second for first, second in zip(words, words[1:])]
        for n in range(max(low, 3), min(high, len(words)) + 1):
            grams += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        return grams

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        split = re.compile(self.token_pattern).findall
        column = self.vocabulary.get
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            found: Counter = Counter(map(column, self._grams(split(text))))
            found.pop(None, None)  # n-grams out of the vocabulary
            indices.extend(found.keys())
            counts.extend(found.values())
            indptr.append(len(indices))
        matrix = sparse.csr_matrix((counts, indices, indptr), shape=(len(texts), len(self.vocabulary)), dtype=np.float64)
        data = matrix.data
        np.log(data, data)
        data += 1.0
        data *= self.idf[matrix.indices]
        return unit_rows(matrix)


@dataclass(frozen=True)
class LinearScorer:
    """Every named column of a fitted model without word vectors, and its linear classifier.

    ``weights`` has one row per class of ``classes`` (coefficients, or naive Bayes' log-probabilities),
    as the classifier stores them: a two-label logistic regression or SVM has one row.
    """

    stop_words: bool
    grammar_lemmas: tuple[str, ...]
    ngrams: TfidfBlock
    classes: tuple[str, ...]
    weights: np.ndarray
    intercept: np.ndarray | None  # None for naive Bayes
    stance: tuple[dict[str, int], float, bool] | None = None  # vocabulary, weight, scoped words
    conclusion: tuple[TfidfBlock, bool, float] | None = None  # n-grams, stop words, weight

    def ngram_rows(self, passages: Sequence[Sequence[Token]]) -> sparse.csr_matrix:
        """The TF-IDF rows of the lemma n-grams of tokenised passages."""
        return self.ngrams.transform([lemma_text(tokens, self.stop_words) for tokens in passages])

    def feature_matrix(self, passages: Sequence[Sequence[Token]]) -> sparse.csr_matrix:
        """Every column the classifier sees, as the pipeline's feature union stacks them."""
        blocks = [self.ngram_rows(passages)]
        if self.stance is not None:
            vocabulary, weight, scoped_words = self.stance
            blocks.append(stance_matrix(passages, vocabulary, weight, scoped_words))
        if self.conclusion is not None:
            ngrams, stop_words, weight = self.conclusion
            blocks.append(ngrams.transform([conclusion_text(tokens, stop_words) for tokens in passages]) * weight)
        return sparse.hstack(blocks).tocsr()

    def feature_names(self) -> np.ndarray:
        names = [self.ngrams.names()]
        if self.stance is not None:
            stance = [""] * len(self.stance[0])
            for name, j in self.stance[0].items():
                stance[j] = name
            names.append(np.array(stance, dtype=object))
        if self.conclusion is not None:
            names.append(np.array([CONCLUSION_PREFIX + name for name in self.conclusion[0].names()], dtype=object))
        return np.concatenate(names) if len(names) > 1 else names[0]
