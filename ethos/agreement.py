"""Inter-coder agreement, written from the published formulas and vectorised with numpy.

Reliability data are a ``units x coders`` matrix of label indices, ``-1`` where a coder did not code
a unit (missing data, never a disagreement). From it:

- percent agreement: over units coded by at least two coders, the share of agreeing coder pairs,
  averaged over units (the observed agreement of Fleiss' and Gwet's multi-rater statistics);
- Krippendorff's alpha, nominal (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"):
  ``alpha = 1 - (n - 1) * D_o / D_e`` from the coincidence matrix, any number of coders, missing data;
- Cohen's kappa (Cohen 1960) for a pair of coders, over the units both coded;
- Fleiss' kappa (Fleiss 1971) over the units coded by every coder;
- Gwet's AC1 (Gwet 2008), multi-rater with missing data, stable when one label dominates;
- per-label alpha (each label against the rest) and a seeded bootstrap interval for alpha.

A statistic undefined for the data is ``None``, with the reason added to ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Sequence

import numpy as np

MISSING = -1


@dataclass
class Reliability:
    """Reliability data: ``codes[u, c]`` is coder ``c``'s label index for unit ``u`` (``-1`` if none)."""

    codes: np.ndarray
    coders: list[str]
    labels: list[str]
    units: list = field(default_factory=list)

    @classmethod
    def from_labels(cls, rows: Sequence[Sequence[str | None]], coders: Sequence[str], labels: Sequence[str], units=None) -> "Reliability":
        index = {label: i for i, label in enumerate(labels)}
        codes = np.array([[MISSING if v is None else index[v] for v in row] for row in rows], dtype=np.int64).reshape(len(rows), len(coders))
        return cls(codes, list(coders), list(labels), list(units) if units is not None else list(range(len(rows))))

    def counts(self) -> np.ndarray:
        """``units x labels``: how many coders gave each label to each unit."""
        return value_counts(self.codes, len(self.labels))


def value_counts(codes: np.ndarray, n_labels: int) -> np.ndarray:
    counts = np.zeros((codes.shape[0], n_labels), dtype=np.float64)
    for label in range(n_labels):
        counts[:, label] = (codes == label).sum(axis=1)
    return counts


# --- Krippendorff's alpha -------------------------------------------------------------------------

def _unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """Each pairable unit's contribution to the coincidence matrix, flattened: ``units x labels**2``."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    outer = counts[:, :, None] * counts[:, None, :]
    idx = np.arange(counts.shape[1])
    outer[:, idx, idx] -= counts
    return (outer / (m - 1)[:, None, None]).reshape(len(counts), counts.shape[1] ** 2)


def _alpha_from_coincidences(o: np.ndarray) -> float | None:
    """Nominal alpha from a coincidence matrix ``o`` (labels x labels)."""
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return None
    observed = o.sum() - np.trace(o)
    expected = (n_c.sum() ** 2 - (n_c ** 2).sum()) / (n - 1)
    if expected == 0:
        return None
    return float(1 - observed / expected)


def krippendorff_alpha(counts: np.ndarray) -> float | None:
    """Nominal alpha from ``units x labels`` value counts; ``None`` when no unit is pairable or one label is all there is."""
    contributions = _unit_coincidences(counts)
    if len(contributions) == 0:
        return None
    k = counts.shape[1]
    return _alpha_from_coincidences(contributions.sum(axis=0).reshape(k, k))


def alpha_per_label(counts: np.ndarray) -> list[float | None]:
    """For each label, alpha of the binary data "this label or another"."""
    m = counts.sum(axis=1, keepdims=True)
    return [krippendorff_alpha(np.hstack([counts[:, [c]], m - counts[:, [c]]])) for c in range(counts.shape[1])]


def bootstrap_alpha(counts: np.ndarray, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval for alpha from resampling units with replacement (seeded). Resamples in
    which alpha is undefined (a single label drawn) are left out: :func:`bootstrap_undefined` counts them."""
    interval, _ = _bootstrap_alpha(counts, resamples, seed, level)
    return interval


def bootstrap_undefined(counts: np.ndarray, resamples: int = 1000, seed: int = 0) -> int:
    """How many of :func:`bootstrap_alpha`'s resamples had no alpha (no variation) and were left out."""
    return _bootstrap_alpha(counts, resamples, seed)[1]


def _bootstrap_alpha(counts: np.ndarray, resamples: int, seed: int, level: float = 0.95) -> tuple[tuple[float, float] | None, int]:
    contributions = _unit_coincidences(counts)
    units = len(contributions)
    if units < 2:
        return None, 0
    k = counts.shape[1]
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(units, np.full(units, 1 / units), size=resamples).astype(np.float64)
    o = (weights @ contributions).reshape(resamples, k, k)
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    observed = o.sum(axis=(1, 2)) - np.trace(o, axis1=1, axis2=2)
    expected = (n ** 2 - (n_c ** 2).sum(axis=1)) / (n - 1)
    valid = expected > 0
    undefined = int(resamples - valid.sum())
    if not valid.any():
        return None, undefined
    alphas = 1 - observed[valid] / expected[valid]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return (float(low), float(high)), undefined


