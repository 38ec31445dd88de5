"""Shared fixtures. The spaCy pipeline is loaded at most once per test session (ethos.nlp caches it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hypothesis import settings

# Property tests are derandomised by default: a run on a fresh clone passes or fails the same way every
# time (the examples follow from each test's name). `make fuzz` draws new random examples, many more.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("ETHOS_HYPOTHESIS_PROFILE", "ci"))
#: How many times more examples each property test draws (`make fuzz` sets ETHOS_FUZZ_SCALE).
FUZZ_SCALE = max(1, int(os.environ.get("ETHOS_FUZZ_SCALE", "1") or 1))

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


#: Interviews used by the model tests: enough for grouped cross-validation, few enough to be quick.
SMALL_DOCS = tuple(f"ent{n:02d}" for n in range(1, 13))


@pytest.fixture(scope="session")
def small_annotations(tmp_path_factory):
    """The bundled gold and coder files, cut to twelve interviews (about 260 passages)."""
    import csv

    folder = tmp_path_factory.mktemp("annotated")
    for source in sorted((ROOT / "data" / "annotated").glob("*.csv")):
        with open(source, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [row for row in reader if row["doc_id"] in SMALL_DOCS]
            columns = reader.fieldnames
        with open(folder / source.name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(rows)
    return folder


@pytest.fixture(scope="session")
def trained_model(small_annotations, tmp_path_factory):
    """A model trained once per session by the command line on the small annotations: its folder."""
    from click.testing import CliRunner

    from ethos.cli import main

    model_dir = tmp_path_factory.mktemp("models") / "default"
    result = CliRunner().invoke(main, ["train", "--data", str(small_annotations), "--model-dir", str(model_dir), "-q"])
    assert result.exit_code == 0, result.output
    return model_dir
