// Coding passages with the mouse and the keyboard: a transcript (every passage in place) or the queue
// (one passage at a time). A coding shows as saved only once the server says it is on disk.

import { api, element, say } from "./common.js";

const blind = document.body.dataset.blind === "true";
const buttons = [...document.querySelectorAll("#toolbar .label-button")];
const keyToLabel = new Map();
const titles = new Map();
for (const button of buttons) {
  titles.set(button.dataset.label, button.dataset.title || button.dataset.label);
  for (const key of (button.dataset.keys || "").split(" ").filter(Boolean)) keyToLabel.set(key, button.dataset.label);
}
const note = document.getElementById("note");
const panel = document.getElementById("explanation");

let view = null;        // { count(), show(i) -> element, after(i) -> next index to show once i is coded }
let current = -1;
const undoStack = [];
const suggestions = new Map();  // "doc\u0000passage" -> { label, probability }
let pending = 0;

const key = (docId, passageId) => `${docId}\u0000${passageId}`;

function mark(el) {
  const label = el.dataset.coded || "";
  for (const button of buttons) button.classList.toggle("chosen", button.dataset.label === label);
}

function showSuggestion(el) {
  const slot = el.querySelector(".suggestion");
  const suggestion = suggestions.get(key(el.dataset.docId, el.dataset.passageId));
  if (!slot) return;
  if (blind || !suggestion) { slot.hidden = true; return; }
  slot.textContent = `modèle : ${titles.get(suggestion.label) || suggestion.label} ${Math.round(suggestion.probability * 100)} %`;
  slot.dataset.suggest = suggestion.label;
  slot.title = "La suggestion du modèle : elle n'est enregistrée que si vous l'acceptez (Entrée).";
  slot.hidden = false;
}

function select(index) {
  if (!view || view.count() === 0) return;
  index = Math.max(0, Math.min(view.count() - 1, index));
  const before = view.element(current);
  if (before) before.classList.remove("selected");
  current = index;
  const el = view.show(index);
  el.classList.add("selected");
  el.scrollIntoView({ block: "center", behavior: "instant" });
  note.value = el.dataset.note || "";
  mark(el);
  if (!panel.hidden) explain(true);
}

async function save(el, label, noteText, options = {}) {
  const started = performance.now();
  el.classList.add("saving");
  el.classList.remove("failed");
  pending += 1;
  try {
    const data = await api("POST", "/api/coding", {
      doc_id: el.dataset.docId, passage_id: el.dataset.passageId, label, note: noteText, accepted: Boolean(options.accepted),
    });
    el.dataset.coded = data.label || "";
    el.dataset.note = data.note || "";
    el.dataset.saved = "true";
    el.dataset.roundTripMs = (performance.now() - started).toFixed(1);  // from the key to "saved", for benchmarks and scripts
    if (view.saved) view.saved(el, data);
    if (!options.undoing) undoStack.push({ docId: data.doc_id, passageId: data.passage_id, previous: data.previous });
    if (el === view.element(current)) mark(el);
    say(data.label ? `Enregistré : ${titles.get(data.label) || data.label} (${data.file})` : `Codage retiré (${data.file})`);
    updateCount();
    return data;
  } catch (error) {
    el.classList.add("failed");
    say(`Non enregistré : ${error.message}`, true);
    return null;
  } finally {
    pending -= 1;
    el.classList.remove("saving");
  }
}

async function code(label, options = {}) {
  const el = view.element(current);
  if (!el) return;
  const index = current;
  const noteText = note.value;
  const saved = save(el, label, noteText, options);
  if (label !== null) select(view.after(index));
  await saved;
}

function updateCount() {
  const counter = document.getElementById("coded-count");
  if (counter && view.coded) counter.textContent = String(view.coded());
}

async function undo() {
  const last = undoStack.pop();
  if (!last) { say("Rien à annuler"); return; }
  const index = view.indexOf(last.docId, last.passageId);
  if (index < 0) return;
  select(index);
  const el = view.element(index);
  const previous = last.previous;
  await save(el, previous ? previous.label : null, previous ? previous.note : "", { undoing: true });
  note.value = el.dataset.note || "";
  say(previous ? "Annulé : étiquette précédente remise" : "Annulé : codage retiré");
}

async function saveNote() {
  const el = view.element(current);
  if (!el || note.value === (el.dataset.note || "")) return;
  if (!el.dataset.coded) { say("La note sera enregistrée avec l'étiquette"); return; }
  await save(el, el.dataset.coded, note.value);
}

function accept() {
  const el = view.element(current);
  if (!el) return;
  if (blind) { say("Mode aveugle : pas de suggestion du modèle", true); return; }
  const suggestion = suggestions.get(key(el.dataset.docId, el.dataset.passageId));
  if (!suggestion) { say("Pas encore de suggestion pour ce passage", true); return; }
  code(suggestion.label, { accepted: true });
}

