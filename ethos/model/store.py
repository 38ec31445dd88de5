"""A fitted model as data: ``model.json`` and ``model.npz``, read back without running any code.

A pickle (what ``joblib`` writes) is a program: loading one runs whatever it says, and researchers pass
trained models to each other. So a model folder holds only data, read with :mod:`json` and with
:func:`numpy.load` under ``allow_pickle=False``:

- ``model.json``: the format number, the labels, the candidate that was trained (which classifier,
  with or without stance features or word vectors), each step's settings and vocabulary, the
  calibration temperature;
- ``model.npz``: the numbers: the n-grams' idf, the classifier's coefficients and intercepts.

:func:`read_model` rebuilds the pipeline from the candidate with :func:`ethos.model.pipeline.build_pipeline` and
sets the fitted values on it: the same code that trains a model scores with it, and nothing in the
folder decides which code runs. A value of the wrong shape or type is refused with a one-line message.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .calibration import TemperatureScaling
from .pipeline import Candidate

MODEL_JSON = "model.json"
MODEL_ARRAYS = "model.npz"
DATA_FILES = (MODEL_JSON, MODEL_ARRAYS)
#: Bump when what the two files hold changes shape.
FORMAT = 2
#: The pickle of earlier versions of ethos, refused on sight.
LEGACY_FILE = "model.joblib"


def write_model(pipeline, calibrator, labels, candidate: dict, folder: Path) -> None:
    """Write ``model.json`` and ``model.npz`` of a fitted pipeline into ``folder`` (which exists)."""
    features = pipeline.named_steps["features"]
    steps = dict(features.transformer_list)
    ngrams = steps["ngrams"]
    lemma_text, tfidf = ngrams.named_steps["text"], ngrams.named_steps["tfidf"]
    classifier = pipeline.named_steps["classifier"]
    arrays = {"idf": np.asarray(tfidf.idf_, dtype=np.float64)}
    if hasattr(classifier, "coef_"):
        arrays["coef"] = np.asarray(classifier.coef_, dtype=np.float64)
        arrays["intercept"] = np.asarray(classifier.intercept_, dtype=np.float64)
    else:  # complement naive Bayes
        arrays["feature_log_prob"] = np.asarray(classifier.feature_log_prob_, dtype=np.float64)
    stance = steps.get("stance", "drop")
    conclusion = steps.get("conclusion", "drop")
    vectors = steps.get("vectors", "drop")
    if conclusion != "drop":
        arrays["conclusion_idf"] = np.asarray(conclusion.named_steps["tfidf"].idf_, dtype=np.float64)
    description = {
        "format": FORMAT,
        "labels": [str(label) for label in labels],
        "candidate": candidate,
        "lemma_text": {"settings": _settings(lemma_text), "grammar_lemmas": list(lemma_text.grammar_lemmas_)},
        "ngrams": {"settings": _settings(tfidf), "vocabulary": {term: int(j) for term, j in sorted(tfidf.vocabulary_.items(), key=lambda item: item[1])}},
        "stance": None if stance == "drop" else {"settings": _settings(stance), "vocabulary": dict(sorted(stance.vocabulary_.items(), key=lambda item: item[1]))},
        "conclusion": None if conclusion == "drop" else {
            "weight": float((features.transformer_weights or {}).get("conclusion", 1.0)),
            "lemma_text": {"settings": _settings(conclusion.named_steps["text"])},
            "ngrams": {"settings": _settings(conclusion.named_steps["tfidf"]),
                       "vocabulary": {term: int(j) for term, j in sorted(conclusion.named_steps["tfidf"].vocabulary_.items(), key=lambda item: item[1])}}},
        "vectors": None if vectors == "drop" else {"settings": _settings(vectors), "n_features_out": int(vectors.n_features_out_)},
        "classifier": {"classes": [str(c) for c in classifier.classes_]},
        "calibrator": {"temperature": float(calibrator.temperature_)},
    }
    with open(folder / MODEL_JSON, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(description, ensure_ascii=False, indent=0) + "\n")
    _write_npz(folder / MODEL_ARRAYS, arrays)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """What :func:`numpy.savez_compressed` writes, with a fixed date on each member, so that the same
    training writes the same bytes (numpy stamps the current time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w") as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


_PLAIN = (str, int, float, bool, type(None))


def _settings(step) -> dict:
    """A step's settings that are plain values (``ngram_range`` as a list): what shapes its output."""
    settings = {}
    for name, value in sorted(step.get_params(deep=False).items()):
        if isinstance(value, tuple) and all(isinstance(v, _PLAIN) for v in value):
            value = list(value)
        if isinstance(value, _PLAIN) or isinstance(value, list):
            settings[name] = value
    return settings


def _apply_settings(step, settings) -> None:
    """Set recorded settings on a freshly built step: only those it has, of the type it has."""
    if not isinstance(settings, dict):
        raise ValueError("settings must be an object")
    current = step.get_params(deep=False)
    chosen = {}
    for name, value in settings.items():
        if name not in current:
            raise ValueError(f"unknown setting {name!r} of {type(step).__name__}")
        now = current[name]
        if isinstance(now, tuple) and isinstance(value, list) and all(isinstance(v, _PLAIN) for v in value):
            value = tuple(value)
        elif not isinstance(value, _PLAIN) or (now is None and isinstance(value, str)) or (
                now is not None and value is not None and type(value) is not type(now) and not (isinstance(now, float) and type(value) is int)):
            # a setting that is unset in a fresh step may only be a number (a callable's name is never taken)
            raise ValueError(f"setting {name!r} of {type(step).__name__} has the wrong type")
        chosen[name] = value
    if chosen.get("input", "content") != "content" or chosen.get("analyzer", "word") != "word":
        raise ValueError("a model's n-grams are read from the passages' lemmas, as words")  # never from files named by the text
    step.set_params(**chosen)


def read_model(folder: Path):
    """``(pipeline, calibrator, labels, candidate)`` of a model folder's data files; :class:`ModelError` when they
    are not what :func:`write_model` writes."""


    folder = Path(folder)
    try:
        description = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{folder}: {MODEL_JSON} is missing") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelError(f"{folder / MODEL_JSON}: not valid JSON ({error})") from None
    try:
        with np.load(folder / MODEL_ARRAYS, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ModelError(f"{folder}: {MODEL_ARRAYS} is missing") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:  # object arrays are refused here too
        raise ModelError(f"{folder / MODEL_ARRAYS}: not a model's arrays ({error})") from None
    try:
        return _rebuild(description, arrays, Candidate, TemperatureScaling)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise ModelError(f"{folder}: its model files are inconsistent ({type(error).__name__}: {error}); retrain it with `ethos train --model-dir {folder}`") from None


def _strings(values, what: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"{what} must be a list of strings")
    return values


def _vocabulary(values, what: str) -> dict[str, int]:
    if not isinstance(values, dict) or not all(isinstance(k, str) and type(v) is int for k, v in values.items()):
        raise ValueError(f"{what} must map strings to column numbers")
    if sorted(values.values()) != list(range(len(values))):
        raise ValueError(f"{what} must number its columns 0 to {len(values) - 1}")
    return values


def _floats(array: np.ndarray, shape: tuple, what: str) -> np.ndarray:
    if array.dtype.kind != "f" or array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite numbers of shape {shape}, not {array.dtype} {array.shape}")
    return np.asarray(array, dtype=np.float64)


def _rebuild(description: dict, arrays: dict, Candidate, TemperatureScaling):
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        found = description.get("format") if isinstance(description, dict) else None
        raise ValueError(f"model format {found}, this ethos reads format {FORMAT}")
    labels = _strings(description["labels"], "labels")
    candidate = Candidate.from_dict(description["candidate"])
    pipeline = candidate.pipeline()
    steps = dict(pipeline.named_steps["features"].transformer_list)
    lemma_text, tfidf = steps["ngrams"].named_steps["text"], steps["ngrams"].named_steps["tfidf"]
    _apply_settings(lemma_text, description["lemma_text"]["settings"])
    _apply_settings(tfidf, description["ngrams"]["settings"])
    lemma_text.grammar_lemmas_ = _strings(description["lemma_text"]["grammar_lemmas"], "grammar_lemmas")
    vocabulary = _vocabulary(description["ngrams"]["vocabulary"], "the n-gram vocabulary")
    tfidf.vocabulary_ = vocabulary
    tfidf.idf_ = _floats(arrays["idf"], (len(vocabulary),), "idf")
    width = len(vocabulary)
    if candidate.stance:
        _apply_settings(steps["stance"], description["stance"]["settings"])
        stance_vocabulary = _vocabulary(description["stance"]["vocabulary"], "the stance vocabulary")
        steps["stance"].vocabulary_ = stance_vocabulary
        width += len(stance_vocabulary)
    if candidate.conclusion:
        recorded = description["conclusion"]
        step = steps["conclusion"]
        _apply_settings(step.named_steps["text"], recorded["lemma_text"]["settings"])
        _apply_settings(step.named_steps["tfidf"], recorded["ngrams"]["settings"])
        step.named_steps["text"].grammar_lemmas_ = lemma_text.grammar_lemmas_
        conclusion_vocabulary = _vocabulary(recorded["ngrams"]["vocabulary"], "the conclusion's vocabulary")
        step.named_steps["tfidf"].vocabulary_ = conclusion_vocabulary
        step.named_steps["tfidf"].idf_ = _floats(arrays["conclusion_idf"], (len(conclusion_vocabulary),), "conclusion_idf")
        weight = recorded["weight"]
        if not isinstance(weight, (int, float)) or not np.isfinite(weight) or weight <= 0:
            raise ValueError("the conclusion's weight must be a positive number")
        pipeline.named_steps["features"].transformer_weights = {"conclusion": float(weight)}
        width += len(conclusion_vocabulary)
    if candidate.vectors:
        _apply_settings(steps["vectors"], description["vectors"]["settings"])
        steps["vectors"].n_features_out_ = int(description["vectors"]["n_features_out"])
        width += steps["vectors"].n_features_out_
    classifier = pipeline.named_steps["classifier"]
    classes = _strings(description["classifier"]["classes"], "classes")
    classifier.classes_ = np.array(classes, dtype=object)
    rows = 1 if len(classes) == 2 and candidate.classifier != "complement_nb" else len(classes)
    if candidate.classifier == "complement_nb":
        classifier.feature_log_prob_ = _floats(arrays["feature_log_prob"], (rows, width), "feature_log_prob")
    else:
        classifier.coef_ = _floats(arrays["coef"], (rows, width), "coef")
        classifier.intercept_ = _floats(arrays["intercept"], (rows,), "intercept")
    classifier.n_features_in_ = width
    temperature = description["calibrator"]["temperature"]
    if not isinstance(temperature, (int, float)) or not np.isfinite(temperature) or temperature <= 0:
        raise ValueError("the temperature must be a positive number")
    calibrator = TemperatureScaling()
    calibrator.temperature_ = float(temperature)
    if sorted(labels) != sorted(classes) and not set(classes) <= set(labels):
        raise ValueError("the classifier's classes are not among the model's labels")
    return pipeline, calibrator, labels, candidate
