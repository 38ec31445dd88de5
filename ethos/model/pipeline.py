"""The model itself: candidates (which classifier, which features), the scikit-learn pipeline they
build, its decision scores, and :class:`EthosModel`, whose accessors are the only way the rest of
ethos reaches the pipeline's steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from .scorer import LinearScorer

#: The seed of every random step.
SEED = 0


# --- candidates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One configuration to compare: a linear classifier, its regularisation, with or without word vectors."""

    classifier: str  # "logistic_regression" | "linear_svm" | "complement_nb"
    strength: float  # C for the first two, alpha for naive Bayes
    vectors: bool = False
    function_words: bool = True  # keep pronouns, determiners... ("je" against "on" is part of an ethos)
    stance: bool = False  # named stance features (negation, reported discourse, critique frames, lexicons)
    conclusion: bool = False  # the lemma n-grams of each passage's conclusion as a block of their own (« fin: … »)

    @property
    def name(self) -> str:
        symbol = "alpha" if self.classifier == "complement_nb" else "C"
        extras = (" + stance" if self.stance else "") + (" + conclusion" if self.conclusion else "") + (" + word vectors" if self.vectors else "") + ("" if self.function_words else ", no function words")
        return f"{self.classifier}({symbol}={self.strength:g}){extras}"

    def pipeline(self, seed: int = SEED):
        return build_pipeline(self.classifier, self.strength, self.vectors, seed, self.function_words, self.stance, self.conclusion)

    def as_dict(self) -> dict:
        return {"classifier": self.classifier, "strength": self.strength, "vectors": self.vectors, "function_words": self.function_words,
                "stance": self.stance, "conclusion": self.conclusion}

    @classmethod
    def from_dict(cls, recorded: dict) -> "Candidate":
        return cls(str(recorded["classifier"]), float(recorded["strength"]), bool(recorded.get("vectors", False)),
                   bool(recorded.get("function_words", True)), bool(recorded.get("stance", False)), bool(recorded.get("conclusion", False)))


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
    Candidate("logistic_regression", 16.0, stance=True, conclusion=True),
    Candidate("linear_svm", 0.5, stance=True, conclusion=True),
)
#: How much the conclusion's n-grams weigh against the whole passage's (a row of each block has length
#: one before this weight): measured on the check sets, half the weight follows more stance flips
#: without losing F1 on either layer; the full weight loses some.
CONCLUSION_WEIGHT = 0.5
DEFAULT_CANDIDATE = Candidate("logistic_regression", 4.0)


def build_pipeline(classifier: str = "logistic_regression", strength: float = 4.0, vectors: bool = False, seed: int = SEED,
                   function_words: bool = True, stance: bool = False, conclusion: bool = False):
    """The whole model as one Pipeline: clean text -> tokens -> lemma n-grams (+ word vectors) -> label."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    from ..transformers import ConclusionText, LemmaText, Lemmatizer, MeanVectors, StanceFeatures, ngram_vectoriser

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
        ("conclusion", Pipeline([("text", ConclusionText(stop_words=function_words)), ("tfidf", ngram_vectoriser())]) if conclusion else "drop"),
        ("vectors", MeanVectors() if vectors else "drop"),
    ], transformer_weights={"conclusion": CONCLUSION_WEIGHT} if conclusion else None)
    return Pipeline([("lemmas", Lemmatizer()), ("features", features), ("classifier", estimator)])


# --- decision scores -------------------------------------------------------------------------------

def named_features(pipeline) -> np.ndarray:
    """The names of the model's named columns, in column order: lemma n-grams, stance features, then the
    conclusion's n-grams (« fin: … »). Word vectors, when the model has them, come after these columns
    and have no names."""
    from ..features import CONCLUSION_PREFIX

    steps = dict(pipeline.named_steps["features"].transformer_list)
    names = [steps["ngrams"].named_steps["tfidf"].get_feature_names_out()]
    if steps.get("stance", "drop") != "drop":
        names.append(steps["stance"].get_feature_names_out())
    if steps.get("conclusion", "drop") != "drop":
        names.append(np.array([CONCLUSION_PREFIX + name for name in steps["conclusion"].named_steps["tfidf"].get_feature_names_out()], dtype=object))
    return np.concatenate(names) if len(names) > 1 else names[0]


def linear_parts(classifier) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(labels, W, b)`` such that the decision scores are ``X @ W.T + b``, one row per label.

    A two-label logistic regression or SVM has one row ``w``; its scores are ``-s`` and ``+s``
    (``s = X @ w + b``), which keeps the same decision and decomposes just as exactly.
    """
    if hasattr(classifier, "coef_"):
        return linear_weights(classifier.classes_, classifier.coef_, classifier.intercept_)
    return linear_weights(classifier.classes_, classifier.feature_log_prob_, None)  # ComplementNB: X @ feature_log_prob_.T


def linear_weights(classes, weights, intercept) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`linear_parts` of a classifier's classes, coefficients (or naive Bayes' log-probabilities)
    and intercepts (None for naive Bayes)."""
    labels = [str(c) for c in classes]
    weights = np.asarray(weights, dtype=np.float64)
    if intercept is None:
        return labels, weights, np.zeros(len(labels))
    intercept = np.asarray(intercept, dtype=np.float64)
    if weights.shape[0] == 1 and len(labels) == 2:
        weights, intercept = np.vstack([-weights[0], weights[0]]), np.array([-intercept[0], intercept[0]])
    return labels, weights, intercept


def decision_scores(pipeline, texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Decision scores in the order of ``labels``. A label the fitted model never saw (possible in a
    fold of a small corpus) gets a score below every other, so it is never chosen."""
    fitted_labels, weights, intercept = linear_parts(pipeline.named_steps["classifier"])
    return _ordered_scores(pipeline[:-1].transform(list(texts)), fitted_labels, weights, intercept, labels)


