"""A readable HTML report of a scoring run: one self-contained page, in French.

The page is the template ``ethos/render/templates/report.html`` (Jinja2, autoescaped); this module
builds what it shows. Each transcript is shown whole, in reading order: the interviewer's turns muted, every passage marked
by the colour of its label and its confidence, and inside it the words behind the features that
weighed most, with their contribution on hover. A summary per transcript (share of passages per label
as a small bar, the features that weighed most) and a legend come first. Styles are inline, there is
no script, nothing is loaded from the network, and every piece of transcript text is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .codebook import Codebook
from .features import CONCLUSION_PREFIX, feature_lemma, kept_tokens
from .stance import marked_word
from .names import MASK, name_spans
from .text import fold

@dataclass(frozen=True)
class Highlight:
    """A word of a passage behind one of the features that weighed most."""

    word: str
    feature: str
    contribution: float


def highlights(tokens, features: Sequence[dict], keep_stop_words: bool = True) -> list[Highlight]:
    """The surface words behind an explanation's listed n-gram features (``vec:word`` names its word)."""
    kept = [t for t in kept_tokens(tokens) if keep_stop_words or not t.is_stop]
    lemmas = [feature_lemma(t) for t in kept]
    found: dict[str, Highlight] = {}

    def add(word: str, feature: str, contribution: float) -> None:
        if word not in found or abs(contribution) > abs(found[word].contribution):
            found[word] = Highlight(word, feature, contribution)

    for item in features:
        name, contribution = item["feature"], item["contribution"]
        if name.startswith("vec:"):
            add(name[4:], name, contribution)
            continue
        for ngram in item.get("members") or [marked_word(name) or name]:
            parts = ngram.removeprefix(CONCLUSION_PREFIX).split(" ")
            for i in range(len(kept) - len(parts) + 1):
                if lemmas[i:i + len(parts)] == parts:
                    for token in kept[i:i + len(parts)]:
                        add(token.text, name, contribution)
    return sorted(found.values(), key=lambda h: -len(h.word))


@dataclass(frozen=True)
class Segment:
    """A stretch of text as the page shows it: plain, a masked name, or a highlighted word."""

    kind: str  # "text" | "name" | "mark"
    text: str = ""
    colour: str = ""
    hover: str = ""
    against: bool = False


def segments(text: str, marks: Sequence[Highlight] = (), colour: str = "", names: re.Pattern | None = None) -> list[Segment]:
    """``text`` cut into segments: the names ``names`` finds masked, and every other occurrence of the
    highlighted words marked. Names are found in the whole text first, and a word inside one is never
    highlighted (« pierre » in « Jean-Pierre »), so no highlight splits a name."""
    spans = [(start, end, None) for start, end in name_spans(text, names)]
    if marks:
        by_word = {}
        patterns = []
        for mark in marks:
            pattern = re.escape(mark.word).replace("'", "['’]")
            tail = "" if mark.word.endswith("'") else r"(?![\w])"
            patterns.append(rf"(?<![\w]){pattern}{tail}")
            by_word[mark.word.replace("’", "'").casefold()] = mark
        masked = list(spans)
        for match in re.finditer("|".join(patterns), text, flags=re.IGNORECASE):
            mark = by_word.get(match.group(0).replace("’", "'").casefold())
            if mark is not None and not any(start < match.end() and match.start() < end for start, end, _ in masked):
                spans.append((match.start(), match.end(), mark))
        spans.sort(key=lambda span: span[0])
    out, position = [], 0
    for start, end, mark in spans:
        if start > position:
            out.append(Segment("text", text[position:start]))
        if mark is None:
            out.append(Segment("name"))
        else:
            out.append(Segment("mark", text[start:end], colour, f"{mark.feature} : {mark.contribution:+.3f}", mark.contribution < 0))
        position = end
    if position < len(text):
        out.append(Segment("text", text[position:]))
    return out


def _stripped(pieces: list[dict]) -> list[dict]:
    """A turn's pieces without the spaces that open and close it (the page keeps the others)."""
    def trim(piece: dict, side: str) -> dict:
        if "segments" not in piece or not piece["segments"]:
            return piece
        items = list(piece["segments"])
        k = 0 if side == "left" else -1
        if items[k].kind == "text":
            text = items[k].text.lstrip() if side == "left" else items[k].text.rstrip()
            items[k] = Segment("text", text)
        return {"segments": items}
    if pieces:
        pieces[0] = trim(pieces[0], "left")
        pieces[-1] = trim(pieces[-1], "right")
    return [p for p in pieces if "passage" in p or any(s.kind != "text" or s.text for s in p["segments"])]


def _label_style(codebook: Codebook) -> dict[str, tuple[str, str]]:
    return {label.name: (label.title_fr or label.name, label.colour or "#777777") for label in codebook.labels}


def _passage_view(record: dict, raw_text: str, marks: Sequence[Highlight], styles, names: re.Pattern | None, anchor: str) -> dict:
    title, colour = styles.get(record["label"], (record["label"], "#777777"))
    probability = record["probability"]
    listed = "; ".join(f"{f['feature']} {f['contribution']:+.2f}" for f in record["explanation"]["features"])
    return {"id": f"{anchor or record['doc_id']}-{record['passage_id']}", "unsure": probability < 0.6, "colour": colour, "title": title,
            "percent": f"{probability:.0%}", "hover": f"{record['passage_id']} : {title}, probabilité {probability:.0%}. Ont pesé : {listed}",
            "segments": segments(raw_text, marks, colour, names)}


