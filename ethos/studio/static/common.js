// ethos studio: helpers shared by the pages. Text from the server always goes in with textContent, never as HTML.

export function say(message, bad = false) {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = message;
  status.classList.toggle("bad", bad);
  if (!bad) {
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { if (status.textContent === message) status.textContent = ""; }, 2500);
  }
}

export async function api(method, url, body) {
  const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new Error("le studio ne répond pas (est-il arrêté ?)");
  }
  let data = {};
  try { data = await response.json(); } catch (error) { data = {}; }
  if (!response.ok) throw new Error(data.error || `erreur ${response.status}`);
  return data;
}

export function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export function figure(value, digits = 3) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
}
