// Faults, clock and rate limits: list, add and remove fault rules (/faults), freeze, shift or reset the
// ledger's clock (/clock), view and set each dialect's rate-limit emulation (/rate-limits). After every
// change the banner is asked again, so it appears or goes at once.
import { api, banner, el, fill, say, table } from "./console.js";

// -- fault rules -----------------------------------------------------------------------------------------------

const faults = document.getElementById("faults");
const faultsStatus = document.getElementById("faults-status");
const faultForm = document.getElementById("fault-form");

function matchWords(rule) {
  return [rule.method || "any method", rule.path || "*", rule.dialect ? `in ${rule.dialect}` : "in every dialect",
          rule.tenant ? `for ${rule.tenant}` : "for every tenant"].join(" ");
}

function effectWords(rule) {
  if (rule.effect === "status") return `status ${rule.status}${rule.message ? ` (“${rule.message}”)` : ""}`;
  if (rule.effect === "latency") return `latency ${rule.latency_ms}${rule.latency_max_ms ? `–${rule.latency_max_ms}` : ""} ms`;
  return rule.effect;
}

async function loadFaults() {
  let answer;
  try {
    answer = await api("/faults");
  } catch (error) {
    say(faultsStatus, `Could not list the fault rules: ${error.message}`, "error");
    return;
  }
  const rows = answer.faults;
  fill(faults,
    table([
      { label: "Rule", value: (r) => r.id },
      { label: "Effect", value: effectWords },
      { label: "When", value: (r) => r.when },
      { label: "Matches", value: matchWords },
      { label: "Probability", value: (r) => String(r.probability), class: "num" },
      { label: "Hits", value: (r) => `${r.hits} of ${r.times ?? "∞"}${r.exhausted ? " (used up)" : ""}`, class: "num" },
      { label: "Remove", value: (r) => el("button", { type: "button", class: "secondary", "aria-label": `Remove ${r.id}`,
                                                      onclick: () => removeFault(r.id) }, "Remove") },
    ], rows, { caption: `Fault rules in force (${rows.length})`, empty: "No fault rule: the sandbox answers normally." }),
    rows.length ? el("p", {}, el("button", { type: "button", class: "danger", onclick: removeAll }, "Remove every rule")) : null);
}

async function removeFault(id) {
  await change(faultsStatus, () => api(`/faults/${encodeURIComponent(id)}`, { method: "DELETE" }), `Removed ${id}.`);
  await loadFaults();
}

async function removeAll() {
  await change(faultsStatus, () => api("/faults", { method: "DELETE" }), "Removed every fault rule.");
  await loadFaults();
}

const effect = faultForm.elements.effect;
effect.addEventListener("change", () => {
  document.getElementById("status-field").hidden = effect.value !== "status";
  document.getElementById("latency-field").hidden = effect.value !== "latency";
});

// The rule as the admin API takes it: only what the form says (an empty field leaves the API's default).
function ruleFromForm(form) {
  const rule = { effect: form.elements.effect.value, when: form.elements.when.value };
  if (rule.effect === "status") rule.status = Number(form.elements.status.value);
  if (rule.effect === "latency") rule.latency_ms = Number(form.elements.latency_ms.value);
  for (const name of ["dialect", "tenant", "method", "path", "message"]) {
    const value = form.elements[name].value.trim();
    if (value) rule[name] = name === "method" ? value.toUpperCase() : value;
  }
  const probability = form.elements.probability.value.trim();
  if (probability) rule.probability = Number(probability);
  const times = form.elements.times.value.trim();
  if (times) rule.times = Number(times);
  return rule;
}

faultForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  let made = null;
  await change(faultsStatus, async () => { made = await api("/faults", { method: "POST", body: ruleFromForm(faultForm) }); },
               () => `Added ${made.id}: ${effectWords(made)} on ${matchWords(made)}.`);
  await loadFaults();
});

// -- clock ------------------------------------------------------------------------------------------------------

const clockState = document.getElementById("clock-state");
const clockStatus = document.getElementById("clock-status");

function clockWords(state) {
  if (state.frozen_at) return `Frozen at ${state.frozen_at}.`;
  if (Number(state.offset_seconds)) return `Shifted by ${state.offset_seconds} seconds: the ledger's time is ${state.now}.`;
  return `Real time: ${state.now}.`;
}

