// Members: find a member by any identity or by name, a tenant's members a page at a time, and one member's view
// (?tenant=&member=): its balance as each dialect shows it, a chart of its points, its entries, and the
// credit/debit/purchase requests GET /__admin/members/actions offers, sent as a client sends them.
import { ApiError, api, el, fill, follow, pager, pretty, query, say, table, when } from "./console.js";

const LIST_LIMIT = 20;
const FOUND_LIMIT = 20; // a search by name shows at most this many members (and asks for more words past it)
// What GET /__admin/members takes as member= (one identity, read by the index); any other text searches names.
const IDENTITY = /^(id:[0-9]+|[0-9]+|usr-.*|crd-.*|.*@.*)$/;
const ENTRY_LIMIT = 20;
const CHART_ENTRIES = 100; // the chart shows the balance after each of the last this many points entries
const AMOUNT = /^[0-9]{1,9}([.][0-9]{1,2})?$/;

const params = new URLSearchParams(location.search);
const form = document.getElementById("find-form");
const tenantInput = document.getElementById("find-tenant");
const memberInput = document.getElementById("find-member");
const findStatus = document.getElementById("find-status");
const findResults = document.getElementById("find-results");
const memberSection = document.getElementById("member-section");
const listArea = document.getElementById("member-list");

// -- where we are: ?tenant=NAME&member=IDENTITY&after=CUSTOMER_ID (a link reproduces the view) -----------------

function go(changes) {
  const next = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") next.delete(name);
    else next.set(name, String(value));
  }
  history.pushState(null, "", location.pathname + (next.toString() ? "?" + next : ""));
  show();
}

window.addEventListener("popstate", () => show());

function memberLink(tenant, member, text) {
  const href = location.pathname + query({ tenant, member: "id:" + member.id });
  return el("a", { href, onclick: (event) => { event.preventDefault(); go({ tenant, member: "id:" + member.id }); } }, text);
}

// A member's identities as each dialect names them ("customer_id 1534"), one line per dialect.
function identities(member) {
  const lines = [];
  for (const [dialect, view] of Object.entries(member)) {
    if (!view || typeof view !== "object" || ["balances", "dialect_balances"].includes(dialect)) continue;
    const parts = Object.entries(view)
      .filter(([, value]) => value !== null && value !== "" && !(Array.isArray(value) && value.length === 0))
      .map(([field, value]) => `${field} ${Array.isArray(value) ? value.join(", ") : value}`);
    if (parts.length) lines.push(`${dialect}: ${parts.join(" · ")}`);
  }
  return lines;
}

function posted(member, asset = "points") {
  const balance = member.balances && member.balances[asset];
  return balance ? balance.posted : "";
}

// -- the tenants offered (a datalist: any name may be typed, the first page of names is suggested) ------------

async function tenantNames() {
  try {
    const answer = await api("/tenants" + query({ limit: 100 }));
    fill(document.getElementById("tenant-names"), answer.tenants.map((t) => el("option", { value: t.name })));
    return answer.tenants.map((t) => t.name);
  } catch (error) {
    say(findStatus, `Could not read the tenants: ${error.message}`, "error");
    return [];
  }
}

