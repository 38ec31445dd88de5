"""The HTML report: escaped, self-contained, complete, and rendered by a real browser."""

import html
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from ethos.cli import main
from ethos.nlp import Token
from ethos.names import name_pattern
from ethos.report import Highlight, Segment, highlights, segments

from conftest import ROOT

EXAMPLE = ROOT / "data" / "examples" / "exemple01.txt"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def report(trained_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "rapport.html"
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "html", "-o", path, "-q")
    assert result.exit_code == 0, result.output
    return path


def test_every_passage_is_marked_and_the_interviewer_muted(report, trained_model):
    page = report.read_text(encoding="utf-8")
    scored = run("score", EXAMPLE, "--model", trained_model, "--format", "json", "-q")
    import json

    passages = json.loads(scored.stdout)["documents"][0]["passages"]
    assert page.count('class="passage') == len(passages)
    for passage in passages:
        assert f'id="d1-{passage["passage_id"]}"' in page  # numbered anchors: a file name may carry a name
    assert page.count('class="turn interviewer"') == EXAMPLE.read_text(encoding="utf-8").count("Enquêtrice :")
    assert "cadre-manager" in page and "artisan-cadre" in page and "autre" in page
    assert page.count("<mark ") >= len(passages) // 2
    # the whole transcript is there, in reading order: every interviewee passage's words appear in order
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    starts = [" ".join(p["text"].split()[:6]) for p in passages]
    positions = [text.find(re.sub("|".join(NAMES), "[nom]", start)) for start in starts]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def page_text(path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


NAMES = ["Castel", "Dylan", "Sofiane", "Brunel", "Saint-Étienne", "Feurs"]  # the interviewee, two boys, a colleague, two towns


def test_names_are_masked_and_nothing_else(report, trained_model, tmp_path):
    shown = tmp_path / "noms.html"
    result = run("score", EXAMPLE, "--model", trained_model, "--format", "html", "-o", shown, "-q", "--show-names")
    assert result.exit_code == 0, result.output
    masked_text, shown_text = page_text(report), page_text(shown)
    for name in NAMES:
        assert name in EXAMPLE.read_text(encoding="utf-8") and name in shown_text
        assert name not in masked_text and name not in report.read_text(encoding="utf-8"), name  # nor in a title or an attribute
    for kept in ("DEES", "CAFERUIS", "ASE", "IME", "la directrice", "Alors", "Aujourd’hui"):
        assert kept in masked_text, kept
    # masking replaces whole words and nothing else: the shown page, each [nom] standing for one word
    note = " Les noms propres (personnes, lieux, institutions) sont masqués : [nom]."
    assert note in masked_text and note not in shown_text
    pieces = masked_text.replace(note, "").split("[nom]")
    word = r"([^\s,.;:!?«»()\[\]]+)"
    masked = re.fullmatch(word.join(re.escape(piece) for piece in pieces), shown_text)
    assert masked is not None
    assert sorted(set(masked.groups())) == sorted(NAMES)


def test_names_said_only_by_the_interviewer_or_in_a_passage_table_are_masked(trained_model, tmp_path):
    transcript = tmp_path / "Entretien_Lemaire.txt"
    transcript.write_text("Enquêtrice : Bonjour Madame Lemaire, et merci. Vous avez travaillé avec Gaëlle Moreau, je crois ?\n\n"
                          "Mme Lemaire : Oui, oui, on a monté le projet ensemble, avec Anne-Sophie et toute l'équipe du foyer, pendant deux ans.\n", encoding="utf-8")
    table = tmp_path / "passages.csv"
    table.write_text("doc_id;passage_id;text\nent9;p1;Alors avec Mme Roussel on a revu tous les plannings du foyer de Vienne.\n", encoding="utf-8")
    out = tmp_path / "r.html"
    result = run("score", transcript, table, "--model", trained_model, "--format", "html", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    text = page_text(out)
    for name in ("Lemaire", "Gaëlle", "Moreau", "Anne", "Sophie", "Roussel", "Vienne"):
        assert name not in text and name not in out.read_text(encoding="utf-8"), name
    assert '<h2>Entretien <span class="name" title="nom propre masqué">[nom]</span></h2>' in out.read_text(encoding="utf-8")  # its file name
    assert "Bonjour Madame [nom], et merci" in text and "avec [nom] [nom], je crois" in text
    assert "Alors avec Mme [nom] on a revu tous les plannings du foyer de [nom]." in text


def test_the_page_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page


def test_transcript_text_is_escaped(trained_model, tmp_path):
    table = tmp_path / "hostile.csv"
    table.write_text('doc_id;passage_id;text\nx<1>;"a&b";<script>alert("on doit piloter")</script> & <b>les indicateurs</b>\n', encoding="utf-8")
    out = tmp_path / "r.html"
    result = run("score", table, "--model", trained_model, "--format", "html", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "<h2>x&lt;1&gt;</h2>" in page and 'id="d1-a&amp;b"' in page
    shown = tmp_path / "s.html"
    assert run("score", table, "--model", trained_model, "--format", "html", "-o", shown, "-q", "--show-names").exit_code == 0
    assert 'id="x&lt;1&gt;-a&amp;b"' in shown.read_text(encoding="utf-8")


def test_no_highlight_splits_a_name():
    names = name_pattern({"Jean-Pierre", "Saint-Étienne", "Sophie"})
    marks = [Highlight("pierre", "pierre", 0.5), Highlight("saint", "saint", 0.1), Highlight("équipe", "équipe", -0.2)]
    shown = segments("Jean-Pierre a posé la pierre à Saint-Étienne, avec Anne-Sophie & l'équipe.", marks, "#000", names)
    assert shown == [Segment("name"), Segment("text", " a posé la "), Segment("mark", "pierre", "#000", "pierre : +0.500"),
                     Segment("text", " à "), Segment("name"), Segment("text", ", avec Anne-"), Segment("name"), Segment("text", " & l'"),
                     Segment("mark", "équipe", "#000", "équipe : -0.200", against=True), Segment("text", ".")]
    assert segments("Jean-Pierre & co", marks, "#000") == [Segment("text", "Jean-"), Segment("mark", "Pierre", "#000", "pierre : +0.500"),
                                                          Segment("text", " & co")]


def test_the_template_escapes_everything_it_shows(trained_model, tmp_path):
    """The page is a Jinja2 template with autoescape: a transcript's markup is shown, never run."""
    transcript = tmp_path / "ent.txt"
    transcript.write_text("Enq : <b>Question</b> ?\n\nMme Roux : On a dit <script>alert(1)</script> au siège, & les indicateurs \"<i>d'abord</i>\", "
                          "c'est le pilotage qui décide de tout maintenant chez nous.\n", encoding="utf-8")
    out = tmp_path / "r.html"
    result = run("score", transcript, "--model", trained_model, "--format", "html", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp; les indicateurs" in page


def test_highlights_find_the_words_behind_features():
    tokens = [Token("Il", "il", "PRON", True, 0), Token("faut", "falloir", "VERB", False, 3), Token("piloter", "piloter", "VERB", False, 8),
              Token("les", "le", "DET", True, 16), Token("indicateurs", "indicateur", "NOUN", False, 20)]
    marks = highlights(tokens, [{"feature": "falloir", "contribution": 0.4}, {"feature": "le indicateur", "contribution": -0.2},
                                {"feature": "vec:piloter", "contribution": 0.1}])
    assert {(m.word, m.feature) for m in marks} == {("faut", "falloir"), ("les", "le indicateur"), ("indicateurs", "le indicateur"), ("piloter", "vec:piloter")}


def test_a_real_browser_renders_the_report(report, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where it can)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--proxy-server=127.0.0.1:9", "--user-data-dir=" + str(tmp_path / "profile")]
    try:
        dom = subprocess.run(flags + ["--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"Chromium could not run here: {error}")
    if dom.returncode != 0 or "<html" not in dom.stdout:
        pytest.skip(f"Chromium could not run here: {dom.stderr.strip()[-300:]}")
    page = report.read_text(encoding="utf-8")
    assert dom.stdout.count('class="passage') == page.count('class="passage')
    assert "Ethos des cadres, passage par passage" in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run(flags + ["--window-size=1100,1600", f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
