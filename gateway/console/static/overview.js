// Overview: GET /__admin/metrics (Prometheus text) sampled every few seconds while the tab is shown, kept
// here for the last few minutes, drawn as requests per second and error rate per dialect; the webhook backlog
// from the same scrape; upstream health from GET /__admin/upstream; the tenant count. One request per sample.
import { api, el, fill, lineChart, query, say, table } from "./console.js";

const SAMPLE_MS = 5000;
const KEEP = 60; // samples: five minutes at one per five seconds
const charts = document.getElementById("charts");
const DIALECT_NAMES = charts.dataset.dialects.split(" ").filter(Boolean);
const status = document.getElementById("overview-status");
const samples = []; // {at (ms), perDialect: {name: {total, errors}}}

// -- the Prometheus text format: the samples of one metric ------------------------------------------------------

// [{labels: {name: value}, value: number}] for every sample line of `metric` (not its _bucket/_sum ...).
export function samplesOf(text, metric) {
  const found = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(metric) || line.startsWith("#")) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue; // another metric sharing the prefix
    const labels = {};
    let valueText = rest;
    if (rest[0] === "{") {
      const close = closingBrace(rest);
      const pairs = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      for (const m of rest.slice(1, close).matchAll(pairs)) {
        labels[m[1]] = m[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      }
      valueText = rest.slice(close + 1);
    }
    const value = Number(valueText.trim().split(/\s+/)[0]);
    if (!Number.isNaN(value)) found.push({ labels, value });
  }
  return found;
}

function closingBrace(text) { // the "}" ending the label set (a label value may hold one, inside quotes)
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\") { i++; continue; }
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === "}" && !quoted) return i;
  }
  return text.length;
}

function failed(statusLabel) { // an error answer, or none at all (a fault rule dropped the connection)
  return !/^[0-9]+$/.test(statusLabel) || Number(statusLabel) >= 400;
}

function perDialect(text) {
  const out = Object.fromEntries(DIALECT_NAMES.map((name) => [name, { total: 0, errors: 0 }]));
  for (const { labels, value } of samplesOf(text, "loyalty_gateway_http_requests_total")) {
    const row = out[labels.dialect];
    if (!row) continue; // "none": the admin API, the console's own calls included
    row.total += value;
    if (failed(labels.status)) row.errors += value;
  }
  return out;
}

// -- drawing ------------------------------------------------------------------------------------------------------

const figures = {};
for (const name of DIALECT_NAMES) {
  const rate = el("div", { class: "chart-box" });
  const errors = el("div", { class: "chart-box" });
  figures[name] = { rate, errors };
  charts.append(
    el("figure", { "data-dialect": name, "data-kind": "rate" }, el("figcaption", {}, `${name}: requests per second`), rate),
    el("figure", { "data-dialect": name, "data-kind": "errors" }, el("figcaption", {}, `${name}: error rate (%)`), errors));
}

function rates(name) { // [{x, rps, errorPct}] between consecutive samples (a counter that went down: a restart)
  const points = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1].perDialect[name], now = samples[i].perDialect[name];
    const seconds = (samples[i].at - samples[i - 1].at) / 1000;
    const requests = now.total - before.total, errors = now.errors - before.errors;
    if (seconds <= 0 || requests < 0 || errors < 0) continue;
    points.push({ x: samples[i].at, rps: requests / seconds, errorPct: requests ? (100 * errors) / requests : 0 });
  }
  return points;
}

function draw() {
  const latest = samples[samples.length - 1];
  const rows = DIALECT_NAMES.map((name) => {
    const points = rates(name);
    lineChart(figures[name].rate, points.map((p) => ({ x: p.x, y: p.rps })),
              { label: `${name} requests per second`, format: (y) => y.toFixed(y < 10 ? 2 : 0), atLeast: 1 });
    lineChart(figures[name].errors, points.map((p) => ({ x: p.x, y: p.errorPct })),
              { label: `${name} error rate in percent`, format: (y) => `${y.toFixed(0)}%`, max: 100 });
    const last = points[points.length - 1];
    return { name, ...latest.perDialect[name], rps: last ? last.rps : null, errorPct: last ? last.errorPct : null };
  });
  fill(document.getElementById("traffic-table"), table([
    { label: "Dialect", value: (r) => r.name },
    { label: "Requests since start", value: (r) => String(r.total), class: "num" },
    { label: "Errors since start", value: (r) => String(r.errors), class: "num" },
    { label: "Requests per second now", value: (r) => (r.rps === null ? "…" : r.rps.toFixed(2)), class: "num" },
    { label: "Error rate now", value: (r) => (r.errorPct === null ? "…" : `${r.errorPct.toFixed(0)}%`), class: "num" },
  ], rows, { caption: "Totals since the server started, and the latest rates" }));
}