// -- finding ----------------------------------------------------------------------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const tenant = tenantInput.value.trim();
  const member = memberInput.value.trim();
  if (!tenant || !member) {
    say(findStatus, "Give a tenant and an identity or a name.", "error");
    return;
  }
  fill(findResults);
  say(findStatus, "Looking…");
  const byName = !IDENTITY.test(member);
  let answer;
  try {
    answer = await api("/members" + query(byName ? { tenant, q: member, limit: FOUND_LIMIT } : { tenant, member }));
  } catch (error) {
    say(findStatus, `Not found: ${error.message}`, "error");
    return;
  }
  if (answer.members.length === 0) {
    say(findStatus, byName ? `No member of ${tenant} has a name (or id) containing ${member}.` : `No member of ${tenant} is ${member}.`, "error");
  } else if (answer.members.length === 1 && answer.total === 1) {
    say(findStatus, `Found ${answer.members[0].name}.`);
    go({ tenant, member: "id:" + answer.members[0].id });
  } else if (byName) {
    const more = answer.total > answer.members.length;
    say(findStatus, more
      ? `${answer.total} members match ${member}; the first ${answer.members.length} are shown: narrow your search.`
      : `${answer.total} members match ${member}:`, more ? "error" : undefined);
    fill(findResults, el("ul", {}, answer.members.map((m) => el("li", {}, memberLink(tenant, m, m.name), " — ", identities(m).join("; ")))));
  } else {
    say(findStatus, `${answer.members.length} members answer to ${member} (a number can be one member's customer number and another's member number):`);
    fill(findResults, el("ul", {}, answer.members.map((m) => el("li", {}, memberLink(tenant, m, m.name), " — ", identities(m).join("; ")))));
  }
});

// -- the list of a tenant's members ----------------------------------------------------------------------------

// Paged by the cursor the listing answers (next: the last customer id shown), so a page costs the same at any
// depth of a million members; no total is asked for (counting walks every member).
async function showList(tenant, after) {
  if (!tenant) {
    fill(listArea, el("p", { class: "muted" }, "Name a tenant above to list its members."));
    return;
  }
  let answer;
  try {
    answer = await api("/members" + query({ tenant, after, limit: LIST_LIMIT }));
  } catch (error) {
    fill(listArea, el("p", { class: "error", role: "alert" }, `Could not list the members of ${tenant}: ${error.message}`));
    return;
  }
  fill(listArea,
    table([
      { label: "Name", value: (m) => memberLink(tenant, m, m.name || `member ${m.id}`) },
      { label: "Identities", value: (m) => identities(m).join("; ") },
      { label: "Points", class: "num", value: (m) => posted(m) },
      { label: "Deleted", value: (m) => (m.deleted ? "yes" : "") },
    ], answer.members, { caption: `Members of ${tenant}`, empty: "This tenant has no members." }),
    el("nav", { class: "pager", "aria-label": "Pages of members" },
      el("button", { type: "button", class: "secondary", disabled: !after, onclick: () => go({ after: null }) }, "First page"),
      el("span", { "aria-live": "polite" }, answer.members.length
        ? `${answer.members.length} members${after ? ` after customer id ${after}` : ""}` : "none"),
      el("button", { type: "button", class: "secondary", disabled: !answer.next, onclick: () => go({ after: answer.next }) }, "Next"),
    ),
  );
}

// -- one member --------------------------------------------------------------------------------------------------

