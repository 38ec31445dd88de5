"""The studio's server through Flask's test client: security, coding, queue, adjudication, agreement, retraining."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("flask", reason="the studio needs Flask (make install)")

from ethos.annotations import read_codings  # noqa: E402
from ethos.errors import EthosError  # noqa: E402
from ethos.studio.app import create_app  # noqa: E402
from ethos.studio.project import Project  # noqa: E402

from studio_fixtures import make_project, settings_for  # noqa: E402

TOKEN = "t0ken-for-tests"
BASE = "http://127.0.0.1:5000"
ORIGIN = {"Origin": BASE}


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory, small_annotations, trained_model):
    return make_project(tmp_path_factory.mktemp("project"), small_annotations, trained_model)


@pytest.fixture(scope="module")
def project(project_dir):
    return Project(settings_for(project_dir, [project_dir / "data" / "transcripts" / "ent01.txt", project_dir / "data" / "transcripts"]))


@pytest.fixture(scope="module")
def app(project):
    return create_app(project, TOKEN, 5000)


def client_for(app, coder: str | None = "claire"):
    client = app.test_client()
    client.get(f"/?token={TOKEN}", base_url=BASE)
    if coder:
        response = client.post("/api/coder", json={"name": coder}, base_url=BASE, headers=ORIGIN)
        assert response.status_code == 200, response.get_json()
    return client


def post(client, url, payload, **headers):
    return client.post(url, json=payload, base_url=BASE, headers={**ORIGIN, **headers})


# --- security -----------------------------------------------------------------------------------------

def test_every_request_needs_the_token(app):
    client = app.test_client()
    assert client.get("/", base_url=BASE).status_code == 401
    assert client.get("/api/state", base_url=BASE).status_code == 401
    assert client.get("/static/studio.js", base_url=BASE).status_code == 401
    assert client.get("/?token=wrong", base_url=BASE).status_code == 403
    assert client.get("/api/state", base_url=BASE, headers={"X-Ethos-Token": "wrong"}).status_code == 403
    assert post(client, "/api/coding", {"doc_id": "ent01", "passage_id": "p001", "label": "manager"}).status_code == 401


def test_the_token_url_sets_a_strict_cookie_and_drops_the_token_from_the_address(app):
    client = app.test_client()
    response = client.get(f"/doc/ent01?token={TOKEN}", base_url=BASE)
    assert response.status_code == 303 and response.headers["Location"] == "/doc/ent01"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/api/state", base_url=BASE).status_code == 200


def test_host_and_origin_are_checked(app):
    client = client_for(app)
    # DNS rebinding: a name of another site pointed at 127.0.0.1
    assert client.get("/api/state", base_url="http://evil.example:5000").status_code == 403
    assert client.get("/api/state", base_url="http://127.0.0.1:5001").status_code == 403
    assert client.get("/api/state", base_url="http://localhost:5000", headers={"X-Ethos-Token": TOKEN}).status_code == 200
    coding = {"doc_id": "ent01", "passage_id": "p001", "label": "manager"}
    assert post(client, "/api/coding", coding, Origin="http://evil.example").status_code == 403
    assert post(client, "/api/coding", coding, Origin="null").status_code == 403
    # a change riding on the cookie alone, with no Origin: refused
    assert client.post("/api/coding", json=coding, base_url=BASE).status_code == 403
    # a script with the token in a header needs no Origin
    assert client.post("/api/state", base_url=BASE, headers={"X-Ethos-Token": TOKEN}).status_code == 405


def test_responses_forbid_remote_resources_and_framing(app):
    client = client_for(app)
    response = client.get("/doc/ent01", base_url=BASE)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "http://" not in page.replace(BASE, "") and "https://" not in page and "<script>" not in page
    for asset in ("/static/studio.js", "/static/coding.js", "/static/panels.js", "/static/common.js", "/static/studio.css", "/labels.css"):
        body = client.get(asset, base_url=BASE).get_data(as_text=True)
        assert "http://" not in body and "https://" not in body, asset


def test_no_endpoint_reads_outside_the_project(app, project_dir):
    client = client_for(app)
    for url in ("/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/app.py", "/doc/..%2f..%2fetc%2fpasswd", "/doc/../models/default/manifest.json",
                "/api/explain/ent01/..%2f..", "/api/doc/%2fetc%2fpasswd"):
        response = client.get(url, base_url=BASE)
        assert response.status_code in (404, 403, 400), url
        assert b"root:" not in response.data
    with pytest.raises(EthosError, match="inside the project"):
        Project(settings_for(project_dir, data=project_dir.parent / "elsewhere"))


def test_hostile_text_is_escaped(tmp_path, small_annotations):
    folder = make_project(tmp_path, small_annotations, None, docs=())
    (folder / "data" / "transcripts" / "x1.txt").write_text(
        "Enquêteur : Alors <b>?</b>\n\nMme Durand : Je dirige <script>alert(1)</script>,, <img src=x onerror=alert(1)> les équipes et nous pilotons les budgets.\n\n"
        "Enquêteur : Et ensuite ?\n\nMme Durand : Nous \"suivons\" les indicateurs, </span><span>tous les mois, avec l'équipe de direction.\n",
        encoding="utf-8")
    app = create_app(Project(settings_for(folder)), TOKEN, 5000)
    client = client_for(app)
    page = client.get("/doc/x1", base_url=BASE).get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "</span><span>tous" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert post(client, "/api/coding", {"doc_id": "x1", "passage_id": "p001", "label": "manager", "note": "<script>x</script>"}).status_code == 200
    page = client.get("/doc/x1", base_url=BASE).get_data(as_text=True)
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_coder_names_are_checked(app):
    client = client_for(app, coder=None)
    assert client.get("/doc/ent01", base_url=BASE).status_code == 303  # asked on the first page
    for name in ("", "model", "gold", "\x00x"):
        assert post(client, "/api/coder", {"name": name}).status_code == 400


# --- coding -------------------------------------------------------------------------------------------

def test_the_transcript_page_has_the_stable_hooks(app, project):
    client = client_for(app)
    page = client.get("/doc/ent01", base_url=BASE).get_data(as_text=True)
    passages = project.passages["ent01"]
    for passage in passages:
        assert f'data-doc-id="ent01" data-passage-id="{passage.passage_id}"' in page
    for label in project.labels:
        assert f'data-label="{label}"' in page
    assert "Enquêtrice" in page  # the interviewer's turns are there too


def test_a_coding_is_in_the_coders_file_in_the_annotation_format(app, project_dir):
    client = client_for(app, "Claire")
    response = post(client, "/api/coding", {"doc_id": "ent01", "passage_id": "p003", "label": "artisan", "note": "métier"})
    data = response.get_json()
    assert response.status_code == 200 and data["saved"] and data["file"] == "data/annotated/coder_claire.csv" and data["previous"] is None
    again = post(client, "/api/coding", {"doc_id": "ent01", "passage_id": "p003", "label": "manager", "note": "revu"}).get_json()
    assert again["previous"] == {"label": "artisan", "note": "métier"}
    rows = [c for c in read_codings([project_dir / "data" / "annotated"]) if c.coder == "Claire"]
    assert [(c.passage_id, c.label, c.note) for c in rows] == [("p003", "manager", "revu")]
    assert rows[0].start is not None and rows[0].text.startswith(project_text(project_dir, rows[0]))
    undone = post(client, "/api/coding", {"doc_id": "ent01", "passage_id": "p003", "label": None}).get_json()
    assert undone["label"] is None and not [c for c in read_codings([project_dir / "data" / "annotated"]) if c.coder == "Claire"]
    assert post(client, "/api/coding", {"doc_id": "ent01", "passage_id": "p003", "label": "nonsense"}).status_code == 400
    assert post(client, "/api/coding", {"doc_id": "ent01", "passage_id": "p999", "label": "other"}).status_code == 404


def project_text(project_dir, coding) -> str:
    raw = (project_dir / "data" / "transcripts" / f"{coding.doc_id}.txt").read_text(encoding="utf-8")
    return raw[coding.start:coding.end]


def test_blind_mode_is_on_for_a_second_coder_and_recorded(app, project_dir):
    client = client_for(app, "Bea")
    assert client.get("/api/state", base_url=BASE).get_json()["blind"] is True  # A and B coded here already
    assert client.get("/api/doc/ent01/suggestions", base_url=BASE).get_json() == {"blind": True, "suggestions": {}}
    assert client.get("/api/explain/ent01/p001", base_url=BASE).status_code == 403
    page = client.get("/doc/ent01", base_url=BASE).get_data(as_text=True)
    assert 'class="other"' not in page  # no other coder's label either
    post(client, "/api/coding", {"doc_id": "ent02", "passage_id": "p001", "label": "other"})
    assert post(client, "/api/blind", {"blind": False}).get_json()["blind"] is False
    post(client, "/api/coding", {"doc_id": "ent02", "passage_id": "p002", "label": "manager", "accepted": True})
    modes = {c.passage_id: c for c in read_codings([project_dir / "data" / "annotated" / "coder_bea.csv"])}
    text = (project_dir / "data" / "annotated" / "coder_bea.csv").read_text(encoding="utf-8-sig")
    assert ",blind," in text and ",\"open, model suggestion accepted\"," in text and set(modes) == {"p001", "p002"}
    assert 'class="other"' in client.get("/doc/ent01", base_url=BASE).get_data(as_text=True)


def test_suggestions_and_exact_explanations(app, project):
    client = client_for(app, "claire")
    post(client, "/api/blind", {"blind": False})
    suggestions = client.get("/api/doc/ent01/suggestions", base_url=BASE).get_json()["suggestions"]
    assert set(suggestions) == {p.passage_id for p in project.passages["ent01"]}
    first = suggestions["p001"]
    assert first["label"] in project.labels and abs(sum(first["probabilities"].values()) - 1) < 1e-6
    explanation = client.get("/api/explain/ent01/p001", base_url=BASE).get_json()
    total = explanation["intercept"] + sum(f["contribution"] for f in explanation["features"]) + explanation["rest"]
    assert explanation["label"] == first["label"] and total == pytest.approx(explanation["score"], abs=1e-6)
    assert "".join(s["text"] for s in explanation["segments"]) == project.passage("ent01", "p001").text
    assert any(s["kind"] == "mark" for s in explanation["segments"])


def test_the_queue_is_what_suggest_proposes_leaving_out_what_the_coder_coded(app, project):
    client = client_for(app, "Dora")
    post(client, "/api/blind", {"blind": False})
    queue = client.get("/api/queue", base_url=BASE).get_json()
    items = queue["items"]
    assert items and len({(i["doc_id"], i["passage_id"]) for i in items}) == len(items)
    assert all(i["suggestion"]["label"] in project.labels for i in items)
    first = items[0]
    post(client, "/api/coding", {"doc_id": first["doc_id"], "passage_id": first["passage_id"], "label": "other"})
    again = client.get("/api/queue", base_url=BASE).get_json()
    assert again["done"] == 1 and again["items"][0]["label"] == "other"  # the list stays put while coding
    rescored = post(client, "/api/queue/rescore", {}).get_json()
    assert (first["doc_id"], first["passage_id"]) not in {(i["doc_id"], i["passage_id"]) for i in rescored["items"]}


def test_adjudication_writes_gold_rows_like_a_filled_disagreement_sheet(app, project_dir):
    client = client_for(app, "Eve")
    sheet = client.get("/api/disagreements", base_url=BASE).get_json()
    assert sheet["items"], "ent08 has a passage A and B disagree on"
    item = sheet["items"][0]
    assert {c["coder"] for c in item["coders"]} >= {"A", "B"}
    page = client.get("/adjudicate", base_url=BASE).get_data(as_text=True)
    assert f'data-passage-id="{item["passage_id"]}"' in page
    response = post(client, "/api/gold", {"doc_id": item["doc_id"], "passage_id": item["passage_id"], "label": "artisan", "note": "tranché"})
    assert response.status_code == 200 and response.get_json()["file"] == "data/annotated/gold.csv"
    gold = [c for c in read_codings([project_dir / "data" / "annotated"]) if c.coder == "gold"]
    assert [(c.doc_id, c.passage_id, c.label, c.note) for c in gold] == [(item["doc_id"], item["passage_id"], "artisan", "tranché")]
    after = client.get("/api/disagreements", base_url=BASE).get_json()
    assert item["passage_id"] in {i["passage_id"] for i in after["settled"]}


def test_agreement_is_the_agreement_command_s_and_follows_the_coding(app, project_dir):
    from ethos.agreement import agreement_report, reliability_from_codings

    client = client_for(app, "claire")
    report = client.get("/api/agreement", base_url=BASE).get_json()
    codings = read_codings([project_dir / "data" / "annotated"])
    data, gold = reliability_from_codings(codings, report["labels"])
    expected = agreement_report(data, gold=gold)
    assert report["krippendorff_alpha"] == pytest.approx(expected["krippendorff_alpha"])
    assert report["krippendorff_alpha_ci95"] == pytest.approx(expected["krippendorff_alpha_ci95"])
    assert report["with_model"]["summary"]["mean_kappa_model_with_coders"] is not None
    version = report["version"]
    assert client.get(f"/api/agreement?since={version}", base_url=BASE).get_json()["unchanged"]
    post(client, "/api/coding", {"doc_id": "ent02", "passage_id": "p004", "label": "other"})
    assert client.get(f"/api/agreement?since={version}", base_url=BASE).get_json()["version"] > version


def test_a_file_changed_by_hand_shows_at_once(app, project_dir):
    client = client_for(app, "claire")
    path = project_dir / "data" / "annotated" / "coder_b.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",other,B,", ",manager,B,", 1), encoding="utf-8")
    time.sleep(0.01)
    state = client.get("/api/state", base_url=BASE).get_json()
    codings = {c.unit: c.label for c in read_codings([path])}
    unit = next(u for u, label in codings.items() if label == "manager")
    assert app.extensions["ethos_studio"].project.codings.of(*unit)["B"].coding.label == "manager" and state["version"]
    path.write_text(text, encoding="utf-8")


def test_pages_render(app):
    client = client_for(app, "claire")
    for url in ("/transcripts", "/queue", "/adjudicate", "/agreement", "/model", "/start", "/labels.css"):
        assert client.get(url, base_url=BASE).status_code == 200, url
    assert client.get("/", base_url=BASE).headers["Location"] == "/doc/ent01"  # opens on the first transcript named
    assert client.get("/doc/nope", base_url=BASE).status_code == 404


def test_retraining_in_the_background_loads_the_new_model_and_says_what_changed(tmp_path, small_annotations, trained_model):
    folder = make_project(tmp_path, small_annotations, trained_model, docs=("ent01", "ent02", "ent03", "ent04"), coders=("coder_a", "coder_b", "gold"))
    app = create_app(Project(settings_for(folder)), TOKEN, 5000)
    client = client_for(app, "claire")
    before = app.extensions["ethos_studio"].project.model.manifest["sha256"]
    assert post(client, "/api/retrain", {}).get_json()["state"] == "running"
    assert post(client, "/api/retrain", {}).status_code == 409  # one at a time
    deadline = time.monotonic() + 240
    status = {}
    while time.monotonic() < deadline:
        status = client.get("/api/retrain", base_url=BASE).get_json()
        if status["state"] != "running":
            break
        time.sleep(0.3)
    assert status["state"] == "done", status
    result = status["result"]
    assert result["figures"]["macro_f1"] is not None and result["previous"]["figures"]["macro_f1"][0] is not None
    assert isinstance(result["changed"], list) and result["n_scored"] > 0
    project = app.extensions["ethos_studio"].project
    assert project.model.manifest["sha256"] != before and (folder / "models" / "archive").is_dir()


def test_the_name_page_never_sends_anyone_to_another_site(app):
    client = client_for(app, coder=None)
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example", "javascript:alert(1)"):
        page = client.get("/start", query_string={"next": target}, base_url=BASE).get_data(as_text=True)
        assert 'data-next="/"' in page, target
    assert 'data-next="/doc/ent02"' in client.get("/start?next=/doc/ent02", base_url=BASE).get_data(as_text=True)
