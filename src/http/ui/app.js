/* factord's dashboard: models and versions, cumulative factor returns per version, the
 * cumulative decile long-short return gross and net of costs, the monthly IC, and the
 * comparison of finished backtests. Everything comes from the daemon's API, called from
 * this page with the bearer token typed into the header (kept in sessionStorage, so it
 * lives as long as the tab). Charts: Chart.js as Debian ships it (/ui/chart.js).
 * body[data-state] becomes "ready" once every chart is drawn, or "error" / "need-token". */
"use strict";

const TOKEN_KEY = "factord-token";
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                 "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const MAX_VERSIONS = 6; /* versions drawn in the factor chart, newest first */
const charts = {};
window.factordCharts = charts; /* for tests and the console */

function $(id) { return document.getElementById(id); }

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

class ApiError extends Error {
  constructor(status, code, message) {
    super(`HTTP ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

async function api(path) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const resp = await fetch(path, { headers, cache: "no-store" });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    const err = (body && body.error) || {};
    throw new ApiError(resp.status, err.code || "http_error", err.message || resp.statusText);
  }
  return body;
}

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.className = isError ? "status error" : "status";
}

function addMonths(month, n) {
  const y = Number(month.slice(0, 4)), m = Number(month.slice(5, 7)) - 1 + n;
  const yy = y + Math.floor(m / 12), mm = ((m % 12) + 12) % 12 + 1;
  return `${String(yy).padStart(4, "0")}-${String(mm).padStart(2, "0")}`;
}

function cumulative(values) {
  let sum = 0;
  return values.map((v) => (v === null ? null : (sum += v)));
}

function cell(row, text, numeric) {
  const td = row.insertCell();
  td.textContent = text;
  if (numeric) td.className = "num";
  return td;
}

function fmt(x, digits = 3) { return x === null || x === undefined ? "n/a" : x.toFixed(digits); }
function pct(x) { return x === null || x === undefined ? "n/a" : `${(100 * x).toFixed(2)}%`; }

function drawLine(id, labels, datasets, yTitle) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), {
    type: "line",
    data: {
      labels,
      datasets: datasets.map((d, i) => Object.assign({
        borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length],
        borderWidth: 1.6, pointRadius: 0, spanGaps: true, tension: 0,
      }, d)),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { title: { display: true, text: yTitle } } },
    },
  });
}

/* ---- models and versions ---------------------------------------------------------- */

const models = {}; /* name -> {model, versions: [...], labels: {label: version}} */

async function loadModels() {
  const list = (await api("/v1/models")).models;
  await Promise.all(list.map(async (m) => {
    const [versions, labels] = await Promise.all([
      api(`/v1/models/${encodeURIComponent(m.name)}/versions`),
      api(`/v1/models/${encodeURIComponent(m.name)}/labels`)]);
    const byVersion = {};
    for (const l of labels.labels) (byVersion[l.version] = byVersion[l.version] || []).push(l.label);
    models[m.name] = { model: m, versions: versions.versions, labels: byVersion };
  }));
  const body = $("models").tBodies[0];
  body.replaceChildren();
  for (const name of Object.keys(models).sort()) {
    const { model, versions, labels } = models[name];
    if (versions.length === 0) {
      const r = body.insertRow();
      [name, model.kind, model.k, "-", "no versions", "", "", "", ""].forEach((t) => cell(r, t));
    }
    for (const v of versions) {
      const r = body.insertRow();
      cell(r, name); cell(r, model.kind); cell(r, String(model.k), true);
      cell(r, String(v.version), true); cell(r, v.state);
      cell(r, (labels[v.version] || []).join(", "));
      cell(r, v.train ? `${v.train.from}..${v.train.to}` : "");
      cell(r, v.valid ? `${v.valid.from}..${v.valid.to}` : "");
      cell(r, v.created_at || "");
    }
  }
  const select = $("model");
  select.replaceChildren();
  const servable = Object.keys(models).sort()
    .filter((name) => models[name].versions.some((v) => v.state === "ready"));
  for (const name of servable) select.add(new Option(name, name));
  /* Start with the first model that has a stable label, else the first one. */
  const stable = servable.find((name) => Object.values(models[name].labels).flat().includes("stable"));
  if (stable) select.value = stable;
}

function readyVersions(name) {
  return models[name].versions.filter((v) => v.state === "ready")
    .sort((a, b) => b.version - a.version);
}

function fillVersions() {
  const name = $("model").value, select = $("version");
  select.replaceChildren();
  for (const v of readyVersions(name)) {
    const labels = models[name].labels[v.version];
    select.add(new Option(`${v.version}${labels ? ` (${labels.join(", ")})` : ""}`, v.version));
  }
  const stable = Object.entries(models[name].labels).find(([, ls]) => ls.includes("stable"));
  if (stable) select.value = stable[0];
}

function defaultRange(lastMonth) {
  const name = $("model").value;
  const v = readyVersions(name).find((x) => String(x.version) === $("version").value);
  const end = v && (v.valid ? v.valid.to : v.train ? v.train.to : null);
  $("from").value = end ? addMonths(end, 1) : addMonths(lastMonth, -35);
  $("to").value = lastMonth;
  if ($("from").value > lastMonth) $("from").value = addMonths(lastMonth, -11);
}

/* ---- charts of the chosen model ----------------------------------------------------- */

async function drawFactors(name, from, to) {
  const versions = readyVersions(name).slice(0, MAX_VERSIONS);
  const answers = await Promise.all(versions.map((v) => api(
    `/v1/models/${encodeURIComponent(name)}/factors?version=${v.version}&from=${from}&to=${to}`)));
  const months = [...new Set(answers.flatMap((a) => a.factors.map((f) => f.month)))].sort();
  const datasets = [];
  answers.forEach((a, i) => {
    const byMonth = Object.fromEntries(a.factors.map((f) => [f.month, f.f]));
    const k = a.factors.length ? a.factors[0].f.length : 0;
    for (let j = 0; j < k; j++) {
      datasets.push({
        label: `v${versions[i].version} f${j + 1}`,
        data: cumulative(months.map((m) => (byMonth[m] ? byMonth[m][j] : null))),
        borderDash: i === 0 ? [] : [4 + 2 * i, 3],
        borderColor: PALETTE[j % PALETTE.length], backgroundColor: PALETTE[j % PALETTE.length],
      });
    }
  });
  drawLine("chart-factors", months, datasets, "cumulative factor return");
}

async function drawEvaluation(name, version, from, to) {
  const ev = await api(`/v1/models/${encodeURIComponent(name)}/evaluation?version=${version}` +
                       `&from=${from}&to=${to}&series=monthly`);
  const months = ev.series.map((s) => s.month);
  drawLine("chart-ls", months, [
    { label: "long-short, gross", data: cumulative(ev.series.map((s) => s.ew_ls)) },
    { label: `long-short, net of ${(1e4 * ev.portfolios.cost).toFixed(0)} bp per unit of turnover`,
      data: cumulative(ev.series.map((s) => s.ew_ls_net)) },
  ], "cumulative return");
  drawLine("chart-ic", months, [
    { label: "IC (Pearson)", data: ev.series.map((s) => s.ic) },
    { label: "rank IC (Spearman)", data: ev.series.map((s) => s.rank_ic) },
  ], "correlation");
  const ls = ev.strategies.ew_ls;
  const rows = [
    ["months", String(ev.months)], ["total R² (stocks)", pct(ev.r2.total_r)],
    ["predictive R² (stocks)", pct(ev.r2.pred_r)], ["total R² (managed portfolios)", pct(ev.r2.total_x)],
    ["long-short Sharpe (annual)", fmt(ls.sharpe, 2)], ["long-short Sharpe net", fmt(ls.sharpe_net, 2)],
    ["turnover (monthly)", fmt(ls.turnover, 2)], ["max drawdown", pct(ls.max_drawdown)],
    ["mean IC / t", `${fmt(ev.ic.mean)} / ${fmt(ev.ic.tstat, 2)}`],
    ["mean rank IC / t", `${fmt(ev.ic.rank_mean)} / ${fmt(ev.ic.rank_tstat, 2)}`],
    ["returns", ev.returns + (ev.in_sample_overlap ? " (overlaps the training window)" : "")],
  ];
  const body = $("summary").tBodies[0];
  body.replaceChildren();
  for (const [k, v] of rows) { const r = body.insertRow(); cell(r, k); cell(r, v, true); }
}

async function drawModel() {
  const name = $("model").value, version = $("version").value;
  const from = $("from").value, to = $("to").value;
  if (!name) { setStatus("No model has a ready version yet: train one (POST /v1/models/{m}/train)."); return; }
  setStatus(`${name} version ${version}, ${from}..${to} ...`);
  await Promise.all([drawFactors(name, from, to), drawEvaluation(name, version, from, to)]);
  setStatus(`${name} version ${version}, out of sample ${from}..${to}`);
}

/* ---- backtests ---------------------------------------------------------------------- */

async function drawBacktests() {
  const div = $("compare");
  const done = (await api("/v1/backtests")).backtests.filter((b) => b.state === "succeeded");
  if (done.length === 0) {
    div.innerHTML = "<p class=\"muted\">No finished backtests (POST /v1/backtests).</p>";
    return;
  }
  const cmp = await api(`/v1/compare?backtests=${done.slice(0, 24).map((b) => b.id).join(",")}`);
  div.replaceChildren();
  const head = document.createElement("p");
  head.className = "muted";
  head.textContent = `Strategy ${cmp.strategy}; rows by ${cmp.rows_by}, columns K. ` +
    cmp.backtests.map((b) => `${b.name}: ${b.from}..${b.to} (${b.months} months)`).join("; ");
  div.append(head);
  for (const t of cmp.tables) {
    const table = document.createElement("table");
    table.className = "compare-table";
    table.createCaption().textContent = t.title;
    const hr = table.createTHead().insertRow();
    [cmp.rows_by, ...cmp.columns.map((k) => `K=${k}`)].forEach((h) => {
      const th = document.createElement("th"); th.textContent = h; hr.append(th);
    });
    const body = table.createTBody();
    cmp.rows.forEach((rowName, i) => {
      const r = body.insertRow();
      cell(r, rowName);
      t.values[i].forEach((x) => cell(r, t.unit === "r2" ? pct(x) : fmt(x, 2), true));
    });
    div.append(table);
  }
}

/* ---- start -------------------------------------------------------------------------- */

async function refresh() {
  document.body.dataset.state = "loading";
  try {
    const ready = await api("/readyz").catch((e) => ({ status: `not ready (${e.message})` }));
    $("health").textContent = `${location.host}: ${ready.status}`;
    await loadModels();
    const panels = (await api("/v1/panels")).panels;
    const last = panels.length ? panels[panels.length - 1].month : null;
    if ($("model").value) {
      fillVersions();
      if (last) defaultRange(last);
      await drawModel();
    } else {
      setStatus("No model has a ready version yet.");
    }
    await drawBacktests();
    document.body.dataset.state = "ready";
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      setStatus(`${e.message}. Enter an API token above.`, true);
      document.body.dataset.state = "need-token";
      $("token").focus();
    } else {
      setStatus(e.message, true);
      document.body.dataset.state = "error";
    }
  }
}

function start() {
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("token").value.trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    $("token").value = "";
    $("token").placeholder = t ? "token kept for this tab" : $("token").placeholder;
    refresh();
  });
  $("token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $("token").placeholder = "bearer token (if the daemon requires one)";
    refresh();
  });
  $("model").addEventListener("change", async () => {
    fillVersions();
    defaultRange($("to").value);
    await guarded(drawModel);
  });
  $("version").addEventListener("change", () => guarded(drawModel));
  $("controls").addEventListener("submit", (ev) => { ev.preventDefault(); guarded(drawModel); });
  if (token()) $("token").placeholder = "token kept for this tab";
  if (typeof Chart === "undefined") {
    setStatus("Chart.js did not load from /ui/chart.js (install Debian's libjs-chart.js).", true);
    document.body.dataset.state = "error";
    return;
  }
  refresh();
}

async function guarded(fn) {
  document.body.dataset.state = "loading";
  try { await fn(); document.body.dataset.state = "ready"; } catch (e) {
    setStatus(e.message, true);
    document.body.dataset.state = "error";
  }
}

document.addEventListener("DOMContentLoaded", start);