# --- kappas and AC1 -------------------------------------------------------------------------------

def percent_agreement(counts: np.ndarray) -> float | None:
    """Mean over units coded at least twice of the share of coder pairs that agree."""
    m = counts.sum(axis=1)
    keep = m >= 2
    if not keep.any():
        return None
    c, m = counts[keep], m[keep]
    return float(((c * (c - 1)).sum(axis=1) / (m * (m - 1))).mean())


def cohen_kappa(first: np.ndarray, second: np.ndarray, n_labels: int) -> tuple[float | None, int]:
    """Cohen's kappa of two coders over the units both coded, and how many units that is."""
    both = (first != MISSING) & (second != MISSING)
    a, b = first[both], second[both]
    n = len(a)
    if n == 0:
        return None, 0
    table = confusion(a, b, n_labels)
    p_o = np.trace(table) / n
    p_e = (table.sum(axis=1) * table.sum(axis=0)).sum() / n ** 2
    if p_e == 1:
        return None, n
    return float((p_o - p_e) / (1 - p_e)), n


def confusion(first: np.ndarray, second: np.ndarray, n_labels: int) -> np.ndarray:
    """``labels x labels`` counts, rows for the first coder."""
    table = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(table, (first, second), 1)
    return table


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa; every row of ``counts`` must have the same number of ratings."""
    if len(counts) == 0:
        return None
    n = counts.sum(axis=1)
    if n[0] < 2 or not np.all(n == n[0]):
        return None
    n = n[0]
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), (p_j ** 2).sum()
    if p_e == 1:
        return None
    return float((p_bar - p_e) / (1 - p_e))


#: Which categories AC1's chance agreement counts, said in every report.
GWET_CONVENTION = ("q = {q}, the labels of the codebook, used or not, as in Gwet (2014), Handbook of Inter-Rater Reliability, "
                   "4th ed., ch. 2: q is the number of categories the coders may choose from, so a label nobody used lowers "
                   "chance agreement and raises AC1 a little (irrCAC's default counts only the labels used)")


def gwet_ac1(counts: np.ndarray) -> float | None:
    """Gwet's AC1 for any number of coders with missing data (Gwet 2014, ch. 2), with ``q`` the
    number of columns of ``counts``: the codebook's labels (see :data:`GWET_CONVENTION`)."""
    q = counts.shape[1]
    m = counts.sum(axis=1)
    rated = m >= 1
    pairable = m >= 2
    if not pairable.any() or q < 2:
        return None
    c, mm = counts[pairable], m[pairable]
    p_a = ((c * (c - 1)).sum(axis=1) / (mm * (mm - 1))).mean()
    pi = (counts[rated] / m[rated][:, None]).mean(axis=0)
    p_e = (pi * (1 - pi)).sum() / (q - 1)
    if p_e == 1:
        return None
    return float((p_a - p_e) / (1 - p_e))


# --- the whole report -----------------------------------------------------------------------------

