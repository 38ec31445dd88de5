"""The scorer of loaded models (ethos.model.scorer) computes what the scikit-learn pipeline computes,
and scoring imports no scikit-learn."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ethos.inputs import read_inputs
from ethos.model import Candidate, EthosModel, calibrator, decision_scores, load_model, save_model, training_data
from ethos.model.evaluation import _fitted
from ethos.nlp import lemma_session

from conftest import CORPORA, ROOT, requires_corpora

#: Every family of candidates the scorer serves: each classifier, grammar words or not, stance, conclusion.
SERVED = [
    Candidate("logistic_regression", 4.0), Candidate("linear_svm", 0.5), Candidate("complement_nb", 0.3),
    Candidate("logistic_regression", 4.0, function_words=False), Candidate("logistic_regression", 16.0, stance=True),
    Candidate("linear_svm", 0.5, stance=True, conclusion=True), Candidate("complement_nb", 1.0, stance=True, conclusion=True),
]


@pytest.fixture(scope="module")
def small_data(small_annotations):
    return training_data([small_annotations])


@pytest.fixture(scope="module")
def passages(small_data):
    """Annotated passages, and passages of real interviews the model never saw when the corpora are here."""
    texts = list(small_data.texts)
    if CORPORA.is_dir():
        interviews = sorted((CORPORA / "cfpp2000").glob("*.txt"))[:2]
        texts += [p.clean for p in read_inputs(interviews).passages]
    return texts


def _saved(candidate, data, folder, label_order=None):
    label_order = label_order or data.label_order
    pipeline = _fitted(candidate.pipeline(), data.texts, data.labels)
    n = len(label_order)
    model = EthosModel(pipeline, calibrator().fit(np.zeros((n, n)) + np.eye(n), np.arange(n)), label_order, candidate=candidate)
    save_model(model, {"model": candidate.as_dict(), "labels": model.labels}, folder)
    return model, load_model(folder)


def _assert_same(loaded, fitted, texts):
    tokens = loaded.tokens(texts)
    theirs = fitted.pipeline.named_steps["features"].transform(tokens).tocsr()
    ours = loaded.feature_matrix(tokens)
    assert ours.shape == theirs.shape and np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
    assert np.abs(ours.data - theirs.data).max(initial=0.0) <= 1e-12
    assert np.abs(loaded.scores(texts) - decision_scores(fitted.pipeline, texts, fitted.labels)).max() <= 1e-12
    assert np.abs(loaded.ngram_rows(texts) - fitted.ngram_rows(texts)).max() <= 1e-12
    assert list(loaded.feature_names()) == list(fitted.feature_names())
    for ours_part, theirs_part in zip(loaded.linear(), fitted.linear()):
        assert np.array_equal(ours_part, theirs_part)
    assert loaded.grammar_lemmas() == fitted.grammar_lemmas() and loaded.known_words() == fitted.known_words()
    assert loaded.is_naive_bayes == fitted.is_naive_bayes and loaded.keeps_function_words == fitted.keeps_function_words


@pytest.mark.parametrize("candidate", SERVED, ids=lambda c: c.name)
def test_the_scorer_computes_what_the_pipeline_computes(small_data, passages, tmp_path, candidate):
    with lemma_session(None):
        fitted, loaded = _saved(candidate, small_data, tmp_path / "m")
        assert loaded.scorer is not None and loaded._pipeline is None
        _assert_same(loaded, fitted, passages)
        assert loaded._pipeline is None  # scoring never built the pipeline
        # the pipeline, rebuilt from the same files when asked for, agrees too
        assert np.abs(decision_scores(loaded.pipeline, passages, loaded.labels) - loaded.scores(passages)).max() <= 1e-12


def test_two_label_models_are_served_too(small_data, passages, tmp_path):
    data = small_data.subset([i for i, label in enumerate(small_data.labels) if label != "other"])
    with lemma_session(None):
        fitted, loaded = _saved(Candidate("linear_svm", 0.5, stance=True), data, tmp_path / "m", ["manager", "artisan"])
        assert loaded.scorer is not None and loaded.scorer.weights.shape[0] == 1
        _assert_same(loaded, fitted, passages)


def test_models_the_scorer_does_not_serve_load_their_pipeline(small_data, tmp_path):
    with lemma_session(None):
        fitted, loaded = _saved(Candidate("logistic_regression", 4.0, vectors=True), small_data, tmp_path / "vectors")
        assert loaded.scorer is None and loaded.vector_step() is not None
        assert np.array_equal(loaded.scores(small_data.texts[:20]), fitted.scores(small_data.texts[:20]))

        # settings the scorer does not reproduce: the pipeline scores
        folder = tmp_path / "odd"
        shutil.copytree(tmp_path / "vectors", folder)
        fitted, _ = _saved(Candidate("logistic_regression", 4.0), small_data, folder)
        description = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        description["ngrams"]["settings"]["sublinear_tf"] = False
        (folder / "model.json").write_text(json.dumps(description), encoding="utf-8")
        _refit_manifest(folder)
        odd = load_model(folder)
        assert odd.scorer is None and odd.pipeline.named_steps["features"].transformer_list[0][1].named_steps["tfidf"].sublinear_tf is False


def _refit_manifest(folder):
    from ethos.model import file_sha256, model_identity

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {name: file_sha256(folder / name) for name in manifest["files"]}
    manifest["sha256"] = model_identity(manifest["files"])
    (folder / "manifest.json").write_text(json.dumps(manifest))


@requires_corpora()
def test_the_shipped_model_scores_real_interviews_as_its_pipeline_does():
    shipped = load_model(ROOT / "models" / "default")
    assert shipped.scorer is not None
    texts = [p.clean for p in read_inputs(sorted((CORPORA / "cfpp2000").glob("*.txt"))[2:4]).passages]
    with lemma_session(None):
        tokens = shipped.tokens(texts)
        theirs = shipped.pipeline.named_steps["features"].transform(tokens).tocsr()
        ours = shipped.feature_matrix(tokens)
        assert np.array_equal(ours.indices, theirs.indices) and np.abs(ours.data - theirs.data).max() <= 1e-12
        assert np.abs(shipped.scores(texts) - decision_scores(shipped.pipeline, texts, shipped.labels)).max() <= 1e-12


@pytest.mark.parametrize("command", ["score", "suggest"])
def test_scoring_imports_no_scikit_learn(tmp_path, command):
    """`ethos score` and `ethos suggest` (and `import ethos.explain`) leave scikit-learn, scipy.stats and
    pandas out: a second saved."""
    output = tmp_path / ("scores.json" if command == "score" else "suggested.csv")
    options = ["--format", "json"] if command == "score" else ["--no-exclude", "-n", "5"]
    script = (
        "import sys\n"
        "import ethos.explain\n"
        "from click.testing import CliRunner\n"
        "from ethos.cli import main\n"
        f"result = CliRunner().invoke(main, [{command!r}, {str(ROOT / 'data' / 'examples' / 'exemple01.txt')!r}, '--no-cache', *{options!r},"
        f" '--model', {str(ROOT / 'models' / 'default')!r}, '-o', {str(output)!r}, '-q'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(name for name in ('sklearn', 'scipy.stats', 'pandas') if name in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "[]"
    if command == "score":
        assert json.loads(output.read_text(encoding="utf-8"))["documents"]
    else:
        assert len(output.read_text(encoding="utf-8").splitlines()) == 6  # a header and five passages
