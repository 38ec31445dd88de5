"""The model itself: candidates (which classifier, which features), the scikit-learn pipeline they
build, its decision scores, and :class:`EthosModel`, whose accessors are the only way the rest of
ethos reaches the pipeline's steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse

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

    from ..features import ConclusionText, LemmaText, Lemmatizer, MeanVectors, ngram_vectoriser
    from ..stance import StanceFeatures

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

    # --- accessors: the rest of ethos reaches the pipeline's steps only through these ----------------

    def _step(self, name: str):
        """A step of the feature union (``ngrams``, ``stance``, ``vectors``), None when dropped."""
        step = dict(self.pipeline.named_steps["features"].transformer_list).get(name)
        return None if step in (None, "drop") else step

    def tokens(self, texts: Sequence[str]) -> list:
        """The spaCy tokens of clean ``texts``, through the lemma session's cache."""
        return self.pipeline.named_steps["lemmas"].transform(list(texts))

    def feature_matrix(self, tokens: Sequence) -> "sparse.csr_matrix":
        """Every column the classifier sees for tokenised passages: named features, then word vectors."""
        return self.pipeline.named_steps["features"].transform(list(tokens)).tocsr()

    def ngram_rows(self, texts: Sequence[str]):
        """The TF-IDF rows of the lemma n-grams of clean ``texts`` (sparse, one per text)."""
        return self._step("ngrams").transform(self.tokens(texts))

    def feature_names(self) -> np.ndarray:
        """The names of the named columns, in column order (see :func:`named_features`)."""
        return named_features(self.pipeline)

    def linear(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` with one row per label of :attr:`labels`: the decision scores are ``X @ W.T + b``."""
        fitted_labels, weights, intercept = linear_parts(self.pipeline.named_steps["classifier"])
        order = [fitted_labels.index(label) for label in self.labels]
        return weights[order], intercept[order]

    @property
    def is_naive_bayes(self) -> bool:
        """Whether the weights are log-probabilities (naive Bayes), compared across labels, not signed."""
        return not hasattr(self.pipeline.named_steps["classifier"], "coef_")

    def grammar_lemmas(self) -> frozenset[str] | None:
        """The grammar words met in training, which reports group into families (None for a model
        that did not record them)."""
        grammar = getattr(self._step("ngrams").named_steps["text"], "grammar_lemmas_", None)
        return None if grammar is None else frozenset(grammar)

    @property
    def keeps_function_words(self) -> bool:
        """Whether grammar words are features (« je » against « on » is part of an ethos)."""
        return bool(self._step("ngrams").named_steps["text"].stop_words)

    def vector_step(self):
        """The word-vector step when the model has one (it shares a passage's vector score among its
        words), else None."""
        return self._step("vectors")

    def known_words(self) -> set[str]:
        """The single words of the model's n-grams: common words its training corpus wrote in lower
        case (a word only ever written with a capital, a name, never enters a model)."""
        return {term for term in self._step("ngrams").named_steps["tfidf"].vocabulary_ if " " not in term}
