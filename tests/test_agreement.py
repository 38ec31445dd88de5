"""Agreement statistics against published worked examples and independent implementations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from ethos.agreement import (
    MISSING, Reliability, agreement_report, alpha_per_label, bootstrap_alpha, cohen_kappa, fleiss_kappa,
    gwet_ac1, krippendorff_alpha, percent_agreement, value_counts,
)

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders, 12 units,
# missing data; nominal alpha = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss (1971) as reproduced in the literature: 10 subjects, 14 raters, 5 categories; kappa = 0.210.
FLEISS_1971 = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
], dtype=float)


def krippendorff_data():
    rows = [[None if v is None else str(v) for v in unit] for unit in zip(*KRIPPENDORFF_2011)]
    return Reliability.from_labels(rows, ["A", "B", "C", "D"], ["1", "2", "3", "4", "5"])


def test_krippendorff_worked_example_with_missing_data():
    assert krippendorff_alpha(krippendorff_data().counts()) == pytest.approx(0.743, abs=5e-4)


def test_fleiss_worked_example():
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.210, abs=5e-4)


def test_cohen_worked_example():
    # 50 cases: both yes 20, first yes/second no 5, first no/second yes 10, both no 15: p_o .7, p_e .5, kappa .4
    first = np.array([0] * 25 + [1] * 25)
    second = np.array([0] * 20 + [1] * 5 + [0] * 10 + [1] * 15)
    kappa, n = cohen_kappa(first, second, 2)
    assert (round(kappa, 10), n) == (0.4, 50)


def test_gwet_ac1_two_raters_computed_by_hand():
    # Two raters, two categories, 125 units: 118 agree on "+", 2 on "-", 5 disagree (the skewed case
    # where kappa collapses and AC1 does not). By hand from Gwet's formula: p_a = 0.96,
    # pi_+ = 0.964, p_e = 2 * 0.964 * 0.036 = 0.069408, AC1 = 0.957.
    first = np.array([0] * 118 + [1] * 2 + [0] * 5)
    second = np.array([0] * 118 + [1] * 2 + [1] * 5)
    counts = value_counts(np.stack([first, second], axis=1), 2)
    pi = (118 * 2 + 5) / 250
    expected = (0.96 - 2 * pi * (1 - pi)) / (1 - 2 * pi * (1 - pi))
    assert gwet_ac1(counts) == pytest.approx(expected, abs=1e-12)
    assert gwet_ac1(counts) == pytest.approx(0.957, abs=1e-3)


def random_codes(draw_seed: int, units: int, coders: int, labels: int, missing: float) -> np.ndarray:
    rng = np.random.default_rng(draw_seed)
    truth = rng.integers(0, labels, units)
    codes = np.where(rng.random((units, coders)) < 0.7, truth[:, None], rng.integers(0, labels, (units, coders)))
    codes[rng.random((units, coders)) < missing] = MISSING
    return codes


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(5, 80), coders=st.integers(2, 5), labels=st.integers(2, 4), missing=st.floats(0, 0.4))
def test_alpha_matches_the_krippendorff_package(seed, units, coders, labels, missing):
    krippendorff = pytest.importorskip("krippendorff")
    codes = random_codes(seed, units, coders, labels, missing)
    ours = krippendorff_alpha(value_counts(codes, labels))
    data = np.where(codes == MISSING, np.nan, codes.astype(float)).T
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2).sum()
    values = np.unique(data[~np.isnan(data)])
    if ours is None:
        pairable_values = data[:, np.sum(~np.isnan(data), axis=0) >= 2]
        assert pairable == 0 or len(np.unique(pairable_values[~np.isnan(pairable_values)])) < 2
        return
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=list(range(labels)))
    assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(2, 80), labels=st.integers(2, 4), missing=st.floats(0, 0.4))
def test_cohen_matches_scikit_learn(seed, units, labels, missing):
    codes = random_codes(seed, units, 2, labels, missing)
    kappa, n = cohen_kappa(codes[:, 0], codes[:, 1], labels)
    both = (codes != MISSING).all(axis=1)
    assert n == both.sum()
    if kappa is not None:
        assert kappa == pytest.approx(cohen_kappa_score(codes[both, 0], codes[both, 1]), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(2, 60), coders=st.integers(2, 6), labels=st.integers(2, 4))
def test_fleiss_matches_statsmodels(seed, units, coders, labels):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    counts = value_counts(random_codes(seed, units, coders, labels, 0.0), labels)
    ours = fleiss_kappa(counts)
    if ours is not None:
        assert ours == pytest.approx(inter_rater.fleiss_kappa(counts, method="fleiss"), abs=1e-9)


def test_percent_agreement_definition():
    codes = np.array([[0, 0, 0], [0, 0, 1], [0, MISSING, MISSING]])
    # unit 1: 3 of 3 pairs agree; unit 2: 1 of 3; unit 3 not pairable
    assert percent_agreement(value_counts(codes, 2)) == pytest.approx((1 + 1 / 3) / 2)


def test_missing_data_is_not_disagreement():
    full = np.array([[0, 0], [1, 1], [2, 2], [0, 0]])
    sparse = np.array([[0, 0], [1, 1], [2, 2], [0, 0], [1, MISSING], [MISSING, 2]])
    assert krippendorff_alpha(value_counts(full, 3)) == krippendorff_alpha(value_counts(sparse, 3)) == 1.0


def test_per_label_alpha_is_binary_alpha():
    counts = krippendorff_data().counts()
    binary = np.stack([counts[:, 2], counts.sum(axis=1) - counts[:, 2]], axis=1)
    assert alpha_per_label(counts)[2] == krippendorff_alpha(binary)


def test_bootstrap_is_seeded_and_brackets_alpha():
    codes = random_codes(1, 300, 3, 3, 0.2)
    counts = value_counts(codes, 3)
    low, high = bootstrap_alpha(counts, 500, seed=7)
    assert (low, high) == bootstrap_alpha(counts, 500, seed=7)
    assert low < krippendorff_alpha(counts) < high


def test_undefined_statistics_are_none_with_a_reason():
    one_label = Reliability.from_labels([["manager", "manager"], ["manager", "manager"]], ["A", "B"], ["manager", "artisan", "other"])
    report = agreement_report(one_label, resamples=100)
    assert report["krippendorff_alpha"] is None and report["cohen_kappa"][0]["kappa"] is None
    assert any("no variation" in note for note in report["notes"])
    single = Reliability.from_labels([["manager"], ["artisan"]], ["A"], ["manager", "artisan", "other"])
    report = agreement_report(single, resamples=100)
    assert report["krippendorff_alpha"] is None and report["fleiss_kappa"] is None
    assert any("only one coder" in note for note in report["notes"])
