import json
import re

import numpy as np
import pytest
import sklearn

from click.testing import CliRunner

from ethos import model as model_module
from ethos.cli import main
from ethos.annotations import read_codings
from ethos.errors import AnnotationError, ModelError
from ethos.explain import explain, top_features
from ethos.features import FEATURES_VERSION
from ethos.model import (
    CANDIDATES, Candidate, EthosModel, TemperatureScaling, build_manifest, calibrator, compare_with_previous, decision_scores,
    WORSE_BY, changed_passages, grouped_folds, load_model, model_codings, save_model, train, training_data,
)
from ethos.nlp import lemma_session

from conftest import ROOT, SMALL_DOCS

EXAMPLE = ROOT / "data" / "examples" / "exemple01.txt"

HEADER = "doc_id,passage_id,text,label,coder\n"


@pytest.fixture(scope="module")
def small_data(small_annotations):
    return training_data([small_annotations])


@pytest.fixture(scope="module")
def small_training(small_data):
    with lemma_session(None):
        return train(small_data, candidates=[Candidate("logistic_regression", 4.0), Candidate("complement_nb", 0.3)])


def test_labels_come_from_gold_else_the_majority(tmp_path):
    (tmp_path / "coders.csv").write_text(HEADER + "\n".join([
        "e1,p1,Les gamins d'abord,artisan,A", "e1,p1,Les gamins d'abord,artisan,B", "e1,p1,Les gamins d'abord,manager,C",
        "e1,p2,On pilote,manager,A", "e1,p2,On pilote,artisan,B",
        "e2,p1,Bonjour,other,A", "e2,p1,Bonjour,manager,B",
        "e2,p2,Les indicateurs,manager,A",
    ]) + "\n", encoding="utf-8")
    (tmp_path / "gold.csv").write_text(HEADER + "e2,p1,Bonjour,other,gold\ne2,p3,[rires],other,gold\n", encoding="utf-8")
    data = training_data([tmp_path])
    assert dict(zip(data.units, data.labels)) == {("e1", "p1"): "artisan", ("e2", "p1"): "other", ("e2", "p2"): "manager"}
    assert data.ties == [("e1", "p2")] and data.empty == [("e2", "p3")]
    assert dict(data.sources) == {"majority": 1, "gold": 1, "single coder": 1}
    assert data.label_order == ["manager", "artisan", "other"]


@pytest.mark.parametrize("rows, message", [
    (["e1,p1,a,manager,A", "e1,p2,b,artisan,A"], "single interview"),
    (["e1,p1,a,manager,A", "e2,p1,b,manager,A"], "fewer than two labels"),
    (["e1,p1,a,manager,A", "e2,p1,b,cadre,A"], "line 3: unknown label 'cadre'"),
    (["e1,p1,a,manager,A", "e1,p1,a,artisan,A"], "line 3: coder 'A' gives passage (e1, p1) the label 'artisan'"),
])
def test_bad_training_data_is_refused(tmp_path, rows, message):
    (tmp_path / "a.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=re.escape(message)):
        training_data([tmp_path])


def test_folds_never_split_an_interview(small_data):
    folds = grouped_folds(small_data)
    groups = np.array(small_data.groups)
    tested = [doc for _, test in folds for doc in set(groups[test])]
    assert sorted(tested) == sorted(SMALL_DOCS)  # every interview tested exactly once
    for train_rows, test_rows in folds:
        assert not set(groups[train_rows]) & set(groups[test_rows])
        assert len(train_rows) + len(test_rows) == len(groups)


def test_out_of_fold_predictions_come_from_models_that_never_saw_the_interview(small_data, monkeypatch):
    seen_by_fit = []
    original = model_module.decision_scores

    def spy(pipeline, texts, labels):
        vocabulary_docs = {doc for doc, text in zip(small_data.groups, small_data.texts) if text in set(texts)}
        seen_by_fit.append(vocabulary_docs)
        return original(pipeline, texts, labels)

    monkeypatch.setattr(model_module, "decision_scores", spy)
    with lemma_session(None):
        folds = grouped_folds(small_data)
        model_module.cross_validate(Candidate("linear_svm", 0.5), small_data, folds)
    groups = np.array(small_data.groups)
    for (train_rows, _), scored_docs in zip(folds, seen_by_fit):
        assert not scored_docs & set(groups[train_rows])


def test_training_compares_candidates_and_reports_figures(small_training, small_data):
    evaluation = small_training.evaluation
    assert [c["candidate"] for c in small_training.comparison] == ["logistic_regression(C=4)", "complement_nb(alpha=0.3)"]
    assert sum(1 for c in small_training.comparison if c.get("chosen")) == 1
    chosen = max(small_training.comparison, key=lambda c: c["macro_f1"])
    assert chosen.get("chosen") and evaluation["candidate"] == chosen["candidate"]
    assert 0.6 < evaluation["macro_f1"] <= 1 and set(evaluation["per_label"]) == {"manager", "artisan", "other"}
    assert sum(map(sum, evaluation["confusion"]["matrix"])) == len(small_data.labels)
    assert sorted(d for fold in evaluation["folds"] for d in fold["test_docs"]) == sorted(SMALL_DOCS)
    curve = evaluation["learning_curve"]
    assert [p["train_interviews"] for p in curve] == sorted(p["train_interviews"] for p in curve) and len(curve) >= 3
    assert curve[-1]["macro_f1"] == pytest.approx(evaluation["macro_f1_fold_mean"])
    assert 0 < evaluation["calibration"]["log_loss"] < 1.2


def test_the_label_is_the_highest_score_and_probabilities_keep_its_rank(small_training, small_data):
    model = small_training.model
    texts = small_data.texts[:40]
    with lemma_session(None):
        scores = model.scores(texts)
        assert model.predict(texts) == list(model.pipeline.predict(texts))
    probabilities = model.probabilities(scores)
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert (probabilities.argmax(axis=1) == scores.argmax(axis=1)).all()


def test_temperature_scaling_learns_a_sensible_temperature():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 3000)
    scores = rng.normal(size=(3000, 3))
    scores[np.arange(3000), truth] += 1.0
    true_probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    scaled = TemperatureScaling().fit(scores * 5, truth)  # overconfident scores: T near 5
    assert scaled.temperature_ == pytest.approx(5, rel=0.15)
    assert np.abs(scaled.predict_proba(scores * 5) - true_probabilities).max() < 0.1


