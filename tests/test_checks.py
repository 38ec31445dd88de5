"""Behavioural checks: reading check tables, judging out-of-fold, reporting per capability, `ethos check`."""

import json

import pytest
from click.testing import CliRunner

from ethos.checks import CheckItem, check_report, fold_judge_of, judged_text, read_checks, run_checks
from ethos.cli import main
from ethos.errors import InputError

from conftest import ROOT, SMALL_DOCS

LABELS = ["manager", "artisan", "other"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def item(check_id, capability="flip", doc_id="d1", original="Les indicateurs nous aident.", text="Les indicateurs nous étouffent.", expected="artisan", **extra):
    return {"check_id": check_id, "capability": capability, "doc_id": doc_id, "passage_id": "p001", "original": original, "text": text,
            "expected": expected, **extra}


def test_tables_are_read_in_jsonl_and_csv(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [item("f1", original_label="manager"), item("n1", "names", expected="")])
    (tmp_path / "b.csv").write_text("check_id;capability;doc_id;original;text\nc1;fillers;d2;Oui alors voilà.;Oui euh alors voilà.\n", encoding="utf-8")
    items = read_checks([tmp_path], LABELS)
    assert [(i.check_id, i.capability, i.expected) for i in items] == [("f1", "flip", "artisan"), ("n1", "names", None), ("c1", "fillers", None)]
    assert items[0].original_label == "manager" and items[2].format == "passage"


@pytest.mark.parametrize("row, message", [
    (item("x", "rhyme"), "unknown capability 'rhyme'"),
    (item("x", expected=""), "a flip needs an expected label"),
    (item("x", expected="militant"), "a flip needs an expected label"),
    (item("x", "names", expected="militant"), "unknown expected label 'militant'"),
    (item("x", text=""), "empty original or text"),
    (item("x", format="pdf"), "format is 'passage' or 'transcript'"),
    (item("", ), "empty check_id"),
])
def test_a_bad_row_is_an_error_naming_file_and_line(tmp_path, row, message):
    path = write_jsonl(tmp_path / "checks.jsonl", [item("ok"), row])
    with pytest.raises(InputError, match=f"checks.jsonl, line 2: {message}"):
        read_checks([path], LABELS)


def test_duplicate_ids_and_missing_columns(tmp_path):
    with pytest.raises(InputError, match="check_id 'a' is also on"):
        read_checks([write_jsonl(tmp_path / "d.jsonl", [item("a"), item("a")])], LABELS)
    (tmp_path / "m.csv").write_text("check_id,capability\na,flip\n", encoding="utf-8")
    with pytest.raises(InputError, match="doc_id"):
        read_checks([tmp_path / "m.csv"], LABELS)


def test_transcript_items_are_segmented_and_only_the_interviewee_is_judged():
    check = CheckItem("s1", "speaker-label", "d1", "p001",
                      "Enquêteur : Et le reporting ?\n\nMme Durand : On le remplit, mais ça ne sert à rien.\n\nEnquêteur : D'accord.\n\nMme Durand : Oui, c'est ça.\n",
                      "Q : Et le reporting ?\n\nR : On le remplit, mais ça ne sert à rien.\n\nQ : D'accord.\n\nR : Oui, c'est ça.\n", None, "transcript")
    assert judged_text(check, "original") == judged_text(check, "text") == "On le remplit, mais ça ne sert à rien."


def test_run_and_report():
    items = [CheckItem(**dict(item(f"f{i}", original_label="manager"), format="passage")) for i in range(3)]
    items.append(CheckItem(**dict(item("n1", "names", expected=""), expected=None)))
    judges = {"fold 1": lambda texts: ["manager" if "aident" in t else "artisan" for t in texts],
              "model": lambda texts: ["other"] * len(texts)}
    results = run_checks(items, judges, lambda check: "fold 1" if check.capability == "flip" else "model")
    report = check_report(results)
    flip = report["capabilities"]["flip"]
    assert (flip["n"], flip["behaves"], flip["share"]) == (3, 3, 1.0)
    assert flip["pairs_right"] == {"n": 3, "both_right": 3, "share": 1.0}
    assert report["capabilities"]["names"]["share"] == 1.0  # the same label, right or wrong
    assert report["out_of_fold"] == 3 and report["n_checks"] == 4
    wrong = check_report(run_checks(items[:1], {"m": lambda texts: ["manager", "other"]}, lambda check: "m"))
    assert wrong["capabilities"]["flip"]["failures"] == [
        {"check_id": "f0", "doc_id": "d1", "passage_id": "p001", "predicted_original": "manager", "expected": "artisan", "predicted": "other"}]


def test_an_item_is_judged_by_the_fold_that_did_not_see_its_interview():
    judge = fold_judge_of([{"a", "b"}, {"c"}], {"a", "b", "c"})
    make = lambda doc_id: CheckItem("x", "flip", doc_id, "p1", "o", "t", "manager")  # noqa: E731
    assert [judge(make(d)) for d in ("a", "c", "zz")] == ["fold 1", "fold 2", "model"]


@pytest.fixture(scope="module")
def check_table(tmp_path_factory):
    """Checks built from passages of the small annotations: two flips of one interview, invariances of
    another, and one invented passage from no interview of the training data."""
    folder = tmp_path_factory.mktemp("checks")
    rows = [
        item("flip-a", doc_id=SMALL_DOCS[0], original="Le tableau de bord, c'est ce qui nous permet de piloter, on suit l'occupation chaque semaine.",
             text="Le tableau de bord, soi-disant pour piloter, on nous l'impose, et pendant ce temps personne n'est avec les jeunes.",
             expected="artisan", original_label="manager"),
        item("flip-b", doc_id=SMALL_DOCS[0], original="Je descends sur le groupe le soir, je connais chaque gamin et son histoire.",
             text="Je ne descends plus sur le groupe, c'est normal, mon rôle c'est de piloter les indicateurs et le budget.",
             expected="manager", original_label="artisan"),
        item("fillers-c", "fillers", doc_id=SMALL_DOCS[1], expected="", original="Le CPOM, il faut le tenir, c'est la règle du jeu maintenant.",
             text="Le CPOM, euh, il faut le tenir, hein, c'est la règle du jeu maintenant."),
        item("names-d", "names", doc_id="elsewhere", expected="", original="Sylvie m'a appelée de Lyon à neuf heures.",
             text="Nadia m'a appelée de Colmar à dix heures."),
    ]
    return write_jsonl(folder / "checks.jsonl", rows)


def test_the_check_command(trained_model, small_annotations, check_table, tmp_path):
    result = run("check", check_table, "--model", trained_model, "--data", small_annotations, "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_checks"] == 4 and report["out_of_fold"] == 3  # the invented passage is judged by the model itself
    assert set(report["capabilities"]) == {"flip", "fillers", "names"}
    assert report["capabilities"]["flip"]["n"] == 2
    table = run("check", check_table, "--model", trained_model, "--data", small_annotations, "-q")
    assert table.exit_code == 0
    assert table.stdout.startswith("4 checks, 3 judged out-of-fold")
    assert "capability" in table.stdout and "flip" in table.stdout


def test_check_without_training_data_judges_with_the_model(trained_model, check_table, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/annotated here
    result = run("check", check_table, "--model", trained_model, "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out_of_fold"] == 0


def test_check_errors_are_one_line(trained_model, tmp_path, monkeypatch):
    bad = write_jsonl(tmp_path / "bad.jsonl", [item("x", "rhyme")])
    result = run("check", bad, "--model", trained_model)
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    monkeypatch.chdir(tmp_path)
    result = run("check", "--model", trained_model)
    assert result.exit_code == 2 and "no check tables given" in result.stderr
    target = tmp_path / "out.json"
    target.write_text("precious")
    result = run("check", bad, "--model", trained_model, "-o", target)
    assert result.exit_code == 1 and target.read_text() == "precious"


def test_the_bundled_check_sets_are_valid():
    items = read_checks([ROOT / "data" / "checks"], LABELS)
    by_capability = {}
    for check in items:
        by_capability.setdefault(check.capability, []).append(check)
    assert set(by_capability) >= {"names", "convention", "fillers", "speaker-label"}
    passages = {(c.doc_id, c.passage_id) for c in items}
    assert len(passages) >= 200