async function explain(refresh = false) {
  if (!refresh && !panel.hidden) { panel.hidden = true; return; }
  if (blind) { say("Mode aveugle : pas d'explication du modèle", true); return; }
  const el = view.element(current);
  if (!el) return;
  panel.hidden = false;
  panel.replaceChildren(element("p", "Calcul de l'explication…", { class: "meta" }));
  try {
    const data = await api("GET", `/api/explain/${encodeURIComponent(el.dataset.docId)}/${encodeURIComponent(el.dataset.passageId)}`);
    const head = element("p", `Le modèle propose ${titles.get(data.label) || data.label} (probabilité ${Math.round(data.probability * 100)} %). `
      + `Score ${data.score.toFixed(3)} = constante ${data.intercept.toFixed(3)} + contributions listées + reste ${data.rest.toFixed(3)}. `
      + "Soulignés : les mots qui ont pesé (en pointillé, contre).", { class: "meta" });
    const text = element("p", null, { class: "passage-text" });
    for (const segment of data.segments) {
      if (segment.kind === "mark") {
        const m = element("mark", segment.text, { title: segment.hover, "data-of": data.label });
        if (segment.against) m.classList.add("against");
        text.append(m);
      } else {
        text.append(document.createTextNode(segment.text));
      }
    }
    const list = element("table", null, { class: "figures" });
    list.append(tableRow(["trait", "contribution"], "th"));
    for (const feature of data.features) {
      const name = feature.members ? `${feature.feature} (${feature.members.join(", ")})` : feature.feature;
      list.append(tableRow([name, (feature.contribution >= 0 ? "+" : "") + feature.contribution.toFixed(3)]));
    }
    panel.replaceChildren(head, text, list);
  } catch (error) {
    panel.replaceChildren(element("p", error.message, { class: "error" }));
  }
}

function tableRow(cells, tag = "td") {
  const row = element("tr");
  for (const cell of cells) row.append(element(tag, cell));
  return row;
}

function keydown(event) {
  const target = event.target;
  if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT")) {
    if (event.key === "Escape") target.blur();
    return;
  }
  if (event.altKey) return;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); undo(); return; }
  if (event.ctrlKey || event.metaKey) return;
  const k = event.key;
  if (keyToLabel.has(k.toLowerCase()) && k.length === 1) { event.preventDefault(); code(keyToLabel.get(k.toLowerCase())); return; }
  switch (k) {
    case "j": case "ArrowDown": case "ArrowRight": event.preventDefault(); select(current + 1); break;
    case "k": case "ArrowUp": case "ArrowLeft": event.preventDefault(); select(current - 1); break;
    case "Enter": event.preventDefault(); accept(); break;
    case "u": event.preventDefault(); undo(); break;
    case "x": case "Delete": case "Backspace": event.preventDefault(); code(null); break;
    case "n": event.preventDefault(); note.focus(); break;
    case "e": event.preventDefault(); explain(); break;
    default: break;
  }
}

// --- a whole transcript -----------------------------------------------------------------------------

function transcriptView() {
  const passages = [...document.querySelectorAll(".transcript .passage")];
  passages.forEach((el, i) => el.addEventListener("click", () => select(i)));
  return {
    count: () => passages.length,
    element: (i) => passages[i],
    show: (i) => passages[i],
    after: (i) => Math.min(i + 1, passages.length - 1),
    indexOf: (docId, passageId) => passages.findIndex((el) => el.dataset.docId === docId && el.dataset.passageId === passageId),
    coded: () => passages.filter((el) => el.dataset.coded).length,
    first: () => {
      const wanted = decodeURIComponent(window.location.hash.slice(1));
      const named = passages.findIndex((el) => el.dataset.passageId === wanted);
      if (named >= 0) return named;
      const open = passages.findIndex((el) => !el.dataset.coded);
      return open >= 0 ? open : 0;
    },
  };
}

async function loadSuggestions(docId) {
  const state = document.getElementById("model-state");
  if (blind) { if (state) state.textContent = "En aveugle : suggestions du modèle masquées"; return; }
  if (state) state.textContent = "Suggestions du modèle : calcul…";
  try {
    const data = await api("GET", `/api/doc/${encodeURIComponent(docId)}/suggestions`);
    for (const [passageId, suggestion] of Object.entries(data.suggestions || {})) suggestions.set(key(docId, passageId), suggestion);
    document.querySelectorAll(".transcript .passage").forEach(showSuggestion);
    if (state) state.textContent = Object.keys(data.suggestions || {}).length ? "Suggestions du modèle en pointillé (Entrée pour accepter)" : "Pas de modèle chargé";
    document.body.dataset.suggestions = "ready";
  } catch (error) {
    if (state) state.textContent = `Suggestions indisponibles : ${error.message}`;
  }
}

