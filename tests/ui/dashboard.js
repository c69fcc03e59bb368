/* Drives Debian's chromium (headless, through puppeteer-core) through factord's dashboard
 * and prints what it saw as one JSON object on stdout; tests/blackbox/test_ui.py asserts on it.
 *
 * Usage: node tests/ui/dashboard.js URL TOKEN SCREENSHOT.png USER_DATA_DIR
 * Env: FACTORD_UI_MODULES (node_modules holding puppeteer-core, from tests/ui/setup),
 *      CHROMIUM (default /usr/bin/chromium).
 *
 * Steps: open URL/ui; if the page asks for a token (401), type TOKEN into the header's
 * token box; wait until body[data-state] is "ready" (or fails); read each Chart.js chart's
 * datasets and count the canvas pixels in the datasets' colours; read the tables; write a
 * full-page screenshot. Every /v1 request's Authorization header is recorded. */
"use strict";
const path = require("path");

const [url, token, shot, userDataDir] = process.argv.slice(2);
const puppeteer = require(path.join(process.env.FACTORD_UI_MODULES, "puppeteer-core"));

async function waitSettled(page) {
  await page.waitForFunction(() => document.body.dataset.state !== "loading", { timeout: 120000 });
  return page.evaluate(() => document.body.dataset.state);
}

/* In the page: per chart, its datasets (label, points, non-null points) and how many canvas
 * pixels are within a small distance of one of its datasets' line colours. */
function inspectCharts() {
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const out = {};
  for (const [id, chart] of Object.entries(window.factordCharts)) {
    const colours = chart.data.datasets.map((d) => hex(d.borderColor));
    const canvas = chart.canvas;
    const img = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < img.length; i += 4) {
      if (img[i + 3] < 128) continue;
      for (const [r, g, b] of colours) {
        if (Math.abs(img[i] - r) + Math.abs(img[i + 1] - g) + Math.abs(img[i + 2] - b) < 60) {
          inked++;
          break;
        }
      }
    }
    out[id] = {
      labels: chart.data.labels.length,
      width: canvas.width, height: canvas.height, inked,
      datasets: chart.data.datasets.map((d) => ({
        label: d.label, points: d.data.length,
        finite: d.data.filter((v) => typeof v === "number" && isFinite(v)).length,
        last: d.data.filter((v) => typeof v === "number").slice(-1)[0],
      })),
    };
  }
  return out;
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userDataDir,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const result = { auth: [], console: [], failed: [] };
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/v1/"))
        result.auth.push([new URL(r.url()).pathname, r.headers().authorization || null]);
    });
    page.on("console", (m) => { if (m.type() === "error") result.console.push(m.text()); });
    page.on("requestfailed", (r) => result.failed.push(r.url()));
    await page.goto(`${url}/ui`, { waitUntil: "load" });
    result.first_state = await waitSettled(page);
    result.first_status = await page.$eval("#status", (e) => e.textContent);
    if (token) {
      result.auth_before_token = result.auth.length;
      await page.type("#token", token);
      await page.click("#token-form button[type=submit]");
      await page.waitForFunction(() => document.body.dataset.state === "loading" ||
                                 document.body.dataset.state === "ready", { timeout: 10000 });
    }
    result.state = await waitSettled(page);
    result.status = await page.$eval("#status", (e) => e.textContent);
    result.stored_token = await page.evaluate(() => sessionStorage.getItem("factord-token"));
    result.charts = await page.evaluate(inspectCharts);
    result.model_rows = await page.$$eval("#models tbody tr", (rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent)));
    result.summary = await page.$$eval("#summary tr", (rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent)));
    result.compare_tables = await page.$$eval("#compare table", (ts) =>
      ts.map((t) => ({ caption: t.caption.textContent, rows: t.tBodies[0].rows.length,
                       cells: [...t.querySelectorAll("td.num")].map((c) => c.textContent) })));
    result.chosen = await page.evaluate(() => ({ model: document.getElementById("model").value,
      version: document.getElementById("version").value,
      from: document.getElementById("from").value, to: document.getElementById("to").value }));
    await page.screenshot({ path: shot, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => { process.stderr.write(`dashboard.js: ${e.stack || e}\n`); process.exit(1); });
