"""The model's steps before the classifier, as scikit-learn transformers: what training fits.

``Lemmatizer`` turns clean texts into spaCy tokens (through the lemma cache); ``LemmaText`` and
``ConclusionText`` write the lemmas a model may learn from (:mod:`ethos.features`); ``NgramTfidf``
weighs lemma n-grams; ``StanceFeatures`` counts stance marks (:mod:`ethos.stance`); and
``MeanVectors`` averages the spaCy model's word vectors over a passage, a feature that generalises
beyond the exact words seen in training. Every step is linear in what the classifier sees, so that a
decision score decomposes exactly over n-grams and words (see :mod:`ethos.explain`).

The steps call the plain functions of :mod:`ethos.features` and :mod:`ethos.stance`, which a fitted
model also scores with, without scikit-learn (:mod:`ethos.model.scorer`). The n-gram vectoriser
forgets the rare terms it dropped, which scikit-learn would otherwise keep (``stop_words_``).
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from .features import GRAMMAR_POS, conclusion_text, feature_lemma, is_acronym, is_number_word, kept_tokens, lemma_text, name_like_lemmas
from .nlp import Token, derived, session_lemmas
from .stance import marked_word, passage_marks, stance_matrix
from .text import CONTENT_POS


class Lemmatizer(BaseEstimator, TransformerMixin):
    """Clean texts to their spaCy tokens, through the lemma cache of the current lemma session."""

    def fit(self, texts, labels=None):
        return self

    def transform(self, texts) -> list[list[Token]]:
        return session_lemmas([str(t) for t in texts])


class LemmaText(BaseEstimator, TransformerMixin):
    """Tokens to a space-separated string of the lemmas a model may learn from (:func:`ethos.features.lemma_text`)."""

    def __init__(self, stop_words: bool = True):
        self.stop_words = stop_words

    def fit(self, passages, labels=None):
        #: The grammar words (pronouns, determiners, auxiliaries...) met in training, which reports group
        #: into named families (see :func:`ethos.stance.family`).
        self.grammar_lemmas_ = sorted({feature_lemma(t) for tokens in passages for t in kept_tokens(tokens)
                                       if t.is_stop and t.pos in GRAMMAR_POS})
        return self

    def fit_transform(self, passages, labels=None) -> list[str]:
        """As ``fit`` then ``transform``, without the lemmas of names (see :func:`ethos.features.name_like_lemmas`),
        so that the vectoriser fitted next never counts them; unknown to it, they weigh nothing later."""
        passages = list(passages)
        names = name_like_lemmas(passages)
        texts = self.fit(passages).transform(passages)
        if not names:
            return texts
        return [" ".join(word for word in text.split(" ") if word not in names) for text in texts]

    def transform(self, passages) -> list[str]:
        return [lemma_text(tokens, self.stop_words) for tokens in passages]


class ConclusionText(LemmaText):
    """Tokens to the lemmas of the passage's conclusion (:func:`ethos.features.conclusion_text`), as
    :class:`LemmaText` writes them; its n-grams are a block of their own, named « fin: … »."""

    def transform(self, passages) -> list[str]:
        return [conclusion_text(tokens, self.stop_words) for tokens in passages]


class NgramTfidf(TfidfVectorizer):
    """TF-IDF over lemma n-grams, which forgets the terms it drops instead of pickling them."""

    def fit(self, raw_documents, y=None):
        super().fit(raw_documents, y)
        self._forget_dropped()
        return self

    def fit_transform(self, raw_documents, y=None):
        matrix = super().fit_transform(raw_documents, y)
        self._forget_dropped()
        return matrix

    def _forget_dropped(self) -> None:
        # stop_words_ holds every term dropped as too rare, names among them.
        if hasattr(self, "stop_words_"):
            del self.stop_words_

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_stop_words_id", None)  # an id(): two identical trainings would write different files
        return state


def ngram_vectoriser(ngram_max: int = 2, min_df: int = 2) -> NgramTfidf:
    return NgramTfidf(
        analyzer="word", token_pattern=r"[^ ]+", lowercase=False, ngram_range=(1, ngram_max),
        min_df=min_df, sublinear_tf=True, dtype=np.float64,
    )


@functools.lru_cache(maxsize=1)
def _vector_table():
    from .nlp import load_pipeline

    return load_pipeline().vocab


@functools.lru_cache(maxsize=100_000)
def _word_vector(word: str) -> np.ndarray | None:
    lexeme = _vector_table()[word]
    return lexeme.vector.astype(np.float64) if lexeme.has_vector else None


class MeanVectors(BaseEstimator, TransformerMixin):
    """The spaCy model's word vectors averaged over a passage's content words, scaled to length ``weight``.

    A passage's feature is ``weight * sum(v_t) / norm(sum(v_t))`` over its content words ``t``: a
    per-passage constant times a sum over words, so its part of a decision score splits exactly into
    one share per word (:meth:`word_shares`).
    """

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, passages, labels=None):
        self.n_features_out_ = _vector_table().vectors.shape[1]
        return self

    def _words(self, tokens: Sequence[Token]) -> list[str]:
        return [t.text.lower() if not is_acronym(t.text) else t.text for t in kept_tokens(tokens) if t.pos in CONTENT_POS and not t.is_stop]

    def _passage(self, tokens: Sequence[Token]) -> tuple[list[str], np.ndarray, float]:
        words, rows = [], []
        for word in self._words(tokens):
            vector = _word_vector(word)
            if vector is not None:
                words.append(word)
                rows.append(vector)
        if not rows:
            return [], np.zeros((0, self.n_features_out_)), 0.0
        matrix = np.vstack(rows)
        norm = float(np.linalg.norm(matrix.sum(axis=0)))
        return words, matrix, (self.weight / norm if norm > 0 else 0.0)

    def transform(self, passages):
        out = np.zeros((len(passages), self.n_features_out_))
        for i, tokens in enumerate(passages):
            out[i] = derived(("MeanVectors", self.weight), tokens, lambda: self._row(tokens))
        return sparse.csr_matrix(out)

    def _row(self, tokens: Sequence[Token]) -> np.ndarray:
        _, matrix, scale = self._passage(tokens)
        return scale * matrix.sum(axis=0) if len(matrix) else np.zeros(self.n_features_out_)

    def word_shares(self, tokens: Sequence[Token], weights: np.ndarray) -> dict[str, float]:
        """Each word's share of ``transform(tokens) @ weights``; the shares sum to it exactly."""
        words, matrix, scale = self._passage(tokens)
        shares: dict[str, float] = {}
        for word, contribution in zip(words, scale * (matrix @ weights)):
            shares[word] = shares.get(word, 0.0) + float(contribution)
        return shares

    def get_feature_names_out(self, input_features=None):
        return np.array([f"vector_{i}" for i in range(self.n_features_out_)], dtype=object)


