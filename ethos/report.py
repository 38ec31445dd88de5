"""A readable HTML report of a scoring run: one self-contained page, in French.

Each transcript is shown whole, in reading order: the interviewer's turns muted, every passage marked
by the colour of its label and its confidence, and inside it the words behind the features that
weighed most, with their contribution on hover. A summary per transcript (share of passages per label
as a small bar, the features that weighed most) and a legend come first. Styles are inline, there is
no script, nothing is loaded from the network, and every piece of transcript text is escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Sequence

from .codebook import Codebook
from .features import feature_lemma, kept_tokens
from .stance import marked_word
from .names import MASK, name_spans
from .speakers import fold

STYLE = """
:root { --ink: #1d232a; --muted: #6b7480; --line: #d9dee4; --paper: #ffffff; --soft: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 Georgia, "DejaVu Serif", serif; color: var(--ink); background: var(--soft); }
header, main { max-width: 980px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font: 600 26px/1.3 system-ui, sans-serif; margin: 0 0 4px; }
h2 { font: 600 21px/1.3 system-ui, sans-serif; margin: 0 0 12px; }
h3 { font: 600 14px/1.3 system-ui, sans-serif; margin: 16px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.meta, .note { font: 13px/1.5 system-ui, sans-serif; color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 10px 22px; margin: 16px 0; font: 14px/1.4 system-ui, sans-serif; }
.legend span.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
nav { font: 14px/1.6 system-ui, sans-serif; margin: 8px 0 18px; }
nav a { margin-right: 14px; color: var(--ink); }
section.document { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 22px 26px; margin: 0 0 28px; }
.summary { display: grid; grid-template-columns: minmax(260px, 1fr) 1.4fr; gap: 8px 32px; font: 14px/1.5 system-ui, sans-serif; }
.summary table { border-collapse: collapse; width: 100%; }
.summary td, .summary th { padding: 3px 8px 3px 0; text-align: left; border-bottom: 1px solid var(--line); }
.summary td.number { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: flex; height: 16px; border-radius: 4px; overflow: hidden; margin: 6px 0 10px; border: 1px solid var(--line); }
.bar span { display: block; height: 100%; }
.features li { margin: 0 0 2px; }
.transcript { margin-top: 20px; border-top: 1px solid var(--line); padding-top: 14px; }
.turn { margin: 0 0 12px; white-space: pre-wrap; }
.turn .speaker { font: 600 13px/1.4 system-ui, sans-serif; color: var(--muted); margin-right: 8px; white-space: nowrap; }
.turn.interviewer { color: var(--muted); font-style: italic; font-size: 15px; }
.passage { border-left: 4px solid; padding: 1px 6px 1px 6px; display: inline; box-decoration-break: clone; -webkit-box-decoration-break: clone; }
.badge { font: 600 11px/1 system-ui, sans-serif; color: #fff; border-radius: 3px; padding: 2px 5px; margin-right: 6px; white-space: nowrap; vertical-align: 2px; }
.passage.unsure .badge { opacity: .65; }
mark { background: none; color: inherit; border-bottom: 2px solid; padding: 0 1px; cursor: help; }
mark.against { border-bottom-style: dotted; }
.name { font: 600 12px/1 system-ui, sans-serif; color: var(--muted); letter-spacing: .02em; }
footer { max-width: 980px; margin: 0 auto 40px; padding: 0 24px; }
@media print { body { background: #fff; } section.document { border: none; padding: 0; } nav { display: none; } }
"""


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
            parts = ngram.split(" ")
            for i in range(len(kept) - len(parts) + 1):
                if lemmas[i:i + len(parts)] == parts:
                    for token in kept[i:i + len(parts)]:
                        add(token.text, name, contribution)
    return sorted(found.values(), key=lambda h: -len(h.word))


_MASKED = f'<span class="name" title="nom propre masqué">{MASK}</span>'


def _escaped(text: str, names: re.Pattern | None = None) -> str:
    """``text`` escaped for HTML, with the names ``names`` finds masked (see :mod:`ethos.names`)."""
    return _mark_words(text, (), "", names)


def _mark_words(text: str, marks: Sequence[Highlight], colour: str, names: re.Pattern | None = None) -> str:
    """``text`` escaped, with the names ``names`` finds masked and every other occurrence of the
    highlighted words wrapped in ``<mark>``. Names are found in the whole text first, and a word
    inside one is never highlighted (« pierre » in « Jean-Pierre »), so no highlight splits a name."""
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
    pieces, position = [], 0
    for start, end, mark in spans:
        pieces.append(html.escape(text[position:start]))
        if mark is None:
            pieces.append(_MASKED)
        else:
            against = " against" if mark.contribution < 0 else ""
            hover = f"{mark.feature} : {mark.contribution:+.3f}"
            pieces.append(f'<mark class="w{against}" style="border-color:{colour}" title="{html.escape(hover)}">{html.escape(text[start:end])}</mark>')
        position = end
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)


def _label_style(codebook: Codebook) -> dict[str, tuple[str, str]]:
    return {label.name: (label.title_fr or label.name, label.colour or "#777777") for label in codebook.labels}


def _passage_html(record: dict, raw_text: str, marks: Sequence[Highlight], styles, names: re.Pattern | None = None, anchor: str = "") -> str:
    title, colour = styles.get(record["label"], (record["label"], "#777777"))
    probability = record["probability"]
    unsure = " unsure" if probability < 0.6 else ""
    listed = "; ".join(f"{f['feature']} {f['contribution']:+.2f}" for f in record["explanation"]["features"])
    hover = f"{record['passage_id']} : {title}, probabilité {probability:.0%}. Ont pesé : {listed}"
    badge = f'<span class="badge" style="background:{colour}">{html.escape(title)} {probability:.0%}</span>'
    return (f'<span class="passage{unsure}" id="{html.escape(anchor or record["doc_id"])}-{html.escape(record["passage_id"])}" '
            f'style="border-color:{colour};background:{colour}14" title="{html.escape(hover)}">{badge}{_mark_words(raw_text, marks, colour, names)}</span>')


def _summary_html(summary: dict, styles) -> str:
    bar = "".join(
        f'<span style="width:{figures["share"] * 100:.2f}%;background:{styles.get(label, (label, "#777"))[1]}" title="{html.escape(styles.get(label, (label,))[0])} {figures["share"]:.0%}"></span>'
        for label, figures in summary["labels"].items() if figures["passages"]
    )
    rows = "".join(
        f'<tr><td><span class="badge" style="background:{styles.get(label, (label, "#777"))[1]}">{html.escape(styles.get(label, (label,))[0])}</span></td>'
        f'<td class="number">{figures["passages"]}</td><td class="number">{figures["share"]:.0%}</td><td class="number">{figures["mean_probability"]:.2f}</td></tr>'
        for label, figures in summary["labels"].items()
    )
    features = "".join(
        f'<li><strong>{html.escape(styles.get(label, (label,))[0])}</strong> : '
        + (", ".join(html.escape(f["feature"]) for f in items[:8]) or "—") + "</li>"
        for label, items in summary["top_features"].items()
    )
    return (f'<div class="summary"><div><div class="bar">{bar}</div><table><tr><th>étiquette</th><th>passages</th><th>part</th>'
            f'<th>proba. moy.</th></tr>{rows}</table></div><div><h3>Ce qui a le plus pesé</h3><ul class="features">{features}</ul></div></div>')


def render_report(documents: Sequence[dict], sources: dict, interviewers: dict[str, list[str]], codebook: Codebook,
                  model_info: dict, tokens_by_passage: dict, keep_stop_words: bool = True,
                  names: dict[str, re.Pattern | None] | None = None) -> str:
    """The whole page. ``sources`` maps doc_id to its ``Document`` (absent for passage tables);
    ``tokens_by_passage`` maps (doc_id, passage_id) to the passage's tokens, for highlighting;
    ``names`` maps doc_id to the pattern of the names to mask in it (``None``: names are shown)."""
    styles = _label_style(codebook)
    legend = "".join(
        f'<span title="{html.escape(label.definition.split(". ")[0] if label.definition else "")}"><span class="swatch" style="background:{styles[label.name][1]}"></span>'
        f'{html.escape(styles[label.name][0])} <span class="meta">({html.escape(label.name)})</span></span>'
        for label in codebook.labels if label.name in model_info.get("labels", [label.name])
    )
    # a file name may name someone (« Julie_Teixeira_F_18.txt »): when names are masked, anchors are
    # numbers and a title shows the file name with its names masked
    anchors = [document["doc_id"] if names is None else f"d{n}" for n, document in enumerate(documents, 1)]
    titles = [html.escape(document["doc_id"]) if names is None else _escaped(document["doc_id"].replace("_", " "), names.get(document["doc_id"]))
              for document in documents]
    nav = "".join(f'<a href="#doc-{html.escape(anchor)}">{title}</a>' for anchor, title in zip(anchors, titles))
    sections = []
    for document, anchor, title in zip(documents, anchors, titles):
        marks = {
            p["passage_id"]: highlights(tokens_by_passage.get((p["doc_id"], p["passage_id"]), []), p["explanation"]["features"], keep_stop_words)
            for p in document["passages"]
        }
        body = _document_body(document, sources.get(document["doc_id"]), interviewers.get(document["doc_id"], []), marks, styles,
                              (names or {}).get(document["doc_id"]), anchor)
        sections.append(
            f'<section class="document" id="doc-{html.escape(anchor)}"><h2>{title}</h2>'
            f'<p class="meta">{document["summary"]["passages"]} passages de la personne interviewée</p>'
            f'{_summary_html(document["summary"], styles)}<div class="transcript">{body}</div></section>'
        )
    evaluation = model_info.get("evaluation") or {}
    figure = f", macro-F1 {evaluation['macro_f1']:.2f} en validation croisée par entretien" if evaluation.get("macro_f1") is not None else ""
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>ethos : rapport de codage</title><style>{STYLE}</style></head><body>"
        f'<header><h1>Ethos des cadres, passage par passage</h1>'
        f'<p class="meta">Modèle {html.escape(str(model_info.get("candidate", "")))}, entraîné le {html.escape(str(model_info.get("created", "")))}{figure}. '
        "Chaque passage porte l'étiquette dont le score est le plus haut et sa probabilité ; les mots soulignés sont ceux qui ont le plus pesé "
        "(survolez-les pour voir leur contribution ; en pointillé, ceux qui ont pesé contre)."
        + (f" Les noms propres (personnes, lieux, institutions) sont masqués : {MASK}." if names else "") + "</p>"
        f'<div class="legend">{legend}</div><nav>{nav}</nav></header><main>{"".join(sections)}</main>'
        '<footer><p class="note">Produit par ethos, hors ligne. Les étiquettes sont des propositions d\'un modèle statistique : '
        "elles aident à lire, elles ne remplacent pas le codage.</p></footer></body></html>\n"
    )


def _document_body(document: dict, source, interviewers: list[str], marks: dict, styles, names: re.Pattern | None = None, anchor: str = "") -> str:
    passages = sorted(document["passages"], key=lambda p: p["start"])
    if source is None:  # a passage table: the passages alone, in order
        return "".join(f'<p class="turn">{_passage_html(p, p["text"], marks[p["passage_id"]], styles, names, anchor)}</p>' for p in passages)
    raw = source.raw
    folded = {fold(name) for name in interviewers}
    # speakers are shown by role, never by name: a report must not carry people's names
    others = list(dict.fromkeys(fold(t.speaker) for t in source.turns if t.speaker and fold(t.speaker) not in folded))
    roles = {name: "Personne interviewée" if len(others) == 1 else f"Personne interviewée {i}" for i, name in enumerate(others, 1)}
    out = []
    index = 0
    for turn in source.turns:
        role = ("Enquêteur·rice" if fold(turn.speaker) in folded else roles.get(fold(turn.speaker), "")) if turn.speaker else ""
        speaker = f'<span class="speaker">{role}</span>' if role else ""
        if turn.speaker and fold(turn.speaker) in folded:
            out.append(f'<p class="turn interviewer">{speaker}{_escaped(raw[turn.start:turn.end].strip(), names)}</p>')
            continue
        pieces, position = [], turn.start
        while index < len(passages) and passages[index]["start"] < turn.end:
            passage = passages[index]
            if passage["start"] >= position:
                pieces.append(_escaped(raw[position:passage["start"]], names))
                pieces.append(_passage_html(passage, raw[passage["start"]:passage["end"]], marks[passage["passage_id"]], styles, names, anchor))
                position = passage["end"]
            index += 1
        pieces.append(_escaped(raw[position:turn.end], names))
        text = "".join(pieces).strip()
        if text:
            out.append(f'<p class="turn">{speaker}{text}</p>')
    return "".join(out)