// keepActions: after a request was sent from one of the forms, the forms (and the answer shown) stay.
async function showMember(tenant, identity, { keepActions = false } = {}) {
  memberSection.hidden = false;
  const heading = document.getElementById("member-heading");
  let answer;
  try {
    answer = await api("/members" + query({ tenant, member: identity }));
  } catch (error) {
    fill(heading, "Member");
    fill(document.getElementById("member-ids"), el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  const member = answer.members[0];
  if (!member) {
    fill(heading, "Member");
    fill(document.getElementById("member-ids"), el("p", { class: "error", role: "alert" }, `No member of ${tenant} is ${identity}.`));
    for (const id of ["dialect-balances", "balance-chart", "chart-caption", "member-actions", "member-entries"]) fill(document.getElementById(id));
    return;
  }
  fill(heading, `${member.name} (${tenant})`);
  fill(document.getElementById("member-ids"),
    el("ul", {}, identities(member).map((line) => el("li", {}, line))),
    member.deleted ? el("p", { class: "error" }, "This member is deleted.") : null);
  showDialectBalances(member);
  await Promise.all([showChart(tenant, member), showEntries(tenant, member, null),
                     keepActions ? null : showActions(tenant, member)]);
}

function showDialectBalances(member) {
  const rows = [];
  for (const [dialect, fields] of Object.entries(member.dialect_balances || {})) {
    for (const [field, value] of Object.entries(fields)) rows.push({ dialect, field, value });
  }
  fill(document.getElementById("dialect-balances"), table([
    { label: "Dialect", value: (r) => r.dialect },
    { label: "Field", value: (r) => el("code", {}, r.field) },
    { label: "Value", class: "num", value: (r) => el("span", { "data-dialect": r.dialect, "data-field": r.field }, r.value) },
  ], rows, { caption: "What each dialect's own read of this member answers", empty: "No dialect shows a balance." }));
}

// The points balance after each of the member's last CHART_ENTRIES points entries: worked back from today's
// posted balance through the confirmed amounts (pending and cancelled ones never moved it).
async function showChart(tenant, member) {
  const where = { tenant, member: "id:" + member.id, asset: "points" };
  const chart = document.getElementById("balance-chart");
  const caption = document.getElementById("chart-caption");
  try {
    const counted = await api("/entries" + query({ ...where, limit: 0 }));
    const offset = Math.max(0, counted.total - CHART_ENTRIES);
    const page = await api("/entries" + query({ ...where, offset, limit: CHART_ENTRIES }));
    // In time order (then id): an entry back-dated by a moved clock is drawn where it happened.
    page.entries.sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : a.id - b.id));
    const cents = (text) => Math.round(Number(text || 0) * 100); // sums in whole cents: no float drift
    let balance = cents(posted(member));
    const points = [];
    for (let i = page.entries.length - 1; i >= 0; i--) {
      const entry = page.entries[i];
      points.unshift({ x: offset + i, y: balance / 100, when: entry.occurred_at });
      if (entry.status === "confirmed") balance -= cents(entry.amount);
    }
    balanceChart(chart, points, "Points balance");
    say(caption, points.length
      ? `Points balance after each of the last ${points.length} points entries (of ${counted.total}), from ${when(points[0].when)} to ${when(points[points.length - 1].when)}; now ${posted(member)}.`
      : "No points entries yet.");
  } catch (error) {
    fill(chart);
    say(caption, `Could not read the entries: ${error.message}`, "error");
  }
}

