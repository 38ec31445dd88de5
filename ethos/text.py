"""Text normalisation shared by every module: one composed form, one way to compare labels.

French text arrives composed (« é ») or decomposed (« e » + accent, as macOS writes file names and some
editors write text): :func:`nfc` makes it one. :func:`fold` compares labels and identifiers without
accents, case or surrounding punctuation (« Enquêtrice : » and « enquetrice » are one speaker).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Sequence

#: Tokens after which the next word starts a sentence, where every word has a capital.
SENTENCE_END_TOKENS = frozenset({".", "!", "?", "…", ":", "«", "»", '"', "-", "—", "–"})
#: Punctuation that ends a sentence, for the rules that work sentence by sentence.
FULL_STOPS = frozenset({".", "!", "?", "…"})
#: Parts of speech of content words: what carries a passage's meaning, and what pseudo-sentences count.
CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
_HAS_LETTER = re.compile(r"[^\W\d_]")
#: Content words in a pseudo-sentence of an unpunctuated passage (see :func:`pseudo_sentence_starts`).
PSEUDO_SENTENCE_WORDS = 9
#: Oral fillers, which no pseudo-sentence counts: adding or removing them moves no boundary.
FILLERS = frozenset({"ben", "bon", "hein", "enfin", "quoi", "bah", "disons", "voilà", "euh", "heu", "bref"})


def is_content_word(text: str, pos: str, is_stop: bool) -> bool:
    """A noun, verb, adjective or adverb that is no stop word and has a letter (a « - » tagged ADV has none)."""
    return pos in CONTENT_POS and not is_stop and _HAS_LETTER.search(text) is not None


def pseudo_sentence_starts(words: Sequence[tuple[str, bool]], per: int = PSEUDO_SENTENCE_WORDS) -> list[int]:
    """Where the pseudo-sentences of an unpunctuated passage start: ``[0]`` and then every ``per`` content
    words. ``words`` gives each token's text and whether it is a content word.

    Many transcription conventions write no punctuation (CFPP, ICOR: pauses instead, removed when
    cleaning), so a passage of theirs is one long "sentence": rules that look within a sentence (which
    words meet a judgement, what comes last) would look at the whole passage, and the same speech
    punctuated would be read differently. Windows of a few content words stand in for sentences;
    fillers are not counted, so that a « ben » or a « hein » moves no boundary. A passage with any
    full stop before its end keeps its sentences (``[0]``), and so does a short one."""
    if any(text in FULL_STOPS for text, _ in words[:-1]):
        return [0]
    starts, counted = [0], 0
    for i, (text, content) in enumerate(words):
        if content and text.lower() not in FILLERS:
            if counted == per:
                starts.append(i)
                counted = 0
            counted += 1
    return starts if len(starts) >= 3 else [0]


def nfc(text: str) -> str:
    """``text`` composed (NFC): « Hélène » typed on a Mac is the same word as anywhere else."""
    return unicodedata.normalize("NFC", text)


def nfc_field(value: str | None) -> str:
    """A table cell as an identifier: composed, without surrounding spaces, "" when missing."""
    return nfc((value or "").strip())


@functools.lru_cache(maxsize=4096)
def fold(label: str) -> str:
    """A label without accents, case or surrounding punctuation, for comparing labels."""
    text = unicodedata.normalize("NFKD", label)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().replace("_", " ").split()).strip(" :")
