"""The studio's routes: pages (Jinja2, autoescaped) and the JSON they use, the same data either way."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import quote, unquote

from ..annotations import GOLD
from ..errors import EthosError
from . import security
from .codings import CodingConflict, check_coder_name
from .project import Project
from .retrain import Retraining
from .store import StoreError
from .work import Agreement, ModelViews, Queues, disagreements, document_view, passage_of

PACKAGE = Path(__file__).resolve().parent
CODER_COOKIE = "ethos_coder"
CODER_HEADER = "X-Ethos-Coder"
#: Where the coder's name page may send them on: a path of the studio, nothing else.
LOCAL_PATH = re.compile(r"/[A-Za-z0-9_.~%/?=&#+-]*")


class Studio:
    """Everything one server holds: the project, what the model shows, the queues, agreement, retraining."""

    def __init__(self, project: Project):
        self.project = project
        self.views = ModelViews(project)
        self.queues = Queues(project, self.views)
        self.agreement = Agreement(project, self.views)
        self.retraining = Retraining(project, on_new_model=self.model_changed)
        self.blind: dict[str, bool] = {}
        self._lock = threading.Lock()

    def model_changed(self) -> None:
        self.views.clear()
        self.queues.clear()

    def is_blind(self, coder: str) -> bool:
        with self._lock:
            if coder not in self.blind:
                self.blind[coder] = self.project.blind_by_default(coder)
            return self.blind[coder]

    def warm_up(self, first: str | None = None) -> None:
        """Lemmatise every passage in the background, the first transcript first, so that suggestions,
        the queue and agreement with the model come quickly."""
        project = self.project
        order = ([first] if first in project.passages else []) + [d for d in project.order if d != first]

        def run() -> None:
            try:
                for doc_id in order:
                    project.lemmas.warm([p.clean for p in project.passages.get(doc_id, [])])
            except Exception:  # a warm-up is only a head start: requests lemmatise what they need
                pass

        threading.Thread(target=run, name="ethos-warm-up", daemon=True).start()


def create_app(project: Project, token: str, port: int | None = None):
    """The Flask application of a studio over ``project``, answering only requests that carry ``token``."""
    from flask import Flask, abort, jsonify, make_response, redirect, render_template, request

    app = Flask("ethos.studio", template_folder=str(PACKAGE / "templates"), static_folder=str(PACKAGE / "static"), static_url_path="/static")
    app.config.update(ALLOWED_HOSTS=security.allowed_hosts(port), MAX_CONTENT_LENGTH=256 * 1024, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.autoescape = True
    app.jinja_env.filters["css_string"] = css_string
    studio = Studio(project)
    app.extensions["ethos_studio"] = studio

    def fail(status: int, message: str):
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            response = make_response(jsonify({"error": message}), status)
        else:
            response = make_response(render_template("error.html", status=status, message=message), status)
        return response

    @app.before_request
    def guard():
        refused = security.check(request, token, app.config["ALLOWED_HOSTS"])
        if refused is not None:
            return fail(*refused)
        target = security.without_token(request)
        if target is not None:
            response = redirect(target, code=303)
            response.set_cookie(security.COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        project.codings.refresh()
        return None

    @app.after_request
    def headers(response):
        return security.harden(response, cache=request.path.startswith("/static/"))

    @app.errorhandler(404)
    def not_found(error):
        return fail(404, "nothing here")

    @app.errorhandler(413)
    def too_large(error):
        return fail(413, "request too large")

    # --- who is coding --------------------------------------------------------------------------

    def coder() -> str | None:
        given = request.headers.get(CODER_HEADER) or unquote(request.cookies.get(CODER_COOKIE, "")) or project.settings.coder
        if not given:
            return None
        try:
            return check_coder_name(given)
        except EthosError:
            return None

    def context(page: str, **values) -> dict:
        name = coder()
        return {"page": page, "coder": name or "", "blind": studio.is_blind(name) if name else False, "labels": project.codebook.labels,
                "keys": label_keys(project), "model": model_info(project), "problems": [str(p) for p in project.codings.problems.values()],
                "version": project.codings.version, **values}

    def needs_coder():
        name = coder()
        if name is None:
            return None, redirect("/start?next=" + quote(request.full_path.rstrip("?"), safe=""), code=303)
        return name, None

    def body() -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(fail(400, "a JSON object was expected"))
        return data

    def passage_or_404(doc_id: str, passage_id: str):
        try:
            return project.passage(doc_id, passage_id)
        except KeyError:
            abort(fail(404, f"no passage {passage_id} in {doc_id}"))

    # --- pages ----------------------------------------------------------------------------------

    @app.get("/")
    def home():
        name, redirection = needs_coder()
        if redirection:
            return redirection
        if project.named:
            return redirect(f"/doc/{quote(project.order[0])}", code=303)
        return transcripts()

    @app.get("/start")
    def start():
        target = request.args.get("next") or "/"
        if not LOCAL_PATH.fullmatch(target) or target.startswith(("//", "/start")):
            target = "/"  # only a page of the studio: never another site (`//evil`, `/\\evil`)
        return render_template("start.html", **context("start", next=target))

    @app.get("/transcripts")
    def transcripts():
        name, redirection = needs_coder()
        if redirection:
            return redirection
        rows = []
        for doc_id in project.order:
            passages = project.passages.get(doc_id, [])
            coded = sum(1 for p in passages if name in project.codings.of(p.doc_id, p.passage_id))
            rows.append({"doc_id": doc_id, "passages": len(passages), "coded": coded})
        return render_template("transcripts.html", **context("transcripts", documents=rows))

    @app.get("/doc/<doc_id>")
    def document(doc_id: str):
        name, redirection = needs_coder()
        if redirection:
            return redirection
        if doc_id not in project.documents:
            return fail(404, f"no transcript {doc_id} in this studio")
        view = document_view(project, doc_id, name, studio.is_blind(name))
        return render_template("document.html", **context("document", doc=view))

    @app.get("/queue")
    def queue_page():
        name, redirection = needs_coder()
        return redirection or render_template("queue.html", **context("queue"))

    @app.get("/adjudicate")
    def adjudicate_page():
        name, redirection = needs_coder()
        return redirection or render_template("adjudicate.html", **context("adjudicate", sheet=disagreements(project)))

    @app.get("/agreement")
    def agreement_page():
        name, redirection = needs_coder()
        return redirection or render_template("agreement.html", **context("agreement"))

    @app.get("/model")
    def model_page():
        name, redirection = needs_coder()
        return redirection or render_template("model.html", **context("model"))

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.get("/labels.css")
    def label_styles():
        response = make_response(render_template("labels.css", labels=project.codebook.labels))
        response.mimetype = "text/css"
        return response

    # --- the coder ------------------------------------------------------------------------------

    @app.get("/api/state")
    def state():
        name = coder()
        return jsonify({"coder": name, "blind": studio.is_blind(name) if name else None, "labels": project.labels,
                        "keys": label_keys(project), "version": project.codings.version, "model": model_info(project),
                        "documents": project.order, "problems": [str(p) for p in project.codings.problems.values()]})

    @app.post("/api/coder")
    def set_coder():
        try:
            name = check_coder_name(str(body().get("name", "")))
        except EthosError as error:
            return fail(400, str(error))
        response = jsonify({"coder": name, "blind": studio.is_blind(name)})
        response.set_cookie(CODER_COOKIE, quote(name, safe=""), httponly=True, samesite="Strict", path="/")
        return response

    @app.post("/api/blind")
    def set_blind():
        name = coder()
        if name is None:
            return fail(400, "say who is coding first")
        with studio._lock:
            studio.blind[name] = bool(body().get("blind"))
        return jsonify({"coder": name, "blind": studio.blind[name]})

    # --- transcripts, the model's view ------------------------------------------------------------

    @app.get("/api/doc/<doc_id>")
    def document_data(doc_id: str):
        name = coder()
        if name is None:
            return fail(400, "say who is coding first")
        if doc_id not in project.documents:
            return fail(404, f"no transcript {doc_id} in this studio")
        return jsonify(document_view(project, doc_id, name, studio.is_blind(name)))

    @app.get("/api/doc/<doc_id>/suggestions")
    def suggestions(doc_id: str):
        name = coder()
        if doc_id not in project.documents:
            return fail(404, f"no transcript {doc_id} in this studio")
        if name is None or studio.is_blind(name):
            return jsonify({"blind": True, "suggestions": {}})
        return jsonify({"blind": False, "model": studio.views.identity()[:12], "suggestions": studio.views.suggestions(doc_id)})

    @app.get("/api/explain/<doc_id>/<passage_id>")
    def explanation(doc_id: str, passage_id: str):
        name = coder()
        passage = passage_or_404(doc_id, passage_id)
        if name is None or studio.is_blind(name):
            return fail(403, "blind mode: the model's suggestion is hidden")
        if project.model is None:
            return fail(409, "no model loaded")
        return jsonify(studio.views.explanation(passage))

    # --- coding ---------------------------------------------------------------------------------

    def save(name: str, passage, label, note: str, mode: str):
        try:
            previous, reloaded = project.codings.write(name, passage, label, note, mode)
        except CodingConflict as error:
            return fail(409, str(error))
        except StoreError as error:
            return fail(409, str(error))
        except EthosError as error:
            return fail(400, str(error))
        entry = project.codings.of(passage.doc_id, passage.passage_id).get(name)
        return jsonify({"saved": True, "doc_id": passage.doc_id, "passage_id": passage.passage_id, "coder": name,
                        "label": entry.coding.label if entry else None, "note": entry.coding.note if entry else "",
                        "mode": entry.mode if entry else "", "file": str(Path(project.codings.own_file(name)).relative_to(project.root)),
                        "previous": {"label": previous.get("label", ""), "note": previous.get("note", "")} if previous else None,
                        "reloaded": reloaded, "version": project.codings.version})

    @app.post("/api/coding")
    def code_passage():
        name = coder()
        if name is None:
            return fail(400, "say who is coding first")
        data = body()
        passage = passage_or_404(str(data.get("doc_id", "")), str(data.get("passage_id", "")))
        label = data.get("label")
        if label is not None and (not isinstance(label, str) or label not in project.labels):
            return fail(400, f"unknown label {str(label)[:40]!r} (the codebook's labels are {', '.join(project.labels)})")
        note = str(data.get("note") or "")[:4000]
        mode = "blind" if studio.is_blind(name) else "open"
        if data.get("accepted") and mode == "open":
            mode = "open, model suggestion accepted"
        return save(name, passage, label, note, mode)

    @app.get("/api/queue")
    def queue_data():
        name = coder()
        if name is None:
            return fail(400, "say who is coding first")
        return jsonify(queue_items(name, rescore=False))

    @app.post("/api/queue/rescore")
    def rescore():
        name = coder()
        if name is None:
            return fail(400, "say who is coding first")
        return jsonify(queue_items(name, rescore=True))

    def queue_items(name: str, rescore: bool) -> dict:
        queue = studio.queues.queue(name, rescore=rescore)
        blind = studio.is_blind(name)
        items = []
        suggestions: dict = {}
        for item in queue["items"]:
            passage = project.passage(item["doc_id"], item["passage_id"])
            view = {**item, **_queue_view(project, passage, name, blind)}
            if not blind:
                if passage.doc_id not in suggestions:
                    suggestions[passage.doc_id] = studio.views.suggestions(passage.doc_id)
                view["suggestion"] = suggestions[passage.doc_id].get(passage.passage_id)
            items.append(view)
        return {"blind": blind, "items": items, "message": queue["message"], "done": sum(1 for i in items if i["label"])}

    # --- adjudication -------------------------------------------------------------------------------

    @app.get("/api/disagreements")
    def disagreement_data():
        return jsonify(disagreements(project))

    @app.post("/api/gold")
    def set_gold():
        name = coder()
        if name is None:
            return fail(400, "say who is adjudicating first")
        data = body()
        doc_id, passage_id = str(data.get("doc_id", "")), str(data.get("passage_id", ""))
        entries = project.codings.of(doc_id, passage_id)
        if not entries:
            return fail(404, f"no coding of {doc_id}/{passage_id}")
        label = data.get("label")
        if label is not None and label not in project.labels:
            return fail(400, f"unknown label {str(label)[:40]!r}")
        passage = passage_of(project, next(iter(entries.values())).coding)
        return save(GOLD, passage, label, str(data.get("note") or "")[:4000], f"adjudicated by {name}")

    # --- agreement and the model ---------------------------------------------------------------------

    @app.get("/api/agreement")
    def agreement_data():
        since = request.args.get("since")
        if since is not None and since == str(project.codings.version):
            return jsonify({"unchanged": True, "version": project.codings.version})
        return jsonify(studio.agreement.report())

    @app.get("/api/retrain")
    def retrain_status():
        return jsonify({**studio.retraining.snapshot(), "model": model_info(project)})

    @app.post("/api/retrain")
    def retrain():
        try:
            return jsonify(studio.retraining.start(compare_all=bool(body().get("compare_all"))))
        except EthosError as error:
            return fail(409, str(error))

    @app.post("/api/retrain/cancel")
    def cancel_retrain():
        studio.retraining.cancel()
        return jsonify(studio.retraining.snapshot())

    return app


def _queue_view(project: Project, passage, coder: str, blind: bool) -> dict:
    from .work import passage_view

    view = passage_view(project, passage, coder, blind)
    document = project.documents[passage.doc_id]
    context, speaker = "", ""
    if 0 < passage.turn <= len(document.turns):
        before = document.turns[passage.turn - 1]
        context, speaker = document.raw[before.start:before.end].strip()[-400:], before.speaker or ""
    return {**view, "context": context, "context_speaker": speaker}


def css_string(value) -> str:
    """``value`` as a quoted CSS string: quotes, backslashes, angle brackets and control characters escaped."""
    return '"' + "".join(c if c.isprintable() and c not in '"\\<>' else f"\\{ord(c):x} " for c in str(value)) + '"'


def label_keys(project: Project) -> dict[str, list[str]]:
    """Keys for each label: its number in the codebook (1-9), and its first letter when no other label shares it."""
    labels = project.labels
    firsts = [label[0].lower() for label in labels]
    reserved = set("jkuneh?")
    keys = {}
    for n, label in enumerate(labels, 1):
        own = [str(n)] if n <= 9 else []
        if firsts.count(label[0].lower()) == 1 and label[0].lower() not in reserved:
            own.append(label[0].lower())
        keys[label] = own
    return keys


def model_info(project: Project) -> dict:
    model = project.model
    if model is None:
        return {"loaded": False}
    manifest = model.manifest
    evaluation = manifest.get("evaluation") or {}
    return {"loaded": True, "path": str(project.model_dir), "created": manifest.get("created"), "sha256": str(manifest.get("sha256", ""))[:12],
            "candidate": (manifest.get("model") or {}).get("candidate"), "macro_f1": evaluation.get("macro_f1"), "labels": model.labels}