// A step chart of a balance, its axis fitted to the values shown (console.js's lineChart starts at 0, where a
// debit of 25 on 30,000 points would not show): each entry a step, its first and last dates below.
function balanceChart(parent, points, label) {
  const width = 640, height = 170, left = 64, right = 12, top = 12, bottom = 26;
  const ys = points.map((p) => p.y);
  let low = Math.min(...ys), high = Math.max(...ys);
  const pad = (high - low) * 0.1 || Math.max(1, Math.abs(high) * 0.01);
  low -= pad;
  high += pad;
  const sx = (i) => left + (points.length > 1 ? (i / (points.length - 1)) * (width - left - right) : (width - left - right) / 2);
  const sy = (y) => top + (1 - (y - low) / (high - low)) * (height - top - bottom);
  const steps = [];
  points.forEach((p, i) => {
    if (i > 0) steps.push(`${sx(i).toFixed(1)},${sy(points[i - 1].y).toFixed(1)}`);
    steps.push(`${sx(i).toFixed(1)},${sy(p.y).toFixed(1)}`);
  });
  const format = (y) => y.toLocaleString("en", { maximumFractionDigits: 2 });
  const last = points.length ? points[points.length - 1] : null;
  const svg = el("svg", { class: "chart balance-chart", viewBox: `0 0 ${width} ${height}`, role: "img",
                          "aria-label": `${label}: ${points.length} points, latest ${last ? last.y : "none"}` },
    el("title", {}, `${label}: latest ${last ? format(last.y) : "none"}`),
    el("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }),
    el("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }),
    el("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, format(high - pad)),
    el("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, format(low + pad)),
    points.length ? el("text", { x: left, y: height - 8, "text-anchor": "start" }, when(points[0].when).slice(0, 10)) : null,
    last ? el("text", { x: width - right, y: height - 8, "text-anchor": "end" }, when(last.when).slice(0, 10)) : null,
    points.length ? el("polyline", { class: "line", points: steps.join(" ") })
      : el("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "no entries yet"),
    last ? el("circle", { class: "dot", cx: sx(points.length - 1).toFixed(1), cy: sy(last.y).toFixed(1), r: 3 }) : null,
  );
  fill(parent, svg);
}

async function showEntries(tenant, member, offset) {
  const area = document.getElementById("member-entries");
  const where = { tenant, member: "id:" + member.id };
  try {
    if (offset === null) { // the newest page first
      const counted = await api("/entries" + query({ ...where, limit: 0 }));
      offset = Math.max(0, counted.total - ENTRY_LIMIT);
    }
    const answer = await api("/entries" + query({ ...where, offset, limit: ENTRY_LIMIT }));
    fill(area,
      table([
        { label: "Entry", class: "num", value: (e) => String(e.id) },
        { label: "When", value: (e) => when(e.occurred_at) },
        { label: "Asset", value: (e) => e.asset },
        { label: "Amount", class: "num", value: (e) => e.amount },
        { label: "Kind", value: (e) => e.kind },
        { label: "Status", value: (e) => e.status },
        { label: "Dialect", value: (e) => e.origin || "" },
        { label: "Reference", value: (e) => e.reference || e.public_ref || "" },
        { label: "Note", value: (e) => e.note || "" },
      ], answer.entries, { caption: "Entries, oldest first (every status)", empty: "No entries." }),
      pager({ offset: answer.offset, limit: ENTRY_LIMIT, total: answer.total, shown: answer.entries.length,
              label: "Pages of entries", onPage: (next) => showEntries(tenant, member, next) }),
    );
  } catch (error) {
    fill(area, el("p", { class: "error", role: "alert" }, `Could not read the entries: ${error.message}`));
  }
}

// -- the buttons: each the request a client of a dialect sends (GET /__admin/members/actions says what) ---------

async function showActions(tenant, member) {
  const area = document.getElementById("member-actions");
  let answer;
  try {
    answer = await api("/members/actions" + query({ tenant, member: "id:" + member.id }));
  } catch (error) {
    fill(area, el("p", { class: member.deleted ? "muted" : "error" }, `No requests to offer: ${error.message}`));
    return;
  }
  fill(area, answer.actions.length
    ? answer.actions.map((action, index) => actionForm(tenant, member, action, index))
    : el("p", { class: "muted" }, "This tenant's dialects offer no request for this member."));
}

function actionForm(tenant, member, action, index) {
  const id = `action-${index}`;
  const input = el("input", { id: `${id}-amount`, name: "amount", inputmode: "decimal", autocomplete: "off", required: true,
                              "aria-describedby": `${id}-request` });
  const result = el("p", { id: `${id}-result`, "aria-live": "polite" });
  const body = el("pre", { id: `${id}-answer`, hidden: true });
  const shown = `${action.method} ${action.admin ? "/__admin" : ""}${action.path.split("?")[0]}`;
  const form = el("form", { class: "card action", "data-kind": action.kind, "data-dialect": action.dialect, "aria-labelledby": `${id}-heading` },
    el("h4", { id: `${id}-heading` }, action.label),
    el("p", { id: `${id}-request`, class: "muted" }, `Sends ${shown} (${action.dialect}).`),
    el("div", { class: "row" },
      el("div", {}, el("label", { for: `${id}-amount` }, action.amount_label), input),
      el("div", {}, el("button", { type: "submit" }, action.kind === "purchase" ? "Purchase" : action.kind === "credit" ? "Credit" : "Debit"))),
    result, body);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const amount = input.value.trim();
    if (!AMOUNT.test(amount)) {
      say(result, "The amount must be a number such as 25 or 10.50.", "error");
      input.focus();
      return;
    }
    say(result, "Sending…");
    body.hidden = true;
    const sent = await send(action, amount);
    fill(body, pretty(sent.text, sent.type));
    body.hidden = !sent.text;
    if (sent.ok) say(result, `Done: ${sent.status}.`);
    else say(result, `Refused: ${sent.status}${sent.message ? " — " + sent.message : ""}`, "error");
    if (sent.ok) await showMember(tenant, "id:" + member.id, { keepActions: true });
  });
  return form;
}

// The action's request, with the amount (and a fresh reference) put in: through the admin API (and its token) or
// straight to the dialect, headers as given. Answers {ok, status, message, text, type}.
async function send(action, amount) {
  const reference = "console-" + Date.now();
  const fillIn = (text, encode) => text.replaceAll("{amount}", encode(amount)).replaceAll("{reference}", encode(reference));
  const path = fillIn(action.path, encodeURIComponent);
  const body = action.body === null ? undefined : fillIn(action.body, (v) => v);
  if (action.admin) {
    try {
      const answer = await api(path, { method: action.method, body, headers: action.headers });
      return { ok: true, status: "accepted by the admin API", text: JSON.stringify(answer), type: "application/json" };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return { ok: false, status: String(error.status), message: error.message, text: JSON.stringify(error.body), type: "application/json" };
    }
  }
  let response;
  try {
    response = await fetch(path, { method: action.method, headers: action.headers, body, credentials: "omit" });
  } catch (error) {
    return { ok: false, status: "no answer", message: error.message, text: "", type: "" };
  }
  const text = await response.text();
  const type = response.headers.get("Content-Type") || "";
  return { ok: response.ok, status: `${response.status} ${response.statusText}`.trim(), message: vendorMessage(text, type), text, type };
}

// The vendor's own words in a refusal: the first message-like field of a JSON body, or the text of an XML one.
function vendorMessage(text, type) {
  if (type.includes("json")) {
    try {
      const found = [];
      JSON.parse(text, (key, value) => {
        if (typeof value === "string" && /^(message|error|detail|description|title)$/i.test(key)) found.push(value);
        return value;
      });
      return found[0] || "";
    } catch { return ""; }
  }
  if (type.includes("xml")) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    return doc.documentElement ? doc.documentElement.textContent.trim().replace(/\s+/g, " ") : "";
  }
  return text.trim().slice(0, 200);
}

// -- the view the URL names ------------------------------------------------------------------------------------

// -- kept live: while a member is shown, ONE stream of the tenant's requests (console.js follow); each request
// that arrives re-reads the member (balances, chart, entries), at most once per LIVE_DELAY ms -----------------

const LIVE_DELAY = 300;
let watching = null; // {tenant, member, stop, timer}

function watchMember(tenant, member) {
  if (watching && watching.tenant === tenant) { watching.member = member; return; }
  stopWatching();
  const watch = { tenant, member, timer: null, stop: null };
  const reread = () => {
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => {
      if (watching === watch && watch.member) showMember(watch.tenant, watch.member, { keepActions: true });
    }, LIVE_DELAY);
  };
  watch.stop = follow("/__admin/requests/stream" + query({ tenant }), {
    onReady: () => { document.body.dataset.live = "members"; },
    onEvent: (name, entry) => { if (name === "request" && entry.tenant === tenant) reread(); },
  });
  watching = watch;
}

function stopWatching() {
  if (!watching) return;
  clearTimeout(watching.timer);
  watching.stop();
  watching = null;
  delete document.body.dataset.live;
}

async function show() {
  const now = new URLSearchParams(location.search);
  const tenant = now.get("tenant") || tenantInput.value.trim();
  const member = now.get("member");
  if (tenant) tenantInput.value = tenant;
  if (member && tenant) watchMember(tenant, member); else stopWatching();
  if (member) {
    await Promise.all([showMember(tenant, member), showList(tenant, now.get("after") || "")]);
  } else {
    memberSection.hidden = true;
    await showList(tenant, now.get("after") || "");
  }
}

const names = await tenantNames();
if (!params.get("tenant") && names.length) tenantInput.value = names.includes("demo") ? "demo" : names[0];
tenantInput.addEventListener("change", () => go({ tenant: tenantInput.value.trim(), member: null, after: null }));
await show();
document.body.dataset.ready = "members";
