"""Shared fixtures. The spaCy pipeline is loaded at most once per test session (ethos.nlp caches it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets the session's own lemma cache, never the user's."""
    monkeypatch.setenv("ETHOS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "lemma-cache"))


def requires_corpora():
    return pytest.mark.skipif(not CORPORA.is_dir(), reason=f"shared corpora not found at {CORPORA}")