def agreement_report(data: Reliability, *, gold: np.ndarray | None = None, resamples: int = 1000, seed: int = 0) -> dict:
    """Every figure for reliability data, in the contract's JSON shape (plus more keys)."""
    notes: list[str] = []
    counts = data.counts()
    k = len(data.labels)
    coded_twice = int((counts.sum(axis=1) >= 2).sum())
    report: dict = {
        "n_units": int(len(data.codes)),
        "n_units_coded_twice": coded_twice,
        "coders": data.coders,
        "labels": data.labels,
        "percent_agreement_definition": "mean over units coded by at least two coders of the share of agreeing coder pairs",
    }
    if len(data.coders) < 2:
        notes.append("only one coder: agreement between coders is undefined")
    elif coded_twice == 0:
        notes.append("no unit is coded by two coders: agreement is undefined")
    report["percent_agreement"] = percent_agreement(counts)
    alpha = krippendorff_alpha(counts)
    if alpha is None and coded_twice:
        notes.append("Krippendorff's alpha is undefined: every value is the same label (no variation)")
    report["krippendorff_alpha"] = alpha
    interval, undefined = _bootstrap_alpha(counts, resamples, seed) if alpha is not None else (None, 0)
    report["krippendorff_alpha_ci95"] = list(interval) if interval else None
    report["bootstrap"] = {"resamples": resamples, "seed": seed, "method": "units resampled with replacement, percentile interval",
                           "resamples_without_alpha": undefined}
    if undefined:
        notes.append(f"{undefined} of {resamples} bootstrap resamples drew a single label, where alpha is undefined: "
                     f"the interval is taken over the other {resamples - undefined}")

    complete = (data.codes != MISSING).all(axis=1)
    report["fleiss_units"] = int(complete.sum())
    report["fleiss_kappa"] = fleiss_kappa(counts[complete]) if len(data.coders) >= 2 else None
    if report["fleiss_kappa"] is None and len(data.coders) >= 2:
        notes.append("Fleiss' kappa is undefined: no unit coded by every coder, or no variation among them" if complete.any() else "Fleiss' kappa is undefined: no unit is coded by every coder")
    report["gwet_ac1"] = gwet_ac1(counts) if len(data.coders) >= 2 else None
    report["gwet_ac1_definition"] = GWET_CONVENTION.format(q=k)

    report["cohen_kappa"] = []
    report["confusion"] = []
    for i, j in combinations(range(len(data.coders)), 2):
        kappa, n = cohen_kappa(data.codes[:, i], data.codes[:, j], k)
        pair = [data.coders[i], data.coders[j]]
        if kappa is None:
            notes.append(f"Cohen's kappa for {pair[0]} and {pair[1]} is undefined: " + ("no unit coded by both" if n == 0 else "no variation"))
        report["cohen_kappa"].append({"coders": pair, "n_units": n, "kappa": kappa})
        both = (data.codes[:, i] != MISSING) & (data.codes[:, j] != MISSING)
        report["confusion"].append({"coders": pair, "matrix": confusion(data.codes[both, i], data.codes[both, j], k).tolist()})

    per_label = {}
    for label, value in zip(data.labels, alpha_per_label(counts)):
        per_label[label] = {"krippendorff_alpha": value, "n_values": int(counts[:, data.labels.index(label)].sum())}
        if value is None and coded_twice:
            notes.append(f"per-label alpha for '{label}' is undefined: no variation")
    report["per_label"] = per_label

    if gold is not None:
        report["gold"] = []
        for c, coder in enumerate(data.coders):
            kappa, n = cohen_kappa(gold, data.codes[:, c], k)
            both = (gold != MISSING) & (data.codes[:, c] != MISSING)
            agree = float((gold[both] == data.codes[both, c]).mean()) if n else None
            report["gold"].append({"coder": coder, "n_units": n, "agreement": agree, "kappa": kappa})
    report["notes"] = notes
    return report


def disagreements(data: Reliability) -> list[int]:
    """Indices of the units on which the coders who coded them do not all agree."""
    counts = data.counts()
    return [int(u) for u in np.flatnonzero((counts > 0).sum(axis=1) > 1)]


def reliability_from_codings(codings, labels: Sequence[str]) -> tuple[Reliability, np.ndarray | None]:
    """Reliability data from coding decisions, the ``gold`` coder set apart."""
    from .annotations import GOLD, coders as coders_of

    units = sorted({c.unit for c in codings})
    names = [c for c in coders_of(codings) if c != GOLD]
    unit_index = {u: i for i, u in enumerate(units)}
    coder_index = {c: i for i, c in enumerate(names)}
    label_index = {label: i for i, label in enumerate(labels)}
    codes = np.full((len(units), len(names)), MISSING, dtype=np.int64)
    gold = np.full(len(units), MISSING, dtype=np.int64)
    has_gold = False
    for coding in codings:
        if coding.coder == GOLD:
            gold[unit_index[coding.unit]] = label_index[coding.label]
            has_gold = True
        else:
            codes[unit_index[coding.unit], coder_index[coding.coder]] = label_index[coding.label]
    return Reliability(codes, names, list(labels), units), (gold if has_gold else None)


def disagreement_sheet(data: Reliability, codings) -> tuple[list[dict], list[str], int]:
    """The passages coders disagree on, as rows of an annotation file for adjudication: an empty label
    for coder ``gold``, and each coder's label and note beside it. Returns the rows, their columns,
    and how many disagreements a gold label settles already (left out: adjudicating them again would
    contradict it)."""
    from .annotations import GOLD

    first: dict[tuple[str, str], Any] = {}
    notes: dict[tuple[tuple[str, str], str], str] = {}
    adjudicated = {coding.unit for coding in codings if coding.coder == GOLD}
    for coding in codings:
        first.setdefault(coding.unit, coding)
        notes[coding.unit, coding.coder] = coding.note
    rows = []
    settled = 0
    for u in disagreements(data):
        unit = data.units[u]
        if unit in adjudicated:  # a gold label settles it already: adjudicating it again would contradict it
            settled += 1
            continue
        row = {"doc_id": unit[0], "passage_id": unit[1], "text": first[unit].text, "label": "", "coder": "gold",
               "start": first[unit].start if first[unit].start is not None else "", "end": first[unit].end if first[unit].end is not None else "", "note": ""}
        for c, coder in enumerate(data.coders):
            code = data.codes[u, c]
            row[f"label_{coder}"] = data.labels[code] if code >= 0 else ""
        for coder in data.coders:
            row[f"note_{coder}"] = notes.get((unit, coder), "")
        rows.append(row)
    columns = ["doc_id", "passage_id", "text", "label", "coder", "start", "end", "note"]
    columns += [f"label_{c}" for c in data.coders] + [f"note_{c}" for c in data.coders]
    return rows, columns, settled
