"""A fitted model as data: ``model.json`` and ``model.npz``, read back without running any code.

A pickle (what ``joblib`` writes) is a program: loading one runs whatever it says, and researchers pass
trained models to each other. So a model folder holds only data, read with :mod:`json` and with
:func:`numpy.load` under ``allow_pickle=False``:

- ``model.json``: the format number, the labels, the candidate that was trained (which classifier,
  with or without stance features or word vectors), each step's settings and vocabulary, the
  calibration temperature;
- ``model.npz``: the numbers: the n-grams' idf, the classifier's coefficients and intercepts.

:func:`read_model` rebuilds the pipeline from the candidate with :func:`ethos.model.pipeline.build_pipeline` and
sets the fitted values on it, and nothing in the folder decides which code runs. A value of the wrong
shape or type is refused with a one-line message. To score, :func:`read_scorer` reads the same values
into a :class:`~ethos.model.scorer.LinearScorer`, which computes the pipeline's features and scores
without importing scikit-learn (tests check that both agree).
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
    description, arrays = read_model_files(folder)
    return rebuild_model(folder, description, arrays)


def read_model_files(folder: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The description (``model.json``) and the arrays (``model.npz``) of a model folder, read as data."""
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
    return description, arrays


_INCONSISTENT = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def _inconsistent(folder: Path, error: Exception) -> ModelError:
    return ModelError(f"{folder}: its model files are inconsistent ({type(error).__name__}: {error}); retrain it with `ethos train --model-dir {folder}`")


def rebuild_model(folder: Path, description: dict, arrays: dict[str, np.ndarray]):
    """``(pipeline, calibrator, labels, candidate)`` of a model's files (:func:`read_model_files`)."""
    try:
        return _rebuild(description, arrays, Candidate, TemperatureScaling)
    except _INCONSISTENT as error:
        raise _inconsistent(Path(folder), error) from None


def read_scorer(folder: Path, description: dict, arrays: dict[str, np.ndarray]):
    """``(scorer, calibrator, labels, candidate)`` of a model's files, scoring without scikit-learn
    (:class:`~ethos.model.scorer.LinearScorer`); None for a model the scorer does not serve (word vectors,
    settings it does not reproduce), which :func:`rebuild_model` reads, or refuses."""
    try:
        return _scorer(description, arrays)
    except _INCONSISTENT as error:
        raise _inconsistent(Path(folder), error) from None


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


def _positive(value, what: str) -> float:
    if not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number")
    return float(value)


def _parts(description: dict, arrays: dict, Candidate) -> dict:
    """The fitted values of a model's files, checked: what every step and the classifier hold."""
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        found = description.get("format") if isinstance(description, dict) else None
        raise ValueError(f"model format {found}, this ethos reads format {FORMAT}")
    parts: dict = {"labels": _strings(description["labels"], "labels"), "candidate": Candidate.from_dict(description["candidate"])}
    candidate = parts["candidate"]
    parts["grammar_lemmas"] = _strings(description["lemma_text"]["grammar_lemmas"], "grammar_lemmas")
    vocabulary = parts["vocabulary"] = _vocabulary(description["ngrams"]["vocabulary"], "the n-gram vocabulary")
    parts["idf"] = _floats(arrays["idf"], (len(vocabulary),), "idf")
    width = len(vocabulary)
    if candidate.stance:
        parts["stance_vocabulary"] = _vocabulary(description["stance"]["vocabulary"], "the stance vocabulary")
        width += len(parts["stance_vocabulary"])
    if candidate.conclusion:
        recorded = description["conclusion"]
        conclusion_vocabulary = parts["conclusion_vocabulary"] = _vocabulary(recorded["ngrams"]["vocabulary"], "the conclusion's vocabulary")
        parts["conclusion_idf"] = _floats(arrays["conclusion_idf"], (len(conclusion_vocabulary),), "conclusion_idf")
        parts["conclusion_weight"] = _positive(recorded["weight"], "the conclusion's weight")
        width += len(conclusion_vocabulary)
    if candidate.vectors:
        parts["n_vectors"] = int(description["vectors"]["n_features_out"])
        width += parts["n_vectors"]
    classes = parts["classes"] = _strings(description["classifier"]["classes"], "classes")
    rows = 1 if len(classes) == 2 and candidate.classifier != "complement_nb" else len(classes)
    if candidate.classifier == "complement_nb":
        parts["feature_log_prob"] = _floats(arrays["feature_log_prob"], (rows, width), "feature_log_prob")
    else:
        parts["coef"] = _floats(arrays["coef"], (rows, width), "coef")
        parts["intercept"] = _floats(arrays["intercept"], (rows,), "intercept")
    parts["width"] = width
    parts["temperature"] = _positive(description["calibrator"]["temperature"], "the temperature")
    if sorted(parts["labels"]) != sorted(classes) and not set(classes) <= set(parts["labels"]):
        raise ValueError("the classifier's classes are not among the model's labels")
    return parts


