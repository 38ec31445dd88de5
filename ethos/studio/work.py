"""What the studio's pages show, as plain data (the same data the JSON endpoints return): a transcript
with its passages and codings, the model's suggestions and their explanations, the queue of passages
to code, the passages to adjudicate, the agreement figures."""

from __future__ import annotations

import threading
from typing import Any

from ..annotations import GOLD, Coding
from ..document import Passage
from ..text import fold
from .project import Project

#: Features listed in an explanation.
TOP_FEATURES = 10


# --- a transcript ----------------------------------------------------------------------------------

def document_view(project: Project, doc_id: str, coder: str, blind: bool) -> dict:
    """The whole interview in speaker turns; the interviewee's passages with this coder's coding (and,
    unless ``blind``, the other coders')."""
    document = project.documents[doc_id]
    stats = project.stats.get(doc_id)
    interviewers = {fold(name) for name in (stats.interviewers if stats else [])}
    passages = sorted(project.passages.get(doc_id, []), key=lambda p: p.start)
    raw = document.raw
    turns, index = [], 0
    for turn in document.turns:
        interviewer = bool(turn.speaker) and fold(turn.speaker) in interviewers
        pieces, position = [], turn.start
        while index < len(passages) and passages[index].start < turn.end:
            passage = passages[index]
            if passage.start >= position:
                if raw[position:passage.start].strip():
                    pieces.append({"text": raw[position:passage.start]})
                pieces.append({"passage": passage_view(project, passage, coder, blind)})
                position = passage.end
            index += 1
        if raw[position:turn.end].strip():
            pieces.append({"text": raw[position:turn.end]})
        if pieces:
            pieces[0] = _trimmed(pieces[0], "left")
            pieces[-1] = _trimmed(pieces[-1], "right")
            turns.append({"speaker": turn.speaker or "", "interviewer": interviewer, "pieces": pieces})
    coded = sum(1 for p in passages if coder in project.codings.of(p.doc_id, p.passage_id))
    position = project.order.index(doc_id)
    return {"doc_id": doc_id, "turns": turns, "n_passages": len(passages), "n_coded": coded,
            "previous": project.order[position - 1] if position > 0 else None,
            "next": project.order[position + 1] if position + 1 < len(project.order) else None}


def _trimmed(piece: dict, side: str) -> dict:
    if "text" not in piece:
        return piece
    return {"text": piece["text"].lstrip() if side == "left" else piece["text"].rstrip()}


def passage_view(project: Project, passage: Passage, coder: str, blind: bool) -> dict:
    entries = project.codings.of(passage.doc_id, passage.passage_id)
    mine = entries.get(coder)
    others = [] if blind else [entry.public() for name, entry in sorted(entries.items()) if name != coder]
    return {"doc_id": passage.doc_id, "passage_id": passage.passage_id, "text": passage.text, "speaker": passage.speaker or "",
            "label": mine.coding.label if mine else "", "note": mine.coding.note if mine else "", "mode": mine.mode if mine else "",
            "others": others}


# --- the model -------------------------------------------------------------------------------------

class ModelViews:
    """The model's suggestions per transcript, computed once per model and kept."""

    def __init__(self, project: Project):
        self.project = project
        self._lock = threading.Lock()
        self._suggestions: dict[tuple[str, str], dict] = {}

    def identity(self) -> str:
        model = self.project.model
        return str(model.manifest.get("sha256")) if model is not None else ""

    def clear(self) -> None:
        with self._lock:
            self._suggestions.clear()

    def suggestions(self, doc_id: str) -> dict:
        """``{passage_id: {"label", "probability", "probabilities"}}`` for every passage of ``doc_id``."""
        project = self.project
        model = project.model
        if model is None:
            return {}
        key = (self.identity(), doc_id)
        with self._lock:
            if key in self._suggestions:
                return self._suggestions[key]
        passages = project.passages.get(doc_id, [])
        texts = [p.clean for p in passages]
        with project.lemmas.session():
            scores = model.scores(texts) if texts else None
        result = {}
        if scores is not None:
            probabilities = model.probabilities(scores)
            for passage, row, p in zip(passages, scores, probabilities):
                best = int(row.argmax())
                result[passage.passage_id] = {"label": model.labels[best], "probability": float(p[best]),
                                              "probabilities": {label: float(v) for label, v in zip(model.labels, p)}}
        with self._lock:
            self._suggestions[key] = result
        return result

    def explanation(self, passage: Passage) -> dict:
        """The model's label for ``passage`` and the words that weighed, exactly (as in the HTML report)."""
        from ..explain import explain
        from ..nlp import session_lemmas
        from ..report import highlights, segments

        model = self.project.model
        if model is None:
            return {}
        with self.project.lemmas.session():
            explained = explain(model, [passage.clean])
            tokens = session_lemmas([passage.clean])[0]
        explanation = explained.explanation(0, TOP_FEATURES)
        label = explanation["label"]
        colour = next((lab.colour for lab in self.project.codebook.labels if lab.name == label), "#777777")
        marks = highlights(tokens, explanation["features"], model.keeps_function_words)
        pieces = [{"kind": s.kind, "text": s.text, "hover": s.hover, "against": s.against} for s in segments(passage.text, marks, colour)]
        k = model.labels.index(label)
        return {"label": label, "probability": float(explained.probabilities[0][k]), "score": float(explained.scores[0][k]),
                "intercept": explanation["intercept"], "rest": explanation["rest"], "features": explanation["features"], "segments": pieces}


