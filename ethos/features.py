"""What a model may learn from a passage's tokens: the words it keeps, and their lemmas as text.

:func:`kept_tokens` keeps the tokens that may enter a model and :func:`lemma_text` writes their lemmas,
for the whole passage and for its conclusion (:func:`conclusion_text`). These are plain functions, so
that scoring runs without scikit-learn (:mod:`ethos.model.scorer`); the model's steps that call them
during training are scikit-learn transformers in :mod:`ethos.transformers`.

No person's name may enter a model: proper nouns, capitalised words inside a sentence and numbers
are left out before anything is counted; acronyms (CPOM, ARS, EHPAD) are kept, they are the
vocabulary of management.
"""

from __future__ import annotations

import functools
import re
from typing import Sequence

from .nlp import Token, derived
from .text import FULL_STOPS, SENTENCE_END_TOKENS, is_content_word, pseudo_sentence_starts

#: The version of what a passage's tokens become (this module, :mod:`ethos.stance`, and the words and
#: pseudo-sentences of :mod:`ethos.text` they rely on). A model records the version it was trained
#: with, and loading it under another warns that its scores may differ from its figures. Raise it with
#: any change that gives some passage other features; ``tests/test_features.py`` holds a digest of the
#: features of a few passages for each version.
FEATURES_VERSION = 2

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
#: Parts of speech of grammar words, when spaCy also calls them stop words.
GRAMMAR_POS = frozenset({"PRON", "DET", "ADP", "AUX", "CCONJ", "SCONJ", "ADV", "PART"})


def is_acronym(text: str) -> bool:
    return bool(_ACRONYM.match(text))


_DROP, _KEEP, _CAPITALISED = 0, 1, 2


def is_number_word(text: str) -> bool:
    parts = text.lower().split("-")
    return any(p in NUMBER_WORDS and p != "et" for p in parts) and all(p in NUMBER_WORDS or p in ("un", "une") for p in parts)


@functools.lru_cache(maxsize=200_000)
def _kind(text: str, pos: str, lemma: str) -> int:
    if pos in ("PUNCT", "SPACE", "SYM", "X", "NUM") or not _WORDLIKE.search(text) or _HAS_DIGIT.search(text):
        return _DROP
    # a lemma spelled as a number is left out too: « neuves » is lemmatised « neuf », which reads as nine
    if text.lower() in TITLES or is_number_word(text) or is_number_word(lemma):
        return _DROP
    if is_acronym(text):
        return _KEEP
    if pos == "PROPN":
        return _DROP
    return _CAPITALISED if text[:1].isupper() else _KEEP


def kept_tokens(tokens: Sequence[Token]) -> list[Token]:
    """The tokens a model may learn from: words, not names or numbers.

    Left out: punctuation and symbols, numbers (in digits or in words, or lemmatised as one) and
    anything with a digit, titles (M., Mme), proper nouns, and words capitalised inside a sentence
    (names the tagger took for common nouns). All-capital acronyms stay.
    """
    kept = []
    sentence_start = True
    for token in tokens:
        kind = _kind(token.text, token.pos, token.lemma)
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


#: How the lemma n-grams of a passage's conclusion are named: « fin: tableau de bord ».
CONCLUSION_PREFIX = "fin: "


def conclusion_tokens(tokens: Sequence[Token]) -> list[Token]:
    """The tokens of a passage's conclusion: its last sentence, and what follows its last « mais »
    when that comes before; in a passage without punctuation, its last pseudo-sentence (see
    :func:`ethos.text.pseudo_sentence_starts`). Speakers conclude where they stand (« … mais c'est pas
    ça, le métier »): a minimal edit that turns a stance around mostly changes that part, and the rest
    of the passage keeps its topic words."""
    tokens = list(tokens)
    starts = pseudo_sentence_starts([(t.text, is_content_word(t.text, t.pos, t.is_stop)) for t in tokens])
    if len(starts) > 1:  # no punctuation: the last pseudo-sentence
        return tokens[starts[-1]:]
    cut = 0
    for i, token in enumerate(tokens[:-1]):
        if token.text in FULL_STOPS:
            cut = i + 1
    but = max((i for i, token in enumerate(tokens) if token.lemma.lower() == "mais"), default=None)
    return (tokens[but:cut] if but is not None and but < cut else []) + tokens[cut:]




def lemma_text(tokens: Sequence[Token], stop_words: bool = True) -> str:
    """The lemmas a model may learn from, space-separated (``stop_words=False`` leaves grammar words
    out); once per passage in a lemma session."""
    return derived(("LemmaText", stop_words), tokens,
                   lambda: " ".join([_feature(t.text, t.lemma) for t in kept_tokens(tokens) if stop_words or not t.is_stop]))


def conclusion_text(tokens: Sequence[Token], stop_words: bool = True) -> str:
    """The lemmas of a passage's conclusion (see :func:`conclusion_tokens`), as :func:`lemma_text` writes them."""
    return derived(("ConclusionText", stop_words), tokens,
                   lambda: " ".join([_feature(t.text, t.lemma) for t in kept_tokens(conclusion_tokens(tokens)) if stop_words or not t.is_stop]))
