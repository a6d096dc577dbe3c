// The Requests page: the journal from GET /__admin/requests (newest first, paged back with ?before=), kept live
// by ONE server-sent event stream (GET /__admin/requests/stream, the same filters, from the newest entry shown),
// and an entry opened to its bodies, headers (masked by the journal), fault and upstream exchanges. The filters,
// the page and the opened entry are in the URL, so a link reproduces the view. Text only: no innerHTML.
import { api, el, fill, table, headersTable, pretty, when, query, follow, CONSOLE } from "./console.js";

const FILTERS = ["tenant", "dialect", "status", "path"];
const LIMIT = 50;
const STREAM = "/__admin/requests/stream";

const params = new URLSearchParams(location.search);
const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""]));
const before = params.get("before") || "";

const live = document.getElementById("live");
const message = document.getElementById("message");
const list = document.getElementById("list");
const pages = document.getElementById("pages");
const detail = document.getElementById("detail");
const detailHeading = document.getElementById("detail-heading");
const detailBody = document.getElementById("detail-body");

let rows = []; // the entries listed, newest first
let total = 0;
let arrivedCount = 0;
const known = new Map(); // id -> entry, for opening one without asking again

for (const name of FILTERS) {
  const input = document.querySelector(`#filters [name="${name}"]`);
  if (input) input.value = filters[name];
}

// -- the URL is the view ---------------------------------------------------------------------------------------

function viewUrl(changes) {
  const next = { ...filters, before, entry: params.get("entry") || "", ...changes };
  return CONSOLE + "/requests" + query(next);
}

// -- the list --------------------------------------------------------------------------------------------------

function header(pairs, name) {
  const found = (pairs || []).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return found ? found[1] : "";
}

function faultWords(fault) {
  if (!fault) return "";
  return `${fault.id}: ${fault.effect}${fault.status ? " " + fault.status : ""} ${fault.when}`;
}

function openLink(entry) {
  return el("a", {
    href: viewUrl({ entry: entry.id }),
    "aria-label": `Open request ${entry.id}: ${entry.method} ${entry.path}`,
    onclick: (event) => {
      event.preventDefault();
      history.pushState(null, "", viewUrl({ entry: entry.id }));
      params.set("entry", String(entry.id));
      show(entry.id);
    },
  }, `#${entry.id}`);
}

const COLUMNS = [
  { label: "Request", value: (e) => openLink(e) },
  { label: "Time (UTC)", value: (e) => when(e.at) },
  { label: "Tenant", value: (e) => e.tenant || "(none)" },
  { label: "Dialect", value: (e) => e.dialect },
  { label: "Method", value: (e) => e.method },
  { label: "Path", value: (e) => e.path + (e.query ? "?" + e.query : "") },
  { label: "Status", value: (e) => (e.status === null ? e.outcome : String(e.status)), class: "num" },
  { label: "ms", value: (e) => e.duration_ms.toFixed(1), class: "num" },
  { label: "Fault", value: (e) => faultWords(e.fault) },
];

function renderList() {
  fill(list, table(COLUMNS, rows, {
    caption: before ? `Requests older than #${before}` : "Newest requests",
    empty: "No request matches (yet). Make one with a dialect's curl line from the Tenants page.",
  }));
  const oldest = rows.length ? rows[rows.length - 1].id : null;
  fill(pages, el("nav", { class: "pager", "aria-label": "Journal pages" },
    before ? el("a", { href: viewUrl({ before: "", entry: "" }) }, "Newest requests") : null,
    total > rows.length && oldest !== null
      ? el("a", { href: viewUrl({ before: oldest, entry: "" }) }, "Older requests") : null,
    el("span", { class: "muted" }, `${rows.length} shown of ${total} matching`),
  ));
}

async function load() {
  let answer;
  try {
    answer = await api("/requests" + query({ ...filters, before, limit: LIMIT }));
  } catch (error) {
    fill(live, "");
    message.className = "error";
    message.setAttribute("role", "alert");
    fill(message, `The journal could not be read: ${error.message}`);
    return;
  }
  rows = answer.requests;
  total = answer.total;
  for (const entry of rows) known.set(entry.id, entry);
  renderList();
  if (before) {
    fill(live, "Showing older requests: new ones are added on the newest page only.");
  } else {
    followNew(rows.length ? rows[0].id : null);
  }
  if (params.get("entry")) show(Number(params.get("entry")));
}

function arrived(entry) {
  if (known.has(entry.id)) return;
  known.set(entry.id, entry);
  rows.unshift(entry);
  if (rows.length > LIMIT) rows.pop();
  total += 1;
  arrivedCount += 1;
  renderList();
  fill(live, `Live: ${arrivedCount} new request${arrivedCount === 1 ? "" : "s"} since this page opened ` +
             `(latest #${entry.id}, ${entry.method} ${entry.path}, ${entry.status === null ? entry.outcome : entry.status}).`);
}