async function loadClock() {
  try {
    const state = await api("/clock");
    say(clockState, clockWords(state));
    const freezeAt = document.getElementById("freeze-at");
    if (!freezeAt.value) freezeAt.value = state.now.replace(/\.\d+/, "");
  } catch (error) {
    say(clockState, `Could not read the clock: ${error.message}`, "error");
  }
}

document.getElementById("freeze-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const at = event.target.elements.frozen_at.value.trim();
  await change(clockStatus, () => api("/clock", { method: "PUT", body: { frozen_at: at } }), `Froze the clock at ${at}.`);
  await loadClock();
});

document.getElementById("shift-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = event.target.elements.offset_seconds.value.trim();
  if (text === "" || Number.isNaN(Number(text))) {
    say(clockStatus, "Give the shift as a number of seconds.", "error");
    return;
  }
  await change(clockStatus, () => api("/clock", { method: "PUT", body: { offset_seconds: Number(text) } }),
               `Shifted the clock by ${text} seconds.`);
  await loadClock();
});

document.getElementById("clock-reset").addEventListener("click", async () => {
  await change(clockStatus, () => api("/clock", { method: "DELETE" }), "The clock is back to real time.");
  await loadClock();
});

// -- rate limits --------------------------------------------------------------------------------------------------

const limits = document.getElementById("limits");
const limitsStatus = document.getElementById("limits-status");

async function loadLimits() {
  let state;
  try {
    state = await api("/rate-limits");
  } catch (error) {
    say(limitsStatus, `Could not read the rate limits: ${error.message}`, "error");
    return;
  }
  const rows = Object.entries(state).map(([dialect, limit]) => ({ dialect, limit }));
  fill(limits, table([
    { label: "Dialect", value: (r) => r.dialect },
    { label: "Now", value: (r) => (r.limit ? `${r.limit.limit} requests per ${r.limit.window_seconds} s, then ${r.limit.status}` : "off") },
    { label: "Change", value: limitForm },
  ], rows, { caption: "Rate-limit emulation per dialect" }));
}

function limitForm({ dialect, limit }) {
  const limitInput = el("input", { id: `limit-${dialect}`, type: "number", min: "1", value: limit ? limit.limit : "" });
  const windowInput = el("input", { id: `window-${dialect}`, type: "number", min: "1",
                                    value: limit ? limit.window_seconds : "", placeholder: "the vendor's" });
  const form = el("form", { class: "row", "aria-label": `Rate limit of ${dialect}`, novalidate: true },
    el("div", {}, el("label", { for: limitInput.id }, "Requests"), limitInput),
    el("div", {}, el("label", { for: windowInput.id }, "per seconds"), windowInput),
    el("div", {}, el("button", { type: "submit", "aria-label": `Set the ${dialect} rate limit` }, "Set")),
    limit ? el("div", {}, el("button", { type: "button", class: "secondary", "aria-label": `Turn the ${dialect} rate limit off`,
                                         onclick: () => setLimit(dialect, null) }, "Turn off")) : null,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = { limit: Number(limitInput.value) };
    if (windowInput.value.trim()) wanted.window_seconds = Number(windowInput.value);
    setLimit(dialect, wanted);
  });
  return form;
}

async function setLimit(dialect, wanted) {
  await change(limitsStatus, () => api("/rate-limits", { method: "PUT", body: { [dialect]: wanted } }),
               wanted ? `${dialect}: at most ${wanted.limit} requests per window.` : `${dialect}: no rate limit.`);
  await loadLimits();
}

// -- shared ------------------------------------------------------------------------------------------------------

// Run one admin call; say what was done (text, or a function of nothing called after it) or what was refused;
// then the banner is asked again.
async function change(where, call, done) {
  try {
    await call();
    say(where, typeof done === "function" ? done() : done);
  } catch (error) {
    say(where, `Refused: ${error.message}`, "error");
  }
  await banner();
}

loadFaults();
loadClock();
loadLimits();
// The rules' hit counts and the clock move on their own: asked again every few seconds while the tab is shown.
setInterval(() => { if (!document.hidden) { loadFaults(); loadClock(); } }, 5000);
