// ethos studio: the entry module of every page. Plain ES modules, no build step, nothing remote.

import { api, say } from "./common.js";
import { startCoding } from "./coding.js";
import { startAdjudication, startAgreement, startModel } from "./panels.js";

function startCoderForm() {
  const form = document.getElementById("coder-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("coder-input").value;
    try {
      await api("POST", "/api/coder", { name });
      const next = form.dataset.next || "/";
      const local = /^\/[A-Za-z0-9_.~%/?=&#+-]*$/.test(next) && !next.startsWith("//") && !next.startsWith("/start");
      window.location.assign(local ? next : "/");
    } catch (error) {
      document.getElementById("coder-error").textContent = error.message;
    }
  });
}

function startBlindToggle() {
  const toggle = document.getElementById("blind-toggle");
  if (!toggle) return;
  toggle.addEventListener("change", async () => {
    try {
      await api("POST", "/api/blind", { blind: toggle.checked });
      window.location.reload();
    } catch (error) {
      say(error.message, true);
      toggle.checked = !toggle.checked;
    }
  });
}

const page = document.body.dataset.page;
startCoderForm();
startBlindToggle();
if (page === "document" || page === "queue") startCoding(page);
else if (page === "adjudicate") startAdjudication();
else if (page === "agreement") startAgreement();
else if (page === "model") startModel();
