"""Training data: one labelled passage per unit (gold, else the coders' majority), names masked, layers.

Identifiers of passages and texts are digests (:func:`unit_key`, :func:`text_key`), so that a model's
manifest can say what it was trained on without holding a word of it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..annotations import GOLD, LABELS, read_codings
from ..cleaning import clean
from ..errors import AnnotationError
from ..names import name_pattern
from ..text import nfc_field


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def unit_key(doc_id: str, passage_id: str) -> str:
    return _digest(doc_id, passage_id)


def text_key(clean_text: str) -> str:
    return _digest(clean_text)


# --- training data ---------------------------------------------------------------------------------

#: The layer of contrast passages: minimal edits of corpus passages that turn their stance around,
#: written to teach a model the stance rather than the topic. They are training data, not anyone's speech:
#: the headline figures, the calibration and the learning curve are measured without them.
CONTRAST_LAYER = "contrast"
#: How much the contrast layer weighs in training, as a share of what one layer of interviews weighs.
#: Chosen by grouped cross-validation as the largest of 0.1, 0.2, 0.3 that keeps every target of
#: data/README.md (macro-F1 >= 0.90 over speech and >= 0.85 on the hard layer, invariances >= 0.98)
#: with the 436 contrast passages: at 0.2 speech falls to 0.895, the hard layer to 0.845 and fillers to
#: 0.971 (docs/model.md). Pairs of near-identical passages with opposite labels teach a bag of words
#: which words carry the stance, and, weighing more, unlearn what the topic words rightly say about
#: most speech.
CONTRAST_SHARE = 0.1

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
        """Weights that make every layer of the corpus weigh as much as every other in training, the
        contrast layer :data:`CONTRAST_SHARE` of one; None when there is a single layer. The weights of
        speech (every layer but the contrast layer) average one, so that adding the contrast layer
        leaves a classifier's regularisation of speech as it was.

        A small layer of hard passages added to a large easy one is otherwise drowned: the model keeps
        what the many easy passages taught it."""
        layers = self.layer_names()
        if len(layers) < 2:
            return None
        counts = Counter(self.layers)
        share = {layer: CONTRAST_SHARE if layer == CONTRAST_LAYER else 1.0 for layer in layers}
        spoken = [layer for layer in layers if layer != CONTRAST_LAYER] or layers
        per_layer = sum(counts[layer] for layer in spoken) / len(spoken)  # what one layer of speech weighs
        return np.array([per_layer * share[layer] / counts[layer] for layer in self.layers])

    def speech(self) -> np.ndarray:
        """Which passages are someone's speech (every passage but the contrast layer's edited copies)."""
        return np.array([layer != CONTRAST_LAYER for layer in self.layers], dtype=bool) if self.layers else np.ones(len(self.units), dtype=bool)


def name_tokens(metadata: Path) -> set[str]:
    """The words of the interviewees' pseudonyms (``pseudonym`` column of a metadata table), titles left out."""
    from ..features import TITLES
    from ..tables import read_rows

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
    from ..tables import read_rows

    return {nfc_field(row.get("doc_id")): (row.get("layer") or "").strip()
            for _, row in read_rows(metadata) if (row.get("layer") or "").strip()}


def mask_names(text: str, names: set[str]) -> str:
    """``text`` without the given names (whole words, any case), so that no feature can be made of them."""
    if not names:
        return text
    masked = _name_pattern(frozenset(names)).sub("", text)
    return re.sub(r"[ \t]{2,}", " ", masked).strip() if masked != text else text


@functools.lru_cache(maxsize=8)
def _name_pattern(names: frozenset[str]) -> re.Pattern:
    pattern = name_pattern(names, ignore_case=True)
    assert pattern is not None  # names is not empty
    return pattern


def training_data(paths: Sequence[Path], labels: Sequence[str] = LABELS, names: set[str] | None = None, *,
                  for_training: bool = True, aliases: Mapping[str, str] | None = None) -> TrainingData:
    """The labelled passages of annotation files: gold where adjudicated, else the majority of coders.

    Passages whose coders tie are left out and listed in ``ties``; passages with no words left after
    cleaning are listed in ``empty``. ``names`` (the words of the interviewees' pseudonyms, see
    :func:`name_tokens`) are masked from the texts, so that even a name that is also a common word
    (« Pierre », « pierre ») never becomes a feature. ``for_training`` refuses data a model cannot
    learn from or be evaluated on: fewer than two labels, or a single interview.
    """
    from ..annotations import annotation_files

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


def speech_codings(codings) -> list:
    """The codings of people's speech: every coding but those of the contrast layer's edited copies
    (a passage whose rows name the layer ``contrast``)."""
    copies = {c.unit for c in codings if c.layer == CONTRAST_LAYER}
    return [c for c in codings if c.unit not in copies] if copies else list(codings)


def codings_of_layers(codings, layers: set[str], metadata: Path) -> list:
    """The codings of passages in ``layers``: a passage's layer is its rows' `layer` column, else its interview's in ``metadata``."""
    layer_of = layer_map(metadata) if metadata.is_file() else {}
    given: dict[tuple[str, str], str] = {}
    for coding in codings:
        if coding.layer:
            given.setdefault(coding.unit, coding.layer)
    kept = [c for c in codings if given.get(c.unit, layer_of.get(c.doc_id, "")) in layers]
    if not kept:
        known = sorted(set(given.values()) | set(layer_of.values()))
        raise AnnotationError(f"no coded passage of layer {', '.join(sorted(layers))} (layers known: {', '.join(known) or 'none; is the metadata there?'})")
    return kept


def load_training_data(data_paths: Sequence[Path], codebook: Path | None = None, metadata: Path | None = None, *,
                       for_training: bool = True) -> TrainingData:
    """The training data of annotation files with a codebook's labels (:func:`training_data`); with
    ``metadata``, the interviewees' pseudonyms masked and each interview's layer. Warns of what is left
    out: interviews the metadata does not describe, passages whose coders tie, passages left empty."""
    from ..codebook import load_codebook

    names = name_tokens(metadata) if metadata is not None else None
    book = load_codebook(codebook, require_core=for_training)
    data = training_data(list(data_paths), book.names, names, for_training=for_training, aliases=book.aliases)
    if metadata is not None:
        from ..tables import read_rows

        data.set_layers(layer_map(metadata))
        described = {nfc_field(row.get("doc_id")) for _, row in read_rows(metadata)}
        missing = sorted(set(data.documents) - described)
        if missing:
            shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
            warnings.warn(f"{len(missing)} interview{'s are' if len(missing) > 1 else ' is'} not in {metadata} ({shown}): "
                          f"{'their interviewees’' if len(missing) > 1 else 'its interviewee’s'} pseudonyms are not masked from the training texts")
    if data.ties:
        shown = ", ".join(f"{d}/{p}" for d, p in data.ties[:5]) + (" …" if len(data.ties) > 5 else "")
        warnings.warn(f"{len(data.ties)} passages left out because their coders tie and no gold label settles them: {shown} (adjudicate them with `ethos agreement --disagreements`)")
    if data.empty:
        warnings.warn(f"{len(data.empty)} annotated passages have no words left after cleaning and are left out")
    return data
