// Adjudication, agreement and the model: the pages around the coding.

import { api, element, figure, say } from "./common.js";

// --- adjudication -------------------------------------------------------------------------------------

export function startAdjudication() {
  for (const article of document.querySelectorAll("article.dispute")) {
    const state = article.querySelector(".gold-state");
    const noteInput = article.querySelector(".gold-note");
    for (const button of article.querySelectorAll(".label-button")) {
      button.addEventListener("click", async () => {
        state.textContent = "Enregistrement…";
        try {
          const data = await api("POST", "/api/gold", {
            doc_id: article.dataset.docId, passage_id: article.dataset.passageId, label: button.dataset.label, note: noteInput.value,
          });
          for (const other of article.querySelectorAll(".label-button")) other.classList.toggle("chosen", other === button);
          article.classList.add("settled");
          article.dataset.gold = data.label;
          state.textContent = `arbitré : ${data.label} (${data.mode}), écrit dans ${data.file}`;
          say(`Étiquette gold enregistrée dans ${data.file}`);
        } catch (error) {
          state.textContent = `Non enregistré : ${error.message}`;
          say(error.message, true);
        }
      });
    }
  }
}

// --- agreement ----------------------------------------------------------------------------------------

function table(headers, rows) {
  const t = element("table", null, { class: "figures" });
  const head = element("tr");
  for (const h of headers) head.append(element("th", h));
  t.append(head);
  for (const row of rows) {
    const tr = element("tr");
    row.forEach((cell, i) => tr.append(element("td", cell, i > 0 ? { class: "number" } : {})));
    t.append(tr);
  }
  return t;
}

function agreementBlock(report, title) {
  const block = element("div");
  block.append(element("h2", title));
  const ci = report.krippendorff_alpha_ci95;
  block.append(table(["figure", "valeur"], [
    ["passages (unités)", String(report.n_units)],
    ["codés deux fois ou plus", String(report.n_units_coded_twice ?? "—")],
    ["codeurs", (report.coders || []).join(", ")],
    ["accord observé", figure(report.percent_agreement)],
    ["alpha de Krippendorff", figure(report.krippendorff_alpha) + (ci ? ` [${figure(ci[0])} ; ${figure(ci[1])}] à 95 %` : "")],
    ["kappa de Fleiss", figure(report.fleiss_kappa)],
    ["AC1 de Gwet", figure(report.gwet_ac1)],
  ]));
  if ((report.cohen_kappa || []).length) {
    block.append(element("h2", "Kappa de Cohen par paire"));
    block.append(table(["paire", "passages", "kappa"], report.cohen_kappa.map((p) => [p.coders.join(" – "), String(p.n_units), figure(p.kappa)])));
  }
  if (report.per_label) {
    block.append(element("h2", "Alpha par étiquette"));
    block.append(table(["étiquette", "valeurs", "alpha"], Object.entries(report.per_label).map(([label, f]) => [label, String(f.n_values), figure(f.krippendorff_alpha)])));
  }
  if ((report.gold || []).length) {
    block.append(element("h2", "Chaque codeur face aux étiquettes gold"));
    block.append(table(["codeur", "passages", "accord", "kappa"], report.gold.map((g) => [g.coder, String(g.n_units), figure(g.agreement), figure(g.kappa)])));
  }
  for (const note of report.notes || []) block.append(element("p", note, { class: "meta" }));
  return block;
}

export function startAgreement() {
  const target = document.getElementById("agreement");
  let version = null;
  async function refresh() {
    try {
      const data = await api("GET", "/api/agreement" + (version !== null ? `?since=${version}` : ""));
      if (data.unchanged) return;
      version = data.version;
      const parts = [agreementBlock(data, "Entre codeurs")];
      const withModel = data.with_model;
      if (withModel) {
        const s = withModel.summary;
        parts.push(element("h2", "Le modèle comme codeur"));
        parts.push(table(["figure", "valeur"], [
          ["alpha des codeurs seuls", figure(s.krippendorff_alpha_coders_only)],
          ["alpha avec le modèle", figure(s.krippendorff_alpha_with_model)],
          ["kappa moyen modèle – codeurs", figure(s.mean_kappa_model_with_coders)],
          ["kappa moyen entre codeurs", figure(s.mean_kappa_between_coders)],
          ["passages jugés hors pli / scorés", `${s.out_of_fold_passages} / ${s.scored_passages}`],
        ]));
        parts.push(agreementBlock(withModel.report, "Tous les codeurs, modèle compris"));
      }
      parts.push(element("p", `Mis à jour à ${new Date().toLocaleTimeString()}`, { class: "meta" }));
      target.replaceChildren(...parts);
      document.body.dataset.agreement = "ready";
    } catch (error) {
      target.replaceChildren(element("p", error.message, { class: "error" }));
    }
  }
  refresh();
  setInterval(refresh, 5000);
}

// --- the model ----------------------------------------------------------------------------------------

