"""The model's steps before the classifier: from clean text to features, as scikit-learn transformers.

``Lemmatizer`` turns clean texts into spaCy tokens (through the lemma cache); ``LemmaText`` keeps the
tokens that may enter a model and writes their lemmas; ``NgramTfidf`` weighs lemma n-grams; and
``MeanVectors`` averages the spaCy model's word vectors over a passage, a feature that generalises
beyond the exact words seen in training. Every step is linear in what the classifier sees, so that a
decision score decomposes exactly over n-grams and words (see :mod:`ethos.explain`).

No person's name may enter a model: proper nouns, capitalised words inside a sentence and numbers
are left out before anything is counted; acronyms (CPOM, ARS, EHPAD) are kept, they are the
vocabulary of management. The n-gram vectoriser forgets the rare terms it dropped, which scikit-learn
would otherwise keep (``stop_words_``) and pickle with the model.
"""

from __future__ import annotations

import functools
import re
from typing import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from .nlp import Token, current_session, session_lemmas
from .text import FULL_STOPS, SENTENCE_END_TOKENS, pseudo_sentence_starts

_ACRONYM = re.compile(r"^[A-ZÀ-Ý]{2,}s?$")
_HAS_DIGIT = re.compile(r"\d")
_WORDLIKE = re.compile(r"\w")
#: Titles come before names (« Mme Castel », « M. Roux »): no feature of their own.
TITLES = frozenset({"m.", "mme", "mmes", "mlle", "mlles", "mr", "mrs", "dr", "pr", "me.", "mm."})
#: Written-out numbers (« quarante-deux », « mille ») are numbers too: ages, dates and places give people away.
NUMBER_WORDS = frozenset(
    "deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize vingt trente quarante "
    "cinquante soixante septante huitante octante nonante cent cents mille million millions milliard milliards et".split()
)
#: Parts of speech whose word vectors carry meaning; determiners and pronouns only blur the average.
CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
#: Parts of speech of grammar words, when spaCy also calls them stop words.
GRAMMAR_POS = frozenset({"PRON", "DET", "ADP", "AUX", "CCONJ", "SCONJ", "ADV", "PART"})


def is_acronym(text: str) -> bool:
    return bool(_ACRONYM.match(text))


_DROP, _KEEP, _CAPITALISED = 0, 1, 2


def is_number_word(text: str) -> bool:
    parts = text.lower().split("-")
    return any(p in NUMBER_WORDS and p != "et" for p in parts) and all(p in NUMBER_WORDS or p in ("un", "une") for p in parts)


@functools.lru_cache(maxsize=200_000)
def _kind(text: str, pos: str) -> int:
    if pos in ("PUNCT", "SPACE", "SYM", "X", "NUM") or not _WORDLIKE.search(text) or _HAS_DIGIT.search(text):
        return _DROP
    if text.lower() in TITLES or is_number_word(text):
        return _DROP
    if is_acronym(text):
        return _KEEP
    if pos == "PROPN":
        return _DROP
    return _CAPITALISED if text[:1].isupper() else _KEEP


def kept_tokens(tokens: Sequence[Token]) -> list[Token]:
    """The tokens a model may learn from: words, not names or numbers.

    Left out: punctuation and symbols, numbers (in digits or in words) and anything with a digit,
    titles (M., Mme), proper nouns, and words capitalised inside a sentence (names the tagger took for
    common nouns). All-capital acronyms stay.
    """
    kept = []
    sentence_start = True
    for token in tokens:
        kind = _kind(token.text, token.pos)
        if kind == _KEEP or kind == _CAPITALISED and sentence_start:
            kept.append(token)
        sentence_start = token.text in SENTENCE_END_TOKENS
    return kept


@functools.lru_cache(maxsize=200_000)
def _feature(text: str, lemma: str) -> str:
    if is_acronym(text):
        return text
    return lemma.lower().replace(" ", "_") or text.lower()


def feature_lemma(token: Token) -> str:
    """A token's lemma as a feature: lower-case (acronyms excepted), with no spaces."""
    return _feature(token.text, token.lemma)


def name_like_lemmas(passages: Sequence[Sequence[Token]]) -> set[str]:
    """Lemmas that the training passages only ever write with a capital (acronyms aside): names.

    :func:`kept_tokens` keeps a capitalised word at the start of a sentence, where every word has a
    capital; a first name that only ever opens sentences (« Karima m'a dit… ») would get in that way.
    A word that also appears in lower case somewhere is a common word and stays. Steps drop these
    lemmas when they learn their vocabulary; the list itself is not kept (it is a list of names)."""
    capitalised: set[str] = set()
    lower: set[str] = set()
    for tokens in passages:
        for token in tokens:
            text = token.text
            if not text[:1].isalpha() or is_acronym(text):
                continue
            (capitalised if text[:1].isupper() else lower).add(_feature(text, token.lemma))
    return capitalised - lower


