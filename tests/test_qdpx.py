"""REFI-QDA projects: importing coded selections, exporting scored passages, and the round trip."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import defusedxml.ElementTree as SafeET
import pytest
from click.testing import CliRunner

from ethos.cli import main
from ethos.codebook import load_codebook
from ethos.qdpx import COLUMNS, NAMESPACE, read_project

from conftest import ROOT, SHARED

QDPX = SHARED / "qdpx"
EXAMPLE = ROOT / "data" / "examples" / "exemple01.txt"
N = "{" + NAMESPACE + "}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CLAIRE, KARIM = "0a6f7c2e-1d3b-4c5a-9e8f-000000000001", "{0A6F7C2E-1D3B-4C5A-9E8F-000000000002}"
MANAGER, ARTISAN, GESTION, TERRAIN = (f"5c1e9a40-7b2d-4e6f-8a90-00000000000{n}" for n in range(1, 5))
USERS = f'<User guid="{CLAIRE}" name="Claire"/><User guid="{KARIM}" id="KH"/>'
CODES = (f'<Code guid="{MANAGER}" name="Manager" isCodable="true"/><Code guid="{ARTISAN}" name="artisan" isCodable="true"/>'
         f'<Code guid="{GESTION}" name="Thèmes" isCodable="false"><Code guid="{TERRAIN}" name="terrain" isCodable="true"/></Code>')

#: A transcript as Word on Windows saves it: BOM, CRLF, accents and typographic apostrophes.
TRANSCRIPT = ("Enquêtrice : Et le siège, il vous demande quoi ?\r\n"
              "Mme Bertin : L’équipe décide, c’est comme ça qu’on avance ici.\r\n"
              "Enquêtrice : D’accord.\r\n"
              "Mme Bertin : Le CPOM, c’est la règle du jeu, on s’adapte.\r\n")
SPAN_1 = "L’équipe décide, c’est comme ça qu’on avance ici."
SPAN_2 = "Le CPOM, c’est la règle du jeu, on s’adapte."


def project_xml(sources: str, *, users: str = USERS, codes: str = CODES) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Project xmlns="{NAMESPACE}" name="test" origin="pytest">'
            f"<Users>{users}</Users><CodeBook><Codes>{codes}</Codes></CodeBook><Sources>{sources}</Sources></Project>")


def selection(number: int, start: int, end: int, *codings: tuple[str, str | None], user: str | None = None, description: str = "") -> str:
    made = f' creatingUser="{user}"' if user else ""
    body = f"<Description>{description}</Description>" if description else ""
    for code, coder in codings:
        by = f' creatingUser="{coder}"' if coder else ""
        body += f'<Coding guid="9d0c4b1a-2e3f-4a5b-8c6d-{number:06d}{len(body):06d}"{by}><CodeRef targetGUID="{code}"/></Coding>'
    return f'<PlainTextSelection guid="7e2a1f3c-4b5d-4e6f-9a0b-{number:012d}" startPosition="{start}" endPosition="{end}"{made}>{body}</PlainTextSelection>'


def make_qdpx(path, qde: str | bytes, files: dict[str, bytes] | None = None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, exit_code: int = 1) -> str:
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message, message
    return message


@pytest.fixture
def word_project(tmp_path):
    """An internal source saved with a BOM and CRLF, coded by two users."""
    start_1, start_2 = TRANSCRIPT.index(SPAN_1), TRANSCRIPT.index(SPAN_2)
    selections = (selection(1, start_1, start_1 + len(SPAN_1), (MANAGER, CLAIRE), (TERRAIN, KARIM), description="à revoir")
                  + selection(2, start_2, start_2 + len(SPAN_2), (ARTISAN, None), user=KARIM))
    source = f'<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000001" name="ent12.docx" plainTextPath="internal://3f2e1d0c.txt">{selections}</TextSource>'
    data = b"\xef\xbb\xbf" + TRANSCRIPT.encode("utf-8")
    return make_qdpx(tmp_path / "projet.qdpx", project_xml(source), {"sources/3f2e1d0c.txt": data})


# --- importing --------------------------------------------------------------------------------------

def test_positions_are_code_points_of_the_text_without_its_bom_crlf_counted(word_project):
    start = TRANSCRIPT.index(SPAN_1)
    assert len(TRANSCRIPT[:start].encode("utf-8")) + 3 != start  # bytes and code points differ here
    with pytest.warns(UserWarning, match="1 codings have codes that are neither mapped nor codebook labels .*: terrain"):
        rows = read_project(word_project)
    assert [(r["text"], r["start"], r["end"], r["label"], r["coder"]) for r in rows] == [
        (SPAN_1, start, start + len(SPAN_1), "manager", "Claire"),
        (SPAN_1, start, start + len(SPAN_1), "terrain", "KH"),
        (SPAN_2, TRANSCRIPT.index(SPAN_2), TRANSCRIPT.index(SPAN_2) + len(SPAN_2), "artisan", "KH"),
    ]
    assert rows[0]["doc_id"] == "ent12" and rows[0]["passage_id"] == f"s{start}-{start + len(SPAN_1)}" == rows[1]["passage_id"]
    assert rows[0]["note"] == "à revoir" and rows[1]["code"] == "Thèmes/terrain"
    assert rows[2]["start"] == 151 and TRANSCRIPT.replace("\r\n", "\n").index(SPAN_2) == 148  # each CRLF before it counts two


def test_inline_source_and_the_stem_of_a_file_for_a_source_without_name(tmp_path):
    text = "Mme Roux : « On n’est pas là pour remplir des tableaux », voilà ce que je dis."
    inline = (f'<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000002" name=" ent 07 "><PlainTextContent>{text}</PlainTextContent>'
              f"{selection(3, text.index('«'), text.index('»') + 1, (ARTISAN, CLAIRE))}</TextSource>")
    nameless = (f'<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000003" plainTextPath="internal://ent08.txt">'
                f"{selection(4, 0, 4, (MANAGER, CLAIRE))}{selection(5, 2, 2, (MANAGER, CLAIRE))}</TextSource>")
    uncoded = '<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000004" plainTextPath="file:///C:/entretiens/ent09.txt"/>'
    project = make_qdpx(tmp_path / "p.qdpx", project_xml(inline + nameless + uncoded), {"Sources/ent08.txt": "Déjà vu".encode("cp1252")})
    with pytest.warns(UserWarning, match="1 empty selections left out"):
        rows = read_project(project)
    assert [(r["doc_id"], r["text"], r["coder"]) for r in rows] == [
        ("ent 07", "« On n’est pas là pour remplir des tableaux »", "Claire"),
        ("ent08", "Déjà", "Claire"),
    ]


def test_map_codes_to_labels_by_name_or_path_and_only_mapped(word_project):
    rows = read_project(word_project, mapping={"thèmes/TERRAIN": "artisan"})
    assert [r["label"] for r in rows] == ["manager", "artisan", "artisan"]
    with pytest.warns(UserWarning, match="1 codings left out"):
        rows = read_project(word_project, only_mapped=True)
    assert [r["code"] for r in rows] == ["Manager", "artisan"]
    with pytest.warns(UserWarning, match="no coding uses the mapped code absent"):
        read_project(word_project, mapping={"absent": "other", "terrain": "other"})


def test_qdpx_import_command_writes_annotation_rows(word_project, tmp_path):
    out = tmp_path / "claire.csv"
    result = run("qdpx-import", word_project, "--map", "terrain=Artisan", "-o", out)  # every code has a label: no warning
    assert result.exit_code == 0, result.output
    assert result.stderr == f"{word_project}: 3 codings of 2 passages in 1 source; coders: Claire, KH\n"
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["label"], r["coder"], r["text"]) for r in rows] == [("manager", "Claire", SPAN_1), ("artisan", "KH", SPAN_1), ("artisan", "KH", SPAN_2)]
    assert one_line_error(run("qdpx-import", word_project, "-o", out)) == f"Error: {out} exists; use --force to overwrite it"
    jsonl = tmp_path / "claire.jsonl"
    assert run("qdpx-import", word_project, "--map", "terrain=other", "-q", "-o", jsonl).exit_code == 0
    assert [json.loads(line)["start"] for line in jsonl.read_text(encoding="utf-8").splitlines()] == [int(r["start"]) for r in rows]


def test_imported_rows_are_an_annotation_file(word_project, tmp_path):
    from ethos.annotations import read_codings

    out = tmp_path / "coded.csv"
    with pytest.warns(UserWarning, match="1 codings left out"):
        assert run("qdpx-import", word_project, "--only-mapped", "-q", "-o", out).exit_code == 0
    codings = read_codings([out])
    assert [(c.coder, c.label, c.start) for c in codings] == [("Claire", "manager", TRANSCRIPT.index(SPAN_1)), ("KH", "artisan", TRANSCRIPT.index(SPAN_2))]


@pytest.mark.parametrize("value, message", [
    ("terrain", "'terrain' is not CODE=LABEL"),
    ("terrain=cadre", "cadre is not a codebook label"),
])
def test_bad_map_is_a_usage_error(word_project, value, message):
    result = run("qdpx-import", word_project, "--map", value)
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("reference", [
    "internal://../../etc/passwd",
    "internal://sub/../../x.txt",
    "internal://..%2F..%2Fetc%2Fpasswd",
    "/etc/passwd",
    "C:\\entretiens\\ent12.txt",
    "file:///etc/passwd",
    "http://example.org/ent12.txt",
])
def test_paths_that_leave_the_archive_are_refused(tmp_path, reference):
    source = f'<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000005" name="ent12" plainTextPath="{reference}">{selection(6, 0, 3, (MANAGER, CLAIRE))}</TextSource>'
    project = make_qdpx(tmp_path / "evil.qdpx", project_xml(source), {"sources/passwd": b"root"})
    message = one_line_error(run("qdpx-import", project))
    assert message.startswith(f"Error: {project}: source 'ent12'") and ("outside" in message)


def broken_projects(tmp_path):
    """(file, what its one-line error says) for projects broken in every way we know."""
    source = '<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000006" name="ent12"><PlainTextContent>Bonjour à tous</PlainTextContent>{}</TextSource>'
    (tmp_path / "a.qdpx").write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    yield tmp_path / "a.qdpx", "not a valid .qdpx file"
    whole = make_qdpx(tmp_path / "whole.qdpx", project_xml(source.format(""))).read_bytes()
    (tmp_path / "b.qdpx").write_bytes(whole[: len(whole) // 2])
    yield tmp_path / "b.qdpx", "not a valid .qdpx file"
    with zipfile.ZipFile(tmp_path / "c.qdpx", "w") as archive:
        archive.writestr("sources/ent12.txt", "Bonjour")
    yield tmp_path / "c.qdpx", "no project.qde inside"
    yield make_qdpx(tmp_path / "d.qdpx", "<Project><Sources>"), "malformed XML"
    bomb = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Project>&b;</Project>'
    yield make_qdpx(tmp_path / "e.qdpx", bomb), "declares entities or a DTD"
    yield make_qdpx(tmp_path / "f.qdpx", f'<CodeBook xmlns="{NAMESPACE}"/>'), "not a REFI-QDA project"
    outside = source.format(selection(7, 3, 400, (MANAGER, CLAIRE)))
    yield make_qdpx(tmp_path / "g.qdpx", project_xml(outside)), "spans 3-400, outside its text of 14 characters"
    orphan = source.format(selection(8, 0, 7, ("5c1e9a40-7b2d-4e6f-8a90-0000000000ff", CLAIRE)))
    yield make_qdpx(tmp_path / "h.qdpx", project_xml(orphan)), "refers to no code of the codebook"
    missing = f'<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000007" name="ent13" plainTextPath="internal://absent.txt">{selection(9, 0, 1, (MANAGER, CLAIRE))}</TextSource>'
    yield make_qdpx(tmp_path / "i.qdpx", project_xml(missing)), "is missing from the archive"
    binary = f'<TextSource guid="3f2e1d0c-9b8a-4766-8544-332211000008" name="ent14" plainTextPath="internal://ent14.txt">{selection(10, 0, 1, (MANAGER, CLAIRE))}</TextSource>'
    yield make_qdpx(tmp_path / "j.qdpx", project_xml(binary), {"sources/ent14.txt": b"\x00\x01\x02" * 50}), "looks like a binary file"


def test_broken_projects_give_a_one_line_error(tmp_path):
    for path, expected in broken_projects(tmp_path):
        message = one_line_error(run("qdpx-import", path))
        assert message.startswith(f"Error: {path}: ") and expected in message, message
    assert one_line_error(run("qdpx-import", tmp_path / "absent.qdpx")) == f"Error: {tmp_path / 'absent.qdpx'}: no such file"


def test_a_project_without_coded_text_gives_no_rows(tmp_path):
    project = make_qdpx(tmp_path / "vide.qdpx", project_xml(""))
    with pytest.warns(UserWarning, match="the project has no coded text selections"):
        result = run("qdpx-import", project)
    assert result.exit_code == 0
    assert result.stdout == ",".join(COLUMNS) + "\n"


# --- real exports -----------------------------------------------------------------------------------

requires_exports = pytest.mark.skipif(not (QDPX / "demo.qdpx").is_file(), reason=f"REFI-QDA exports not found at {QDPX}")


@requires_exports
def test_demo_export_of_qualitative_coding():
    """demo.qdpx (qc 1.3.2): one coder, 158 selections of whole lines of board_2017.txt, 205 codings;
    its plainTextPath is a bare file name of sources/, not internal://."""
    with pytest.warns(UserWarning, match="205 codings have codes that are neither mapped nor codebook labels"):
        rows = read_project(QDPX / "demo.qdpx")
    assert len(rows) == 205
    assert {r["doc_id"] for r in rows} == {"board_2017"} and {r["coder"] for r in rows} == {"cp"}
    assert len({r["passage_id"] for r in rows}) == 158
    first = rows[0]
    assert (first["passage_id"], first["start"], first["end"], first["label"], first["code"]) == ("s320-400", 320, 400, "fun", "rq2_curriculum_and_instruction/pedagogy/fun")
    assert first["text"] == "This district goal is engage every student in joyful, purposeful learning that \n"
    four = [r for r in rows if r["passage_id"] == "s27767-27846"]
    assert [r["label"] for r in four] == ["math", "elementary", "middle", "high_school"]
    assert four[0]["text"] == "the math department. By the way, I think that at the lower levels, it's a lot \n"
    with zipfile.ZipFile(QDPX / "demo.qdpx") as archive:
        text = archive.read("sources/board_2017.txt").decode("utf-8")
    assert all(r["text"] == text[r["start"]:r["end"]] and r["text"].endswith("\n") for r in rows)


