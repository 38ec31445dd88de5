import json
import re

import pytest
from click.testing import CliRunner
from sklearn.metrics import cohen_kappa_score

from ethos.annotations import LABELS, read_codings
from ethos.cli import main
from ethos.errors import AnnotationError

HEADER = "doc_id,passage_id,text,label,coder\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_csv_semicolon_bom_and_jsonl(tmp_path):
    write(tmp_path / "a.csv", HEADER + "e1,p001,« On s’adapte »,manager,A\ne1,p002,Les gamins,artisan,A\n")
    write(tmp_path / "b.csv", "\ufeffdoc_id;passage_id;text;label;coder;note\ne1;p001;On s'adapte;Manager;B;sûr\n")
    write(tmp_path / "c.jsonl", json.dumps({"doc_id": "e1", "passage_id": "p002", "text": "Les gamins", "label": "other", "coder": "C"}) + "\n")
    codings = read_codings([tmp_path])
    assert [(c.coder, c.unit, c.label) for c in codings] == [
        ("A", ("e1", "p001"), "manager"), ("A", ("e1", "p002"), "artisan"),
        ("B", ("e1", "p001"), "manager"), ("C", ("e1", "p002"), "other"),
    ]
    assert codings[2].note == "sûr"


@pytest.mark.parametrize(
    "content, message",
    [
        ("doc_id,passage_id,label,coder\ne1,p1,manager,A\n", "missing column text"),
        (HEADER + "e1,p1,t,managerial,A\n", "line 2: unknown label 'managerial'"),
        (HEADER + "e1,p1,t,manager,A\ne1,p1,t,artisan,A\n", "line 3: coder 'A' gives passage (e1, p1) the label 'artisan', but 'manager'"),
        (HEADER + "e1,,t,manager,A\n", "line 2: empty passage_id"),
    ],
)
def test_bad_annotation_files_name_file_and_line(tmp_path, content, message):
    path = write(tmp_path / "a.csv", content)
    with pytest.raises(AnnotationError, match=re.escape(message)):
        read_codings([path])