class Lemmatizer(BaseEstimator, TransformerMixin):
    """Clean texts to their spaCy tokens, through the lemma cache of the current lemma session."""

    def fit(self, texts, labels=None):
        return self

    def transform(self, texts) -> list[list[Token]]:
        return session_lemmas([str(t) for t in texts])


class LemmaText(BaseEstimator, TransformerMixin):
    """Tokens to a space-separated string of the lemmas a model may learn from."""

    def __init__(self, stop_words: bool = True):
        self.stop_words = stop_words

    def fit(self, passages, labels=None):
        #: The grammar words (pronouns, determiners, auxiliaries...) met in training, which reports group
        #: into named families (see :func:`ethos.stance.family`).
        self.grammar_lemmas_ = sorted({feature_lemma(t) for tokens in passages for t in kept_tokens(tokens)
                                       if t.is_stop and t.pos in GRAMMAR_POS})
        return self

    def fit_transform(self, passages, labels=None) -> list[str]:
        """As ``fit`` then ``transform``, without the lemmas of names (see :func:`name_like_lemmas`), so
        that the vectoriser fitted next never counts them; unknown to it, they weigh nothing later."""
        passages = list(passages)
        names = name_like_lemmas(passages)
        texts = self.fit(passages).transform(passages)
        if not names:
            return texts
        return [" ".join(word for word in text.split(" ") if word not in names) for text in texts]

    def transform(self, passages) -> list[str]:
        session = current_session()
        derived = session.derived if session is not None else {}
        out = []
        for tokens in passages:
            key = ("LemmaText", self.stop_words, getattr(tokens, "text", None))
            text = derived.get(key) if key[2] is not None else None
            if text is None:
                text = " ".join(feature_lemma(t) for t in kept_tokens(tokens) if self.stop_words or not t.is_stop)
                if key[2] is not None:
                    derived[key] = text
            out.append(text)
        return out


#: How the lemma n-grams of a passage's conclusion are named: « fin: tableau de bord ».
CONCLUSION_PREFIX = "fin: "


def conclusion_tokens(tokens: Sequence[Token]) -> list[Token]:
    """The tokens of a passage's conclusion: its last sentence, and what follows its last « mais »
    when that comes before; in a passage without punctuation, its last pseudo-sentence (see
    :func:`ethos.text.pseudo_sentence_starts`). Speakers conclude where they stand (« … mais c'est pas
    ça, le métier »): a minimal edit that turns a stance around mostly changes that part, and the rest
    of the passage keeps its topic words."""
    tokens = list(tokens)
    starts = pseudo_sentence_starts([(t.text, t.pos in CONTENT_POS and not t.is_stop) for t in tokens])
    if len(starts) > 1:  # no punctuation: the last pseudo-sentence
        return tokens[starts[-1]:]
    cut = 0
    for i, token in enumerate(tokens[:-1]):
        if token.text in FULL_STOPS:
            cut = i + 1
    but = max((i for i, token in enumerate(tokens) if token.lemma.lower() == "mais"), default=None)
    return (tokens[but:cut] if but is not None and but < cut else []) + tokens[cut:]


class ConclusionText(LemmaText):
    """Tokens to the lemmas of the passage's conclusion (see :func:`conclusion_tokens`), as
    :class:`LemmaText` writes them; its n-grams are a block of their own, named « fin: … »."""

    def transform(self, passages) -> list[str]:
        session = current_session()
        derived = session.derived if session is not None else {}
        out = []
        for tokens in passages:
            key = ("ConclusionText", self.stop_words, getattr(tokens, "text", None))
            text = derived.get(key) if key[2] is not None else None
            if text is None:
                text = " ".join(feature_lemma(t) for t in kept_tokens(conclusion_tokens(tokens)) if self.stop_words or not t.is_stop)
                if key[2] is not None:
                    derived[key] = text
            out.append(text)
        return out


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
        session = current_session()
        derived = session.derived if session is not None else {}
        out = np.zeros((len(passages), self.n_features_out_))
        for i, tokens in enumerate(passages):
            key = ("MeanVectors", self.weight, getattr(tokens, "text", None))
            row = derived.get(key) if key[2] is not None else None
            if row is None:
                _, matrix, scale = self._passage(tokens)
                row = scale * matrix.sum(axis=0) if len(matrix) else np.zeros(self.n_features_out_)
                if key[2] is not None:
                    derived[key] = row
            out[i] = row
        return sparse.csr_matrix(out)

    def word_shares(self, tokens: Sequence[Token], weights: np.ndarray) -> dict[str, float]:
        """Each word's share of ``transform(tokens) @ weights``; the shares sum to it exactly."""
        words, matrix, scale = self._passage(tokens)
        shares: dict[str, float] = {}
        for word, contribution in zip(words, scale * (matrix @ weights)):
            shares[word] = shares.get(word, 0.0) + float(contribution)
        return shares

    def get_feature_names_out(self, input_features=None):
        return np.array([f"vector_{i}" for i in range(self.n_features_out_)], dtype=object)
