"""The studio in a real browser: Playwright drives Debian's chromium (nothing is downloaded).

A coder names themself, codes three passages with the keyboard (one with a note, one undone and
coded again), works one passage of the queue, adjudicates a disagreement, reloads, and finds
everything on the page and in the annotation files, read by ethos as any other command reads them.
"""

from __future__ import annotations

import shutil

import pytest

from ethos.annotations import read_codings

from studio_fixtures import make_project, settings_for


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a test dependency (make install)")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where it can)")
    with playwright_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"])
        except Exception as error:  # a chromium that cannot run here (no display libraries, a sandbox refused)
            pytest.skip(f"Chromium could not run here: {str(error)[:300]}")
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, small_annotations, trained_model):
    from ethos.studio.project import Project
    from ethos.studio.server import Server

    folder = make_project(tmp_path_factory.mktemp("browser-project"), small_annotations, trained_model)
    project = Project(settings_for(folder, [folder / "data" / "transcripts" / "ent01.txt", folder / "data" / "transcripts"]))
    server = Server(project, 0, warm_up=False)
    server.start_in_thread()
    yield server, folder
    server.shutdown()


def test_code_three_passages_with_the_keyboard_adjudicate_one_and_find_them_after_a_reload(browser, server):
    studio, folder = server
    base = f"http://127.0.0.1:{studio.port}"
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(studio.url)
    page.wait_for_url(f"{base}/start**")  # no --coder: asked on the first page
    page.fill("#coder-input", "Zoé")
    page.press("#coder-input", "Enter")
    page.wait_for_url(f"{base}/doc/ent01")
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_attribute("body", "data-blind") == "true"  # A and B coded here: Zoé is a second coder
    assert page.locator(".suggestion:visible").count() == 0

    first = page.locator("[data-passage-id=p001]")
    assert "selected" in first.get_attribute("class")
    page.keyboard.press("1")  # manager
    page.wait_for_selector("[data-passage-id=p001][data-saved=true]")
    page.keyboard.press("a")  # artisan, by its letter
    page.wait_for_selector("[data-passage-id=p002][data-saved=true]")
    page.keyboard.press("n")
    page.keyboard.type("à revoir <b>avec</b> l'équipe")
    page.keyboard.press("Escape")
    page.keyboard.press("3")  # other, with the note
    page.wait_for_selector("[data-passage-id=p003][data-coded=other]")
    page.keyboard.press("u")  # undo: p003 uncoded again
    page.wait_for_selector("[data-passage-id=p003][data-coded='']")
    assert "selected" in page.locator("[data-passage-id=p003]").get_attribute("class")  # undo goes back to it
    page.keyboard.press("j")
    assert "selected" in page.locator("[data-passage-id=p004]").get_attribute("class")
    page.keyboard.press("k")
    page.keyboard.press("n")
    page.keyboard.type("à revoir")
    page.keyboard.press("Escape")
    page.keyboard.press("3")
    page.wait_for_selector("[data-passage-id=p003][data-coded=other]")

    rows = {c.passage_id: c for c in read_codings([folder / "data" / "annotated" / "coder_zoe.csv"])}
    assert {p: c.label for p, c in rows.items()} == {"p001": "manager", "p002": "artisan", "p003": "other"}
    assert rows["p003"].note == "à revoir" and "blind" in (folder / "data" / "annotated" / "coder_zoe.csv").read_text(encoding="utf-8-sig")

    # the queue, one passage at a time
    page.goto(f"{base}/queue")
    page.wait_for_selector("body[data-queue=ready]", timeout=60_000)
    queued = page.locator("#queue-passage")
    doc_id, passage_id = queued.get_attribute("data-doc-id"), queued.get_attribute("data-passage-id")
    page.keyboard.press("2")
    page.locator("#queue-progress", has_text="1 /").wait_for()  # (no wait_for_function: the page's CSP forbids eval)

    # adjudication: the passage A and B disagree on
    page.goto(f"{base}/adjudicate")
    dispute = page.locator("article.dispute").first
    disputed = dispute.get_attribute("data-passage-id"), dispute.get_attribute("data-doc-id")
    dispute.locator(".gold-note").fill("les deux lectures se défendent")
    dispute.locator("[data-label=artisan]").click()
    page.wait_for_selector(f"article.dispute[data-passage-id={disputed[0]}][data-gold=artisan]")

    # agreement and the model pages come up
    page.goto(f"{base}/agreement")
    page.wait_for_selector("body[data-agreement=ready]", timeout=60_000)
    assert "alpha de Krippendorff" in page.inner_text("#agreement")
    page.goto(f"{base}/model")
    page.wait_for_selector("body[data-retrain=idle]")

    # a reload shows what is in the files
    page.goto(f"{base}/doc/ent01")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    coded = {p: page.get_attribute(f"[data-passage-id={p}]", "data-coded") for p in ("p001", "p002", "p003")}
    assert coded == {"p001": "manager", "p002": "artisan", "p003": "other"}
    assert page.get_attribute("[data-passage-id=p003]", "data-note") == "à revoir"
    codings = read_codings([folder / "data" / "annotated"])
    assert (doc_id, passage_id, "artisan") in {(c.doc_id, c.passage_id, c.label) for c in codings if c.coder == "Zoé"}
    gold = [(c.doc_id, c.passage_id, c.label, c.note) for c in codings if c.coder == "gold"]
    assert gold == [(disputed[1], disputed[0], "artisan", "les deux lectures se défendent")]
    assert not problems, problems
    context.close()