@requires_exports
def test_demo_export_mapped_through_the_command():
    with pytest.warns(UserWarning, match="189 codings left out"):
        result = run("qdpx-import", QDPX / "demo.qdpx", "--map", "equity=artisan", "--map", "rq2_curriculum_and_instruction/pedagogy/fun=manager",
                     "--only-mapped", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((r["label"], r["code"].rsplit("/", 1)[-1]) for r in rows).count(("artisan", "equity")) == 12
    assert len(rows) == 16 and {r["label"] for r in rows} == {"artisan", "manager"}


@requires_exports
def test_nvivo_export_has_no_coded_text():
    """nvivo.qdpx (NVivo for Mac 15): two users, 262 codes, two text sources whose plain text is an
    empty line (the text is in their .docx) and no selections."""
    with pytest.warns(UserWarning, match="no coded text selections"):
        assert read_project(QDPX / "nvivo.qdpx") == []


# --- exporting scored passages ----------------------------------------------------------------------

def check_against_the_schema(qde: bytes):
    """The parts of the REFI-QDA schema (Project.xsd, 1.0) that QDA software relies on."""
    root = SafeET.fromstring(qde)
    assert root.tag == N + "Project" and root.get("name")
    guids = []
    for element in root.iter():
        assert element.tag.startswith(N), element.tag
        for attribute in ("guid", "targetGUID", "creatingUser", "creatingUserGUID", "modifyingUserGUID"):
            if element.get(attribute) is not None:
                assert GUID.match(element.get(attribute)), (element.tag, attribute)
        if element.get("guid"):
            guids.append(element.get("guid"))
    assert len(guids) == len(set(guids))
    assert [child.tag for child in root] == [N + "Users", N + "CodeBook", N + "Sources"]
    for code in root.iter(N + "Code"):
        assert code.get("name") and code.get("isCodable") == "true" and re.match(r"^#[0-9A-Fa-f]{6}$", code.get("color"))
    for source in root.iter(N + "TextSource"):
        assert source.get("plainTextPath").startswith("internal://") and source.find(N + "PlainTextContent") is None
        for selection in source:
            assert selection.tag == N + "PlainTextSelection"
            assert int(selection.get("startPosition")) < int(selection.get("endPosition"))
            assert [child.tag for child in selection] == [N + "Description", N + "Coding"]
            assert [child.tag for child in selection.find(N + "Coding")] == [N + "CodeRef"]
    return root


@pytest.fixture(scope="module")
def scored(trained_model, tmp_path_factory):
    """exemple01.txt scored as JSON and as a REFI-QDA project."""
    folder = tmp_path_factory.mktemp("qdpx")
    project = folder / "predicted.qdpx"
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "qdpx", "-o", project, "-q")
    assert result.exit_code == 0, result.output
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "json", "-q")
    return project, json.loads(result.stdout)


