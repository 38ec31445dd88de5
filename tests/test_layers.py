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
    assert weights.mean() == pytest.approx(1.0)
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
