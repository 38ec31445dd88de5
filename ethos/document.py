"""What a transcript becomes once read: a :class:`Document` (its text and speaker turns), and the
:class:`Passage` units of coding cut from it.

These are plain frozen records, used by the readers that make them, by the speaker finder that makes
turns, and by everything downstream; they import nothing of ethos, so no module needs another's
internals to name them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    """One speaker's turn: ``raw[start:end]`` is the speech, label excluded."""

    speaker: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A transcript: its text and its speaker turns."""

    doc_id: str
    raw: str
    turns: tuple[Turn, ...]
    path: str
    format: str
    encoding: str | None = None
    #: True when the speakers were given in the file's structure (subtitles, TextGrid tiers).
    structured: bool = False


@dataclass(frozen=True)
class Passage:
    """One unit of coding: a stretch of one interviewee's speech."""

    doc_id: str
    passage_id: str
    speaker: str | None
    text: str
    start: int
    end: int
    clean: str
    #: Index of the turn in ``document.turns`` (-1 for passages read from a table).
    turn: int = -1

    def record(self) -> dict:
        return {
            "doc_id": self.doc_id, "passage_id": self.passage_id, "speaker": self.speaker,
            "text": self.text, "start": self.start, "end": self.end, "clean": self.clean,
        }
