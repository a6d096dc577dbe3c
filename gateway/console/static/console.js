// The console's shared helpers (a vanilla ES module, no build step): admin API calls with the token, DOM
// building that only ever sets text (never innerHTML with data), tables, a pager, a small SVG line chart,
// pretty-printing of XML and JSON bodies, copy buttons, and the banner shown while a fault or a moved clock is
// in force. Every page's script imports from here.

const ADMIN = "/__admin";
const TOKEN_KEY = "loyalty-gateway.admin-token";
export const CONSOLE = ADMIN + "/console";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// -- the admin token: asked once (a labelled form), kept for the tab's life in sessionStorage ------------------

let asking = null; // one prompt at a time: every call refused meanwhile waits for the same answer

export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

function keepToken(value) {
  try { sessionStorage.setItem(TOKEN_KEY, value); } catch { /* storage off: asked again next page */ }
}

export function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing kept */ }
}

function askForToken(refused) {
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const area = document.getElementById("token-area") || document.body;
    const input = el("input", { id: "admin-token", type: "password", name: "admin-token", autocomplete: "current-password",
                                required: "", "aria-describedby": "admin-token-help" });
    const form = el("form", { class: "token-form", "aria-labelledby": "token-heading" },
      el("h2", { id: "token-heading" }, "Admin token needed"),
      el("p", { id: "admin-token-help" }, refused
        ? "The admin API refused that token (401). Enter the admin_token the server was started with."
        : "This server was started with an admin_token. Enter it once; it is kept for this tab only."),
      refused ? el("p", { class: "error", role: "alert" }, "Wrong admin token.") : null,
      el("label", { for: "admin-token" }, "Admin token"),
      el("div", { class: "row" }, el("div", {}, input), el("div", {}, el("button", { type: "submit" }, "Use this token"))),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      keepToken(input.value.trim());
      form.remove();
      asking = null;
      resolve();
    });
    area.append(form);
    input.focus();
  });
  return asking;
}

// -- admin API calls -----------------------------------------------------------------------------------------

// api("/tenants?limit=20") or api("/faults", {method: "POST", body: {...}}): the answer's JSON (text for any
// other type). A 401 asks for the token (once for all calls waiting) and tries again; any other failure
// throws ApiError with the admin API's own message.
export async function api(path, options = {}) {
  const url = path.startsWith(ADMIN) ? path : ADMIN + path;
  const { body, headers = {}, ...rest } = options;
  for (let attempt = 0; ; attempt++) {
    const sent = { ...headers };
    const kept = token();
    if (kept) sent.Authorization = "Bearer " + kept;
    const init = { ...rest, headers: sent };
    if (body !== undefined) {
      if (typeof body === "string") {
        init.body = body;
      } else {
        init.body = JSON.stringify(body);
        sent["Content-Type"] = "application/json";
      }
    }
    const response = await fetch(url, init);
    if (response.status === 401 && attempt < 5) {
      await askForToken(Boolean(kept));
      continue;
    }
    const type = response.headers.get("Content-Type") || "";
    const answer = type.includes("json") ? await response.json().catch(() => null) : await response.text();
    if (!response.ok) {
      const message = answer && answer.error && answer.error.message ? answer.error.message
        : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message, answer);
    }
    return answer;
  }
}

// -- following a server-sent event stream -------------------------------------------------------------------