function drawBacklog(text) {
  const backlog = samplesOf(text, "loyalty_gateway_webhook_backlog");
  const oldest = Object.fromEntries(samplesOf(text, "loyalty_gateway_webhook_oldest_pending_age_seconds")
    .map((s) => [s.labels.dialect, s.value]));
  const states = {};
  for (const { labels, value } of samplesOf(text, "loyalty_gateway_webhook_deliveries")) {
    (states[labels.dialect] ||= {})[labels.state] = value;
  }
  const rows = backlog.map(({ labels, value }) => ({ dialect: labels.dialect, pending: value,
                                                     oldest: oldest[labels.dialect] || 0, states: states[labels.dialect] || {} }));
  fill(document.getElementById("backlog"), table([
    { label: "Dialect", value: (r) => r.dialect },
    { label: "Pending", value: (r) => String(r.pending), class: "num" },
    { label: "Oldest pending waited", value: (r) => `${Math.round(r.oldest)} s`, class: "num" },
    { label: "Delivered", value: (r) => String(r.states.delivered ?? 0), class: "num" },
    { label: "Failed", value: (r) => String(r.states.failed ?? 0), class: "num" },
    { label: "Refused", value: (r) => String(r.states.refused ?? 0), class: "num" },
  ], rows, { caption: "Webhook deliveries", empty: "No dialect sends webhooks." }));
}

// -- sampling -------------------------------------------------------------------------------------------------------

async function sample() {
  let text;
  try {
    text = await api("/metrics");
  } catch (error) {
    say(status, `Could not read the metrics: ${error.message}`, "error");
    return;
  }
  fill(status);
  samples.push({ at: Date.now(), perDialect: perDialect(text) });
  if (samples.length > KEEP) samples.shift();
  draw();
  drawBacklog(text);
}

async function upstreams() {
  let answer;
  try {
    answer = await api("/upstream");
  } catch (error) {
    fill(document.getElementById("upstreams"), el("p", { class: "error" }, `Could not read the upstreams: ${error.message}`));
    return;
  }
  const health = (u) => (u.reachable === null ? "no call yet" : u.reachable ? "reachable" : "unreachable");
  const ms = (v) => (v === null ? "–" : `${Math.round(v)} ms`);
  fill(document.getElementById("upstreams"), table([
    { label: "Tenant", value: (u) => u.tenant },
    { label: "Upstream", value: (u) => `${u.dialect} at ${u.base_url}` },
    { label: "Health", value: (u) => el("span", { class: u.reachable === false ? "error" : "" }, health(u)) },
    { label: "Calls", value: (u) => String(u.calls), class: "num" },
    { label: "Errors", value: (u) => String(u.errors), class: "num" },
    { label: "Latency p50 / p95", value: (u) => `${ms(u.latency_ms.p50)} / ${ms(u.latency_ms.p95)}`, class: "num" },
    { label: "Open writes", value: (u) => String(u.intents.open), class: "num" },
    { label: "Unsettled", value: (u) => String(u.intents.unsettled), class: "num" },
    { label: "Last error", value: (u) => u.last_error || "" },
  ], answer.upstreams, { caption: "Tenants served through an upstream vendor",
                         empty: "No tenant has an upstream: every tenant's points live here." }));
}

async function tenants() {
  const count = document.getElementById("tenant-count");
  try {
    const answer = await api("/tenants" + query({ limit: 0 }));
    say(count, `${answer.total} tenant${answer.total === 1 ? "" : "s"}.`);
  } catch (error) {
    say(count, `Could not count the tenants: ${error.message}`, "error");
  }
}

async function everything() {
  await sample();
  await upstreams();
}

everything();
tenants();
// One scrape (and the upstream list) per interval while the tab is shown: no polling storm.
setInterval(() => { if (!document.hidden) everything(); }, SAMPLE_MS);