def test_agreement_command_json_and_disagreements(tmp_path):
    rows_a = "".join(f"e{i // 10},p{i},texte {i},{['manager', 'artisan', 'other'][i % 3]},A\n" for i in range(30))
    rows_b = "".join(f"e{i // 10},p{i},texte {i},{['manager', 'artisan', 'other'][(i % 3) if i % 7 else (i + 1) % 3]},B\n" for i in range(30))
    write(tmp_path / "a.csv", HEADER + rows_a)
    write(tmp_path / "b.csv", HEADER + rows_b)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    out = tmp_path / "adjudicate.csv"
    result = CliRunner().invoke(main, ["agreement", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--format", "json", "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_units"] == 30 and report["coders"] == ["A", "B"]
    assert report["cohen_kappa"][0]["n_units"] == 30
    labels = ["manager", "artisan", "other"]
    first = [i % 3 for i in range(30)]
    second = [(i % 3) if i % 7 else (i + 1) % 3 for i in range(30)]
    assert report["cohen_kappa"][0]["kappa"] == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)
    krippendorff = pytest.importorskip("krippendorff")
    assert report["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=[first, second], level_of_measurement="nominal"), abs=1e-12)
    assert report["labels"] == labels
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads the accents right
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "doc_id,passage_id,text,label,coder,start,end,note,label_A,label_B,note_A,note_B"
    assert len(lines) == 1 + 5  # i = 0, 7, 14, 21, 28
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p != out} == before


def test_disagreements_in_json_lines_keep_the_coders_notes_and_read_back(tmp_path):
    write(tmp_path / "a.csv", "doc_id,passage_id,text,label,coder,note\ne1,p1,On pilote,manager,A,\"durée 1,5 min\"\ne1,p2,Je connais les gamins,artisan,A,\n")
    write(tmp_path / "b.jsonl", '{"doc_id": "e1", "passage_id": "p1", "text": "On pilote", "label": "other", "coder": "B"}\n'
                                '{"doc_id": "e1", "passage_id": "p2", "text": "Je connais les gamins", "label": "artisan", "coder": "B"}\n')
    out = tmp_path / "adjudicate.jsonl"
    result = CliRunner().invoke(main, ["agreement", str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl"), "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row == {"doc_id": "e1", "passage_id": "p1", "text": "On pilote", "label": "", "coder": "gold", "start": "", "end": "", "note": "",
                   "label_A": "manager", "label_B": "other", "note_A": "durée 1,5 min", "note_B": ""}
    row["label"] = "manager"
    out.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["agreement", str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl"), str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["coders"] == ["A", "B"]
    # and it is never written over one of the files it reads, --force or not
    result = CliRunner().invoke(main, ["agreement", str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl"), "--disagreements", str(tmp_path / "a.csv"), "--force"])
    assert result.exit_code == 1 and "is one of the files this command reads" in result.stderr
    assert "durée 1,5 min" in (tmp_path / "a.csv").read_text(encoding="utf-8")


def test_agreement_table_has_reading_guide(tmp_path):
    write(tmp_path / "a.csv", HEADER + "e,p1,t,manager,A\ne,p2,t,other,A\ne,p1,t,manager,B\ne,p2,t,artisan,B\ne,p1,t,manager,gold\n")
    result = CliRunner().invoke(main, ["agreement", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Krippendorff's alpha (nominal)" in result.stdout and "0.800" in result.stdout
    assert "A: agreement 1.000" in result.stdout


def test_agreement_json_has_every_contract_key(tmp_path):
    rows = [f"e{i % 4},p{i},texte,{['manager', 'artisan', 'other'][(i * (c + 1)) % 3]},{coder}\n"
            for i in range(24) for c, coder in enumerate("ABC") if not (coder == "C" and i % 2)]
    write(tmp_path / "all.csv", HEADER + "".join(rows))
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--format", "json", "--resamples", "200"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_units"] == 24 and report["coders"] == ["A", "B", "C"] and report["labels"] == ["manager", "artisan", "other"]
    for key in ("percent_agreement", "krippendorff_alpha", "fleiss_kappa"):
        assert isinstance(report[key], float) and -1 <= report[key] <= 1
    assert [p["coders"] for p in report["cohen_kappa"]] == [["A", "B"], ["A", "C"], ["B", "C"]]
    assert [p["n_units"] for p in report["cohen_kappa"]] == [24, 12, 12]
    assert all(isinstance(p["kappa"], float) for p in report["cohen_kappa"])
    assert set(report["per_label"]) == {"manager", "artisan", "other"}
    assert all(isinstance(v["krippendorff_alpha"], float) for v in report["per_label"].values())
    assert report["notes"] == []


def test_agreement_json_is_null_with_a_reason_for_a_single_coder(tmp_path):
    write(tmp_path / "a.csv", HEADER + "e,p1,t,manager,A\ne,p2,t,other,A\n")
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["krippendorff_alpha"] is None and report["fleiss_kappa"] is None and report["percent_agreement"] is None
    assert report["cohen_kappa"] == [] and report["per_label"]["manager"]["krippendorff_alpha"] is None
    assert any("only one coder" in note for note in report["notes"])


def test_text_neutralised_in_a_csv_reads_back_exactly(tmp_path):
    import io as _io

    from ethos.tables import read_rows, write_csv

    texts = ["++ Depuis, je vais une journée par trimestre", "=SUM(A1)", "- Oui.", "@direction", "-3", "'déjà cité'"]
    buffer = _io.StringIO()
    write_csv(buffer, [{"text": t} for t in texts], ["text"], bom=True)
    assert "'++ Depuis" in buffer.getvalue()  # a spreadsheet shows it as text
    path = tmp_path / "t.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert [row["text"] for _, row in read_rows(path)] == texts


def test_french_titles_are_labels_and_odd_files_are_warned_about(tmp_path):
    write(tmp_path / "a.csv", HEADER + "e1,p1,On pilote avec les indicateurs,Cadre-manager,A\ne1,p2,Je connais les gamins,artisan-cadre,A\ne1,p3,Voilà,Autre,A\n")
    write(tmp_path / "b.csv", HEADER + "e1,p1,On pilote,manager,B\ne1,p2,Je connais les gamins,artisan,B\n")
    write(tmp_path / "c.csv", HEADER + "e1,p1,On pilote avec les indicateurs,manager,ethos\n")
    with pytest.warns(UserWarning) as caught:
        codings = read_codings([tmp_path], LABELS, {"cadre-manager": "manager", "artisan-cadre": "artisan", "autre": "other"})
    assert [(c.coder, c.label) for c in codings] == [("A", "manager"), ("A", "artisan"), ("A", "other"), ("B", "manager"), ("B", "artisan"), ("ethos", "manager")]
    messages = [str(w.message) for w in caught]
    assert messages == [
        f"1 passage has different texts under the same doc_id and passage_id: (e1, p1) in {tmp_path / 'a.csv'} and {tmp_path / 'b.csv'}; "
        "they are compared as one passage: check that the files were cut the same way",
        "coder 'ethos' holds a model's predictions, not a person's coding (rename the coder once you have checked and corrected them)",
    ]
    with pytest.raises(AnnotationError, match=r"line 2: unknown label 'Cadre-manager' \(the codebook's labels are artisan, manager, other\)"):
        read_codings([tmp_path / "a.csv"])


def test_the_same_span_is_one_passage_whatever_its_id(tmp_path):
    """A file from `ethos suggest` names passages p004...; coded in QDA software and imported back, s135-287."""
    write(tmp_path / "lea.csv", "doc_id,passage_id,text,label,coder,start,end\nent01,p004,On pilote,manager,lea,135,287\nent01,p005,Les gamins,artisan,lea,290,330\n")
    write(tmp_path / "qda.csv", "doc_id,passage_id,text,label,coder,start,end\nent01,s135-287,On pilote,other,marc,135,287\nent01,s290-330,Les gamins,artisan,marc,290,330\n"
                                "ent01,s400-420,Autre chose,other,marc,400,420\n")
    codings = read_codings([tmp_path])
    assert [(c.coder, c.passage_id) for c in codings] == [("lea", "p004"), ("lea", "p005"), ("marc", "p004"), ("marc", "p005"), ("marc", "s400-420")]
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_units"] == 3 and report["cohen_kappa"][0]["n_units"] == 2
    # passages of a passage table have no real offsets (0 to their length): same span, other words, other passage
    write(tmp_path / "table.csv", "doc_id,passage_id,text,label,coder,start,end\nent02,r0001,On pilote tout,manager,lea,0,14\n"
                                  "ent02,r0002,Les gamins là,artisan,lea,0,14\n")
    assert [c.passage_id for c in read_codings([tmp_path / "table.csv"])] == ["r0001", "r0002"]


def test_passages_with_a_gold_label_are_not_adjudicated_again(tmp_path):
    write(tmp_path / "a.csv", HEADER + "e1,p1,On pilote,manager,A\ne1,p2,Les gamins,artisan,A\ne1,p3,Voilà,other,A\n")
    write(tmp_path / "b.csv", HEADER + "e1,p1,On pilote,other,B\ne1,p2,Les gamins,manager,B\ne1,p3,Voilà,other,B\n")
    write(tmp_path / "gold.csv", HEADER + "e1,p2,Les gamins,artisan,gold\n")
    out = tmp_path / "out" / "adjudicate.csv"
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    assert f"1 passages to adjudicate written to {out} (1 more that coders disagree on have a gold label already)" in result.stderr
    assert [line.split(",")[:2] for line in out.read_text(encoding="utf-8-sig").splitlines()[1:]] == [["e1", "p1"]]
    result = CliRunner().invoke(main, ["agreement", str(tmp_path), "--disagreements", str(out), "-o", str(out), "--force"])
    assert result.exit_code == 2 and "-o and --disagreements name the same file" in result.stderr
