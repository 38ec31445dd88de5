"""Grouped cross-validation (no interview on both sides of a fold), its figures per label and per layer,
the learning curve, the check sets judged out-of-fold, and training: compare the candidates, keep the best."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import AnnotationError, ModelError
from .calibration import calibration_report, calibrator
from .data import CONTRAST_LAYER, CONTRAST_SHARE, TrainingData
from .pipeline import CANDIDATES, SEED, Candidate, EthosModel, decision_scores

N_SPLITS = 5


# --- cross-validation ------------------------------------------------------------------------------

def grouped_folds(data: TrainingData, n_splits: int = N_SPLITS, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds grouped by interview and stratified by label where the data allow it."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_docs = len(data.documents)
    splitter = StratifiedGroupKFold(n_splits=min(n_splits, n_docs), shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the least populated class has only n members"
        folds = [(train, test) for train, test in splitter.split(np.zeros(len(data.labels)), data.labels, data.groups) if len(test)]
    labels = np.array(data.labels, dtype=object)
    for number, (train, test) in enumerate(folds, 1):
        present = sorted(set(labels[train]))
        if len(present) < 2:
            held_out = ", ".join(sorted(set(np.array(data.groups, dtype=object)[test])))
            fewer = " or use fewer --folds" if len(folds) > 2 else ""
            raise AnnotationError(f"too little coded data for a grouped cross-validation: without {held_out}, the other interviews give only "
                                  f"the label '{present[0]}'; code more interviews (with passages of every label){fewer}")
    return folds


def _fitted(template, texts: Sequence[str], labels: Sequence[str], weights: np.ndarray | None = None):
    """A fresh copy of ``template`` fitted on ``texts``; too little text to learn from is the user's to fix."""
    from sklearn.base import clone

    try:
        if weights is None:
            return clone(template).fit(list(texts), list(labels))
        return clone(template).fit(list(texts), list(labels), classifier__sample_weight=np.asarray(weights))
    except ValueError as error:
        if "no terms remain" in str(error) or "empty vocabulary" in str(error):
            raise AnnotationError(f"too little coded text to learn from: no word or pair of words appears in two of the {len(texts)} "
                                  "training passages; code more passages") from None
        raise


@dataclass
class CrossValidation:
    candidate: Candidate
    scores: np.ndarray  # out-of-fold decision scores, passages x labels
    predictions: list[str]
    fold_f1: list[float]
    seconds: float
    #: The fold models, each fitted without its fold's interviews (for out-of-fold checks).
    models: list = field(default_factory=list)


def cross_validate(candidate: Candidate, data: TrainingData, folds, seed: int = SEED) -> CrossValidation:
    from sklearn.metrics import f1_score

    started = time.perf_counter()
    template = candidate.pipeline(seed)
    texts = np.array(data.texts, dtype=object)
    labels = np.array(data.labels, dtype=object)
    scores = np.zeros((len(texts), len(data.label_order)))
    weights = data.sample_weights()
    speech = data.speech()
    fold_f1, models = [], []
    for train, test in folds:
        fitted = _fitted(template, texts[train], labels[train], None if weights is None else weights[train])
        models.append(fitted)
        scores[test] = decision_scores(fitted, list(texts[test]), data.label_order)
        spoken = test[speech[test]]
        predicted = [data.label_order[j] for j in scores[spoken].argmax(axis=1)]
        fold_f1.append(float(f1_score(labels[spoken], predicted, average="macro", labels=sorted(set(labels[spoken])), zero_division=0)))
    predictions = [data.label_order[j] for j in scores.argmax(axis=1)]
    return CrossValidation(candidate, scores, predictions, fold_f1, time.perf_counter() - started, models)


def folds_of_manifest(manifest: dict, data: TrainingData) -> list[tuple[np.ndarray, np.ndarray]]:
    """The model's cross-validation folds, rebuilt on ``data`` from the test interviews its manifest lists."""
    folds = []
    groups = np.array(data.groups, dtype=object)
    for fold in (manifest.get("evaluation") or {}).get("folds") or []:
        test_docs = set(fold.get("test_docs") or [])
        test = np.flatnonzero(np.isin(groups, list(test_docs)))
        folds.append((np.flatnonzero(~np.isin(groups, list(test_docs))), test))
    if not folds:
        raise ModelError("the model's manifest lists no cross-validation folds; retrain it with `ethos train`")
    return folds


