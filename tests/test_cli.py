import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from ethos import __version__
from ethos.cli import main

from conftest import ROOT

TRANSCRIPT = (
    "Entretien n° 12, le 3 mars\n\n"
    "Enquêteur : Vous pouvez vous présenter ?\n"
    "Mme Bertin : Alors euh je suis directrice générale depuis 2019, avant j’étais à la banque [rires].\n"
    "Enquêteur : Et le CPOM ?\n"
    "Mme Bertin : Le CPOM, c'est la règle du jeu, on s'adapte, on n'a pas le choix, c'est comme ça.\n"
)


@pytest.fixture
def transcript(tmp_path):
    path = tmp_path / "ent12.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    return path


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_segment_jsonl_follows_the_contract(transcript):
    result = run("segment", transcript, "-q")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["passage_id"] for r in rows] == ["p001", "p002"]
    raw = transcript.read_text(encoding="utf-8")
    for row in rows:
        assert set(row) >= {"doc_id", "passage_id", "speaker", "text", "start", "end", "clean"}
        assert row["doc_id"] == "ent12" and row["speaker"] == "Mme Bertin"
        assert row["text"] == raw[row["start"]:row["end"]]
    assert rows[0]["clean"] == "Alors je suis directrice générale depuis 2019, avant j'étais à la banque."


def test_segment_reports_what_it_did_on_stderr(transcript):
    result = run("segment", transcript)
    assert "ent12: 2 passages from 2 interviewee turns (100% of their words); interviewer: Enquêteur (by tag)" in result.stderr


def test_segment_csv(transcript):
    result = run("segment", transcript, "--format", "csv", "-q")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["passage_id"] for r in rows] == ["p001", "p002"]


def test_output_file_is_not_overwritten_without_force(transcript, tmp_path):
    out = tmp_path / "passages.jsonl"
    out.write_text("precious")
    result = run("segment", transcript, "-q", "-o", out)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {out} exists; use --force to overwrite it"
    assert out.read_text() == "precious"
    assert run("segment", transcript, "-q", "-o", out, "--force").exit_code == 0
    assert len(out.read_text().splitlines()) == 2


def test_passage_table_from_french_excel(tmp_path):
    table = tmp_path / "extraits.csv"
    table.write_bytes('\ufeffdoc_id;passage_id;text\r\nent9;a;"« Le siège décide, nous on exécute » ; voilà."\r\n'.encode("utf-8"))
    result = run("segment", table, "-q")
    row = json.loads(result.stdout)
    assert (row["doc_id"], row["passage_id"], row["text"]) == ("ent9", "a", "« Le siège décide, nous on exécute » ; voilà.")


def test_a_table_of_one_column_keeps_its_commas_and_semicolons(tmp_path):
    table = tmp_path / "extraits.csv"
    table.write_bytes('text\r\nIl faut des indicateurs, on pilote avec les chiffres.\r\n"Je connais les gamins ; ""tous"", vraiment."\r\n'.encode("cp1252"))
    result = run("segment", table, "-q")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == [
        "Il faut des indicateurs, on pilote avec les chiffres.", 'Je connais les gamins ; "tous", vraiment.']


def test_unquoted_delimiter_in_a_table_names_the_line(tmp_path):
    table = tmp_path / "extraits.csv"
    table.write_text("doc_id;passage_id;text\nent9;a;ok\nent9;b;deux ; morceaux\n", encoding="utf-8")
    result = run("segment", table)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {table}, line 3: 4 cells for 3 columns (a field with the delimiter needs quotes)\n"


def test_lemmatize_jsonl(transcript):
    result = run("lemmatize", transcript, "-q")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert "directeur général" in rows[0]["lemmas"] or "directrice général" in rows[0]["lemmas"]
    assert rows[1]["tokens"][0] == {"text": "Le", "lemma": "le", "pos": "DET", "stop": True, "propn": False}


@pytest.mark.parametrize(
    "args, message",
    [
        (["segment", "absent.txt"], "absent.txt: no such file"),
        (["lemmatize", "absent.docx", "--no-cache"], "absent.docx: no such file"),
    ],
)
def test_errors_are_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output


