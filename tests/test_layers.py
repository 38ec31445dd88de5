"""Layers of the corpus in training and evaluation: each layer of interviews weighs alike, the contrast
layer (edited copies, nobody's speech) weighs CONTRAST_SHARE of one and is left out of every figure."""

import numpy as np
import pytest

from ethos.model import CONTRAST_LAYER, CONTRAST_SHARE, Candidate, TrainingData
from ethos.model.calibration import calibration_report
from ethos.model.evaluation import CrossValidation, evaluation_report, speech_f1

LABELS = ["manager", "artisan", "other"]


def layered(layers: list[str], labels: list[str] | None = None) -> TrainingData:
    labels = labels or [LABELS[i % 3] for i in range(len(layers))]
    units = [(f"ent{i // 3:02d}", f"p{i:03d}") for i in range(len(layers))]
    return TrainingData(units, [f"texte {i}" for i in range(len(layers))], labels, LABELS, layers=layers)


def test_every_layer_of_interviews_weighs_alike_and_the_contrast_layer_its_share():
    data = layered(["base"] * 60 + ["hard"] * 15 + [CONTRAST_LAYER] * 30)
    weights = data.sample_weights()
    layers = np.array(data.layers)
    total = {layer: weights[layers == layer].sum() for layer in ("base", "hard", CONTRAST_LAYER)}
    assert total["base"] == pytest.approx(total["hard"])
    assert total[CONTRAST_LAYER] == pytest.approx(CONTRAST_SHARE * total["base"])
    assert weights[layers != CONTRAST_LAYER].mean() == pytest.approx(1.0)  # speech regularised as without copies
    assert 0 < CONTRAST_SHARE < 1  # a contrast layer weighing as much as speech unlearns what topic words rightly say


def test_without_contrast_the_layers_weigh_alike_as_before():
    data = layered(["base"] * 40 + ["hard"] * 10)
    weights = data.sample_weights()
    assert weights[:40].sum() == pytest.approx(weights[40:].sum()) == pytest.approx(25.0)
    assert data.speech().all()
    assert layered(["base"] * 9).sample_weights() is None


def test_the_headline_figures_leave_the_contrast_layer_out():
    # speech passages all right, contrast passages all wrong: the headline says 1.0, the layer says otherwise
    labels = [LABELS[i % 3] for i in range(30)] + ["manager", "artisan", "other"] * 4
    data = layered(["base"] * 15 + ["hard"] * 15 + [CONTRAST_LAYER] * 12, labels)
    wrong = {"manager": "artisan", "artisan": "other", "other": "manager"}
    predictions = labels[:30] + [wrong[label] for label in labels[30:]]
    scores = np.array([[5.0 if label == p else 0.0 for label in LABELS] for p in predictions])
    folds = [(np.arange(0, 42, 2), np.arange(1, 42, 2)), (np.arange(1, 42, 2), np.arange(0, 42, 2))]
    result = CrossValidation(Candidate("linear_svm", 0.5), scores, predictions, [1.0, 1.0], 0.0)
    report = evaluation_report(data, folds, result)
    assert report["macro_f1"] == 1.0 == speech_f1(data, predictions)
    assert report["n_passages"] == 30 and report["n_contrast_passages"] == 12
    assert sum(map(sum, report["confusion"]["matrix"])) == 30
    assert report["per_layer"][CONTRAST_LAYER]["macro_f1"] == 0.0
    calibration = calibration_report(data, folds, scores)
    assert CONTRAST_LAYER not in calibration["per_layer"]
    assert sum(row["n"] for row in calibration["reliability"]) == 30


@pytest.fixture(scope="module")
def with_contrast(small_annotations):
    """The small corpus and, as its contrast layer, a copy of forty of its manager and artisan passages
    under the other label: what a careless fit would learn from, or be judged on."""
    from ethos.model import training_data

    data = training_data([small_annotations])
    swap = {"manager": "artisan", "artisan": "manager"}
    copies = [i for i, label in enumerate(data.labels) if label in swap][:40]
    return TrainingData(data.units + [(data.units[i][0], data.units[i][1] + "c") for i in copies],
                        data.texts + [data.texts[i] for i in copies],
                        data.labels + [swap[data.labels[i]] for i in copies], data.label_order,
                        layers=["base"] * len(data.units) + [CONTRAST_LAYER] * len(copies))