// --- the queue: one passage at a time -----------------------------------------------------------------

function queueView(items) {
  const el = document.getElementById("queue-passage");
  const progress = document.getElementById("queue-progress");
  const done = () => items.filter((item) => item.label).length;
  const render = (i) => {
    const item = items[i];
    el.dataset.docId = item.doc_id;
    el.dataset.passageId = item.passage_id;
    el.dataset.coded = item.label || "";
    el.dataset.note = item.note || "";
    el.querySelector(".text").textContent = item.text;
    const others = el.querySelector(".others");
    others.replaceChildren(...(item.others || []).map((o) => element("span", `${o.coder} : ${o.label}`, { class: "other", "data-chip": o.label, title: o.note || "" })));
    if (item.suggestion) suggestions.set(key(item.doc_id, item.passage_id), item.suggestion);
    showSuggestion(el);
    const link = document.getElementById("queue-link");
    link.textContent = `${item.doc_id} / ${item.passage_id}`;
    link.href = `/doc/${encodeURIComponent(item.doc_id)}#${encodeURIComponent(item.passage_id)}`;
    document.getElementById("queue-rank").textContent = `· passage ${i + 1} sur ${items.length} · marge du modèle ${item.margin.toFixed(2)}`;
    document.getElementById("queue-context-speaker").textContent = item.context_speaker || "";
    document.getElementById("queue-context").textContent = item.context || "";
    progress.textContent = `${done()} / ${items.length} codés.`;
    return el;
  };
  return {
    count: () => items.length,
    element: (i) => (i >= 0 && i < items.length && items[i].passage_id === el.dataset.passageId && items[i].doc_id === el.dataset.docId ? el : null),
    show: render,
    after: (i) => {
      for (let j = i + 1; j < items.length; j += 1) if (!items[j].label) return j;
      for (let j = 0; j < items.length; j += 1) if (!items[j].label && j !== i) return j;
      return Math.min(i + 1, items.length - 1);
    },
    indexOf: (docId, passageId) => items.findIndex((item) => item.doc_id === docId && item.passage_id === passageId),
    coded: done,
    saved: (_, data) => {
      const item = items.find((it) => it.doc_id === data.doc_id && it.passage_id === data.passage_id);
      if (item) { item.label = data.label || ""; item.note = data.note || ""; }
      progress.textContent = `${done()} / ${items.length} codés.` + (done() === items.length ? " File terminée : recalculez-la, ou réentraînez le modèle." : "");
    },
    first: () => { const open = items.findIndex((item) => !item.label); return open >= 0 ? open : 0; },
  };
}

async function loadQueue(rescore = false) {
  const message = document.getElementById("queue-message");
  message.textContent = rescore ? "Nouveau calcul de la file…" : "Calcul de la file (lemmes et scores des passages)…";
  try {
    const data = await api(rescore ? "POST" : "GET", rescore ? "/api/queue/rescore" : "/api/queue");
    message.textContent = data.message || (data.blind ? "En aveugle : ni suggestion du modèle, ni étiquette des autres codeurs." : "");
    if (!data.items.length) { document.getElementById("queue-item").hidden = true; document.body.dataset.queue = "empty"; return; }
    document.getElementById("queue-item").hidden = false;
    view = queueView(data.items);
    current = -1;
    select(view.first());
    document.body.dataset.queue = "ready";
  } catch (error) {
    message.textContent = error.message;
    document.body.dataset.queue = "failed";
  }
}

export function startCoding(page) {
  for (const button of buttons) button.addEventListener("click", () => code(button.dataset.label));
  document.getElementById("accept").addEventListener("click", accept);
  document.getElementById("clear").addEventListener("click", () => code(null));
  document.getElementById("prev").addEventListener("click", () => select(current - 1));
  document.getElementById("next").addEventListener("click", () => select(current + 1));
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("explain").addEventListener("click", () => explain());
  note.addEventListener("change", saveNote);
  document.addEventListener("keydown", keydown);
  window.addEventListener("beforeunload", (event) => { if (pending > 0) event.preventDefault(); });
  if (page === "document") {
    view = transcriptView();
    select(view.first());
    const docId = document.querySelector(".transcript").dataset.docId;
    loadSuggestions(docId);
    document.body.dataset.readyMs = performance.now().toFixed(0);  // since navigation started, for benchmarks
    document.body.dataset.ready = "true";
  } else {
    document.getElementById("rescore").addEventListener("click", () => loadQueue(true));
    loadQueue(false);
    document.body.dataset.ready = "true";
  }
}
