// The Webhooks page: deliveries from GET /__admin/webhooks/deliveries (newest first, paged with offset/limit,
// filtered by tenant; all in the URL), one opened to its attempts, signed headers and body, and Redeliver
// (POST /__admin/webhooks/deliveries/{id}/redeliver) with its answer shown, then the delivery looked at again
// a few times (a handful of calls, stopping once it is no longer pending) until the sender has tried it.
import { api, el, fill, table, headersTable, pager, pretty, when, query, say, CONSOLE } from "./console.js";

const LIMIT = 25;
const params = new URLSearchParams(location.search);
const tenant = params.get("tenant") || "";
const offset = Math.max(0, Number(params.get("offset")) || 0);

const message = document.getElementById("message");
const list = document.getElementById("list");
const pages = document.getElementById("pages");
const detail = document.getElementById("detail");
const detailHeading = document.getElementById("detail-heading");
const detailBody = document.getElementById("detail-body");
document.getElementById("f-tenant").value = tenant;

let rows = [];

function viewUrl(changes) {
  return CONSOLE + "/webhooks" + query({ tenant, offset: offset || "", delivery: params.get("delivery") || "", ...changes });
}

function stateWords(d) {
  if (d.state === "pending") return d.attempts ? `pending (retry at ${when(d.next_attempt_at)})` : "pending";
  return d.state;
}

const COLUMNS = [
  { label: "Delivery", value: (d) => el("a", {
    href: viewUrl({ delivery: d.id }), "aria-label": `Open delivery ${d.id}: ${d.event}`,
    onclick: (event) => { event.preventDefault(); open(d.id, true); } }, `#${d.id}`) },
  { label: "Event", value: (d) => d.event },
  { label: "URL", value: (d) => d.url },
  { label: "State", value: (d) => stateWords(d) },
  { label: "Attempts", value: (d) => String(d.attempts), class: "num" },
  { label: "Last status", value: (d) => (d.last_status === null ? (d.last_error || "") : String(d.last_status)) },
  { label: "Next try (UTC)", value: (d) => when(d.next_attempt_at) },
  { label: "Created (UTC)", value: (d) => when(d.created_at) },
  { label: "Action", value: (d) => el("button", { type: "button", class: "secondary",
    "aria-label": `Redeliver delivery ${d.id}`, onclick: () => redeliver(d.id) }, "Redeliver") },
];

async function fetchPage() {
  const answer = await api("/webhooks/deliveries" + query({ tenant, offset, limit: LIMIT }));
  rows = answer.deliveries;
  fill(list, table(COLUMNS, rows, { caption: tenant ? `Deliveries of tenant ${tenant}` : "Deliveries, every tenant",
    empty: "No webhook yet. A tenant with a webhook URL gets one for each reward, redemption or purchase." }));
  fill(pages, pager({ offset, limit: LIMIT, shown: rows.length, label: "Delivery pages",
    onPage: (next) => { location.href = viewUrl({ offset: next || "", delivery: "" }); } }));
}

async function load() {
  try {
    await fetchPage();
  } catch (error) {
    say(message, `The deliveries could not be read: ${error.message}`, "error");
    return;
  }
  if (params.get("delivery")) open(Number(params.get("delivery")), false);
}

function render(d) {
  fill(detailHeading, `Delivery #${d.id}: ${d.event}`);
  const signed = d.signed_headers;
  fill(detailBody,
    table([{ label: "Field", value: (f) => f[0] }, { label: "Value", value: (f) => f[1] }],
      [["URL", d.url], ["State", stateWords(d)], ["Attempts", String(d.attempts)],
       ["Last status", d.last_status === null ? "(none)" : String(d.last_status)], ["Last error", d.last_error || "(none)"],
       ["Next try (UTC)", when(d.next_attempt_at) || "(none)"], ["Idempotency key", d.idempotency_key],
       ["Created (UTC)", when(d.created_at)]], { caption: "Summary" }),
    el("p", {}, el("button", { type: "button", onclick: () => redeliver(d.id) }, `Redeliver #${d.id}`)),
    el("h3", {}, "Attempts"),
    table([{ label: "Attempt", value: (a) => String(a.attempt), class: "num" }, { label: "At (UTC)", value: (a) => when(a.at) },
           { label: "Status", value: (a) => (a.status === null ? "(no answer)" : String(a.status)) },
           { label: "Error", value: (a) => a.error || "" }], d.history,
          { caption: `Attempts of delivery ${d.id}`, empty: "Not tried yet." }),
    // Not a record of what was sent: the admin API signs the body again, with the sender's own code, for the
    // latest attempt's time (or now, not tried yet). Said so, so nobody debugs a receiver against them as sent.
    el("h3", {}, "Signed headers (signed again here, not recorded)"),
    signed ? headersTable(`Signed as the next attempt will be, for ${when(signed.at)} (${d.history.length
      ? "the latest attempt's time" : "now: not tried yet"}); not a record of the headers sent; secrets masked`,
      signed.headers, "None.")
      : el("p", { class: "muted" }, "Its tenant has no secret to sign with."),
    el("h3", {}, "Body"),
    el("pre", { class: "body", tabindex: "0", "aria-label": "Webhook body" }, pretty(d.body, "application/json")));
  detail.hidden = false;
}

async function open(id, focus) {
  if (Number(params.get("delivery")) !== id) history.pushState(null, "", viewUrl({ delivery: id }));
  params.set("delivery", String(id));
  const found = rows.find((d) => d.id === id);
  if (found) render(found);
  else {
    detail.hidden = false;
    fill(detailHeading, `Delivery #${id}`);
    fill(detailBody, el("p", { class: "muted" }, "Not on this page of the list."));
  }
  if (focus) detailHeading.focus();
}

async function redeliver(id) {
  say(message, `Sending delivery #${id} again…`);
  let answer;
  try {
    answer = await api(`/webhooks/deliveries/${id}/redeliver`, { method: "POST" });
  } catch (error) {
    say(message, `Delivery #${id} could not be sent again: ${error.message}`, "error");
    return;
  }
  say(message, `Delivery #${id} queued again (${stateWords(answer)}); waiting for the attempt…`);
  render(answer);
  // The sender tries it within moments: look again a few times, then say how it ended.
  for (let look = 0; look < 10; look++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await fetchPage().catch(() => null);
    const now = rows.find((d) => d.id === id);
    if (now && (now.state !== "pending" || now.attempts > answer.attempts)) {
      render(now);
      const how = now.state === "delivered" ? `delivered (status ${now.last_status})`
        : `${stateWords(now)}${now.last_error ? ": " + now.last_error : ""}`;
      say(message, `Delivery #${id} ${how}.`, now.state === "delivered" ? "ok" : "error");
      return;
    }
  }
  say(message, `Delivery #${id} is queued; the sender has not tried it yet. Reload to see it.`);
}

// Back and Forward between opened deliveries (a skip link's #main changes only the hash: nothing to redo).
window.addEventListener("popstate", () => {
  const id = new URLSearchParams(location.search).get("delivery");
  if (id && Number(id) !== Number(params.get("delivery"))) open(Number(id), false);
  else if (!id && params.get("delivery")) { params.delete("delivery"); detail.hidden = true; }
});
load();