@pytest.mark.parametrize("candidate", [
    Candidate("logistic_regression", 4.0), Candidate("linear_svm", 0.5), Candidate("complement_nb", 0.3),
    Candidate("logistic_regression", 4.0, vectors=True), Candidate("logistic_regression", 4.0, function_words=False),
    Candidate("logistic_regression", 4.0, stance=True), Candidate("linear_svm", 0.5, stance=True, vectors=True),
    Candidate("linear_svm", 0.5, stance=True, conclusion=True), Candidate("complement_nb", 0.3, conclusion=True), Candidate("logistic_regression", 4.0, conclusion=True, vectors=True),
])
def test_explanations_are_exact(small_data, candidate):
    texts, labels = small_data.texts, small_data.labels
    with lemma_session(None):
        pipeline = candidate.pipeline().fit(texts, labels)
        model = EthosModel(pipeline, calibrator().fit(np.zeros((3, 3)) + np.eye(3), np.arange(3)), small_data.label_order)
        explained = explain(model, texts[:60])
        if hasattr(pipeline[-1], "decision_function"):  # scikit-learn's own scores, computed independently
            theirs = pipeline.decision_function(texts[:60])
            order = [list(pipeline.classes_).index(label) for label in model.labels]
            assert np.allclose(explained.scores, theirs[:, order], atol=1e-9)
        assert [explained.predicted(i) for i in range(60)] == list(pipeline.predict(texts[:60]))
    for i in range(60):
        k = int(explained.scores[i].argmax())
        assert explained.intercepts[k] + sum(explained.contributions(i).values()) == pytest.approx(explained.scores[i, k], abs=1e-9)
        for top in (1, 5, 1000):
            shown = explained.explanation(i, top)
            total = shown["intercept"] + sum(f["contribution"] for f in shown["features"]) + shown["rest"]
            assert abs(total - explained.scores[i, k]) < 1e-9
            assert len(shown["features"]) == min(top, len(explained.grouped(i)))
        assert sum(explained.grouped(i).values()) == pytest.approx(sum(explained.contributions(i).values()), abs=1e-9)
        magnitudes = [abs(f["contribution"]) for f in explained.explanation(i, 10)["features"]]
        assert magnitudes == sorted(magnitudes, reverse=True)
    if candidate.vectors:
        assert any(name.startswith("vec:") for i in range(60) for name in explained.contributions(i))
    if candidate.stance:
        assert any(name.startswith(("NÉG: ", "lexique: ", "énonciation: ")) for i in range(60) for name in explained.contributions(i))
    if candidate.conclusion:
        assert any(name.startswith("fin: ") for i in range(60) for name in explained.contributions(i))
    if candidate.function_words:  # grammar words are reported by family
        assert any(f.get("members") for i in range(60) for f in explained.explanation(i, 1000)["features"])