def _ordered_scores(features, fitted_labels: list[str], weights: np.ndarray, intercept: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    fitted = np.asarray(features @ weights.T) + intercept
    n = features.shape[0]
    scores = np.empty((n, len(labels)))
    floor = fitted.min(axis=1) - 1.0 if n else np.zeros(0)
    for j, label in enumerate(labels):
        scores[:, j] = fitted[:, fitted_labels.index(label)] if label in fitted_labels else floor
    return scores


# --- the model -------------------------------------------------------------------------------------

class EthosModel:
    """A fitted model, its calibrator and its manifest.

    A model trained in this process holds its scikit-learn ``pipeline``. A loaded model scores with a
    :class:`~ethos.model.scorer.LinearScorer`, which needs no scikit-learn, and builds its pipeline
    with ``rebuild`` only when something asks for it; a model the scorer does not serve (word vectors)
    is loaded with its pipeline.
    """

    def __init__(self, pipeline, calibrator, labels: list[str], manifest: dict | None = None, path: Path | None = None,
                 candidate: "Candidate | None" = None, *, scorer: "LinearScorer | None" = None, rebuild: Callable[[], object] | None = None):
        self._pipeline = pipeline
        self.calibrator = calibrator
        self.labels = labels
        self.manifest = {} if manifest is None else manifest
        self.path = path
        #: The configuration that was trained (how :mod:`ethos.model.store` rebuilds the pipeline).
        self.candidate = candidate
        self.scorer = scorer
        self._rebuild = rebuild

    @property
    def pipeline(self):
        """The fitted scikit-learn Pipeline (built from the model's data on first use for a loaded model)."""
        if self._pipeline is None:
            self._pipeline = self._rebuild()
        return self._pipeline

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        if self.scorer is None:
            return decision_scores(self.pipeline, texts, self.labels)
        fitted_labels, weights, intercept = self._linear_parts()
        return _ordered_scores(self.feature_matrix(self.tokens(texts)), fitted_labels, weights, intercept, self.labels)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return self.calibrator.predict_proba(scores)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[j] for j in self.scores(texts).argmax(axis=1)]

    # --- accessors: the rest of ethos reaches the pipeline's steps only through these ----------------

    def _step(self, name: str):
        """A step of the feature union (``ngrams``, ``stance``, ``vectors``), None when dropped."""
        step = dict(self.pipeline.named_steps["features"].transformer_list).get(name)
        return None if step in (None, "drop") else step

    def _linear_parts(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        if self.scorer is None:
            return linear_parts(self.pipeline.named_steps["classifier"])
        return linear_weights(self.scorer.classes, self.scorer.weights, self.scorer.intercept)

    def tokens(self, texts: Sequence[str]) -> list:
        """The spaCy tokens of clean ``texts``, through the lemma session's cache."""
        from ..nlp import session_lemmas

        return session_lemmas([str(t) for t in texts])

    def feature_matrix(self, tokens: Sequence) -> "sparse.csr_matrix":
        """Every column the classifier sees for tokenised passages: named features, then word vectors."""
        if self.scorer is not None:
            return self.scorer.feature_matrix(list(tokens))
        return self.pipeline.named_steps["features"].transform(list(tokens)).tocsr()

    def ngram_rows(self, texts: Sequence[str]):
        """The TF-IDF rows of the lemma n-grams of clean ``texts`` (sparse, one per text)."""
        if self.scorer is not None:
            return self.scorer.ngram_rows(self.tokens(texts))
        return self._step("ngrams").transform(self.tokens(texts))

    def feature_names(self) -> np.ndarray:
        """The names of the named columns, in column order (see :func:`named_features`)."""
        return self.scorer.feature_names() if self.scorer is not None else named_features(self.pipeline)

    def linear(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` with one row per label of :attr:`labels`: the decision scores are ``X @ W.T + b``."""
        fitted_labels, weights, intercept = self._linear_parts()
        order = [fitted_labels.index(label) for label in self.labels]
        return weights[order], intercept[order]

    @property
    def is_naive_bayes(self) -> bool:
        """Whether the weights are log-probabilities (naive Bayes), compared across labels, not signed."""
        if self.scorer is not None:
            return self.scorer.intercept is None
        return not hasattr(self.pipeline.named_steps["classifier"], "coef_")

    def grammar_lemmas(self) -> frozenset[str] | None:
        """The grammar words met in training, which reports group into families (None for a model
        that did not record them)."""
        if self.scorer is not None:
            return frozenset(self.scorer.grammar_lemmas)
        grammar = getattr(self._step("ngrams").named_steps["text"], "grammar_lemmas_", None)
        return None if grammar is None else frozenset(grammar)

    @property
    def keeps_function_words(self) -> bool:
        """Whether grammar words are features (« je » against « on » is part of an ethos)."""
        if self.scorer is not None:
            return self.scorer.stop_words
        return bool(self._step("ngrams").named_steps["text"].stop_words)

    def vector_step(self):
        """The word-vector step when the model has one (it shares a passage's vector score among its
        words), else None."""
        return None if self.scorer is not None else self._step("vectors")

    def known_words(self) -> set[str]:
        """The single words of the model's n-grams: common words its training corpus wrote in lower
        case (a word only ever written with a capital, a name, never enters a model)."""
        vocabulary = self.scorer.ngrams.vocabulary if self.scorer is not None else self._step("ngrams").named_steps["tfidf"].vocabulary_
        return {term for term in vocabulary if " " not in term}