def _calibrator(parts: dict, TemperatureScaling):
    calibrator = TemperatureScaling()
    calibrator.temperature_ = parts["temperature"]
    return calibrator


def _rebuild(description: dict, arrays: dict, Candidate, TemperatureScaling):
    parts = _parts(description, arrays, Candidate)
    candidate = parts["candidate"]
    pipeline = candidate.pipeline()
    steps = dict(pipeline.named_steps["features"].transformer_list)
    lemma_text, tfidf = steps["ngrams"].named_steps["text"], steps["ngrams"].named_steps["tfidf"]
    _apply_settings(lemma_text, description["lemma_text"]["settings"])
    _apply_settings(tfidf, description["ngrams"]["settings"])
    lemma_text.grammar_lemmas_ = parts["grammar_lemmas"]
    tfidf.vocabulary_ = parts["vocabulary"]
    tfidf.idf_ = parts["idf"]
    if candidate.stance:
        _apply_settings(steps["stance"], description["stance"]["settings"])
        steps["stance"].vocabulary_ = parts["stance_vocabulary"]
    if candidate.conclusion:
        recorded = description["conclusion"]
        step = steps["conclusion"]
        _apply_settings(step.named_steps["text"], recorded["lemma_text"]["settings"])
        _apply_settings(step.named_steps["tfidf"], recorded["ngrams"]["settings"])
        step.named_steps["text"].grammar_lemmas_ = lemma_text.grammar_lemmas_
        step.named_steps["tfidf"].vocabulary_ = parts["conclusion_vocabulary"]
        step.named_steps["tfidf"].idf_ = parts["conclusion_idf"]
        pipeline.named_steps["features"].transformer_weights = {"conclusion": parts["conclusion_weight"]}
    if candidate.vectors:
        _apply_settings(steps["vectors"], description["vectors"]["settings"])
        steps["vectors"].n_features_out_ = parts["n_vectors"]
    classifier = pipeline.named_steps["classifier"]
    classifier.classes_ = np.array(parts["classes"], dtype=object)
    if candidate.classifier == "complement_nb":
        classifier.feature_log_prob_ = parts["feature_log_prob"]
    else:
        classifier.coef_ = parts["coef"]
        classifier.intercept_ = parts["intercept"]
    classifier.n_features_in_ = parts["width"]
    return pipeline, _calibrator(parts, TemperatureScaling), parts["labels"], candidate


_CLASSIFIERS = ("logistic_regression", "linear_svm", "complement_nb")


def _stop_words(settings) -> bool | None:
    """A lemma step's one setting, when it is what the scorer reads (else None)."""
    if isinstance(settings, dict) and set(settings) == {"stop_words"} and type(settings["stop_words"]) is bool:
        return settings["stop_words"]
    return None


def _scorer(description: dict, arrays: dict):
    from .scorer import LinearScorer, TfidfBlock, reproduces

    parts = _parts(description, arrays, Candidate)
    candidate = parts["candidate"]
    if candidate.vectors or candidate.classifier not in _CLASSIFIERS:
        return None
    stop_words = _stop_words(description["lemma_text"]["settings"])
    settings = description["ngrams"]["settings"]
    if stop_words is None or not reproduces(settings):
        return None
    ngrams = TfidfBlock(parts["vocabulary"], parts["idf"], tuple(settings["ngram_range"]))
    stance = None
    if candidate.stance:
        recorded = description["stance"]["settings"]
        if not (isinstance(recorded, dict) and set(recorded) == {"weight", "min_df", "scoped_words"} and type(recorded["scoped_words"]) is bool
                and type(recorded["min_df"]) is int and type(recorded["weight"]) in (int, float)):
            return None
        stance = (parts["stance_vocabulary"], recorded["weight"], recorded["scoped_words"])
    conclusion = None
    if candidate.conclusion:
        recorded = description["conclusion"]
        conclusion_stop_words = _stop_words(recorded["lemma_text"]["settings"])
        if conclusion_stop_words is None or not reproduces(recorded["ngrams"]["settings"]):
            return None
        block = TfidfBlock(parts["conclusion_vocabulary"], parts["conclusion_idf"], tuple(recorded["ngrams"]["settings"]["ngram_range"]))
        conclusion = (block, conclusion_stop_words, parts["conclusion_weight"])
    naive_bayes = candidate.classifier == "complement_nb"
    scorer = LinearScorer(stop_words, tuple(parts["grammar_lemmas"]), ngrams, tuple(parts["classes"]),
                          parts["feature_log_prob"] if naive_bayes else parts["coef"], None if naive_bayes else parts["intercept"], stance, conclusion)
    return scorer, _calibrator(parts, TemperatureScaling), parts["labels"], candidate