// -- following the stream (console.js follow: EventSource, or a fetch read with the admin token) -------------

function followNew(since) {
  const url = STREAM + query({ ...filters, since });
  follow(url, {
    onReady: () => { if (!arrivedCount) fill(live, "Live: new requests appear here as they arrive."); },
    onEvent: (name, entry) => { if (name === "request") arrived(entry); },
    onState: (state, words) => fill(live, words),
  });
}

// -- one request, opened -----------------------------------------------------------------------------------------

async function entryById(id) {
  if (known.has(id)) return known.get(id);
  // Entries after id-1, newest first: the oldest of them is the one (two small calls, no whole-journal read).
  const counted = await api("/requests" + query({ since: id - 1, limit: 0 }));
  if (!counted.total) return null;
  const answer = await api("/requests" + query({ since: id - 1, offset: counted.total - 1, limit: 1 }));
  const found = answer.requests[0];
  return found && found.id === id ? found : null;
}

function bodyBlock(label, body, contentType) {
  if (!body || !body.size) return el("p", { class: "muted" }, `${label}: empty.`);
  return el("div", {},
    el("h4", {}, label),
    el("pre", { class: "body", tabindex: "0", "aria-label": label }, pretty(body.text, contentType)),
    body.truncated ? el("p", { class: "muted" }, `Cut at the journal's limit: ${body.size} bytes were sent.`) : null);
}

function faultBlock(fault) {
  if (!fault) return el("p", {}, "No fault rule struck it.");
  const ran = fault.handler_ran ? `; the handler had answered ${fault.handler_status}` : "; the handler did not run";
  return el("p", { class: "error", id: "fault-struck" },
    `Fault rule ${fault.id} struck: ${fault.effect}${fault.status ? " " + fault.status : ""}, ${fault.when} the handler${ran}. `,
    el("a", { href: CONSOLE + "/controls" }, "See the fault rules"));
}

function upstreamBlock(exchanges) {
  if (!exchanges || !exchanges.length) return el("p", { class: "muted" }, "No exchange with an upstream.");
  return exchanges.map((x, i) => el("div", { class: "card" },
    el("h4", {}, `${i + 1}. ${x.method} ${x.url} → ${x.status === null ? "no answer" : x.status} (${x.duration_ms} ms)`),
    x.error ? el("p", { class: "error" }, x.error) : null,
    bodyBlock("Sent to the upstream", x.request_body, ""),
    bodyBlock("The upstream's answer", x.response_body, "")));
}

async function show(id) {
  let entry;
  try {
    entry = await entryById(id);
  } catch (error) {
    entry = null;
  }
  detail.hidden = false;
  if (!entry) {
    fill(detailHeading, `Request #${id}`);
    fill(detailBody, el("p", { class: "error" }, "It is no longer in the journal (or never was)."));
    detailHeading.focus();
    return;
  }
  fill(detailHeading, `Request #${entry.id}: ${entry.method} ${entry.path}`);
  const facts = [
    ["Time (UTC)", when(entry.at)], ["Ledger time", when(entry.ledger_time)], ["Tenant", entry.tenant || "(none)"],
    ["Dialect", entry.dialect], ["Query", entry.query || "(none)"],
    ["Status", entry.status === null ? "(no answer)" : String(entry.status)], ["Outcome", entry.outcome],
    ["Duration", `${entry.duration_ms} ms`], ["Request id", entry.request_id || ""],
    ["Idempotency key", entry.idempotency_key || "(none)"],
  ];
  fill(detailBody,
    table([{ label: "Field", value: (f) => f[0] }, { label: "Value", value: (f) => f[1] }], facts,
          { caption: "Summary" }),
    el("h3", {}, "Fault"), faultBlock(entry.fault),
    el("h3", {}, "Request"), headersTable("Request headers (secrets masked)", entry.request_headers),
    bodyBlock("Request body", entry.request_body, header(entry.request_headers, "Content-Type")),
    el("h3", {}, "Answer"), headersTable("Answer headers", entry.response_headers),
    bodyBlock("Answer body", entry.response_body, header(entry.response_headers, "Content-Type")),
    el("h3", {}, "Upstream exchanges"), upstreamBlock(entry.upstream),
    el("p", {}, el("a", {
      href: viewUrl({ entry: "" }),
      onclick: (event) => {
        event.preventDefault();
        history.pushState(null, "", viewUrl({ entry: "" }));
        params.delete("entry");
        detail.hidden = true;
        list.focus();
      },
    }, "Close this request")));
  detailHeading.focus();
}

// Back and Forward between opened requests (a skip link's #main changes only the hash: nothing to redo).
window.addEventListener("popstate", () => {
  const entry = new URLSearchParams(location.search).get("entry");
  if (entry === (params.get("entry") || null)) return;
  if (entry) { params.set("entry", entry); show(Number(entry)); }
  else { params.delete("entry"); detail.hidden = true; }
});

list.setAttribute("tabindex", "-1");
load();
