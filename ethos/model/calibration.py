"""Honest confidence: probabilities by temperature scaling of out-of-fold scores, and how well they hold."""

from __future__ import annotations

import numpy as np

from .data import CONTRAST_LAYER, TrainingData
from .pipeline import SEED


# --- calibration -----------------------------------------------------------------------------------

class TemperatureScaling:
    """Probabilities ``softmax(scores / T)`` with one temperature ``T`` learnt on held-out scores.

    One parameter cannot overfit a thousand passages, and dividing by ``T`` never reorders labels, so
    the most probable label is always the label with the highest decision score.
    """

    def fit(self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray | None = None) -> "TemperatureScaling":
        from scipy.optimize import minimize_scalar

        scores = np.asarray(scores, dtype=np.float64)
        truth = np.asarray(truth)
        spread = float(np.std(scores)) or 1.0
        weights = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=np.float64)

        def loss(log_t: float) -> float:
            return -float(np.average(_log_softmax(scores / np.exp(log_t))[np.arange(len(truth)), truth], weights=weights))

        centre = np.log(spread)
        found = minimize_scalar(loss, bounds=(centre - 12, centre + 12), method="bounded")
        self.temperature_ = float(np.exp(found.x))
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        return np.exp(_log_softmax(np.asarray(scores, dtype=np.float64) / self.temperature_))


def _log_softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def calibrator(seed: int = SEED) -> TemperatureScaling:
    return TemperatureScaling()


CALIBRATION_METHOD = "temperature scaling of out-of-fold decision scores (one parameter; label order unchanged)"


#: A label given with at least this probability should be right at least this often.
CONFIDENT = 0.9


def _calibration_figures(probabilities: np.ndarray, truth: np.ndarray) -> dict:
    """Expected calibration error (10 equal-width bins of the winning probability), log-loss, Brier
    score, the reliability table, and how often labels given with p >= 0.9 are right."""
    from sklearn.metrics import log_loss

    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    bins = np.minimum((confidence * 10).astype(int), 9)
    reliability: list[dict] = [
        {"bin": [b / 10, (b + 1) / 10], "n": int((bins == b).sum()), "confidence": float(confidence[bins == b].mean()),
         "accuracy": float(correct[bins == b].mean())}
        for b in range(10) if (bins == b).any()
    ]
    ece = sum(abs(row["accuracy"] - row["confidence"]) * row["n"] for row in reliability) / len(truth)
    onehot = np.eye(probabilities.shape[1])[truth]
    confident = confidence >= CONFIDENT
    return {
        "n_passages": int(len(truth)),
        "log_loss": float(log_loss(truth, probabilities, labels=range(probabilities.shape[1]))),
        "brier": float(((probabilities - onehot) ** 2).sum(axis=1).mean()),
        "expected_calibration_error": float(ece),
        "confident": {"threshold": CONFIDENT, "n": int(confident.sum()),
                      "accuracy": float(correct[confident].mean()) if confident.any() else None,
                      "wrong": int((confident & ~correct).sum())},
        "reliability": reliability,
    }


def out_of_fold_probabilities(data: TrainingData, folds, scores: np.ndarray) -> np.ndarray | None:
    """Probabilities for every passage from a calibrator fitted on the other folds' out-of-fold scores
    (None when a fold lacks a label)."""
    truth = np.array([data.label_order.index(label) for label in data.labels])
    weights = data.sample_weights()
    speech = data.speech()
    probabilities = np.zeros_like(scores)
    for train, test in folds:
        train = train[speech[train]]  # fitted on someone's speech, not on the contrast layer's edited copies
        if len(set(truth[train])) < len(data.label_order):
            return None
        fitted = calibrator().fit(scores[train], truth[train], None if weights is None else weights[train])
        probabilities[test] = fitted.predict_proba(scores[test])
    return probabilities


def calibration_report(data: TrainingData, folds, scores: np.ndarray) -> dict:
    """How well calibrated the probabilities are, measured on folds the calibrator did not see; per
    layer of the corpus too, when it has layers."""
    probabilities = out_of_fold_probabilities(data, folds, scores)
    if probabilities is None:
        return {"method": CALIBRATION_METHOD, "note": "a fold lacks a label: not measured"}
    truth = np.array([data.label_order.index(label) for label in data.labels])
    speech = data.speech()
    report = {"method": CALIBRATION_METHOD, **_calibration_figures(probabilities[speech], truth[speech])}
    layers = [layer for layer in data.layer_names() if layer != CONTRAST_LAYER]
    if len(layers) > 1:
        in_layer = np.array(data.layers, dtype=object)
        report["per_layer"] = {layer: _calibration_figures(probabilities[in_layer == layer], truth[in_layer == layer]) for layer in layers}
    return report