def test_score_qdpx_follows_the_schema(scored):
    project, scores = scored
    with zipfile.ZipFile(project) as archive:
        names = archive.namelist()
        root = check_against_the_schema(archive.read("project.qde"))
        source = root.find(f"{N}Sources/{N}TextSource")
        text = archive.read("sources/" + source.get("plainTextPath").removeprefix("internal://")).decode("utf-8")
    assert len(names) == 2 and "project.qde" in names
    assert [(u.get("name")) for u in root.iter(N + "User")] == ["ethos"]
    user = root.find(f"{N}Users/{N}User").get("guid")
    assert {c.get("creatingUser") for c in root.iter(N + "Coding")} == {user}
    codebook = load_codebook()
    assert [(c.get("name"), c.get("color")) for c in root.iter(N + "Code")] == [(label.name, label.colour) for label in codebook.labels]
    assert source.get("name") == "exemple01"
    passages = scores["documents"][0]["passages"]
    assert [s.get("name") for s in source] == [p["passage_id"] for p in passages]
    for selection, passage in zip(source, passages):
        assert text[int(selection.get("startPosition")):int(selection.get("endPosition"))] == passage["text"]


def test_score_qdpx_imports_back_with_the_same_spans_and_labels(scored):
    project, scores = scored
    rows = read_project(project)
    passages = scores["documents"][0]["passages"]
    assert [(r["doc_id"], r["start"], r["end"], r["text"], r["label"], r["coder"]) for r in rows] == [
        (p["doc_id"], p["start"], p["end"], p["text"], p["label"], "ethos") for p in passages]
    assert any(ch in "".join(r["text"] for r in rows) for ch in "’éà")
    assert rows[0]["note"].startswith(f"ethos: {passages[0]['label']} (p = ")