def test_two_label_models_decompose_too(small_data):
    keep = [i for i, label in enumerate(small_data.labels) if label != "other"]
    data = small_data.subset(keep)
    data.label_order = ["manager", "artisan"]
    with lemma_session(None):
        pipeline = Candidate("linear_svm", 0.5).pipeline().fit(data.texts, data.labels)
        model = EthosModel(pipeline, calibrator().fit(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 0])), data.label_order)
        explained = explain(model, data.texts[:20])
        assert [explained.predicted(i) for i in range(20)] == list(pipeline.predict(data.texts[:20]))
    for i in range(20):
        k = int(explained.scores[i].argmax())
        assert explained.intercepts[k] + sum(explained.contributions(i).values()) == pytest.approx(explained.scores[i, k], abs=1e-9)


def test_decision_scores_of_a_label_unseen_in_a_fold_are_lowest(small_data):
    keep = [i for i, label in enumerate(small_data.labels) if label != "other"]
    data = small_data.subset(keep)
    with lemma_session(None):
        pipeline = Candidate("logistic_regression", 4.0).pipeline().fit(data.texts, data.labels)
        scores = decision_scores(pipeline, small_data.texts[:10], ["manager", "artisan", "other"])
    assert (scores[:, 2] < scores[:, :2].min(axis=1)).all()


def test_training_is_reproducible(small_data):
    with lemma_session(None):
        first = train(small_data, candidates=[Candidate("linear_svm", 0.5)], with_learning_curve=False)
        second = train(small_data, candidates=[Candidate("linear_svm", 0.5)], with_learning_curve=False)
    assert np.array_equal(first.model.pipeline[-1].coef_, second.model.pipeline[-1].coef_)
    assert first.evaluation["folds"] == second.evaluation["folds"]


def test_the_model_carries_no_name(small_training, tmp_path):
    metadata = (ROOT / "data" / "transcripts" / "metadata.csv").read_text(encoding="utf-8")
    surnames = {line.split(",")[1].split()[-1] for line in metadata.splitlines()[1:]}
    vocabulary = small_training.model.pipeline.named_steps["features"].transformer_list[0][1].named_steps["tfidf"].vocabulary_
    words = {word for feature in vocabulary for word in feature.split()}
    assert not {s.lower() for s in surnames} & {w.lower() for w in words}
    assert not any(re.search(r"\d", w) for w in words)
    save_model(small_training.model, build_manifest(small_training), tmp_path / "m")
    manifest_text = (tmp_path / "m" / "manifest.json").read_text(encoding="utf-8")
    assert not any(re.search(rf"\b{re.escape(s)}\b", manifest_text) for s in surnames)
    description = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert len(description["ngrams"]["vocabulary"]) > 100 and "stop_words_" not in description["ngrams"]  # the dropped rare terms are not kept
    assert not any(re.search(rf"\b{re.escape(s)}\b", (tmp_path / "m" / "model.json").read_text(encoding="utf-8")) for s in surnames)


def test_save_writes_manifest_and_archives_the_previous_model(small_training, tmp_path):
    folder = tmp_path / "models" / "default"
    assert save_model(small_training.model, build_manifest(small_training), folder) is None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {"sha256", "labels", "versions", "evaluation", "comparison", "training_data", "out_of_fold"} <= set(manifest)
    assert manifest["versions"]["scikit-learn"] == sklearn.__version__ and manifest["versions"]["spacy"]
    assert manifest["labels"] == ["manager", "artisan", "other"]
    assert len(manifest["out_of_fold"]["rows"]) == manifest["training_data"]["n_passages"]
    first_sha = manifest["sha256"]

    archived = save_model(small_training.model, build_manifest(small_training), folder)
    assert archived.parent == tmp_path / "models" / "archive" and archived.name.endswith(first_sha[:8])
    assert json.loads((archived / "manifest.json").read_text())["sha256"] == first_sha
    assert (folder / "model.json").exists() and (folder / "model.npz").exists()
    assert [p.name for p in (tmp_path / "models").iterdir() if p.name.startswith(".")] == []  # no staging left behind
    loaded = load_model(folder)
    assert loaded.labels == small_training.model.labels


