"""The model commands through the command line: train, evaluate, score, features, agreement --model."""

import csv
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from ethos.cli import main

from conftest import ROOT, SMALL_DOCS

EXAMPLE = ROOT / "data" / "examples" / "exemple01.txt"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_train_writes_a_model_and_says_what_it_did(trained_model):
    manifest = json.loads((trained_model / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training_data"]["n_documents"] == len(SMALL_DOCS)
    assert manifest["evaluation"]["macro_f1"] > 0.6
    assert len(manifest["comparison"]) >= 8 and sum(1 for c in manifest["comparison"] if c.get("chosen")) == 1


def test_retraining_archives_and_compares(trained_model, small_annotations, tmp_path):
    folder = tmp_path / "models" / "default"
    shutil.copytree(trained_model, folder)
    extra = tmp_path / "more.csv"
    extra.write_text("doc_id;passage_id;text;label;coder\nent40;p900;On a signé le CPOM, il faut tenir les indicateurs;manager;gold\n", encoding="utf-8")
    result = run("train", "--data", small_annotations, "--data", extra, "--model-dir", folder, "-q")
    assert result.exit_code == 0, result.output
    assert "Since the previous model" in result.stdout and "1 new passages (manager 1, artisan 0, other 0)" in result.stdout
    assert "  new: ent40/p900\n" in result.stdout
    assert "macro_f1" in result.stdout and "->" in result.stdout
    archived = list((tmp_path / "models" / "archive").iterdir())
    assert len(archived) == 1 and all((archived[0] / name).read_bytes() == (trained_model / name).read_bytes() for name in ("model.json", "model.npz"))


def test_a_quick_refit_of_the_same_data_keeps_no_duplicate(trained_model, small_annotations, tmp_path):
    folder = tmp_path / "models" / "default"
    shutil.copytree(trained_model, folder)
    result = run("train", "--data", small_annotations, "--model-dir", folder, "--quick", "-q")
    assert result.exit_code == 0, result.output
    assert "0 new passages" in result.stdout and "the previous one is in" not in result.stdout
    assert not (tmp_path / "models" / "archive").exists()
    assert all((folder / name).read_bytes() == (trained_model / name).read_bytes() for name in ("model.json", "model.npz"))


def test_train_refuses_bad_annotations_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("doc_id,passage_id,text,label,coder\nent01,p001,Bonjour,cadre,A\n", encoding="utf-8")
    result = run("train", "--data", bad, "--model-dir", tmp_path / "model")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {bad}, line 2: unknown label 'cadre' (the codebook's labels are artisan, manager, other)"
    assert not (tmp_path / "model").exists()


PILOT = ("doc_id,passage_id,text,label,coder\n"
         'ent01,p1,"Il faut piloter avec des indicateurs, la réforme est inévitable, on n\'a pas le choix.",manager,A\n'
         'ent01,p2,"Je connais les gamins, je descends quand ça crie, je fais les nuits avec eux.",artisan,A\n'
         'ent02,p1,"Les jeunes, je les connais tous par leur prénom, je fais les nuits, je connais les familles.",artisan,A\n'
         'ent02,p2,"Je suis sur le terrain tous les jours avec les équipes et avec les jeunes.",artisan,A\n')


def test_a_pilot_too_small_to_learn_from_gets_a_clear_error(tmp_path):
    """A first pilot (two interviews, four passages) cannot be cross-validated: one line, no traceback, no model."""
    pilot = tmp_path / "pilote.csv"
    pilot.write_text(PILOT, encoding="utf-8")
    with pytest.warns(UserWarning, match="^no passage is labelled other: the model will never give this label$"):
        trained = run("train", "--data", pilot, "--model-dir", tmp_path / "model", "-q")
    for result in (trained, run("evaluate", "--data", pilot, "-q")):
        assert result.exit_code == 1, result.output
        assert result.stderr == ("Error: too little coded data for a grouped cross-validation: without ent01, the other interviews give only the label "
                                 "'artisan'; code more interviews (with passages of every label)\n")
    assert not (tmp_path / "model").exists()


def test_evaluate_json_follows_the_contract(trained_model, small_annotations):
    result = run("evaluate", "--data", small_annotations, "--model", trained_model, "--format", "json", "--folds", "3", "-q")
    assert result.exit_code == 0, result.output
    evaluation = json.loads(result.stdout)
    assert 0 <= evaluation["macro_f1"] <= 1
    assert set(evaluation["per_label"]) == {"manager", "artisan", "other"}
    assert all(set(v) >= {"precision", "recall", "f1"} for v in evaluation["per_label"].values())
    tested = [doc for fold in evaluation["folds"] for doc in fold["test_docs"]]
    assert len(evaluation["folds"]) == 3 and sorted(tested) == sorted(SMALL_DOCS)
    assert all(0 <= fold["macro_f1"] <= 1 for fold in evaluation["folds"])
    assert evaluation["candidate"] == json.loads((trained_model / "manifest.json").read_text())["model"]["candidate"]
    assert evaluation["learning_curve"]


def test_score_json_follows_the_contract(trained_model):
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "json", "--top", "3", "-q")
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    assert scored["model"]["labels"] == ["manager", "artisan", "other"] and scored["model"]["path"] == str(trained_model)
    [document] = scored["documents"]
    assert document["doc_id"] == "exemple01" and document["summary"]["passages"] == len(document["passages"]) > 10
    raw = EXAMPLE.read_text(encoding="utf-8")
    for passage in document["passages"]:
        assert passage["text"] == raw[passage["start"]:passage["end"]]
        assert passage["label"] == max(passage["scores"], key=passage["scores"].get)
        assert sum(passage["probabilities"].values()) == pytest.approx(1)
        explanation = passage["explanation"]
        assert explanation["label"] == passage["label"]
        assert len(explanation["features"]) == 3 or len(explanation["features"]) < 3 and explanation["rest"] == 0  # fewer features than asked
        total = explanation["intercept"] + sum(f["contribution"] for f in explanation["features"]) + explanation["rest"]
        assert abs(total - passage["scores"][passage["label"]]) < 1e-9
    shares = document["summary"]["labels"]
    assert sum(v["passages"] for v in shares.values()) == len(document["passages"])
    assert sum(v["share"] for v in shares.values()) == pytest.approx(1)


def test_score_csv_and_table(trained_model, tmp_path):
    out = tmp_path / "scores.csv"
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "csv", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows and set(rows[0]) >= {"doc_id", "passage_id", "label", "probability", "p_manager", "score_artisan", "features", "text"}
    assert all(r["label"] in ("manager", "artisan", "other") for r in rows)

    table = run("score", EXAMPLE, "--model", trained_model, "-q")
    assert table.exit_code == 0
    assert "features that weighed most" in table.stdout and "exemple01:" in table.stdout and "cadre-manager" in table.stdout


def test_score_reads_passage_tables_and_neutralises_formulas(trained_model, tmp_path):
    table = tmp_path / "passages.csv"
    table.write_text("doc_id;passage_id;text\nx1;a;=HYPERLINK(\"http://x\") on doit piloter les indicateurs\n", encoding="utf-8")
    result = run("score", table, "--model", trained_model, "--format", "csv", "-q")
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert row["text"].startswith("'=HYPERLINK")


def test_score_refuses_a_tampered_model_in_one_line(trained_model, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    (copy / "model.npz").write_bytes(b"not the model")
    result = run("score", EXAMPLE, "--model", copy)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "does not match the SHA-256 in its manifest" in result.stderr and "Traceback" not in result.output


def test_features_with_examples(trained_model, small_annotations):
    result = run("features", "--model", trained_model, "--data", small_annotations, "--top", "4", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    features = json.loads(result.stdout)["features"]
    assert set(features) == {"manager", "artisan", "other"}
    for label, rows in features.items():
        assert len(rows) == 4 and all(r["example"] for r in rows)
    table = run("features", "--model", trained_model, "--no-examples")
    assert table.exit_code == 0 and table.stdout.startswith("manager\nweight")


def test_agreement_with_the_model_as_a_coder(trained_model, small_annotations):
    result = run("agreement", small_annotations, "--model", trained_model, "--format", "json", "--resamples", "200")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "model" in report["coders"]
    pairs = {tuple(p["coders"]): p for p in report["cohen_kappa"]}
    assert ("A", "model") in pairs and 0.5 < pairs[("A", "model")]["kappa"] <= 1
    assert report["model"]["out_of_fold_passages"] == report["n_units"] and report["model"]["scored_passages"] == 0
    table = run("agreement", small_annotations, "--model", trained_model, "--resamples", "200")
    assert "The model as a coder" in table.stdout and "mean Cohen's kappa: model with each coder" in table.stdout
