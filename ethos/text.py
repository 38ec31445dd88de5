"""Text normalisation shared by every module: one composed form, one way to compare labels.

French text arrives composed (« é ») or decomposed (« e » + accent, as macOS writes file names and some
editors write text): :func:`nfc` makes it one. :func:`fold` compares labels and identifiers without
accents, case or surrounding punctuation (« Enquêtrice : » and « enquetrice » are one speaker).
"""

from __future__ import annotations

import functools
import unicodedata

#: Tokens after which the next word starts a sentence, where every word has a capital.
SENTENCE_END_TOKENS = frozenset({".", "!", "?", "…", ":", "«", "»", '"', "-", "—", "–"})


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
