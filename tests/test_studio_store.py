"""The studio's files: rows written durably in the annotation format, never a damaged or blindly
overwritten file, nothing lost to two coders at once or to a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ethos.annotations import read_codings
from ethos.codebook import load_codebook
from ethos.document import Passage
from ethos.errors import EthosError
from ethos.studio.codings import CodingConflict, CodingFolder, check_coder_name
from ethos.studio.store import AnnotationFile, durable_write, sweep_temporary_files

from conftest import ROOT


def passage(n: int, doc: str = "ent01") -> Passage:
    text = f"Je pilote le service numéro {n}, avec des indicateurs, « disons-le » ; et ça tient."
    return Passage(doc, f"p{n:03d}", "Mme Bertin", text, 100 * n, 100 * n + len(text), text)


@pytest.mark.parametrize("content", [
    "doc_id,passage_id,text,label,coder\nent01,p001,\"Un, deux\",manager,A\n",
    "\ufeffdoc_id;passage_id;text;label;coder;note\r\nent01;p001;\"Sur\r\ndeux lignes\";artisan;A;'=pas une formule\r\n",
    "doc_id,passage_id,text,label,coder\nent01,p001,sans fin de ligne,other,A",
    '{"doc_id": "ent01", "passage_id": "p001", "text": "x", "label": "manager", "coder": "A", "start": 3}\n\n',
])
def test_a_file_read_and_written_back_is_the_same_bytes(tmp_path, content):
    path = tmp_path / ("a.jsonl" if content.startswith("{") else "a.csv")
    path.write_bytes(content.encode("utf-8"))
    file = AnnotationFile.read(path)
    expected = content if content.endswith("\n") else content + "\n"
    assert file.render() == expected.encode("utf-8")


def test_the_bundled_coder_files_round_trip_byte_for_byte():
    for path in sorted((ROOT / "data" / "annotated").glob("*.csv")):
        assert AnnotationFile.read(path).render() == path.read_bytes(), path


def test_a_coding_replaces_its_row_and_keeps_the_others_byte_for_byte(tmp_path):
    path = tmp_path / "coder_a.csv"
    original = "doc_id;passage_id;text;label;coder\r\nent01;p001;été;manager;A\r\nent01;p002;deux;other;A\r\n"
    path.write_bytes(original.encode("cp1252"))
    file = AnnotationFile.read(path)
    previous = file.upsert({"doc_id": "ent01", "passage_id": "p002", "text": "deux", "label": "artisan", "coder": "A", "note": "révisé", "mode": "open"})
    file.save()
    assert previous["label"] == "other"
    written = path.read_bytes().decode("cp1252")
    assert written.startswith("doc_id;passage_id;text;label;coder;note;mode\r\nent01;p001;été;manager;A\r\n")
    assert written.endswith("ent01;p002;deux;artisan;A;révisé;open\r\n")
    codings = read_codings([path])
    assert [(c.passage_id, c.label, c.note) for c in codings] == [("p001", "manager", ""), ("p002", "artisan", "révisé")]
    file.upsert({"doc_id": "ent01", "passage_id": "p003", "text": "trois", "label": "other", "coder": "A", "note": "✓ hors cp1252"})
    file.save()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and len(read_codings([path])) == 3


def test_jsonl_files_keep_numbers_and_take_rows_out(tmp_path):
    path = tmp_path / "claire.jsonl"
    file = AnnotationFile.read(path)
    file.upsert({"doc_id": "e", "passage_id": "p1", "text": "t", "label": "manager", "coder": "claire", "start": "4", "end": "9"})
    file.upsert({"doc_id": "e", "passage_id": "p2", "text": "u", "label": "other", "coder": "claire"})
    file.save()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["start"] == 4 and rows[1]["label"] == "other"
    file.remove(("e", "p1", "claire"))
    file.save()
    assert [c.passage_id for c in read_codings([path])] == ["p2"]


def test_durable_write_leaves_no_temporary_file_and_keeps_permissions(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    durable_write(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]


def folder_of(tmp_path: Path) -> CodingFolder:
    return CodingFolder(tmp_path / "annotated", load_codebook(ROOT / "data" / "codebook.toml"))


def test_each_coder_writes_a_file_of_their_own_and_gold_goes_to_the_gold_file(tmp_path):
    data = tmp_path / "annotated"
    data.mkdir()
    (data / "coder_a.csv").write_text("doc_id,passage_id,text,label,coder\nent09,p001,un,manager,A\n", encoding="utf-8")
    (data / "mixed.csv").write_text("doc_id,passage_id,text,label,coder\nent01,p005,cinq,manager,A\nent01,p005,cinq,other,B\n", encoding="utf-8")
    codings = folder_of(tmp_path)
    assert codings.own_file("A") == data / "coder_a.csv"
    assert codings.own_file("Claire Dupont") == data / "coder_claire_dupont.csv"
    assert codings.own_file("gold") == data / "gold.csv"
    codings.write("Claire Dupont", passage(1), "artisan", "une note, avec « guillemets »", "blind")
    codings.write("gold", passage(1), "artisan", "arbitré", "adjudicated by A")
    rows = {(c.coder, c.passage_id): c for c in read_codings([data])}
    assert rows["Claire Dupont", "p001"].note == "une note, avec « guillemets »"
    assert rows["gold", "p001"].label == "artisan"
    with pytest.raises(CodingConflict, match="mixed.csv"):
        codings.write("B", passage(5), "artisan")  # B's row lives in a file the studio does not write to
    for bad in ("", "model", "ethos", "gold", ".hidden", "x" * 65):
        with pytest.raises(EthosError):
            check_coder_name(bad)


def test_adjudications_never_go_to_the_contrast_layer_file(tmp_path):
    """Its rows are all gold too, but a script rewrites it (data/scripts/make_checks.py contrast-collect)."""
    data = tmp_path / "annotated"
    (data / "contrast").mkdir(parents=True)
    (data / "contrast" / "contrast.csv").write_text("doc_id,passage_id,text,label,coder,layer\nent01,p005c,cinq,artisan,gold,contrast\n",
                                                    encoding="utf-8")
    codings = folder_of(tmp_path)
    assert codings.own_file("gold") == data / "gold.csv"
    (data / "gold.csv").write_text("doc_id,passage_id,text,label,coder\nent09,p001,un,manager,gold\n", encoding="utf-8")
    assert folder_of(tmp_path).own_file("gold") == data / "gold.csv"  # sorted first, the contrast file is still not chosen


def test_a_file_changed_on_disk_is_read_again_and_merged_never_overwritten(tmp_path):
    codings = folder_of(tmp_path)
    codings.write("A", passage(1), "manager")
    path = codings.own_file("A")
    # someone edits the file by hand (another program, another studio): a row added, one relabelled
    text = path.read_text(encoding="utf-8-sig").replace(",manager,A,", ",other,A,")
    text += "ent02,p009,ajouté à la main,artisan,A,,,,,\n"
    time.sleep(0.01)
    path.write_text(text, encoding="utf-8")
    previous, reloaded = codings.write("A", passage(2), "artisan")
    assert reloaded and previous is None
    got = {(c.doc_id, c.passage_id): c.label for c in read_codings([path])}
    assert got == {("ent01", "p001"): "other", ("ent02", "p009"): "artisan", ("ent01", "p002"): "artisan"}
    assert codings.of("ent02", "p009")["A"].coding.label == "artisan"


def test_two_coders_at_once_lose_nothing(tmp_path):
    codings = folder_of(tmp_path)
    errors = []

    def work(coder: str) -> None:
        try:
            for n in range(1, 41):
                codings.write(coder, passage(n), ["manager", "artisan", "other"][n % 3], f"{coder} {n}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("A", "B", "C")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = read_codings([tmp_path / "annotated"])
    assert len(rows) == 120 and {c.coder for c in rows} == {"A", "B", "C"}


def test_two_studios_on_one_folder_lose_nothing(tmp_path):
    """Two processes writing the same coder's file: the lock beside it and the reload keep every row."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom ethos.codebook import load_codebook\nfrom ethos.document import Passage\n"
        "from ethos.studio.codings import CodingFolder\n"
        f"codings = CodingFolder(Path(sys.argv[1]), load_codebook(Path({str(ROOT / 'data' / 'codebook.toml')!r})))\n"
        "for n in range(int(sys.argv[2]), int(sys.argv[2]) + 25):\n"
        "    codings.write('A', Passage('ent01', f'p{n:03d}', None, f'texte {n}', n, n + 8, f'texte {n}'), 'manager')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "annotated"), str(start)], env=env) for start in (1, 101)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    assert len(read_codings([tmp_path / "annotated"])) == 50


