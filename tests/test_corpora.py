"""Real interviews with their own conventions (../shared/corpora): skipped when absent."""

from pathlib import Path

import pytest

from ethos.cleaning import MARK
from ethos.readers import read_transcript
from ethos.segment import segment

from conftest import CORPORA, requires_corpora

FILES = sorted(
    p for pattern in ("*/*.txt", "*/*.trs", "*/*/*.TextGrid") for p in CORPORA.glob(pattern)
    if p.name not in ("LICENSE.txt",)
) if CORPORA.is_dir() else []

#: Where the transcript tags its interviewer, the one ethos must find.
TAGGED_INTERVIEWERS = {"Sonia Branca-Rosoff (ENQ)", "Sonia Branca-Rosoff (Enq)", "Sonia Branca-Rosoff Enq", "Florence Lefeuvre (ENQ)"}


@requires_corpora()
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_interviews(path: Path):
    document = read_transcript(path)
    passages, stats = segment(document)
    assert passages
    assert stats.passage_words >= 0.75 * stats.interviewee_words
    for passage in passages:
        assert passage.text == document.raw[passage.start:passage.end]
        assert not MARK.search(passage.clean), passage.clean
    if path.parent.name in ("cfpp2000", "textgrid"):
        assert set(stats.interviewers) <= TAGGED_INTERVIEWERS and len(stats.interviewers) == 1
    if path.name.startswith("cfpp__"):
        assert stats.interviewers == ["Sonia_Branca-Rosoff"]


@requires_corpora()
def test_all_the_real_words_reach_passages_overall():
    total = kept = 0
    for path in FILES:
        _, stats = segment(read_transcript(path))
        total += stats.interviewee_words
        kept += stats.passage_words
    assert kept / total > 0.85
