// Tenants: the list (paged), each tenant's credentials and curl commands, create (a demo copy or a pasted
// scenario), reset and delete (each confirmed in place). Every change is one documented admin API call.
import { api, copyable, copyButton, el, fill, pager, query, say, table, when } from "./console.js";

const PAGE_SIZE = 20;
const list = document.getElementById("tenant-list");
const listStatus = document.getElementById("list-status");
const credentials = document.getElementById("credentials");
const credentialsHeading = document.getElementById("credentials-heading");
let offset = 0;
let shownTenant = null;

// -- the list ------------------------------------------------------------------------------------------------

async function load() {
  let answer;
  try {
    answer = await api("/tenants" + query({ offset, limit: PAGE_SIZE }));
  } catch (error) {
    say(listStatus, `Could not list the tenants: ${error.message}`, "error");
    return;
  }
  if (answer.tenants.length === 0 && offset > 0) { // the last one of a page was deleted
    offset = Math.max(0, offset - PAGE_SIZE);
    return load();
  }
  fill(listStatus);
  const columns = [
    { label: "Name", value: (t) => el("strong", {}, t.name) },
    { label: "Members", value: (t) => String(t.members), class: "num" },
    { label: "Dialects", value: (t) => t.dialects.join(", ") },
    { label: "Created", value: (t) => when(t.created_at) },
    { label: "Upstream", value: (t) => (t.upstream ? `${t.upstream.dialect} at ${t.upstream.base_url}` : "none") },
    { label: "Actions", value: actions },
  ];
  fill(list,
    table(columns, answer.tenants, { caption: `Tenants (${answer.total})`, empty: "No tenant: create one below." }),
    pager({ offset, limit: PAGE_SIZE, total: answer.total, shown: answer.tenants.length, label: "Tenant pages",
            onPage: (next) => { offset = next; load(); } }));
  if (shownTenant === null && answer.tenants.length) showCredentials(answer.tenants[0].name, false);
}

function actions(tenant) {
  const box = el("div", { class: "actions" });
  const confirmArea = el("div", {});
  box.append(
    el("button", { type: "button", class: "secondary", "aria-label": `Credentials of ${tenant.name}`,
                   onclick: () => showCredentials(tenant.name, true) }, "Credentials"),
    el("button", { type: "button", class: "secondary", "aria-label": `Reset ${tenant.name}`,
                   onclick: () => confirmThen(confirmArea,
                     `Reset ${tenant.name} to the scenario it came from? Its movements since are dropped.`,
                     `Yes, reset ${tenant.name}`, () => reset(tenant.name)) }, "Reset"),
    el("button", { type: "button", class: "danger", "aria-label": `Delete ${tenant.name}`,
                   onclick: () => confirmThen(confirmArea,
                     `Delete ${tenant.name} and everything it owns (members, entries, deliveries)? This cannot be undone.`,
                     `Yes, delete ${tenant.name}`, () => remove(tenant.name)) }, "Delete"),
  );
  return el("div", {}, box, confirmArea);
}

// The question in place, with the button that does it and one that does not; focus goes to the question.
function confirmThen(area, question, yes, action) {
  const cancel = el("button", { type: "button", class: "secondary", onclick: () => fill(area) }, "Cancel");
  const go = el("button", { type: "button", class: "danger", onclick: async () => { fill(area); await action(); } }, yes);
  fill(area, el("div", { class: "confirm", role: "alertdialog", "aria-label": "Confirm" },
                el("p", {}, question), el("div", { class: "actions" }, go, cancel)));
  cancel.focus();
}

async function reset(name) {
  const [text, kind] = await attempt(() => api("/reset", { method: "POST", body: { tenant: name } }),
                                     `Reset ${name} to its scenario.`, `Could not reset ${name}`);
  await load();
  say(listStatus, text, kind);
  if (shownTenant === name) await showCredentials(name, false);
}

async function remove(name) {
  const [text, kind] = await attempt(() => api(`/tenants/${encodeURIComponent(name)}`, { method: "DELETE" }),
                                     `Deleted ${name}.`, `Could not delete ${name}`);
  if (shownTenant === name && kind === "ok") {
    shownTenant = null;
    fill(credentials);
  }
  await load();
  say(listStatus, text, kind);
}

// (what to say, its kind) once `call` is done: said after the list is drawn again, which clears the old words.
async function attempt(call, done, failed) {
  try {
    await call();
    return [done, "ok"];
  } catch (error) {
    return [`${failed}: ${error.message}`, "error"];
  }
}

// -- credentials -----------------------------------------------------------------------------------------------

