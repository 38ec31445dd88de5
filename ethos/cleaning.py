"""Cleaning transcribed speech: remove transcription marks, keep the words.

Each step is a small ``str -> str`` function; :func:`clean` chains them in the order that matters
(alternatives before slashes are dropped, brackets before pauses, fillers last). Cleaning never adds
words and never reorders them, so a clean passage is always its raw text minus marks.
"""

from __future__ import annotations

import functools
import re

from .text import nfc

_APOSTROPHES = re.compile(r"[\u2019\u2018\u02bc\u00b4\u0060\u2032]")
_SPACES = re.compile(r"[\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u205f\u3000]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")

_SUBTITLE_TIMING = re.compile(r"^\s*(?:\d+\s*\n)?\s*\d{1,2}:\d{2}:\d{2}[.,]\d{1,3}\s*-->.*$", re.MULTILINE)
_TIMESTAMP = re.compile(r"[\[(]?\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\b[\])]?")

_SQUARE = re.compile(r"\[[^\[\]\n]*\]")
_CURLY = re.compile(r"\{[^{}\n]*\}")
_ROUND = re.compile(r"\([^()\n]{0,80}\)")
_ALTERNATIVE = re.compile(r"/([^/,\n]{1,40}),\s*[^/\n]{1,40}/")
_STRAY_BRACKET = re.compile(r"[\[\]{}()]")
_OVERLAP = re.compile(r"/{2,}|(?<!\w)/(?!\w)")
_PAUSE = re.compile(r"(?<!\d)\++(?!\d)")
_UNINTELLIGIBLE = re.compile(r"(?<![\w'-])(?:X+|x{2,}|\*{2,})(?![\w-])|\b(?:NNAAMMEE|NPERS|NPRENOM|NLIEU)\b")
_TRUNCATED = re.compile(r"(?<!\S)(?:[^\W\d_][\w']*[-~]|-[^\W\d_]+)(?=[\s,.;!?]|$)")
_TILDE = re.compile(r"~")
_FILLER = re.compile(r"(?<![\w'-])(?:euh+|heu+|euhm+|hum+|hm+|mm+h?|mh+|hmm+)(?![\w'-])", re.IGNORECASE)
_SPACED_ELISION = re.compile(r"(?<![\w'])((?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)') +(?=\w)", re.IGNORECASE)
_SPACE_BEFORE_COMMA = re.compile(r"\s+([,.)])")
_REPEATED_PUNCTUATION = re.compile(r"([,;:])(?:\s*[,;:])+")
_COMMA_AFTER_STOP = re.compile(r"([.!?…])\s*,")
_LEADING_PUNCTUATION = re.compile(r"^[\s,;:.]+")
_MULTISPACE = re.compile(r"[ \t]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def normalize_typography(text: str) -> str:
    """Typographic apostrophes become ``'``, unusual spaces become plain spaces, zero-width marks go."""
    text = nfc(text)
    text = _ZERO_WIDTH.sub("", text)
    text = _APOSTROPHES.sub("'", text)
    return _SPACES.sub(" ", text)


def remove_timestamps(text: str) -> str:
    """Remove subtitle timing lines and time codes such as ``[00:04:12]`` or ``(12:45)``."""
    if ":" not in text:  # each pattern needs one; most passages have none, and a search costs more than this test
        return text
    return _TIMESTAMP.sub(" ", _SUBTITLE_TIMING.sub(" ", text))


def remove_annotations(text: str) -> str:
    """Remove events, backchannels and comments in brackets: ``[rires]``, ``(oui)``, ``{Enq : mm}``."""
    for pattern in (_CURLY, _SQUARE, _ROUND):
        previous = None
        while previous != text:
            previous, text = text, pattern.sub(" ", text)
    return _STRAY_BRACKET.sub(" ", text)


def resolve_alternatives(text: str) -> str:
    """Keep the first of a transcriber's alternative hearings: ``/migré, émigré/`` gives ``migré``."""
    return _ALTERNATIVE.sub(r"\1", text) if "/" in text else text


def remove_overlaps(text: str) -> str:
    """Remove overlap marks (``//``) and lone slashes."""
    return _OVERLAP.sub(" ", text) if "/" in text else text


def remove_pauses(text: str) -> str:
    """Remove pause marks ``+``, ``++``, ``+++``."""
    return _PAUSE.sub(" ", text) if "+" in text else text


def remove_unintelligible(text: str) -> str:
    """Remove unintelligible marks (``X``, ``XXX``) and anonymisation placeholders (``NPERS``)."""
    if "X" not in text and "N" not in text and "xx" not in text and "**" not in text:
        return text
    return _UNINTELLIGIBLE.sub(" ", text)


def remove_truncated_words(text: str) -> str:
    """Remove word fragments cut off by the speaker: ``pa-``, ``mét~``, ``-fin``."""
    if "-" not in text and "~" not in text:
        return text
    return _TILDE.sub(" ", _TRUNCATED.sub(" ", text))


def remove_fillers(text: str) -> str:
    """Remove hesitation fillers (``euh``, ``heu``, ``hum``, ``hm``, ``mm``); words like ``ben`` stay."""
    return _FILLER.sub(" ", text)


def join_spaced_elisions(text: str) -> str:
    """Join elisions that some transcriptions space out: ``l' omelette`` gives ``l'omelette``."""
    return _SPACED_ELISION.sub(r"\1", text) if "' " in text else text


def tidy_whitespace(text: str) -> str:
    """Collapse the spaces and stray punctuation that removals leave behind."""
    if "\n" in text:
        text = _NEWLINES.sub(" ", text)
    if "\t" in text:
        text = _MULTISPACE.sub(" ", text)
    while "  " in text:  # what _MULTISPACE does to spaces alone, several times faster
        text = text.replace("  ", " ")
    text = _REPEATED_PUNCTUATION.sub(r"\1", text)
    text = _SPACE_BEFORE_COMMA.sub(r"\1", text)
    text = _COMMA_AFTER_STOP.sub(r"\1", text)
    text = _LEADING_PUNCTUATION.sub("", text)
    return text.strip()


STEPS = (
    normalize_typography,
    remove_timestamps,
    resolve_alternatives,
    remove_annotations,
    remove_overlaps,
    remove_pauses,
    remove_unintelligible,
    remove_truncated_words,
    remove_fillers,
    join_spaced_elisions,
    tidy_whitespace,
)


def clean(text: str) -> str:
    """The words of a transcribed passage, without transcription marks, in one line."""
    for step in STEPS:
        text = step(text)
    return text


_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


@functools.lru_cache(maxsize=4096)  # segmenting counts the words of a passage several times
def count_words(text: str) -> int:
    """Number of words in a text (an elided ``l'`` counts with its word)."""
    return len(_WORD.findall(text))


#: What a transcription mark looks like, for checking that :func:`clean` left none behind.
MARK = re.compile(r"[\[\]{}()+~]|//|\bX{2,}\b|\d{1,2}:\d{2}|(?<![\w'])(?:euh|heu)(?![\w'])", re.IGNORECASE)
