"""Agreement statistics against published worked examples and independent implementations."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from ethos.agreement import (
    MISSING, Reliability, agreement_report, alpha_per_label, bootstrap_alpha, cohen_kappa, fleiss_kappa,
    gwet_ac1, krippendorff_alpha, percent_agreement, value_counts,
)

from conftest import FUZZ_SCALE, ROOT

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


# Gwet's own worked examples, as printed in the README of his R package irrCAC (K. L. Gwet, CRAN
# irrCAC 1.0, which follows Gwet 2014, "Handbook of Inter-Rater Reliability", 4th ed.).
# distrib.6raters: 15 subjects, 6 raters, 5 categories, as counts of raters per category;
# gwet.ac1.dist gives AC1 = 0.4448007, pa = 0.5511111, pe = 0.1914815.
GWET_DISTRIB_6RATERS = np.array([
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
], dtype=float)


def test_gwet_ac1_worked_example_raw_ratings_with_missing_data():
    # cac.raw4raters: 12 subjects, 4 raters, 5 categories, missing ratings, unit 12 rated once.
    # It is Krippendorff's 2011 data above, except that unit 12's single rating (3) is given by
    # another rater, which changes no count. gwet.ac1.raw: AC1 = 0.77544, pa = 0.8181818,
    # pe = 0.1903212.
    counts = krippendorff_data().counts()
    p_a, ac1 = percent_agreement(counts), gwet_ac1(counts)
    assert p_a == pytest.approx(0.8181818, abs=5e-8)
    assert (p_a - ac1) / (1 - ac1) == pytest.approx(0.1903212, abs=5e-8)  # p_e, from AC1 = (p_a - p_e) / (1 - p_e)
    assert ac1 == pytest.approx(0.77544, abs=5e-6)


def test_gwet_ac1_worked_example_distribution_of_raters():
    p_a, ac1 = percent_agreement(GWET_DISTRIB_6RATERS), gwet_ac1(GWET_DISTRIB_6RATERS)
    assert p_a == pytest.approx(0.5511111, abs=5e-8)
    assert (p_a - ac1) / (1 - ac1) == pytest.approx(0.1914815, abs=5e-8)
    assert ac1 == pytest.approx(0.4448007, abs=5e-8)


def test_gwet_ac1_worked_example_two_raters_contingency_table():
    # cont3x3abstractors: 2 abstractors, 100 subjects, rows the first (Ectopic, AIU, NIU):
    # [[13, 0, 0], [0, 20, 7], [0, 4, 56]]; gwet.ac1.table gives AC1 = 0.8493305, pa = 0.89.
    table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    pairs = [(i, j) for i in range(3) for j in range(3) for _ in range(table[i][j])]
    counts = value_counts(np.array(pairs), 3)
    assert percent_agreement(counts) == pytest.approx(0.89, abs=1e-12)
    assert gwet_ac1(counts) == pytest.approx(0.8493305, abs=5e-8)


def random_codes(draw_seed: int, units: int, coders: int, labels: int, missing: float) -> np.ndarray:
    rng = np.random.default_rng(draw_seed)
    truth = rng.integers(0, labels, units)
    codes = np.where(rng.random((units, coders)) < 0.7, truth[:, None], rng.integers(0, labels, (units, coders)))
    codes[rng.random((units, coders)) < missing] = MISSING
    return codes


@settings(max_examples=40 * FUZZ_SCALE, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(5, 80), coders=st.integers(2, 5), labels=st.integers(2, 4), missing=st.floats(0, 0.4))
def test_alpha_matches_the_krippendorff_package(seed, units, coders, labels, missing):
    krippendorff = pytest.importorskip("krippendorff")
    codes = random_codes(seed, units, coders, labels, missing)
    ours = krippendorff_alpha(value_counts(codes, labels))
    data = np.where(codes == MISSING, np.nan, codes.astype(float)).T
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2).sum()
    if ours is None:
        pairable_values = data[:, np.sum(~np.isnan(data), axis=0) >= 2]
        assert pairable == 0 or len(np.unique(pairable_values[~np.isnan(pairable_values)])) < 2
        return
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=list(range(labels)))
    assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=40 * FUZZ_SCALE, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(2, 80), labels=st.integers(2, 4), missing=st.floats(0, 0.4))
def test_cohen_matches_scikit_learn(seed, units, labels, missing):
    codes = random_codes(seed, units, 2, labels, missing)
    kappa, n = cohen_kappa(codes[:, 0], codes[:, 1], labels)
    both = (codes != MISSING).all(axis=1)
    assert n == both.sum()
    if kappa is not None:
        assert kappa == pytest.approx(cohen_kappa_score(codes[both, 0], codes[both, 1]), abs=1e-9)


@settings(max_examples=40 * FUZZ_SCALE, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(2, 60), coders=st.integers(2, 6), labels=st.integers(2, 4))
def test_fleiss_matches_statsmodels(seed, units, coders, labels):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    counts = value_counts(random_codes(seed, units, coders, labels, 0.0), labels)
    ours = fleiss_kappa(counts)
    if ours is not None:
        assert ours == pytest.approx(inter_rater.fleiss_kappa(counts, method="fleiss"), abs=1e-9)


@settings(max_examples=60 * FUZZ_SCALE, deadline=None)
@given(seed=st.integers(0, 10_000), units=st.integers(2, 60), coders=st.integers(2, 6), labels=st.integers(2, 5), missing=st.floats(0, 0.6))
def test_gwet_ac1_matches_the_irrcac_package(seed, units, coders, labels, missing):
    # irrCAC (Python port of Gwet's R package) implements Gwet 2014's multi-rater formula with
    # missing ratings exactly as ethos does: units with no rating are dropped; p_a averages over
    # the units rated at least twice; pi_k averages r_ik / r_i over every unit rated at least once
    # (single ratings included); p_e = sum pi_k (1 - pi_k) / (q - 1).  Two caveats, not
    # differences of definition:
    # - q is the number of categories of the scale. irrCAC by default takes only the categories
    #   someone used; ethos takes the whole label set, so the label set is passed as `categories`
    #   (random data with few units often leave a label unused).
    # - irrCAC cannot compute when no unit is rated twice (p_a is 0/0) or when a single unit is
    #   rated (its variance divides by n - 1 and raises ZeroDivisionError); ethos returns None in
    #   the first case, and the second is left out of the comparison.
    raw = pytest.importorskip("irrCAC.raw")
    pd = pytest.importorskip("pandas")  # irrCAC's own dependency
    codes = random_codes(seed, units, coders, labels, missing)
    counts = value_counts(codes, labels)
    ours = gwet_ac1(counts)
    rated = counts.sum(axis=1)
    if ours is None:
        assert not (rated >= 2).any()
        return
    assume((rated >= 1).sum() >= 2)
    ratings = pd.DataFrame(np.where(codes == MISSING, np.nan, codes.astype(float)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' SettingWithCopyWarning inside irrCAC
        theirs = raw.CAC(ratings, categories=list(range(labels)), digits=15).gwet()["est"]
    assert theirs["coefficient_name"] == "AC1"
    assert ours == pytest.approx(theirs["coefficient_value"], abs=1e-12)
    assert percent_agreement(counts) == pytest.approx(theirs["pa"], abs=1e-12)


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


def test_agreement_on_one_layer_of_the_corpus(tmp_path):
    from click.testing import CliRunner

    from ethos.cli import main

    annotated = ROOT / "data" / "annotated"
    metadata = ROOT / "data" / "transcripts" / "metadata.csv"
    result = CliRunner().invoke(main, ["agreement", str(annotated), "--layer", "hard", "--metadata", str(metadata), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_units"] == 640 and report["coders"] == ["A", "B", "C"]
    (tmp_path / "own.csv").write_text("doc_id,passage_id,text,label,coder,layer\nx,p1,Oui.,other,A,pilot\nx,p1,Oui.,other,B,pilot\n"
                                      "y,p1,Non.,manager,A,\ny,p1,Non.,other,B,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["agreement", str(tmp_path / "own.csv"), "--layer", "pilot", "--metadata", str(tmp_path / "none.csv"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_units"] == 1
    result = CliRunner().invoke(main, ["agreement", str(annotated), "--layer", "nope", "--metadata", str(metadata)])
    assert result.exit_code == 1
    assert result.stderr == "Error: no coded passage of layer nope (layers known: base, contrast, hard)\n"


def test_the_contrast_layer_is_no_coder_speech_for_agreement(tmp_path):
    from click.testing import CliRunner

    from ethos.cli import main

    (tmp_path / "coders.csv").write_text("doc_id,passage_id,text,label,coder\n" + "".join(
        f"e{i},p1,Texte {i}.,{label},{coder}\n" for i, label in enumerate(["manager", "artisan", "other"]) for coder in "AB"), encoding="utf-8")
    (tmp_path / "contrast").mkdir()
    (tmp_path / "contrast" / "contrast.csv").write_text("doc_id,passage_id,text,label,coder,layer\ne0,p1c,Texte 0 retourné.,artisan,gold,contrast\n",
                                                        encoding="utf-8")
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--metadata", str(tmp_path / "none.csv"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_units"] == 3  # the edited copy is nobody's speech
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--layer", "contrast", "--metadata", str(tmp_path / "none.csv"), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["n_units"] == 1  # unless asked for


def test_resamples_without_alpha_are_counted_and_said():
    """Issue 13: resamples where alpha is undefined were dropped silently."""
    from ethos.agreement import bootstrap_undefined

    # three units of one label and one unit of disagreement: many resamples draw no variation at all
    data = Reliability.from_labels([["manager", "manager"], ["manager", "manager"], ["manager", "manager"], ["manager", "other"]],
                                   ["A", "B"], ["manager", "artisan", "other"])
    report = agreement_report(data, resamples=1000, seed=3)
    undefined = report["bootstrap"]["resamples_without_alpha"]
    assert undefined == bootstrap_undefined(data.counts(), 1000, 3) and 100 < undefined < 1000
    assert any(f"{undefined} of 1000 bootstrap resamples" in note for note in report["notes"])


def test_ac1_says_which_categories_it_counts():
    data = Reliability.from_labels([["manager", "manager"], ["artisan", "manager"], ["other", "other"]], ["A", "B"],
                                   ["manager", "artisan", "other", "militant"])
    report = agreement_report(data, resamples=100)
    assert report["gwet_ac1_definition"].startswith("q = 4, the labels of the codebook") and "Gwet (2014)" in report["gwet_ac1_definition"]
    fewer = agreement_report(Reliability.from_labels([["manager", "manager"], ["artisan", "manager"], ["other", "other"]], ["A", "B"],
                                                     ["manager", "artisan", "other"]), resamples=100)
    assert report["gwet_ac1"] > fewer["gwet_ac1"]  # an unused label lowers chance agreement: the documented convention