def test_training_with_a_contrast_layer_fits_and_judges_on_speech_only(with_contrast):
    from sklearn.metrics import f1_score

    from ethos.model import calibrator, grouped_folds, train
    from ethos.nlp import lemma_session

    data, seed = with_contrast, 7
    with lemma_session(None):
        training = train(data, candidates=[Candidate("linear_svm", 0.5)], seed=seed)
    speech, evaluation, result = data.speech(), training.evaluation, training.cross_validation
    assert evaluation["n_passages"] == speech.sum() and evaluation["n_contrast_passages"] == 40
    assert sum(fold["n_passages"] for fold in evaluation["folds"]) == speech.sum()
    labels = np.array(data.labels, dtype=object)
    for (_, test), f1 in zip(grouped_folds(data, seed=seed), result.fold_f1):
        spoken = test[speech[test]]
        predicted = [result.predictions[i] for i in spoken]
        assert f1 == pytest.approx(f1_score(labels[spoken], predicted, average="macro", labels=sorted(set(labels[spoken])), zero_division=0))
    assert evaluation["learning_curve"][-1]["macro_f1"] == pytest.approx(np.mean(result.fold_f1))
    truth = np.array([data.label_order.index(label) for label in data.labels])
    weights = data.sample_weights()
    on_speech = calibrator(seed).fit(result.scores[speech], truth[speech], weights[speech]).temperature_
    on_everything = calibrator(seed).fit(result.scores, truth, weights).temperature_
    assert evaluation["calibration"]["temperature"] == pytest.approx(on_speech)
    assert on_everything != pytest.approx(on_speech, rel=1e-3)  # the test would not see a fit on every passage otherwise


def test_flips_are_not_bought_with_figures_below_the_floors():
    from ethos.model.evaluation import choose, keeps_floors

    plain = {"macro_f1": 0.92, "per_layer": {"base": 0.94, "hard": 0.89, CONTRAST_LAYER: 0.2}, "checks": {"flip": 0.32, "fillers": 0.99}}
    stance = {"macro_f1": 0.905, "per_layer": {"base": 0.935, "hard": 0.859, CONTRAST_LAYER: 0.34}, "checks": {"flip": 0.53, "fillers": 0.996}}
    # follows the most flips, but its hard layer falls below 0.85 (the contrast layer's own F1 does not count)
    eager = {"macro_f1": 0.901, "per_layer": {"base": 0.923, "hard": 0.84, CONTRAST_LAYER: 0.39}, "checks": {"flip": 0.60, "fillers": 0.99}}
    shaky = {**stance, "checks": {"flip": 0.70, "fillers": 0.97}}  # an invariance broken
    assert [keeps_floors(entry) for entry in (plain, stance, eager, shaky)] == [True, True, False, False]
    assert choose([plain, eager, shaky, stance]) == 3
    assert choose([plain, stance]) == 1  # among those that keep the floors, flips count
    assert choose([eager, shaky]) == 1  # none keeps them: the best mean all the same


def test_a_retraining_counts_new_edited_copies_apart_from_new_speech():
    from types import SimpleNamespace

    from ethos.model import changed_passages, compare_with_previous

    data = layered(["base"] * 6 + [CONTRAST_LAYER] * 3)
    evaluation = {"macro_f1": 0.9, "kappa": 0.8, "per_label": {label: {"f1": 0.9} for label in LABELS}}
    first_three = [[key, "x", label, label] for key, label in zip(data.unit_keys()[:3], data.labels[:3])]
    change = compare_with_previous({"out_of_fold": {"rows": first_three}, "evaluation": evaluation},
                                   SimpleNamespace(data=data, evaluation=evaluation))
    assert change["new_passages"] == 3 and sum(change["new_per_label"].values()) == 3
    assert change["new_contrast_passages"] == 3
    added, _ = changed_passages({"out_of_fold": {"rows": first_three}}, data)
    assert added == [unit for unit, spoken in zip(data.units, data.speech()) if spoken][3:]

    # a copy relabelled is counted apart too, and named nowhere as speech
    copy = [key for key, spoken in zip(data.unit_keys(), data.speech()) if not spoken][0]
    with_copy = first_three + [[copy, "x", "other", "other"]]
    change = compare_with_previous({"out_of_fold": {"rows": with_copy}, "evaluation": evaluation}, SimpleNamespace(data=data, evaluation=evaluation))
    assert (change["relabelled_passages"], change["relabelled_contrast_passages"], change["new_contrast_passages"]) == (0, 1, 2)
    assert changed_passages({"out_of_fold": {"rows": with_copy}}, data)[1] == []


@pytest.mark.parametrize("previous", [
    {"out_of_fold": {"rows": [[1], ["a"], "row", None, [1, 2, 3, 4]]}, "evaluation": {"macro_f1": "high", "per_label": {"manager": 0.9}}},
    {"out_of_fold": [], "evaluation": [], "created": ["x"]},
    {"out_of_fold": {"rows": {"a": 1}}, "evaluation": {"per_label": []}},
])
def test_a_damaged_previous_manifest_is_compared_as_far_as_it_can_be_read(previous):
    from types import SimpleNamespace

    from ethos.model import changed_passages, compare_with_previous

    data = layered(["base"] * 6)
    evaluation = {"macro_f1": 0.9, "kappa": 0.8, "per_label": {label: {"f1": 0.9} for label in LABELS}}
    change = compare_with_previous(previous, SimpleNamespace(data=data, evaluation=evaluation))
    assert change["new_passages"] == 6 and change["figures"]["macro_f1"] == [None, 0.9] and not change["worse"]
    assert change["previous_created"] is None
    assert len(changed_passages(previous, data)[0]) == 6
