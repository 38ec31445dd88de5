"""What changed since the previous model: passages new, gone or relabelled, figures side by side."""

from __future__ import annotations

from .data import TrainingData
from .evaluation import Training
from .saving import out_of_fold_rows


def _figure(value) -> float | None:
    """A figure of a previous manifest, or None where it is missing or not a number."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _previous_figures(previous: dict) -> tuple[float | None, float | None, dict]:
    evaluation = previous.get("evaluation")
    evaluation = evaluation if isinstance(evaluation, dict) else {}
    per_label = evaluation.get("per_label")
    per_label = per_label if isinstance(per_label, dict) else {}
    f1 = {label: _figure(figures.get("f1")) for label, figures in per_label.items() if isinstance(figures, dict)}
    return _figure(evaluation.get("macro_f1")), _figure(evaluation.get("kappa")), f1


# --- retraining ------------------------------------------------------------------------------------

def compare_with_previous(previous: dict, training: Training) -> dict:
    """What changed since the previous model: passages of speech new, gone or relabelled, edited copies
    (the contrast layer) new or relabelled apart, and the figures side by side. A damaged previous
    manifest gives what can be read of it."""
    before = {unit: label for unit, _, label, _ in out_of_fold_rows(previous)}
    data = training.data
    now = dict(zip(data.unit_keys(), data.labels))
    copies = {key for key, spoken in zip(data.unit_keys(), data.speech()) if not spoken}
    new = [key for key in now if key not in before and key not in copies]
    relabelled = [key for key in now if key in before and before[key] != now[key]]
    old_f1, old_kappa, old_label_f1 = _previous_figures(previous)
    new_eval = training.evaluation
    labels = data.label_order
    side_by_side = {
        "macro_f1": [old_f1, new_eval["macro_f1"]],
        "kappa": [old_kappa, new_eval["kappa"]],
        **{f"f1 {label}": [old_label_f1.get(label), new_eval["per_label"][label]["f1"]] for label in labels},
    }
    created = previous.get("created")
    return {
        "previous_created": created if isinstance(created, str) and created.isprintable() else None,
        "passages": [len(before), len(now)],
        "new_passages": len(new),
        "new_per_label": {label: sum(1 for key in new if now[key] == label) for label in labels},
        "new_contrast_passages": sum(1 for key in copies if key not in before),
        "relabelled_contrast_passages": sum(1 for key in relabelled if key in copies),
        "gone_passages": sum(1 for key in before if key not in now),  # speech or copies: the manifest does not say which
        "relabelled_passages": sum(1 for key in relabelled if key not in copies),
        "figures": side_by_side,
        # a retraining on nearly the same data moves the figure by a few thousandths: that is no loss
        "worse": old_f1 is not None and new_eval["macro_f1"] < old_f1 - WORSE_BY,
    }


#: How much lower grouped macro-F1 must be for a retrained model to be called worse than the previous one.
WORSE_BY = 0.005


def changed_passages(previous: dict, data: TrainingData) -> tuple[list[tuple[str, str]], list[tuple[tuple[str, str], str, str]]]:
    """The passages of speech new since the previous model, and those relabelled with their old and new
    labels (edited copies are counted apart, by :func:`compare_with_previous`; the manifest keeps
    digests only, so passages gone cannot be named)."""
    before = {unit: label for unit, _, label, _ in out_of_fold_rows(previous)}
    new, relabelled = [], []
    for key, unit, label, spoken in zip(data.unit_keys(), data.units, data.labels, data.speech()):
        if not spoken:
            continue
        if key not in before:
            new.append(unit)
        elif before[key] != label:
            relabelled.append((unit, before[key], label))
    return new, relabelled
