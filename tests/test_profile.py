"""Ethos profiles: shares per interview with bootstrap intervals, groups by position, the dualisation test."""

import csv
import io
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from ethos.cli import main
from ethos.errors import EthosError
from ethos.profile import (are_annotation_files, ethos_profile, normalise_position, passage_counts, read_positions, share_draws)

from conftest import ROOT

LABELS = ("manager", "artisan", "other")
METADATA = ROOT / "data" / "transcripts" / "metadata.csv"
ANNOTATED = ROOT / "data" / "annotated"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def bundled():
    """The profile of the bundled corpus's coded labels, through the command line (JSON)."""
    result = run("profile", ANNOTATED, "--metadata", METADATA, "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def profile_of(counts: dict[str, tuple[int, int, int]], positions: dict[str, str], **options) -> dict:
    doc_ids, labels = [], []
    for doc_id, per_label in counts.items():
        for label, n in zip(LABELS, per_label):
            doc_ids += [doc_id] * n
            labels += [label] * n
    return ethos_profile(doc_ids, labels, LABELS, positions, **options)


def ci_width(figures: dict) -> float:
    return figures["ci"][1] - figures["ci"][0]


# --- the bundled corpus ----------------------------------------------------------------------------

def test_shares_of_each_interview_sum_to_one(bundled):
    assert len(bundled["documents"]) == 80
    for document in bundled["documents"]:
        assert sum(f["share"] for f in document["labels"].values()) == pytest.approx(1.0)
        assert sum(f["passages"] for f in document["labels"].values()) == document["passages"]
    for group in bundled["groups"]:
        assert sum(f["mean_share"] for f in group["labels"].values()) == pytest.approx(1.0)


def test_intervals_bracket_the_estimates(bundled):
    for document in bundled["documents"]:
        for figures in document["labels"].values():
            assert 0 <= figures["ci"][0] <= figures["share"] <= figures["ci"][1] <= 1
    for group in bundled["groups"]:
        for figures in group["labels"].values():
            assert figures["ci"][0] <= figures["mean_share"] <= figures["ci"][1]
    for figures in bundled["difference"]["labels"].values():
        assert figures["ci"][0] <= figures["difference"] <= figures["ci"][1]


def test_the_dualisation_hypothesis_holds_on_the_bundled_gold_labels(bundled):
    # measured: manager +0.29 [0.22, 0.35], artisan -0.30 [-0.37, -0.24], other +0.02 [-0.01, 0.05]
    assert [(g["position"], g["interviews"], g["passages"]) for g in bundled["groups"]] == [("siege", 40, 843), ("proximite", 40, 842)]
    difference = bundled["difference"]
    assert difference["positions"] == ["siege", "proximite"]
    manager, artisan, other = (difference["labels"][label] for label in LABELS)
    assert 0.2 < manager["difference"] < 0.4 and manager["ci"][0] > 0.1
    assert -0.4 < artisan["difference"] < -0.2 and artisan["ci"][1] < -0.1
    assert abs(other["difference"]) < 0.1
    assert bundled["without_position"] == [] and bundled["notes"] == []
    assert bundled["source"]["labels"] == "coded"


def test_without_path_the_bundled_corpus_is_profiled(bundled, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("profile", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["difference"] == bundled["difference"]


def test_no_pseudonym_in_any_output(tmp_path):
    with open(METADATA, encoding="utf-8", newline="") as handle:
        pseudonyms = [row["pseudonym"] for row in csv.DictReader(handle)]
    assert len(pseudonyms) == 80
    for fmt in ("table", "json", "csv"):
        result = run("profile", ANNOTATED, "--metadata", METADATA, "--format", fmt, "--resamples", 100)
        assert result.exit_code == 0
        for pseudonym in pseudonyms:
            assert pseudonym not in result.output
    assert set(read_positions(METADATA).values()) == {"siege", "proximite"}


# --- the statistics --------------------------------------------------------------------------------

def test_reproducible_with_the_seed():
    counts = {f"s{i}": (3 + i, 9 - i, 4) for i in range(8)} | {f"p{i}": (1 + i // 2, 5 + i, 3) for i in range(8)}
    positions = {doc_id: "siege" if doc_id[0] == "s" else "proximite" for doc_id in counts}
    first = profile_of(counts, positions, resamples=300, seed=7)
    assert profile_of(counts, positions, resamples=300, seed=7) == first
    other = profile_of(counts, positions, resamples=300, seed=8)
    assert other["difference"]["labels"]["manager"]["ci"] != first["difference"]["labels"]["manager"]["ci"]
    assert other["documents"][0]["labels"]["manager"]["ci"] != first["documents"][0]["labels"]["manager"]["ci"]
    assert other["difference"]["labels"]["manager"]["difference"] == first["difference"]["labels"]["manager"]["difference"]


def test_an_interviews_interval_does_not_depend_on_the_others():
    alone = profile_of({"a": (5, 3, 4)}, {}, resamples=300)
    with_others = profile_of({"a": (5, 3, 4), "b": (1, 1, 1), "c": (0, 4, 2)}, {}, resamples=300)
    assert with_others["documents"][0] == alone["documents"][0]


def test_intervals_narrow_with_more_passages():
    few = profile_of({"a": (6, 3, 3)}, {}, resamples=2000)["documents"][0]["labels"]
    many = profile_of({"a": (60, 30, 30)}, {}, resamples=2000)["documents"][0]["labels"]
    for label in LABELS:
        assert few[label]["share"] == pytest.approx(many[label]["share"])
        assert ci_width(many[label]) < 0.5 * ci_width(few[label])


def test_group_intervals_narrow_with_more_interviews():
    def manager_width(n):
        counts = {f"s{i}": (5 + i % 3, 2, 3) for i in range(n)} | {f"p{i}": (1 + i % 3, 6, 3) for i in range(n)}
        positions = {doc_id: "siege" if doc_id[0] == "s" else "proximite" for doc_id in counts}
        return ci_width(profile_of(counts, positions, resamples=2000)["difference"]["labels"]["manager"])

    assert manager_width(40) < 0.7 * manager_width(10)


def test_resampling_passages_is_a_multinomial_draw():
    draws = share_draws(np.array([6, 3, 1]), 20000, np.random.default_rng(0))
    assert draws.shape == (20000, 3)
    assert np.allclose(draws.sum(axis=1), 1)
    assert np.allclose(draws.mean(axis=0), [0.6, 0.3, 0.1], atol=0.005)
    assert np.allclose(draws.std(axis=0), np.sqrt(np.array([0.6, 0.3, 0.1]) * [0.4, 0.7, 0.9] / 10), rtol=0.05)


def test_a_single_interview_position_has_no_interval_and_few_are_flagged():
    profile = profile_of({"a": (5, 3, 4), "b": (1, 8, 3), "c": (2, 7, 2)}, {"a": "siege", "b": "proximite", "c": "proximite"}, resamples=200)
    siege = profile["groups"][0]
    assert siege["position"] == "siege" and siege["labels"]["manager"]["ci"] is None
    assert profile["difference"]["labels"]["manager"]["difference"] == pytest.approx(5 / 12 - (1 / 12 + 2 / 11) / 2)
    assert profile["difference"]["labels"]["manager"]["ci"] is None
    assert "position 'siege' has a single interview: no interval for its mean" in profile["notes"]
    assert any("only 2 interviews" in note for note in profile["notes"])


def test_other_positions_are_grouped_but_the_difference_is_siege_minus_proximite():
    profile = profile_of({"a": (5, 3, 4), "b": (1, 8, 3), "c": (2, 2, 2)}, {"a": "siege", "b": "proximite", "c": "consultant"}, resamples=100)
    assert [g["position"] for g in profile["groups"]] == ["siege", "proximite", "consultant"]
    assert profile["difference"]["positions"] == ["siege", "proximite"]
    only_siege = profile_of({"a": (5, 3, 4), "b": (1, 8, 3)}, {"a": "siege", "b": "siege"}, resamples=100)
    assert only_siege["difference"] is None and "no interview with position 'proximite'" in only_siege["notes"][-1]


def test_bad_passages_are_refused():
    with pytest.raises(EthosError, match="no labelled passages"):
        ethos_profile([], [], LABELS, {})
    with pytest.raises(EthosError, match="label militant not in the codebook"):
        ethos_profile(["a"], ["militant"], LABELS, {})
    assert passage_counts(["b", "a", "b"], ["other", "manager", "other"], LABELS)[0] == ["a", "b"]


# --- metadata --------------------------------------------------------------------------------------

def test_positions_are_read_and_normalised(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text("\ufeffdoc_id;Position;pseudonym\nent1;Siège;Mme X\nent2; proximité ;M. Y\nent3;;Mme Z\n", encoding="utf-8")
    assert read_positions(path) == {"ent1": "siege", "ent2": "proximite"}
    assert normalise_position("  PROXIMITÉ ") == "proximite"


@pytest.mark.parametrize(
    "content, message",
    [
        ("doc_id,pseudonym\nent01,Mme X\n", "{path}: missing column position (found: doc_id, pseudonym)"),
        ("doc_id,position\nent01,siege\nent01,proximite\n", "{path}, line 3: doc_id 'ent01' already appears on line 2"),
        ("doc_id,position\n,siege\n", "{path}, line 2: empty doc_id"),
        ("doc_id,position\n", "{path}: the metadata table has no rows"),
    ],
)
def test_metadata_errors_are_one_line(tmp_path, content, message):
    path = tmp_path / "meta.csv"
    path.write_text(content, encoding="utf-8")
    result = run("profile", ANNOTATED / "gold.csv", "--metadata", path, "-q")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message.format(path=path)}\n"


def test_missing_metadata_file(tmp_path):
    result = run("profile", ANNOTATED / "gold.csv", "--metadata", tmp_path / "absent.csv")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'absent.csv'}: no such metadata file (give one with --metadata)\n"


def test_interviews_without_position_are_reported_not_dropped(tmp_path):
    path = tmp_path / "meta.csv"
    described = [doc_id for doc_id in read_positions(METADATA) if doc_id not in ("ent47", "ent48")]
    path.write_text("doc_id,position\n" + "".join(f"{doc_id},{'siege' if n % 2 else 'proximite'}\n" for n, doc_id in enumerate(described)), encoding="utf-8")
    with pytest.warns(UserWarning, match=f"2 interviews have no position in {re.escape(str(path))}: ent47, ent48; profiled, but left out"):
        result = run("profile", ANNOTATED / "gold.csv", "--metadata", path, "--format", "json", "--resamples", 100)
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    assert profile["without_position"] == ["ent47", "ent48"]
    assert [d["position"] for d in profile["documents"] if d["doc_id"] in ("ent47", "ent48")] == [None, None]
    assert sum(g["interviews"] for g in profile["groups"]) == 78
    with pytest.warns(UserWarning):
        table = run("profile", ANNOTATED / "gold.csv", "--metadata", path, "--resamples", 100, "-q")
    assert f"Without a position in {path} (left out of the groups): ent47, ent48" in table.stdout
    assert "\nent47      ?" in table.stdout


# --- the command line ------------------------------------------------------------------------------

def test_table(tmp_path):
    result = run("profile", ANNOTATED / "gold.csv", "--metadata", METADATA, "--resamples", 200, "-q")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "80 interviews, 1685 passages labelled by the coders (gold, else majority)."
    assert lines[3].split() == ["interview", "position", "passages", "manager", "artisan", "other"]
    assert lines[4].startswith("ent01      siege      22        50 [")
    assert "Difference siege - proximite (percentage points, 95% interval):" in lines
    assert any(line.startswith("  manager    +29 [+") for line in lines)


def test_csv_has_interview_position_and_difference_rows(tmp_path):
    result = run("profile", ANNOTATED / "gold.csv", "--metadata", METADATA, "--format", "csv", "--resamples", 100, "-q")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["kind"] for r in rows] == ["interview"] * 80 + ["position"] * 2 + ["difference"]
    assert rows[0]["doc_id"] == "ent01" and rows[0]["position"] == "siege" and rows[0]["manager_passages"] == "11"
    for row in rows[:80]:
        assert sum(float(row[f"{label}_share"]) for label in LABELS) == pytest.approx(1.0, abs=1e-5)
    assert rows[-1]["position"] == "siege - proximite" and float(rows[-1]["manager_low"]) > 0


def test_named_files_are_not_written_over_without_force(tmp_path):
    for option in ("-o", "--plot"):
        target = tmp_path / f"out{option}"
        target.write_text("precious")
        result = run("profile", ANNOTATED / "gold.csv", "--metadata", METADATA, option, target)
        assert result.exit_code == 1
        assert result.stderr == f"Error: {target} exists; use --force to overwrite it\n"
        assert target.read_text() == "precious"
    assert run("profile", ANNOTATED / "gold.csv", "--metadata", METADATA, "-o", tmp_path / "out-o", "--force", "-q", "--resamples", 100).exit_code == 0
    assert (tmp_path / "out-o").read_text().startswith("80 interviews")


def test_transcripts_are_labelled_by_the_model(trained_model, tmp_path):
    result = run("profile", ROOT / "data" / "transcripts" / "ent01.txt", ROOT / "data" / "transcripts" / "ent02.txt",
                 "--model", trained_model, "--metadata", METADATA, "--format", "json", "--resamples", 100, "-q")
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    assert profile["source"]["labels"] == "model" and profile["source"]["model"] == str(trained_model)
    assert [(d["doc_id"], d["position"]) for d in profile["documents"]] == [("ent01", "siege"), ("ent02", "proximite")]
    assert profile["documents"][0]["labels"]["manager"]["share"] > profile["documents"][1]["labels"]["manager"]["share"]


def test_which_labels_the_paths_give(small_annotations, tmp_path):
    assert are_annotation_files([small_annotations]) and are_annotation_files([small_annotations / "gold.csv"])
    assert not are_annotation_files([ROOT / "data" / "transcripts"])
    assert not are_annotation_files([ROOT / "data" / "transcripts" / "ent01.txt"])
    passages = tmp_path / "passages.csv"
    passages.write_text("doc_id,passage_id,text\nent1,p1,On pilote par les indicateurs.\n", encoding="utf-8")
    assert not are_annotation_files([small_annotations, passages])


def test_coded_labels_need_annotation_files():
    result = run("profile", ROOT / "data" / "transcripts" / "ent01.txt", "--labels", "coded", "--metadata", METADATA)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "ent01.txt: not a table" in result.stderr and result.stderr.count("\n") == 1


def test_a_single_coded_interview_is_profiled(tmp_path):
    """A profile needs no cross-validation: one interview, even coded with one label, is profiled."""
    one = tmp_path / "ent05.csv"
    with open(ANNOTATED / "gold.csv", encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["doc_id"] == "ent05"]
    with open(one, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run("profile", one, "--metadata", METADATA, "--format", "json", "--resamples", 100, "-q")
    assert result.exit_code == 0, result.output
    [document] = json.loads(result.stdout)["documents"]
    counts = {label: sum(row["label"] == label for row in rows) for label in LABELS}
    assert document["doc_id"] == "ent05" and document["passages"] == len(rows)
    assert {label: document["labels"][label]["share"] for label in LABELS} == pytest.approx({label: n / len(rows) for label, n in counts.items()})
    empty = tmp_path / "empty.csv"
    empty.write_text("doc_id,passage_id,text,label,coder\nent05,p1,[rires] (.),other,A\n", encoding="utf-8")
    result = run("profile", empty, "--metadata", METADATA, "-q")  # its one passage has no words left after cleaning
    assert result.exit_code == 1 and result.stderr == "Error: the annotation files hold no labelled passage\n"


def test_an_excel_owner_file_in_the_annotation_folder_is_passed_over(tmp_path):
    """Issue 13: Excel leaves « ~$gold.csv » beside a table it has open; profile failed on the folder."""
    import shutil

    folder = tmp_path / "annotated"
    shutil.copytree(ANNOTATED, folder)
    (folder / "~$gold.csv").write_bytes(b"\x0bJean Dupont      \x00\x00\xff")
    assert are_annotation_files([folder])
    result = run("profile", folder, "--metadata", METADATA, "--format", "json", "--resamples", 100)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["difference"]