def test_a_sigkill_at_any_moment_loses_at_most_the_coding_in_flight(tmp_path):
    """A child codes passage after passage and says which are saved; killed with SIGKILL mid-way, its
    file still parses and holds every coding it acknowledged."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom ethos.codebook import load_codebook\nfrom ethos.document import Passage\n"
        "from ethos.studio.codings import CodingFolder\n"
        f"codings = CodingFolder(Path(sys.argv[1]), load_codebook(Path({str(ROOT / 'data' / 'codebook.toml')!r})))\n"
        "for n in range(1, 100000):\n"
        "    codings.write('A', Passage('ent01', f'p{n:05d}', None, 'un texte assez long ' * 20, n, n + 400, 'x'), 'manager', 'note ' * 10)\n"
        "    print(n, flush=True)\n"
    )
    for delay in (0.8, 1.3, 1.9):
        data = tmp_path / f"annotated-{delay}"
        child = subprocess.Popen([sys.executable, "-c", script, str(data)], stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        acknowledged = []
        deadline = time.monotonic() + delay + 20
        started = None
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.append(int(line))
            started = started or time.monotonic()
            if time.monotonic() - started > delay:
                break
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert len(acknowledged) > 5
        rows = read_codings([data])
        numbers = {int(c.passage_id[1:]) for c in rows}
        assert set(acknowledged) <= numbers and len(numbers) <= len(acknowledged) + 1
        sweep_temporary_files(data)  # a temporary file the kill left (hidden, read by no one) goes when the studio starts
        assert [p.name for p in data.iterdir() if not p.name.endswith(".lock")] == ["coder_a.csv"]
