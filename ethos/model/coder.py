"""The model as one more coder, for agreement: out-of-fold labels for the passages it was trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..cleaning import clean
from .data import text_key, unit_key
from .saving import load_model, out_of_fold_rows, read_manifest


# --- the model as a coder --------------------------------------------------------------------------

MODEL_CODER = "model"


def model_codings(model_dir: Path, codings: Sequence) -> list:
    """The model's label for every passage coded by someone, as codings of a coder named ``model``.

    For a passage the model was trained on (same doc_id, passage_id and clean text), the label is its
    out-of-fold prediction from the grouped cross-validation: the model never grades its own
    training. Any other passage is scored by the model (loaded only if there is one).
    """
    from ..annotations import Coding

    manifest = read_manifest(model_dir)
    out_of_fold = {(unit, text): predicted for unit, text, _, predicted in out_of_fold_rows(manifest)}
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


def model_versus_coders(report: dict, codings, labels, resamples: int, seed: int) -> dict:
    """Does the model agree with the coders as well as they agree with each other?"""
    from ..agreement import krippendorff_alpha, reliability_from_codings

    humans, _ = reliability_from_codings([c for c in codings if c.coder != MODEL_CODER], labels)
    pairs = report["cohen_kappa"]
    with_model = [p["kappa"] for p in pairs if MODEL_CODER in p["coders"] and p["kappa"] is not None]
    between_coders = [p["kappa"] for p in pairs if MODEL_CODER not in p["coders"] and p["kappa"] is not None]
    return {
        "krippendorff_alpha_coders_only": krippendorff_alpha(humans.counts()),
        "krippendorff_alpha_with_model": report["krippendorff_alpha"],
        "mean_kappa_model_with_coders": sum(with_model) / len(with_model) if with_model else None,
        "mean_kappa_between_coders": sum(between_coders) / len(between_coders) if between_coders else None,
        "out_of_fold_passages": sum(1 for c in codings if c.coder == MODEL_CODER and c.note == "out-of-fold"),
        "scored_passages": sum(1 for c in codings if c.coder == MODEL_CODER and c.note != "out-of-fold"),
    }