// The credentials that let a caller in: shown masked until their Reveal button is pressed (Copy copies the real
// value either way), so a page left open or shared on a screen does not show them.
const SECRETS = new Set(["client_secret", "webhook_api_secret", "api_key", "api_token", "password", "secret"]);
const MASK = "••••••••";

function secretValue(name, value) {
  const code = el("code", { class: "secret", "data-secret": name }, MASK);
  const reveal = el("button", { type: "button", class: "secondary", "aria-pressed": "false",
                                "aria-label": `Reveal ${name}` }, "Reveal");
  reveal.addEventListener("click", () => {
    const shown = reveal.getAttribute("aria-pressed") !== "true";
    reveal.setAttribute("aria-pressed", String(shown));
    fill(code, shown ? value : MASK);
  });
  return [code, reveal];
}

function pairs(object) {
  const dl = el("dl", { class: "pairs" });
  for (const [name, value] of Object.entries(object)) {
    if (Array.isArray(value)) {
      dl.append(el("dt", {}, name), el("dd", {}, value.map((item) => Object.values(item).join(" ")).join(", ")));
    } else if (value !== null && value !== undefined) {
      const shown = SECRETS.has(name) ? secretValue(name, String(value)) : [el("code", {}, String(value))];
      dl.append(el("dt", {}, name), el("dd", { class: "copyable" }, ...shown,
                                         copyButton(String(value), `Copy ${name}`)));
    }
  }
  return dl;
}

async function showCredentials(name, moveFocus) {
  shownTenant = name;
  let answer;
  try {
    answer = await api(`/tenants/${encodeURIComponent(name)}/credentials`);
  } catch (error) {
    fill(credentials, el("p", { class: "error", role: "alert" }, `Could not read ${name}'s credentials: ${error.message}`));
    return;
  }
  const blocks = Object.entries(answer.dialects).map(([dialect, part]) => el("div", { class: "card" },
    el("h3", {}, `${dialect}`),
    pairs(part.credentials),
    part.curl ? [el("p", {}, `Try it (curl, ${dialect}):`), copyable(part.curl, `Copy the ${dialect} curl command`)] : null,
  ));
  fill(credentials, el("p", {}, "Tenant ", el("strong", {}, answer.name), ":"), blocks);
  if (moveFocus) credentialsHeading.focus();
}

// The logins with a password in a fresh tenant's answer ([dialect, {email, password}] each): the one answer
// that shows them.
function passwords(answer) {
  const found = [];
  for (const [dialect, part] of Object.entries(answer)) {
    if (!part || typeof part !== "object") continue;
    for (const value of Object.values(part)) {
      if (Array.isArray(value)) {
        for (const login of value) if (login && typeof login.password === "string") found.push([dialect, login]);
      }
    }
  }
  return found;
}

// -- create ------------------------------------------------------------------------------------------------------

const form = document.getElementById("create-form");
const nameField = document.getElementById("name-field");
const scenarioField = document.getElementById("scenario-field");
const createStatus = document.getElementById("create-status");
const created = document.getElementById("created");

for (const radio of form.elements.source) {
  radio.addEventListener("change", () => {
    const pasted = form.elements.source.value === "scenario";
    scenarioField.hidden = !pasted;
    nameField.hidden = pasted;
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  fill(created);
  if (form.elements.source.value === "scenario") {
    let documentBody;
    try {
      documentBody = JSON.parse(form.elements.scenario.value);
    } catch (error) {
      say(createStatus, `The scenario is not JSON: ${error.message}`, "error");
      return;
    }
    try {
      const answer = await api("/scenarios", { method: "POST", body: documentBody });
      say(createStatus, `Added ${answer.tenants.join(", ")} with the scenario's own credentials.`);
    } catch (error) {
      say(createStatus, `The scenario was refused: ${error.message}`, "error");
      return;
    }
  } else {
    const name = form.elements.name.value.trim();
    try {
      const answer = await api("/tenants", { method: "POST", body: name ? { name } : {} });
      say(createStatus, `Created ${answer.name} with ${answer.members} members.`);
      const logins = passwords(answer);
      fill(created, el("p", {}, "Its credentials are below with the others. ",
        logins.length ? "Login passwords are shown only now (the server keeps their hashes):" : null),
        logins.map(([dialect, login]) => el("div", { class: "copyable" },
          el("code", {}, `${dialect}: ${login.email || login.user || ""} ${login.password}`),
          copyButton(login.password, `Copy the ${dialect} password of ${login.email || login.user || "the login"}`))));
      form.elements.name.value = "";
      shownTenant = answer.name;
      await load();
      await showCredentials(answer.name, false);
      return;
    } catch (error) {
      say(createStatus, `Could not create the tenant: ${error.message}`, "error");
      return;
    }
  }
  await load();
});

load();
