"""Cutting the interviewee's speech into passages.

A passage is one interviewee turn, or a piece of a long turn cut at sentence boundaries (at pauses
when the transcript has no punctuation). ``passage.text`` is always ``document.raw[start:end]``;
``passage.clean`` is that text without transcription marks.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .cleaning import clean, count_words
from .document import Document, Passage, Turn
from .speakers import PSEUDO_SPEAKERS, find_interviewers, trim_span
from .text import fold

#: A turn longer than this many (clean) words is cut into passages of about equal length.
MAX_WORDS = 120
#: A passage shorter than this carries no stance: it is counted, not kept.
MIN_WORDS = 5

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)\]]*\s+|\n+")
_PAUSE = re.compile(r"\s(?:\+{1,3}|\[pause\]|\(\.+\)|//)\s|,\s")


@dataclass
class SegmentStats:
    """What segmenting a document kept and left out, for the user's report."""

    doc_id: str
    speakers: list[str] = field(default_factory=list)
    interviewers: list[str] = field(default_factory=list)
    interviewer_found_by: str = ""
    turns: int = 0
    interviewee_turns: int = 0
    passages: int = 0
    short_turns: int = 0
    interviewee_words: int = 0
    passage_words: int = 0


@dataclass(frozen=True)
class SegmentOptions:
    max_words: int = MAX_WORDS
    min_words: int = MIN_WORDS
    interviewers: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()


def segment(document: Document, options: SegmentOptions = SegmentOptions()) -> tuple[list[Passage], SegmentStats]:
    """The interviewee passages of a document, and statistics on what was kept."""
    stats = SegmentStats(document.doc_id)
    stats.speakers = list(dict.fromkeys(t.speaker for t in document.turns if t.speaker))
    stats.turns = len(document.turns)
    wanted = {fold(label) for label in options.interviewers}
    stats.interviewers = [s for s in stats.speakers if fold(s) in wanted]
    stats.interviewer_found_by = "option"
    if not stats.interviewers:
        stats.interviewers, stats.interviewer_found_by = find_interviewers(document.turns, document.raw)
        if options.interviewers:
            found = ", ".join(stats.speakers) or "none"
            warnings.warn(f"{document.path}: no speaker is labelled {' or '.join(options.interviewers)} (its speakers: {found}); "
                          f"the interviewer is found by {stats.interviewer_found_by} instead", stacklevel=2)
    excluded = {fold(s) for s in stats.interviewers} | PSEUDO_SPEAKERS
    kept = {fold(s) for s in options.speakers}

    passages: list[Passage] = []
    for turn_index, turn in enumerate(document.turns):
        label = fold(turn.speaker) if turn.speaker else None
        if label in excluded or (kept and label not in kept):
            continue
        stats.interviewee_turns += 1
        pieces = list(split_turn(document.raw, turn, options.max_words, options.min_words))
        words = sum(count_words(c) for _, _, c in pieces)
        stats.interviewee_words += words
        if words < options.min_words:
            stats.short_turns += 1
            continue
        for start, end, text_clean in pieces:
            passages.append(Passage(
                document.doc_id, f"p{len(passages) + 1:03d}", turn.speaker,
                document.raw[start:end], start, end, text_clean, turn_index,
            ))
            stats.passage_words += count_words(text_clean)
    stats.passages = len(passages)
    return passages, stats


def split_turn(raw: str, turn: Turn, max_words: int = MAX_WORDS, min_words: int = MIN_WORDS) -> Iterable[tuple[int, int, str]]:
    """Cut one turn into ``(start, end, clean)`` pieces of at most about ``max_words`` words. A piece
    shorter than ``min_words`` is joined to its shorter neighbour: a turn that short would be dropped,
    so a piece that short is no passage either."""
    units = _units(raw, turn.start, turn.end, _SENTENCE_END)
    if not units:
        return
    whole = clean(raw[units[0][0]:units[-1][1]])
    if count_words(whole) <= max_words:  # most turns: one passage, cleaned once
        yield units[0][0], units[-1][1], whole
        return
    refined: list[tuple[int, int, int]] = []
    cleaned: dict[tuple[int, int], str] = {}  # a one-sentence passage is not cleaned twice
    for start, end in units:
        cleaned[start, end] = clean(raw[start:end])
        words = count_words(cleaned[start, end])
        if words > max_words:
            for s, e in _units(raw, start, end, _PAUSE):
                w = count_words(clean(raw[s:e]))
                if w > max_words:
                    refined.extend(_hard_cuts(raw, s, e, max_words))
                else:
                    refined.append((s, e, w))
        else:
            refined.append((start, end, words))
    total = sum(w for *_, w in refined)
    if not refined:
        return
    groups: list[list[tuple[int, int, int]]] = [[]]
    target = total / max(1, math.ceil(total / max_words))
    size = 0
    for unit in refined:
        if groups[-1] and (size + unit[2] > max_words or size >= target):
            groups.append([])
            size = 0
        groups[-1].append(unit)
        size += unit[2]
    size_of = lambda group: sum(w for *_, w in group)  # noqa: E731
    while len(groups) > 1:
        short = [i for i, group in enumerate(groups) if size_of(group) < min_words]
        if not short:
            break
        i = short[0]
        if i == 0 or (i + 1 < len(groups) and size_of(groups[i + 1]) < size_of(groups[i - 1])):
            groups[i].extend(groups.pop(i + 1))
        else:
            groups[i - 1].extend(groups.pop(i))
    for group in groups:
        yield _join(raw, group, cleaned)


def _join(raw: str, units: Sequence[tuple[int, int, int]], cleaned: dict[tuple[int, int], str]) -> tuple[int, int, str]:
    start, end = units[0][0], units[-1][1]
    known = cleaned.get((start, end))
    return start, end, known if known is not None else clean(raw[start:end])


def _units(raw: str, start: int, end: int, boundary: re.Pattern) -> list[tuple[int, int]]:
    units, position = [], start
    for match in boundary.finditer(raw, start, end):
        if match.start() > position:
            units.append(trim_span(raw, position, match.start()))
        position = match.end()
    if position < end:
        units.append(trim_span(raw, position, end))
    return [(s, e) for s, e in units if e > s]


def _hard_cuts(raw: str, start: int, end: int, max_words: int) -> list[tuple[int, int, int]]:
    spans = [m.span() for m in re.finditer(r"\S+", raw[start:end])]
    pieces = []
    step = max(1, max_words // 2)
    for i in range(0, len(spans), step):
        chunk = spans[i:i + step]
        s, e = start + chunk[0][0], start + chunk[-1][1]
        pieces.append((s, e, count_words(clean(raw[s:e]))))
    return pieces