def test_a_folder_that_is_not_a_model_is_never_replaced(small_training, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.docx").write_text("months of work")
    with pytest.raises(ModelError, match="is not a model folder"):
        save_model(small_training.model, build_manifest(small_training), tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.docx").read_text() == "months of work"


def test_tampered_or_foreign_models_are_refused(trained_model, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_model, copy)
    with open(copy / "model.npz", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="does not match the SHA-256"):
        load_model(copy)

    shutil.copyfile(trained_model / "model.npz", copy / "model.npz")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=re.escape(f"trained with scikit-learn 0.24.2, this is {sklearn.__version__}")):
        assert load_model(copy).labels == ["manager", "artisan", "other"]  # data, not a pickle: it still loads
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nowhere")


def _refit_manifest(folder):
    """Make the manifest vouch for the folder's current files, as whoever tampers with a model would."""
    from ethos.model import file_sha256, model_identity

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {name: file_sha256(folder / name) for name in manifest["files"]}
    manifest["sha256"] = model_identity(manifest["files"])
    (folder / "manifest.json").write_text(json.dumps(manifest))


PAYLOAD = "import pathlib; pathlib.Path({!r}).write_text('ran')"


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (PAYLOAD.format(self.marker),))


def test_a_pickled_model_is_refused_and_its_payload_never_runs(trained_model, tmp_path):
    """The attack of issue 13: a model folder whose model file is a pickle with a payload, and whose
    manifest carries the pickle's right SHA-256 (as an earlier ethos wrote them)."""
    import pickle
    import shutil

    from ethos.model import file_sha256

    marker = tmp_path / "payload-ran"
    copy = tmp_path / "evil"
    shutil.copytree(trained_model, copy)
    for name in ("model.json", "model.npz"):
        (copy / name).unlink()
    (copy / "model.joblib").write_bytes(pickle.dumps({"pipeline": _Payload(marker)}))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.update(format=1, sha256=file_sha256(copy / "model.joblib"))
    manifest.pop("files")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["score", str(EXAMPLE), "--model", str(copy)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "a pickle (model.joblib), which ethos no longer opens" in result.stderr and "ethos train --model-dir" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()

    # the same payload hidden in the arrays of the current format, with a manifest that vouches for it
    shutil.copytree(trained_model, copy, dirs_exist_ok=True)
    (copy / "model.joblib").unlink()
    import zipfile

    with zipfile.ZipFile(copy / "model.npz", "w") as archive, archive.open("coef.npy", "w") as handle:
        np.lib.format.write_array(handle, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    _refit_manifest(copy)
    with pytest.raises(ModelError, match="not a model's arrays"):
        load_model(copy)
    assert not marker.exists()


@pytest.mark.parametrize("change", [
    lambda d: d["ngrams"]["settings"].update(input="filename"),
    lambda d: d["ngrams"]["settings"].update(preprocessor="os.system"),
    lambda d: d["candidate"].update(classifier="os.system"),
    lambda d: d["ngrams"]["vocabulary"].update({"gestion": 10 ** 9}),
    lambda d: d["calibrator"].update(temperature=-1),
    lambda d: d.update(format=99),
    lambda d: d.pop("classifier"),
])
def test_a_model_file_that_says_something_else_is_refused_in_one_line(trained_model, tmp_path, change):
    import shutil

    copy = tmp_path / "odd"
    shutil.copytree(trained_model, copy)
    description = json.loads((copy / "model.json").read_text(encoding="utf-8"))
    change(description)
    (copy / "model.json").write_text(json.dumps(description), encoding="utf-8")
    _refit_manifest(copy)
    with pytest.raises(ModelError) as caught:
        load_model(copy)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("candidate", [Candidate("linear_svm", 0.5, stance=True, conclusion=True), Candidate("complement_nb", 0.3, conclusion=True), Candidate("logistic_regression", 4.0, vectors=True)])
def test_every_kind_of_model_is_stored_as_data_and_scores_the_same(small_data, tmp_path, candidate):
    from ethos.model.evaluation import _fitted

    with lemma_session(None):
        pipeline = _fitted(candidate.pipeline(), small_data.texts, small_data.labels)
        model = EthosModel(pipeline, calibrator().fit(np.zeros((3, 3)) + np.eye(3), np.arange(3)), small_data.label_order, candidate=candidate)
        manifest = {"model": candidate.as_dict(), "labels": model.labels}
        save_model(model, manifest, tmp_path / "m")
        loaded = load_model(tmp_path / "m")
        assert loaded.manifest["features"] == FEATURES_VERSION  # whatever the manifest handed to save_model said
        texts = small_data.texts[:40]
        assert np.array_equal(loaded.scores(texts), model.scores(texts)) and loaded.candidate == candidate
        assert list(loaded.feature_names()) == list(model.feature_names())


def test_a_saved_model_scores_exactly_as_the_fitted_one(small_training, small_data, tmp_path):
    save_model(small_training.model, build_manifest(small_training), tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    texts = small_data.texts[:60]
    assert np.array_equal(loaded.scores(texts), small_training.model.scores(texts))
    assert np.array_equal(loaded.probabilities(loaded.scores(texts)), small_training.model.probabilities(small_training.model.scores(texts)))


def test_retraining_reports_what_changed(small_training, small_data):
    previous = build_manifest(small_training)
    previous["evaluation"] = dict(previous["evaluation"], macro_f1=0.99)
    fewer = previous["out_of_fold"]["rows"][10:]
    fewer[0] = [fewer[0][0], fewer[0][1], "manager" if fewer[0][2] != "manager" else "other", fewer[0][3]]
    previous["out_of_fold"] = {"rows": fewer}
    change = compare_with_previous(previous, small_training)
    new_labels = small_data.labels[:10]
    assert change["new_passages"] == 10 and sum(change["new_per_label"].values()) == 10
    assert change["new_per_label"]["manager"] == new_labels.count("manager")
    assert change["relabelled_passages"] == 1 and change["gone_passages"] == 0
    assert change["worse"] and change["figures"]["macro_f1"][0] == 0.99
    added, relabelled = changed_passages(previous, small_training.data)
    assert added == small_data.units[:10]
    [(unit, old, now)] = relabelled
    assert unit == small_data.units[10] and old == fewer[0][2] and now == small_data.labels[10] != old
    # a few thousandths lower is how a retraining moves by chance: not worse
    previous["evaluation"]["macro_f1"] = small_training.evaluation["macro_f1"] + WORSE_BY / 2
    assert not compare_with_previous(previous, small_training)["worse"]


def test_the_model_codes_as_one_more_coder(trained_model, small_annotations, tmp_path):
    codings = read_codings([small_annotations])
    manifest = json.loads((trained_model / "manifest.json").read_text())
    extra = tmp_path / "extra.csv"
    extra.write_text(HEADER + "ent40,p001,\"Moi, je vais voir les gamins sur le terrain tous les jours.\",artisan,A\n", encoding="utf-8")
    codings += read_codings([extra])
    labels = {c.unit: c for c in model_codings(trained_model, codings)}
    out_of_fold = {row[0]: row[3] for row in manifest["out_of_fold"]["rows"]}
    from ethos.model import unit_key

    assert all(labels[u].label == out_of_fold[unit_key(*u)] and labels[u].note == "out-of-fold" for u in labels if u[0] in SMALL_DOCS)
    unseen = labels[("ent40", "p001")]
    with lemma_session(None):
        assert unseen.note == "" and unseen.label == load_model(trained_model).predict([unseen.text])[0]
    assert all(c.coder == "model" for c in labels.values())


def test_top_features_are_sorted_and_belong_to_the_vocabulary(small_training):
    features = top_features(small_training.model, 10)
    assert set(features) == {"manager", "artisan", "other"}
    for rows in features.values():
        weights = [r["weight"] for r in rows]
        assert weights == sorted(weights, reverse=True) and len(rows) == 10


def test_candidates_have_distinct_names():
    assert len({c.name for c in CANDIDATES}) == len(CANDIDATES)
    assert all(Candidate.from_dict(c.as_dict()) == c for c in CANDIDATES)


@pytest.mark.parametrize("damage", [
    {"versions": "scikit-learn 1.8"}, {"versions": {"scikit-learn": 18}}, {"lemmas": ["x"]}, {"lemmas": "a\nb"},
])
def test_odd_versions_in_a_manifest_never_stop_a_model_from_loading(tmp_path, damage):
    import shutil
    import warnings

    copy = tmp_path / "odd"
    shutil.copytree(ROOT / "models" / "default", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps(dict(manifest, **damage)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert load_model(copy).labels == manifest["labels"]
    assert all("\n" not in str(warning.message) for warning in caught)


def test_labels_of_another_kind_in_a_manifest_are_a_one_line_error(tmp_path):
    import shutil

    copy = tmp_path / "odd"
    shutil.copytree(ROOT / "models" / "default", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps(dict(manifest, labels=3)))
    with pytest.raises(ModelError, match="the labels of its manifest and of model.json differ"):
        load_model(copy)