def test_the_model_s_suggestion_and_its_explanation_show_and_enter_accepts_it(browser, server):
    studio, folder = server
    context = browser.new_context()
    page = context.new_page()
    page.goto(studio.url)
    page.fill("#coder-input", "A")
    page.press("#coder-input", "Enter")
    page.wait_for_selector("body[data-ready=true]")
    if page.get_attribute("body", "data-blind") == "true":  # B coded here too: A starts blind, and looks
        with page.expect_navigation():
            page.click("#blind-toggle")
    page.wait_for_selector("body[data-suggestions=ready]", timeout=60_000)
    passage = page.locator("[data-passage-id=p005]")
    passage.click()
    suggestion = passage.locator(".suggestion").get_attribute("data-suggest")
    assert suggestion in ("manager", "artisan", "other")
    page.keyboard.press("e")
    page.wait_for_selector("#explanation mark")
    assert "constante" in page.inner_text("#explanation")
    page.keyboard.press("Enter")  # accept the suggestion: saved as the coder's label, said so in the file
    page.wait_for_selector(f"[data-passage-id=p005][data-coded={suggestion}][data-saved=true]")
    text = (folder / "data" / "annotated" / "coder_a.csv").read_text(encoding="utf-8")
    assert "model suggestion accepted" in text
    context.close()


def test_a_retraining_s_result_says_what_changed_with_edited_copies_apart(browser, server):
    studio, _ = server
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(studio.url)
    page.fill("#coder-input", "C")
    page.press("#coder-input", "Enter")
    page.wait_for_selector("body[data-ready=true]")
    figures = {"macro_f1": [0.91, 0.9], "kappa": [0.86, 0.85]}
    result = {"figures": {"candidate": "linear_svm", "n_passages": 1200, "macro_f1": 0.9, "kappa": 0.85}, "changed": [], "n_scored": 0,
              "previous": {"previous_created": None, "new_passages": 3, "relabelled_passages": 1, "gone_passages": 0,
                           "new_contrast_passages": 12, "relabelled_contrast_passages": 0, "figures": figures, "worse": True}}
    # the server answers as after a retraining that a damaged previous manifest left without a date
    page.route("**/api/retrain", lambda route: route.fulfill(json={"state": "done", "progress": 1, "phase": "", "log": [], "result": result}))
    page.goto(f"http://127.0.0.1:{studio.port}/model")
    page.wait_for_selector("body[data-retrain=done]")
    shown = page.inner_text("#retrain-result")
    assert "Depuis le modèle précédent : 3 passages nouveaux, 1 réétiquetés, 0 disparus ; copies éditées (couche contraste) : 12 nouvelles." in shown
    assert "null" not in shown and "undefined" not in shown
    assert "-0.010 moins bien" in shown
    assert not problems, problems
    context.close()