class StanceFeatures(BaseEstimator, TransformerMixin):
    """Tokens to the named stance features of :func:`ethos.stance.stance_marks`: sublinear counts (``1 + log n``),
    scaled so that a passage's row has length ``weight``. Features seen in fewer than ``min_df``
    training passages are left out (a rare word under negation is noise, and may be a name)."""

    def __init__(self, weight: float = 1.0, min_df: int = 2, scoped_words: bool = True):
        self.weight = weight
        self.min_df = min_df
        self.scoped_words = scoped_words

    def fit(self, passages, labels=None):
        passages = list(passages)
        document_frequency: Counter = Counter()
        for tokens in passages:
            document_frequency.update(passage_marks(tokens, self.scoped_words).keys())
        people = name_like_lemmas(passages)  # « conclusion: karima » is no stance
        names = sorted(name for name, df in document_frequency.items()
                       if df >= self.min_df and marked_word(name) not in people and not is_number_word(marked_word(name) or ""))
        self.vocabulary_ = {name: j for j, name in enumerate(names)}
        return self

    def transform(self, passages):
        return stance_matrix(list(passages), self.vocabulary_, self.weight, self.scoped_words)

    def get_feature_names_out(self, input_features=None):
        names = [None] * len(self.vocabulary_)
        for name, j in self.vocabulary_.items():
            names[j] = name
        return np.array(names, dtype=object)