// follow(url, {onReady, onEvent, onState}) reads an admin event stream (GET /__admin/requests/stream ...) until
// stop() is called. Without a token: one EventSource. With one (which EventSource cannot send): one fetch read
// as a stream, reconnecting after the last id as EventSource does. A 401 asks for the token (the same prompt as
// api()) and waits for the answer; another 4xx stops and says why through onState("stopped", message); a 5xx
// or a network failure retries after 1 s, doubling to 30 s. onEvent(name, data) gets each event's parsed JSON.
export function follow(url, { onReady = () => {}, onEvent = () => {}, onState = () => {} } = {}) {
  let stopped = false;
  let source = null;
  let reading = null;
  const stop = () => { stopped = true; if (source) source.close(); if (reading) reading.abort(); };
  if (!token()) {
    source = new EventSource(url);
    source.addEventListener("ready", () => onReady());
    source.addEventListener("request", (event) => onEvent("request", JSON.parse(event.data)));
    source.addEventListener("error", () => onState(source.readyState === EventSource.CLOSED ? "stopped" : "retrying",
      source.readyState === EventSource.CLOSED ? "The live stream was refused; reload the page to try again."
        : "The live stream was interrupted; reconnecting…"));
    return stop;
  }
  (async () => {
    let lastId = null;
    let wait = 1000;
    while (!stopped) {
      reading = new AbortController();
      let response;
      try {
        const kept = token();
        const headers = { Accept: "text/event-stream" };
        if (kept) headers.Authorization = "Bearer " + kept;
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        response = await fetch(url, { headers, signal: reading.signal });
        if (response.status === 401) {
          onState("token", "The admin API refused the token (401): enter it to follow the live stream.");
          await askForToken(Boolean(kept));
          continue;
        }
        if (response.status >= 400 && response.status < 500) {
          const answer = await response.json().catch(() => null);
          const why = answer && answer.error && answer.error.message ? answer.error.message : response.statusText;
          onState("stopped", `The live stream was refused (${response.status} ${why}); reload the page to try again.`);
          return;
        }
        if (!response.ok) throw new Error(String(response.status));
        wait = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = { event: "message", data: [] };
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "data") event.data.push(text);
              else if (field === "event") event.event = text;
              else if (field === "id") lastId = text;
            }
            if (event.event === "ready") onReady();
            else if (event.data.length) onEvent(event.event, JSON.parse(event.data.join("\n")));
          }
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      onState("retrying", `The live stream was interrupted; reconnecting in ${wait / 1000} s…`);
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 30000);
    }
  })();
  return stop;
}

// -- DOM building: text only ---------------------------------------------------------------------------------

// el("button", {class: "danger", onclick: fn, "aria-label": "..."}, "Delete"): children are nodes or text
// (set as text, never parsed), arrays are flattened, null/false/undefined are skipped.
export function el(tag, attrs = {}, ...children) {
  const svg = ["svg", "polyline", "line", "text", "title", "g", "circle", "rect", "path"].includes(tag);
  const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "text") {
      node.textContent = String(value);
    } else if (name === "style") {
      throw new Error("el: no inline style (the console's CSP forbids it); use a class");
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replace a container's content with these children.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// table([{label: "Name", value: row => row.name, class: "num"}], rows, {caption, empty}): a table whose cells
// are text or nodes; a row "empty" (default "Nothing yet.") when there are none.
export function table(columns, rows, options = {}) {
  const head = el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.class }, c.label))));
  const body = el("tbody", {});
  for (const row of rows) {
    body.append(el("tr", {}, columns.map((c) => {
      const value = c.value(row);
      return el("td", { class: c.class }, value === null || value === undefined ? "" : value);
    })));
  }
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: String(columns.length), class: "muted" }, options.empty || "Nothing yet.")));
  }
  return el("table", { class: options.class }, options.caption ? el("caption", {}, options.caption) : null, head, body);
}

// pager({offset, limit, total, shown, label, onPage}): "21–40 of 345" with Previous and Next buttons;
// onPage(newOffset). Without a total (a keyset list), Next is offered while a full page came back.
export function pager({ offset, limit, total, shown, label = "Pages", onPage }) {
  const first = shown ? offset + 1 : 0;
  const last = offset + shown;
  const more = total === undefined || total === null ? shown === limit : last < total;
  const words = total === undefined || total === null ? `${first}–${last}` : `${first}–${last} of ${total}`;
  return el("nav", { class: "pager", "aria-label": label },
    el("button", { type: "button", class: "secondary", disabled: offset <= 0,
                   onclick: () => onPage(Math.max(0, offset - limit)) }, "Previous"),
    el("span", { "aria-live": "polite" }, shown ? words : "none"),
    el("button", { type: "button", class: "secondary", disabled: !more, onclick: () => onPage(offset + limit) }, "Next"),
  );
}