def test_no_passage_is_an_error(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Q : Bonjour ?\nR : Oui.\nQ : Et alors ?\nR : Non.\n")
    result = run("segment", path)
    assert result.exit_code == 1 and "no interviewee passages found" in result.stderr


def test_usage_errors_exit_2(transcript):
    assert run("segment", transcript, "--format", "xml").exit_code == 2
    assert run("segment").exit_code == 2


def test_version():
    assert run("--version").stdout.strip() == f"ethos, version {__version__}"


def commands():
    return sorted(main.commands)


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_with_examples_and_is_in_the_readme(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and f"ethos {command}" in result.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"\bethos {command}\b", readme), f"README does not show `ethos {command}`"


def test_owner_files_word_and_excel_leave_in_a_folder_are_passed_over(transcript, tmp_path):
    (tmp_path / "~$ent12.docx").write_bytes(b"\x0cclaire  " + b"\0" * 150)  # Word's owner file while ent12.docx is open
    (tmp_path / "~$codage.csv").write_bytes(b"\x0cclaire  " + b"\0" * 150)
    result = run("segment", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert {json.loads(line)["doc_id"] for line in result.stdout.splitlines()} == {"ent12"}
    (tmp_path / "codage.csv").write_text("doc_id,passage_id,text,label,coder\ne1,p1,On pilote,manager,A\ne1,p1,On pilote,manager,B\n", encoding="utf-8")
    result = run("agreement", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["coders"] == ["A", "B"]


def test_an_interviewer_label_that_is_not_in_a_file_is_said_and_detection_kept(transcript, tmp_path):
    import warnings as python_warnings

    other = tmp_path / "ent13.txt"
    other.write_text("Claire (ENQ) : Racontez-moi votre arrivée au siège.\nM. Roux : J'arrivais du terrain, je connaissais les équipes.\n"
                     "Claire (ENQ) : Et ensuite ?\nM. Roux : Ensuite on m'a confié le pôle, avec les tableaux de bord.\n", encoding="utf-8")
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        result = run("segment", other, "--interviewer", "Speaker1", "-q")
    assert result.exit_code == 0, result.output
    assert [str(w.message) for w in caught] == [f"{other}: no speaker is labelled Speaker1 (its speakers: Claire (ENQ), M. Roux); the interviewer is found by tag instead"]
    assert [json.loads(line)["speaker"] for line in result.stdout.splitlines()] == ["M. Roux", "M. Roux"]


def test_csv_for_french_excel(transcript, tmp_path, monkeypatch):
    out = tmp_path / "passages.csv"
    result = run("segment", transcript, "-q", "--format", "csv", "--excel", "-o", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "doc_id;passage_id;speaker;start;end;text;clean"
    again = run("segment", out, "-q")  # ethos reads what it wrote for Excel
    assert [json.loads(line)["text"] for line in again.stdout.splitlines()] == [json.loads(line)["text"] for line in run("segment", transcript, "-q").stdout.splitlines()]
    assert run("segment", transcript, "-q", "--format", "csv").stdout.splitlines()[0] == "doc_id,passage_id,speaker,start,end,text,clean"  # not sticky
    monkeypatch.setenv("ETHOS_EXCEL", "1")
    assert run("segment", transcript, "-q", "--format", "csv").stdout.splitlines()[0].startswith("doc_id;passage_id;")


def test_french_excel_numbers_have_decimal_commas_and_are_not_neutralised():
    from ethos.tables import write_csv

    handle = io.StringIO()
    write_csv(handle, [{"label": "manager", "p": 0.25, "score": -1.5, "text": "-1,5 ou =SOMME(A1)"}], ["label", "p", "score", "text"], bom=False, french=True)
    assert handle.getvalue() == "label;p;score;text\nmanager;0,25;-1,5;'-1,5 ou =SOMME(A1)\n"


def test_an_output_in_a_missing_folder_is_refused_before_any_work(transcript, tmp_path):
    result = run("segment", transcript, "-q", "-o", tmp_path / "resutlats" / "passages.jsonl")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'resutlats'}: no such folder, so passages.jsonl cannot be written there (create it first)\n"
    assert not (tmp_path / "resutlats").exists()


def test_an_output_beside_the_inputs_is_fine_when_it_is_not_read(transcript, tmp_path):
    out = tmp_path / "passages.csv"  # in the folder of transcripts, but a folder's listing reads transcripts only
    assert run("segment", tmp_path, "-q", "--format", "csv", "-o", out).exit_code == 0
    result = run("segment", tmp_path, "-q", "--format", "csv", "-o", out, "--force")
    assert result.exit_code == 0, result.output
    result = run("segment", tmp_path, "-q", "-o", transcript, "--force")
    assert result.exit_code == 1 and result.stderr == f"Error: {transcript} is one of the files this command reads; write the output elsewhere\n"