def test_score_qdpx_needs_a_file_and_never_overwrites_one(scored, trained_model, tmp_path):
    project, _ = scored
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "qdpx", "-q")
    assert result.exit_code == 2 and "--format qdpx writes a binary file" in result.stderr
    before = project.read_bytes()
    assert one_line_error(run("score", EXAMPLE, "--model", trained_model, "--format", "qdpx", "-q", "-o", project)) == f"Error: {project} exists; use --force to overwrite it"
    assert project.read_bytes() == before
    assert not [p for p in project.parent.iterdir() if p.name.startswith(".")]


def test_score_qdpx_of_a_passage_table(trained_model, tmp_path):
    table = tmp_path / "extraits.csv"
    table.write_text("doc_id;passage_id;text\nent30;a;On s’adapte, c’est la règle du jeu.\nent30;b;Moi je connais chaque gamin, je les vois tous les jours.\n",
                     encoding="utf-8")
    project = tmp_path / "extraits.qdpx"
    result = run("score", table, "--model", trained_model, "--format", "qdpx", "-o", project, "-q")
    assert result.exit_code == 0, result.output
    rows = read_project(project)
    assert [(r["doc_id"], r["text"]) for r in rows] == [
        ("ent30", "On s’adapte, c’est la règle du jeu."), ("ent30", "Moi je connais chaque gamin, je les vois tous les jours.")]
    assert rows[1]["start"] == len("On s’adapte, c’est la règle du jeu.") + 2
    assert {r["label"] for r in rows} <= {"manager", "artisan", "other"}