def check_results(items, data: TrainingData, folds, fold_models: Sequence, model: "EthosModel | None" = None) -> list[dict]:
    """Run check items: an item from an interview of ``data`` is judged by the fold model that did not
    see that interview; any other by ``model`` (left out when there is none)."""
    from ..checks import fold_judge_of, fold_judges, run_checks

    groups = np.array(data.groups, dtype=object)
    folds_docs = [set(groups[test]) for _, test in folds]
    judge_of = fold_judge_of(folds_docs, set(data.groups))
    judges = fold_judges(fold_models, data.label_order)
    if model is not None:
        judges["model"] = model.predict
    else:
        items = [item for item in items if judge_of(item) != "model"]
    return run_checks(items, judges, judge_of)


def pooled_macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(truth), list(predicted), average="macro", labels=list(labels), zero_division=0))


def speech_f1(data: TrainingData, predictions: Sequence[str]) -> float:
    """Pooled macro-F1 over the passages that are someone's speech (the contrast layer left out)."""
    speech = data.speech()
    return pooled_macro_f1(np.array(data.labels, dtype=object)[speech], np.array(predictions, dtype=object)[speech], data.label_order)


def evaluation_report(data: TrainingData, folds, result: CrossValidation) -> dict:
    """The contract's evaluation figures for out-of-fold predictions, over the passages that are someone's
    speech (the contrast layer's edited copies are trained on, not measured, but in ``per_layer``)."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

    labels = data.label_order
    speech = data.speech()
    truth, predictions = list(np.array(data.labels, dtype=object)[speech]), list(np.array(result.predictions, dtype=object)[speech])
    precision, recall, f1, support = precision_recall_fscore_support(truth, predictions, labels=labels, zero_division=0)
    contrast = int((~speech).sum())
    return {
        "macro_f1": pooled_macro_f1(truth, predictions, labels),
        "macro_f1_fold_mean": float(np.mean(result.fold_f1)),
        "macro_f1_fold_sd": float(np.std(result.fold_f1, ddof=1)) if len(result.fold_f1) > 1 else None,
        "accuracy": float(accuracy_score(truth, predictions)),
        "kappa": float(cohen_kappa_score(truth, predictions, labels=labels)),
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "labels": labels,
        "confusion": {"rows": "gold", "columns": "predicted", "matrix": confusion_matrix(truth, predictions, labels=labels).tolist()},
        "folds": [
            {"test_docs": sorted({data.units[i][0] for i in test}), "n_passages": int(speech[test].sum()), "macro_f1": f}
            for (train, test), f in zip(folds, result.fold_f1)
        ],
        "n_passages": len(truth),
        **({"n_contrast_passages": contrast, "contrast": f"{contrast} edited copies trained on (the contrast layer), left out of these figures"}
           if contrast else {}),
        "n_documents": len(data.documents),
        "cross_validation": {"splitter": "StratifiedGroupKFold", "groups": "doc_id", "n_splits": len(folds), "seed": SEED},
        "candidate": result.candidate.name,
        **({"per_layer": layer_report(data, result.predictions)} if len(data.layer_names()) > 1 else {}),
        **({"layer_weights": "each layer of interviews weighs as much as every other in training"
                             + (f", the contrast layer {CONTRAST_SHARE:g} of one" if contrast else "")} if data.sample_weights() is not None else {}),
    }


def layer_report(data: TrainingData, predictions: Sequence[str]) -> dict:
    """Out-of-fold figures for each layer of the corpus: one layer's easy passages must not hide another's failures."""
    from sklearn.metrics import precision_recall_fscore_support

    report = {}
    layers = np.array(data.layers, dtype=object)
    truth, predicted = np.array(data.labels, dtype=object), np.array(predictions, dtype=object)
    for layer in data.layer_names():
        chosen = layers == layer
        labels = data.label_order
        precision, recall, f1, support = precision_recall_fscore_support(truth[chosen], predicted[chosen], labels=labels, zero_division=0)
        report[layer] = {
            "n_passages": int(chosen.sum()),
            "n_documents": len({data.groups[i] for i in np.flatnonzero(chosen)}),
            # over the labels the layer has: the contrast layer has no `other`, and a label never to be found is no failure
            "macro_f1": pooled_macro_f1(truth[chosen], predicted[chosen], [label for label in labels if label in set(truth[chosen])]),
            "accuracy": float((truth[chosen] == predicted[chosen]).mean()),
            "per_label": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
                          for label, p, r, f, n in zip(labels, precision, recall, f1, support)},
        }
    return report


def learning_curve(candidate: Candidate, data: TrainingData, folds, seed: int = SEED, sizes: Sequence[int] | None = None,
                   full: CrossValidation | None = None) -> list[dict]:
    """Grouped macro-F1 as the number of training interviews grows, on the same test folds.

    For each fold and each size, a seeded random subset of the fold's training interviews is used;
    a curve still rising at the right says that more coding would help. The last point uses every
    training interview of each fold (``full``, when given, supplies it without refitting).
    """

    rng = np.random.default_rng(seed)
    smallest_train = min(len({data.groups[i] for i in train}) for train, _ in folds)
    if sizes is None:
        sizes = sorted({s for s in (3, 6, 12, 24) if s < smallest_train})
    template = candidate.pipeline(seed)
    groups = np.array(data.groups, dtype=object)
    weights = data.sample_weights()
    speech = data.speech()
    curve = []
    for size in sizes:
        f1s = []
        for train, test in folds:
            docs = sorted(set(groups[train]))
            chosen = set(rng.choice(docs, size=min(size, len(docs)), replace=False))
            subset = [i for i in train if groups[i] in chosen]
            labels = [data.labels[i] for i in subset]
            if len(set(labels)) < 2:
                continue
            try:
                fitted = _fitted(template, [data.texts[i] for i in subset], labels, None if weights is None else weights[subset])
            except AnnotationError:  # a few small interviews may share no word: that point has fewer runs
                continue
            spoken = test[speech[test]]
            scores = decision_scores(fitted, [data.texts[i] for i in spoken], data.label_order)
            predicted = [data.label_order[j] for j in scores.argmax(axis=1)]
            f1s.append(pooled_macro_f1([data.labels[i] for i in spoken], predicted, sorted({data.labels[i] for i in spoken})))
        if f1s:
            curve.append(_curve_point(size, f1s))
    full = full or cross_validate(candidate, data, folds, seed)
    curve.append(_curve_point(smallest_train, full.fold_f1, every=True))
    return curve


def _curve_point(size: int, f1s: Sequence[float], every: bool = False) -> dict:
    point = {"train_interviews": int(size), "macro_f1": float(np.mean(f1s)), "sd": float(np.std(f1s, ddof=1)) if len(f1s) > 1 else None, "runs": len(f1s)}
    if every:
        point["note"] = "every training interview of each fold (at least this many)"
    return point


@dataclass
class Training:
    """What :func:`train` produced: the model, and the figures that go into its manifest."""

    model: EthosModel
    evaluation: dict
    comparison: list[dict]
    cross_validation: CrossValidation
    data: TrainingData


def train(
    data: TrainingData,
    *,
    candidates: Sequence[Candidate] = CANDIDATES,
    seed: int = SEED,
    n_splits: int = N_SPLITS,
    with_learning_curve: bool = True,
    checks: Sequence = (),
    report: Callable[[str], None] = lambda message: None,
) -> Training:
    """Compare the candidates by grouped cross-validation, keep the best, fit it on every passage."""
    folds = grouped_folds(data, n_splits, seed)
    results = []
    for number, candidate in enumerate(candidates, 1):
        result = cross_validate(candidate, data, folds, seed)
        results.append(result)
        report(f"[{number}/{len(candidates)}] {candidate.name}: grouped macro-F1 {speech_f1(data, result.predictions):.3f} ({result.seconds:.1f} s)")
    comparison = [
        {"candidate": r.candidate.name, **r.candidate.as_dict(), "macro_f1": speech_f1(data, r.predictions),
         "macro_f1_fold_mean": float(np.mean(r.fold_f1)), "macro_f1_fold_sd": float(np.std(r.fold_f1, ddof=1)) if len(r.fold_f1) > 1 else None,
         "seconds": round(r.seconds, 2)}
        for r in results
    ]
    for entry, result in zip(comparison, results):
        if len(data.layer_names()) > 1:
            entry["per_layer"] = {layer: figures["macro_f1"] for layer, figures in layer_report(data, result.predictions).items()}
        if checks:
            from ..checks import check_report

            entry["checks"] = {capability: figures["share"] for capability, figures in
                               check_report(check_results(checks, data, folds, result.models))["capabilities"].items()}
    best_index = choose(comparison)
    best = results[best_index]
    comparison[best_index]["chosen"] = True
    evaluation = evaluation_report(data, folds, best)
    evaluation["selection"] = (
        f"best of {len(candidates)} candidates on these folds by {SELECTION_RULE}; the figures of the chosen one are "
        "therefore a little optimistic (not a nested estimate)"
    )
    if with_learning_curve:
        report("Learning curve …")
        evaluation["learning_curve"] = learning_curve(best.candidate, data, folds, seed, full=best)
    evaluation["calibration"] = calibration_report(data, folds, best.scores)
    if checks:
        from ..checks import check_report

        report(f"Checks ({len(checks)} edited passages, out-of-fold) …")
        evaluation["checks"] = check_report(check_results(checks, data, folds, best.models))
    report(f"Fitting {best.candidate.name} on all {len(data.labels)} passages …")
    pipeline = _fitted(best.candidate.pipeline(seed), data.texts, data.labels, data.sample_weights())
    truth = np.array([data.label_order.index(label) for label in data.labels])
    speech, weights = data.speech(), data.sample_weights()
    fitted_calibrator = calibrator(seed).fit(best.scores[speech], truth[speech], None if weights is None else weights[speech])
    evaluation["calibration"]["temperature"] = fitted_calibrator.temperature_
    model = EthosModel(pipeline, fitted_calibrator, list(data.label_order), candidate=best.candidate)
    return Training(model, evaluation, comparison, best, data)


#: The floors a candidate must keep before stance flips can speak for it (the targets of data/README.md):
#: grouped macro-F1 over all speech, and on each layer of interviews, and the share of each invariance kept.
FLOORS = {"macro_f1": 0.90, "layer_f1": 0.85, "invariance": 0.98}

SELECTION_RULE = ("the mean of the grouped macro-F1 of each layer of interviews (each layer counts alike; the whole corpus "
                  "when it has no layers) and, when there are check sets, the share of stance flips followed, among the "
                  f"candidates that keep macro-F1 >= {FLOORS['macro_f1']:.2f} overall and >= {FLOORS['layer_f1']:.2f} on every "
                  f"layer and every invariance >= {FLOORS['invariance']:.2f} (among all when none does)")


def selection_score(entry: dict) -> float:
    """How a candidate is ranked (see :data:`SELECTION_RULE`): a model must do well on every layer of
    the corpus, not only the easiest, and follow the stance rather than the topic."""
    parts = [f1 for layer, f1 in (entry.get("per_layer") or {}).items() if layer != CONTRAST_LAYER] or [entry["macro_f1"]]
    if "flip" in (entry.get("checks") or {}):
        parts.append(entry["checks"]["flip"])
    return float(np.mean(parts))


def choose(comparison: Sequence[dict]) -> int:
    """The index of the candidate :data:`SELECTION_RULE` chooses (the first of equals); each entry gets its
    ``selection_score`` and ``keeps_floors``."""
    for entry in comparison:
        entry["selection_score"] = selection_score(entry)
        entry["keeps_floors"] = keeps_floors(entry)
    return max(range(len(comparison)), key=lambda i: (comparison[i]["keeps_floors"], round(comparison[i]["selection_score"], 4), -i))


def keeps_floors(entry: dict) -> bool:
    """Whether a candidate keeps the :data:`FLOORS`: following more stance flips is not worth reading the
    speech itself less well than the targets (a contrast layer can buy flips with F1)."""
    layers = [f1 for layer, f1 in (entry.get("per_layer") or {}).items() if layer != CONTRAST_LAYER]
    invariances = [share for capability, share in (entry.get("checks") or {}).items() if capability != "flip"]
    return (entry["macro_f1"] >= FLOORS["macro_f1"] and all(f1 >= FLOORS["layer_f1"] for f1 in layers)
            and all(share >= FLOORS["invariance"] for share in invariances))


def evaluate(data: TrainingData, candidate: Candidate, *, seed: int = SEED, n_splits: int = N_SPLITS, with_learning_curve: bool = True,
             checks: Sequence = ()) -> dict:
    """Grouped cross-validation of one configuration, with its calibration, learning curve and checks
    (those of ``checks`` whose interview is in ``data``, judged out-of-fold)."""
    folds = grouped_folds(data, n_splits, seed)
    result = cross_validate(candidate, data, folds, seed)
    evaluation = evaluation_report(data, folds, result)
    evaluation["calibration"] = calibration_report(data, folds, result.scores)
    if checks:
        from ..checks import check_report

        evaluation["checks"] = check_report(check_results(checks, data, folds, result.models))
    if with_learning_curve:
        evaluation["learning_curve"] = learning_curve(candidate, data, folds, seed, full=result)
    return evaluation