# --- the queue -------------------------------------------------------------------------------------

class Queues:
    """For each coder, the passages ``ethos suggest`` would propose them (uncertain, spread over interviews,
    not alike), leaving out what they or the adjudicators coded already; kept until rescored."""

    def __init__(self, project: Project, views: ModelViews):
        self.project, self.views = project, views
        self._lock = threading.Lock()
        self._queues: dict[str, dict] = {}

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()

    def queue(self, coder: str, rescore: bool = False) -> dict:
        with self._lock:
            known = self._queues.get(coder)
            if known is not None and not rescore and known["model"] == self.views.identity():
                return known
        queue = self._compute(coder)
        with self._lock:
            self._queues[coder] = queue
        return queue

    def _compute(self, coder: str) -> dict:
        from ..errors import EthosError
        from ..suggest import Coded, suggest

        project = self.project
        model = project.model
        if model is None:
            return {"model": "", "items": [], "message": "no model: the queue needs one (train it on the Model page)"}
        done = frozenset(unit for unit, entries in project.codings.index.items() if coder in entries or GOLD in entries)
        passages = project.all_passages()
        if all((p.doc_id, p.passage_id) in done for p in passages):
            return {"model": self.views.identity(), "items": [], "message": f"Nothing left to suggest: every passage of the {len(project.documents)} "
                    "transcripts is coded by you or adjudicated (gold). Add transcripts to the project, or code in the transcripts themselves."}
        with project.lemmas.session():
            try:
                result = suggest(model, passages, min(project.settings.queue_size, max(1, len(passages))), coded=Coded(done))
            except EthosError as error:
                return {"model": self.views.identity(), "items": [], "message": str(error)}
        items = [{"doc_id": s.passage.doc_id, "passage_id": s.passage.passage_id, "margin": s.margin, "rank": s.rank}
                 for s in result.suggestions]
        return {"model": self.views.identity(), "items": items, "message": "",
                "candidates": result.candidates, "interviews": result.chosen_interviews()}


# --- adjudication and agreement -----------------------------------------------------------------------

def passage_of(project: Project, coding: Coding) -> Passage:
    """The studio's passage for a coding, else one made from the coding's own text and offsets."""
    from ..cleaning import clean

    known = project.by_id.get(coding.unit)
    if known is not None:
        return known
    start = coding.start if coding.start is not None else 0
    return Passage(coding.doc_id, coding.passage_id, None, coding.text, start, coding.end if coding.end is not None else start + len(coding.text), clean(coding.text))


def disagreements(project: Project) -> dict:
    """The passages whose coders disagree, each coder's label and note side by side; those with a gold
    label already are counted apart (adjudicating them again would contradict it)."""
    items, settled = [], []
    for unit, entries in sorted(project.codings.index.items()):
        humans = {coder: entry for coder, entry in entries.items() if coder != GOLD}
        if len({entry.coding.label for entry in humans.values()}) < 2:
            continue
        first = next(iter(humans.values())).coding
        item = {"doc_id": unit[0], "passage_id": unit[1], "text": passage_of(project, first).text,
                "coders": [entry.public() for _, entry in sorted(humans.items())],
                "gold": entries[GOLD].public() if GOLD in entries else None, "in_studio": unit in project.by_id}
        (settled if GOLD in entries else items).append(item)
    return {"items": items, "settled": settled, "labels": project.labels}


class Agreement:
    """The figures of ``ethos agreement`` over the codings as they are now, the model as one more coder."""

    def __init__(self, project: Project, views: ModelViews, resamples: int = 1000):
        self.project, self.views, self.resamples = project, views, resamples
        self._lock = threading.Lock()
        self._cached: tuple[Any, dict] | None = None

    def report(self) -> dict:
        from ..agreement import agreement_report, reliability_from_codings

        project = self.project
        key = (project.codings.version, self.views.identity())
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
        from ..model.data import speech_codings

        codings = speech_codings(project.codings.codings())
        labels = project.labels
        if not codings:
            report = {"n_units": 0, "coders": [], "notes": ["no codings yet"], "version": key[0]}
        else:
            data, gold = reliability_from_codings(codings, labels)
            report = agreement_report(data, gold=gold, resamples=self.resamples, seed=0)
            report["with_model"] = self._with_model(codings, labels)
            report["version"] = key[0]
        with self._lock:
            self._cached = (key, report)
        return report

    def _with_model(self, codings: list[Coding], labels: list[str]) -> dict | None:
        from ..agreement import agreement_report, reliability_from_codings
        from ..model.coder import MODEL_CODER, model_codings, model_versus_coders

        project = self.project
        if project.model is None or project.model_dir is None or any(c.coder == MODEL_CODER for c in codings):
            return None
        if not set(project.model.labels) <= set(labels):
            return None
        with project.lemmas.session():
            machine = model_codings(project.model_dir, codings)
        both = codings + machine
        data, gold = reliability_from_codings(both, labels)
        report = agreement_report(data, gold=gold, resamples=self.resamples, seed=0)
        return {"report": report, "summary": model_versus_coders(report, both, labels, self.resamples, 0)}
