"""What changed since the previous model: passages new, gone or relabelled, figures side by side."""

from __future__ import annotations

from .data import TrainingData
from .evaluation import Training


# --- retraining ------------------------------------------------------------------------------------

def compare_with_previous(previous: dict, training: Training) -> dict:
    """What changed since the previous model: passages new, gone or relabelled, and the figures side by side."""
    rows = (previous.get("out_of_fold") or {}).get("rows") or []
    before = {row[0]: row[2] for row in rows}
    data = training.data
    now = dict(zip(data.unit_keys(), data.labels))
    copies = {key for key, spoken in zip(data.unit_keys(), data.speech()) if not spoken}
    new = [key for key in now if key not in before and key not in copies]  # speech; edited copies are counted apart
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
        "new_contrast_passages": sum(1 for key in copies if key not in before),
        "gone_passages": sum(1 for key in before if key not in now),
        "relabelled_passages": len(relabelled),
        "figures": side_by_side,
        # a retraining on nearly the same data moves the figure by a few thousandths: that is no loss
        "worse": old_f1 is not None and new_eval["macro_f1"] < old_f1 - WORSE_BY,
    }


#: How much lower grouped macro-F1 must be for a retrained model to be called worse than the previous one.
WORSE_BY = 0.005


def changed_passages(previous: dict, data: TrainingData) -> tuple[list[tuple[str, str]], list[tuple[tuple[str, str], str, str]]]:
    """The passages of speech new since the previous model (edited copies are counted apart), and those
    relabelled with their old and new labels (the manifest keeps digests only, so passages gone cannot
    be named)."""
    before = {row[0]: row[2] for row in (previous.get("out_of_fold") or {}).get("rows") or []}
    new, relabelled = [], []
    for key, unit, label, spoken in zip(data.unit_keys(), data.units, data.labels, data.speech()):
        if key not in before:
            if spoken:
                new.append(unit)
        elif before[key] != label:
            relabelled.append((unit, before[key], label))
    return new, relabelled