// -- a small SVG line chart ----------------------------------------------------------------------------------

// lineChart(parent, [{x, y}, ...], {label, format, max, atLeast}): replaces parent's content with an SVG of the points
// (x ascending), its min and max written on the axis, and a text alternative for screen readers.
export function lineChart(parent, points, options = {}) {
  const width = 320, height = 140, left = 44, right = 8, top = 10, bottom = 20;
  const format = options.format || ((y) => String(Math.round(y * 100) / 100));
  const label = options.label || "chart";
  const ys = points.map((p) => Number(p.y));
  const xs = points.map((p) => Number(p.x));
  // options.max: a fixed top (100 for a percentage); options.atLeast: the lowest top (an idle chart's scale)
  const minY = Math.min(0, ...ys);
  const maxY = options.max ?? Math.max(options.atLeast ?? 1e-9, ...ys);
  const minX = xs.length ? Math.min(...xs) : 0, maxX = xs.length ? Math.max(...xs) : 1;
  const sx = (x) => left + (maxX === minX ? (width - left - right) : ((x - minX) / (maxX - minX)) * (width - left - right));
  const sy = (y) => top + (1 - (y - minY) / (maxY - minY || 1)) * (height - top - bottom);
  const last = points.length ? format(points[points.length - 1].y) : "no data";
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
                          "aria-label": `${label}: ${points.length} points, latest ${last}` },
    el("title", {}, `${label}: latest ${last}`),
    el("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }),
    el("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }),
    el("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, format(maxY)),
    el("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, format(minY)),
    points.length
      ? el("polyline", { class: "line", points: points.map((p) => `${sx(Number(p.x)).toFixed(1)},${sy(Number(p.y)).toFixed(1)}`).join(" ") })
      : el("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "no data yet"),
  );
  fill(parent, svg);
  return svg;
}

// -- bodies as text ------------------------------------------------------------------------------------------

// pretty(body, contentType): JSON or XML indented (numbers kept exactly as sent); anything else as it came.
export function pretty(body, contentType = "") {
  if (body === null || body === undefined) return "";
  const text = String(body);
  const type = contentType.toLowerCase();
  const trimmed = text.trim();
  if (type.includes("json") || ((trimmed.startsWith("{") || trimmed.startsWith("[")) && !type.includes("xml"))) {
    return prettyJson(text);
  }
  if (type.includes("xml") || trimmed.startsWith("<")) return prettyXml(text);
  return text;
}

function prettyJson(text) {
  // Re-indents token by token: JSON.parse would round 12.50 to 12.5 and large ids to floats.
  let out = "", depth = 0, inString = false, escaped = false;
  const pad = () => "\n" + "  ".repeat(depth);
  for (const ch of text) {
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') { inString = true; out += ch; }
    else if (ch === "{" || ch === "[") { depth++; out += ch + pad(); }
    else if (ch === "}" || ch === "]") { depth = Math.max(0, depth - 1); out += pad() + ch; }
    else if (ch === ",") out += "," + pad();
    else if (ch === ":") out += ": ";
    else if (!/\s/.test(ch)) out += ch;
  }
  return out.replace(/([{[])\n\s*([}\]])/g, "$1$2"); // {} and [] stay on one line
}

function prettyXml(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return text;
  const lines = [];
  const escapeText = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const escapeAttr = (s) => escapeText(s).replace(/"/g, "&quot;");
  const walk = (node, depth) => {
    const pad = "  ".repeat(depth);
    const attrs = Array.from(node.attributes || []).map((a) => ` ${a.name}="${escapeAttr(a.value)}"`).join("");
    const kids = Array.from(node.childNodes).filter((k) => k.nodeType !== Node.TEXT_NODE || k.nodeValue.trim());
    if (kids.length === 0) lines.push(`${pad}<${node.nodeName}${attrs}/>`);
    else if (kids.length === 1 && kids[0].nodeType === Node.TEXT_NODE) {
      lines.push(`${pad}<${node.nodeName}${attrs}>${escapeText(kids[0].nodeValue.trim())}</${node.nodeName}>`);
    } else {
      lines.push(`${pad}<${node.nodeName}${attrs}>`);
      for (const kid of kids) {
        if (kid.nodeType === Node.ELEMENT_NODE) walk(kid, depth + 1);
        else if (kid.nodeType === Node.TEXT_NODE) lines.push("  ".repeat(depth + 1) + escapeText(kid.nodeValue.trim()));
      }
      lines.push(`${pad}</${node.nodeName}>`);
    }
  };
  walk(doc.documentElement, 0);
  const declaration = text.trim().startsWith("<?xml") ? text.trim().slice(0, text.trim().indexOf("?>") + 2) + "\n" : "";
  return declaration + lines.join("\n");
}

// -- copy ----------------------------------------------------------------------------------------------------

// headersTable(caption, [[name, value], ...]): a message's headers as a two-column table (Requests, Webhooks).
export function headersTable(caption, pairs, empty = "None recorded.") {
  return table([{ label: "Header", value: (p) => p[0] }, { label: "Value", value: (p) => p[1] }], pairs || [],
               { caption, empty });
}

// copyButton(text, label): a button copying `text`; it says "Copied" for a moment (announced politely).
export function copyButton(text, label = "Copy") {
  const button = el("button", { type: "button", class: "secondary", "aria-label": label === "Copy" ? "Copy" : label }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = el("textarea", { "aria-hidden": "true", class: "sr-only", tabindex: "-1" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return button;
}

// A block of text (a curl line, a secret) with its copy button.
export function copyable(text, label) {
  return el("div", { class: "copyable" }, el("pre", {}, el("code", {}, text)), copyButton(text, label));
}

// -- messages ------------------------------------------------------------------------------------------------

// say(node, text, kind): a status line (kind "error" or "ok"), announced to screen readers.
export function say(node, text, kind = "ok") {
  fill(node, text);
  node.className = kind;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
  return node;
}

// -- the banner: on every page while a fault rule or a moved clock is in force --------------------------------

const BANNER_EVERY_MS = 5000;

export async function banner() {
  const area = document.getElementById("banner");
  if (!area) return;
  let faults, clock;
  try {
    [faults, clock] = await Promise.all([api("/faults"), api("/clock")]);
  } catch {
    return; // the page's own calls say what is wrong
  }
  const parts = [];
  const rules = faults.faults || [];
  if (rules.length) {
    const what = rules.slice(0, 3).map((r) => `${r.effect}${r.status ? " " + r.status : ""} on ${r.dialect || "every dialect"} ${r.path || "*"}`);
    parts.push(`${rules.length} fault rule${rules.length === 1 ? "" : "s"} in force (${what.join("; ")}${rules.length > 3 ? "; …" : ""}).`);
  }
  if (clock.frozen_at) parts.push(`The clock is frozen at ${clock.frozen_at}.`);
  else if (Number(clock.offset_seconds)) parts.push(`The clock is shifted by ${clock.offset_seconds} s (now ${clock.now}).`);
  if (!parts.length) {
    area.hidden = true;
    area.replaceChildren();
    return;
  }
  fill(area, el("span", {}, "Sandbox altered: " + parts.join(" ") + " "),
       el("a", { href: CONSOLE + "/controls" }, "Change it"));
  area.hidden = false;
}

let bannerTimer = null;

function startBanner() {
  banner();
  if (bannerTimer === null) {
    bannerTimer = setInterval(() => { if (!document.hidden) banner(); }, BANNER_EVERY_MS);
  }
}

// -- small formatting helpers --------------------------------------------------------------------------------

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

startBanner();