def _summary_view(summary: dict, styles) -> dict:
    style = lambda label: styles.get(label, (label, "#777"))  # noqa: E731
    return {
        "bar": [{"width": f"{figures['share'] * 100:.2f}", "colour": style(label)[1], "title": f"{style(label)[0]} {figures['share']:.0%}"}
                for label, figures in summary["labels"].items() if figures["passages"]],
        "rows": [{"colour": style(label)[1], "title": style(label)[0], "passages": figures["passages"], "share": f"{figures['share']:.0%}",
                  "mean_probability": f"{figures['mean_probability']:.2f}"} for label, figures in summary["labels"].items()],
        "features": [{"title": style(label)[0], "names": ", ".join(f["feature"] for f in items[:8])} for label, items in summary["top_features"].items()],
    }


def render_report(documents: Sequence[dict], sources: dict, interviewers: dict[str, list[str]], codebook: Codebook,
                  model_info: dict, tokens_by_passage: dict, keep_stop_words: bool = True,
                  names: dict[str, re.Pattern | None] | None = None) -> str:
    """The whole page. ``sources`` maps doc_id to its ``Document`` (absent for passage tables);
    ``tokens_by_passage`` maps (doc_id, passage_id) to the passage's tokens, for highlighting;
    ``names`` maps doc_id to the pattern of the names to mask in it (``None``: names are shown)."""
    from .render.html import render

    styles = _label_style(codebook)
    legend = [{"definition": label.definition.split(". ")[0] if label.definition else "", "colour": styles[label.name][1],
               "title": styles[label.name][0], "name": label.name}
              for label in codebook.labels if label.name in model_info.get("labels", [label.name])]
    views = []
    for n, document in enumerate(documents, 1):
        # a file name may name someone (« Julie_Teixeira_F_18.txt »): when names are masked, anchors are
        # numbers and a title shows the file name with its names masked
        anchor = document["doc_id"] if names is None else f"d{n}"
        title = [Segment("text", document["doc_id"])] if names is None else segments(document["doc_id"].replace("_", " "), (), "", names.get(document["doc_id"]))
        marks = {
            p["passage_id"]: highlights(tokens_by_passage.get((p["doc_id"], p["passage_id"]), []), p["explanation"]["features"], keep_stop_words)
            for p in document["passages"]
        }
        turns = _turns(document, sources.get(document["doc_id"]), interviewers.get(document["doc_id"], []), marks, styles,
                       (names or {}).get(document["doc_id"]), anchor)
        views.append({"anchor": anchor, "title": title, "n_passages": document["summary"]["passages"], "turns": turns,
                      **_summary_view(document["summary"], styles)})
    evaluation = model_info.get("evaluation") or {}
    figure = f", macro-F1 {evaluation['macro_f1']:.2f} en validation croisée par entretien" if evaluation.get("macro_f1") is not None else ""
    model = {"candidate": str(model_info.get("candidate", "")), "created": str(model_info.get("created", "")), "figure": figure}
    return render("report.html", documents=views, legend=legend, model=model, masking=bool(names), mask=MASK)


def _turns(document: dict, source, interviewers: list[str], marks: dict, styles, names: re.Pattern | None = None, anchor: str = "") -> list[dict]:
    """The turns of a transcript as the page shows them: a role (never a name), and pieces of text or passages."""
    passages = sorted(document["passages"], key=lambda p: p["start"])
    if source is None:  # a passage table: the passages alone, in order
        return [{"role": "", "interviewer": False, "pieces": [{"passage": _passage_view(p, p["text"], marks[p["passage_id"]], styles, names, anchor)}]}
                for p in passages]
    raw = source.raw
    folded = {fold(name) for name in interviewers}
    # speakers are shown by role, never by name: a report must not carry people's names
    others = list(dict.fromkeys(fold(t.speaker) for t in source.turns if t.speaker and fold(t.speaker) not in folded))
    roles = {name: "Personne interviewée" if len(others) == 1 else f"Personne interviewée {i}" for i, name in enumerate(others, 1)}
    out = []
    index = 0
    for turn in source.turns:
        interviewer = bool(turn.speaker) and fold(turn.speaker) in folded
        role = ("Enquêteur·rice" if interviewer else roles.get(fold(turn.speaker), "")) if turn.speaker else ""
        if interviewer:
            out.append({"role": role, "interviewer": True, "pieces": [{"segments": segments(raw[turn.start:turn.end].strip(), (), "", names)}]})
            continue
        pieces, position = [], turn.start
        while index < len(passages) and passages[index]["start"] < turn.end:
            passage = passages[index]
            if passage["start"] >= position:
                pieces.append({"segments": segments(raw[position:passage["start"]], (), "", names)})
                pieces.append({"passage": _passage_view(passage, raw[passage["start"]:passage["end"]], marks[passage["passage_id"]], styles, names, anchor)})
                position = passage["end"]
            index += 1
        pieces.append({"segments": segments(raw[position:turn.end], (), "", names)})
        pieces = _stripped(pieces)
        if pieces:
            out.append({"role": role, "interviewer": False, "pieces": pieces})
    return out