function arrow(before, after) {
  if (before === null || before === undefined || after === null || after === undefined) return ["", ""];
  const delta = after - before;
  if (Math.abs(delta) < 0.0005) return ["=", ""];
  return [delta > 0 ? `+${delta.toFixed(3)} mieux` : `${delta.toFixed(3)} moins bien`, delta > 0 ? "better" : "worse"];
}

function showResult(result) {
  const box = document.getElementById("retrain-result");
  const parts = [element("h2", `Nouveau modèle : ${result.figures.candidate || ""}, ${result.figures.n_passages ?? "?"} passages d'entraînement`)];
  const previous = result.previous;
  const t = element("table", null, { class: "figures" });
  const head = element("tr");
  for (const h of ["figure (validation croisée par entretien)", "avant", "maintenant", "écart"]) head.append(element("th", h));
  t.append(head);
  const rows = previous ? Object.entries(previous.figures) : [["macro_f1", [null, result.figures.macro_f1]], ["kappa", [null, result.figures.kappa]]];
  for (const [name, [before, after]] of rows) {
    const [text, kind] = arrow(before, after);
    const tr = element("tr");
    tr.append(element("td", name), element("td", figure(before), { class: "number" }), element("td", figure(after), { class: "number" }));
    const cell = element("td", text, { class: "number" });
    if (kind) cell.classList.add(kind);
    tr.append(cell);
    t.append(tr);
  }
  parts.push(t);
  if (previous) {
    const copies = [[previous.new_contrast_passages, "nouvelles"], [previous.relabelled_contrast_passages, "réétiquetées"]]
      .filter(([n]) => n).map(([n, what]) => `${n} ${what}`);
    parts.push(element("p", `Depuis le modèle précédent${previous.previous_created ? ` (${previous.previous_created})` : ""} : `
      + `${previous.new_passages} passages nouveaux, ${previous.relabelled_passages} réétiquetés, ${previous.gone_passages} disparus`
      + (copies.length ? ` ; copies éditées (couche contraste) : ${copies.join(", ")}.` : ".")
      + (previous.worse ? " Le nouveau modèle fait moins bien : le précédent est gardé dans archive/." : ""), { class: previous.worse ? "worse" : "meta" }));
  }
  parts.push(element("h2", `Passages dont l'étiquette du modèle a changé : ${result.changed.length} sur ${result.n_scored}`));
  const list = element("table", null, { class: "list" });
  for (const change of result.changed.slice(0, 200)) {
    const tr = element("tr");
    const cell = element("td");
    cell.append(element("a", `${change.doc_id} / ${change.passage_id}`, { href: `/doc/${encodeURIComponent(change.doc_id)}#${encodeURIComponent(change.passage_id)}` }));
    tr.append(cell, element("td", `${change.before} → ${change.after}`), element("td", change.text, { class: "meta" }));
    list.append(tr);
  }
  parts.push(list);
  parts.push(element("p", "La file à coder est recalculée avec le nouveau modèle.", { class: "meta" }));
  box.replaceChildren(...parts);
}

export function startModel() {
  const button = document.getElementById("retrain");
  const cancel = document.getElementById("cancel-retrain");
  const state = document.getElementById("retrain-state");
  const progress = document.getElementById("retrain-progress");
  const phase = document.getElementById("retrain-phase");
  const errorLine = document.getElementById("retrain-error");
  const log = document.getElementById("retrain-log");
  let timer = null;
  let shown = null;

  function render(data) {
    const running = data.state === "running";
    button.disabled = running;
    cancel.hidden = !running;
    state.hidden = data.state === "idle";
    progress.value = data.progress || 0;
    phase.textContent = running ? `${data.phase}…` : (data.state === "done" ? "Terminé" : data.phase || "");
    errorLine.textContent = data.state === "failed" ? data.error : "";
    log.textContent = (data.log || []).join("\n");
    document.body.dataset.retrain = data.state;
    if (data.state === "done" && data.result && shown !== data.result) { shown = data.result; showResult(data.result); }
    if (data.model && data.model.loaded) {
      document.getElementById("model-now").textContent = `Modèle ${data.model.candidate} du ${data.model.created} (${data.model.path})`
        + (data.model.macro_f1 !== null && data.model.macro_f1 !== undefined ? `, macro-F1 ${figure(data.model.macro_f1)} en validation croisée par entretien.` : ".");
    }
    if (!running && timer) { clearInterval(timer); timer = null; }
    if (running && !timer) timer = setInterval(poll, 700);
  }
  async function poll() {
    try { render(await api("GET", "/api/retrain")); } catch (error) { errorLine.textContent = error.message; }
  }
  button.addEventListener("click", async () => {
    errorLine.textContent = "";
    try {
      render(await api("POST", "/api/retrain", { compare_all: document.getElementById("compare-all").checked }));
      say("Entraînement lancé en arrière-plan");
    } catch (error) { errorLine.textContent = error.message; }
  });
  cancel.addEventListener("click", async () => { try { render(await api("POST", "/api/retrain/cancel", {})); } catch (error) { say(error.message, true); } });
  poll();
}
