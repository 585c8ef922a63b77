// Storefront audit against the running stack (go tool task audit:storefront).
//
//  1. Lighthouse 12 (mobile emulation, Lighthouse's default form factor and
//     simulated throttling; categories performance and accessibility) on the
//     home page, a search results page and a product page. Each page runs
//     RUNS times (3) and its median counts; it fails below performance 90 or
//     accessibility 95.
//  2. axe-core on every page of the shop, at a phone's width (320 px) and a
//     desktop's (1280 px): anonymous pages, sign-in and sign-up (with their
//     errors shown), a shopper's pages (created through the sign-up form:
//     cart with items, checkout with its errors, a paid and a declined
//     order, order history, notifications, the 403 of the admin corner) and
//     the admin corner signed in as the admin (.local/secrets.json). It fails
//     on any violation of impact serious or critical, and on any Content
//     Security Policy violation a page reports.
//
// Lighthouse's performance score moves with the machine's load: the
// simulated throttling starts from what the page really cost this machine's
// CPU, so a busy machine (a test run, a build, another audit) scores lower.
// Measure when the machine is quiet, one page at a time (as here), and
// report the median of 3 runs per page (the default).
//
// Usage: node tools/webaudit/audit.mjs [--base URL] [--gateway URL] [--runs N]
//          [--only lighthouse|axe] [--secrets FILE] [--verbose]
// Environment: STOREFRONT_URL (the base, http://127.0.0.1:8088), GATEWAY_URL
// (http://127.0.0.1:8080), CHROME_PATH (/usr/bin/chromium; never downloaded),
// SHOPMESH_SECRETS (.local/secrets.json of the repository).
import { readFileSync, existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import lighthouse from "lighthouse";
// puppeteer-core is Lighthouse's own dependency (^23): the one it drives is
// the one used here, so package.json pins no second copy.
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..", "..");
const require = createRequire(import.meta.url);

const TARGETS = { performance: 90, accessibility: 95 };
const FAILING_IMPACTS = new Set(["serious", "critical"]);
const VIEWPORTS = [
  // 320 CSS px: the narrowest phone, and WCAG's reflow width (a page wider
  // than it scrolls sideways: reported, not failed).
  { name: "phone", width: 320, height: 640, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  { name: "desktop", width: 1280, height: 800, deviceScaleFactor: 1 },
];

const { values: opts } = parseArgs({
  options: {
    base: { type: "string", default: process.env.STOREFRONT_URL || "http://127.0.0.1:8088" },
    gateway: { type: "string", default: process.env.GATEWAY_URL || "http://127.0.0.1:8080" },
    runs: { type: "string", default: "3" },
    only: { type: "string" },
    secrets: { type: "string", default: process.env.SHOPMESH_SECRETS || join(repoRoot, ".local", "secrets.json") },
    verbose: { type: "boolean", short: "v", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0].replace(/^\/\/ ?/gm, ""));
  process.exit(0);
}
const base = opts.base.replace(/\/+$/, "");
const gatewayURL = opts.gateway.replace(/\/+$/, "");
const runs = Math.max(1, Number.parseInt(opts.runs, 10) || 3);
const chromePath = process.env.CHROME_PATH || "/usr/bin/chromium";
if (opts.only && !["lighthouse", "axe"].includes(opts.only)) {
  console.error(`--only must be lighthouse or axe, not ${opts.only}`);
  process.exit(2);
}
if (!existsSync(chromePath)) {
  console.error(`no Chromium at ${chromePath} (set CHROME_PATH; on Debian: apt-get install chromium)`);
  process.exit(2);
}

const chromeArgs = ["--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check"];
// Chromium refuses to run as root without this (CI containers, this machine).
if (process.getuid?.() === 0) chromeArgs.push("--no-sandbox");

function launch() {
  // headless: true is Chromium's new headless mode, the one Lighthouse expects.
  return puppeteer.launch({ executablePath: chromePath, headless: true, args: chromeArgs, defaultViewport: null });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------- pages

// A product in stock (the shopper puts it in the cart), from the gateway.
async function productPath() {
  try {
    const res = await fetch(`${gatewayURL}/api/v1/products?page_size=50`, { signal: AbortSignal.timeout(10_000) });
    if (res.ok) {
      const id = (await res.json()).items?.find((p) => p.in_stock)?.id;
      if (id) return `/p/${encodeURIComponent(id)}`;
    }
  } catch {
    // Fall back to the home page's first product.
  }
  const html = await (await fetch(`${base}/`, { signal: AbortSignal.timeout(10_000) })).text();
  const m = html.match(/href="(\/p\/[^"]+)"/);
  if (!m) throw new Error(`no product found: neither ${gatewayURL}/api/v1/products nor ${base}/ lists one`);
  return m[1];
}

// ---------------------------------------------------------------- Lighthouse

async function lighthouseOnce(url) {
  const browser = await launch();
  try {
    const port = Number(new URL(browser.wsEndpoint()).port);
    const result = await lighthouse(url, {
      port,
      output: "json",
      logLevel: "error",
      onlyCategories: ["performance", "accessibility"],
      // The default config's form factor (mobile, Moto G Power emulation)
      // and throttling (simulated slow 4G, 4x CPU slowdown).
    });
    if (!result) throw new Error(`Lighthouse returned nothing for ${url}`);
    const { lhr } = result;
    if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
    return lhr;
  } finally {
    await browser.close();
  }
}

function score(lhr, cat) {
  const s = lhr.categories[cat]?.score;
  return s == null ? NaN : Math.round(s * 100);
}

function printShortfalls(lhr) {
  for (const cat of ["performance", "accessibility"]) {
    for (const ref of lhr.categories[cat].auditRefs) {
      const a = lhr.audits[ref.id];
      if (!a || a.score === null || a.score >= (cat === "performance" ? 0.9 : 1)) continue;
      if (["manual", "notApplicable", "informative"].includes(a.scoreDisplayMode)) continue;
      if (cat === "performance" && ref.weight === 0 && a.scoreDisplayMode !== "metricSavings") continue;
      console.log(`      ${cat}: ${a.id} (${a.score}) ${a.title}${a.displayValue ? `: ${a.displayValue}` : ""}`);
      for (const item of (a.details?.items || []).slice(0, 5)) {
        const where = item.node?.selector || item.url || item.source?.url || "";
        if (where) console.log(`        ${where}`);
      }
    }
  }
}

const cores = cpus().length;
const erroredAudits = new Set();
let busy = false;

async function runLighthouse(pages) {
  console.log(`Lighthouse ${(await import("lighthouse/package.json", { with: { type: "json" } })).default.version}, mobile, median of ${runs} run(s) per page, ${base}`);
  const rows = [];
  for (const [name, path] of pages) {
    const lhrs = [];
    for (let i = 0; i < runs; i++) {
      const load = loadavg()[0];
      const lhr = await lighthouseOnce(base + path);
      lhrs.push(lhr);
      const m = (id) => lhr.audits[id]?.displayValue ?? "?";
      console.log(`  ${name} run ${i + 1}: performance ${score(lhr, "performance")}, accessibility ${score(lhr, "accessibility")}` +
        ` (FCP ${m("first-contentful-paint")}, LCP ${m("largest-contentful-paint")}, TBT ${m("total-blocking-time")}, CLS ${m("cumulative-layout-shift")}, SI ${m("speed-index")}; load ${load.toFixed(1)})`);
      for (const a of Object.values(lhr.audits)) if (a.scoreDisplayMode === "error") erroredAudits.add(a.id);
      // Lighthouse's own Chromium adds about one.
      if (load > 1.5 * cores) busy = true;
    }
    const perf = median(lhrs.map((l) => score(l, "performance")));
    const a11y = median(lhrs.map((l) => score(l, "accessibility")));
    const ok = perf >= TARGETS.performance && a11y >= TARGETS.accessibility;
    rows.push({ name, path, perf, a11y, ok });
    if (!ok || opts.verbose) {
      // The run closest to the median performance shows what costs points.
      const shown = lhrs.reduce((a, b) => (Math.abs(score(b, "performance") - perf) < Math.abs(score(a, "performance") - perf) ? b : a));
      printShortfalls(shown);
    }
  }
  console.log("");
  console.log(`  ${"page".padEnd(10)} ${"performance".padStart(11)} ${"accessibility".padStart(13)}  path`);
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(10)} ${String(r.perf).padStart(11)} ${String(r.a11y).padStart(13)}  ${r.path}${r.ok ? "" : "   BELOW TARGET"}`);
  }
  console.log(`  targets: performance >= ${TARGETS.performance}, accessibility >= ${TARGETS.accessibility}`);
  if (busy) {
    console.log(`  note: the machine was busy (load average above ${1.5 * cores} on ${cores} CPUs) during some runs: their performance scores (TBT above all) are lower than a quiet machine's`);
  }
  if (erroredAudits.size) {
    // Lighthouse 12.2's trace engine does not read every trace event of a
    // newer Chromium; the metrics, and so the scores, are unaffected.
    console.log(`  note: ${erroredAudits.size} diagnostic audit(s) errored in this Chromium (they carry no weight in the scores): ${[...erroredAudits].sort().join(", ")}`);
  }
  console.log("");
  return rows.every((r) => r.ok);
}

// ---------------------------------------------------------------- axe-core

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const axeVersion = require("axe-core/package.json").version;

// An audit session: one browser context (its own cookies), one tab.
class Session {
  constructor(browser, who) {
    this.browser = browser;
    this.who = who;
    this.cspErrors = [];
  }
  async open() {
    this.context = await this.browser.createBrowserContext();
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(30_000);
    this.page.on("console", (msg) => {
      if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) this.cspErrors.push(msg.text());
    });
    await this.page.setViewport(VIEWPORTS[0]);
    return this;
  }
  async goto(path) {
    const res = await this.page.goto(base + path, { waitUntil: "load" });
    return res?.status();
  }
  // Submits a form by clicking its button and waits for the next page.
  async submit(buttonSelector) {
    const [res] = await Promise.all([this.page.waitForNavigation({ waitUntil: "load" }), this.page.click(buttonSelector)]);
    return res?.status();
  }
  // Sends the form of selector without the browser's own checks (required,
  // pattern), so the server's error messages show.
  async submitUnchecked(formSelector) {
    const [res] = await Promise.all([
      this.page.waitForNavigation({ waitUntil: "load" }),
      this.page.$eval(formSelector, (f) => {
        f.noValidate = true;
        f.requestSubmit();
      }),
    ]);
    return res?.status();
  }
  // Goes to the sign-in or sign-up form at path, fills and sends it. The
  // gateway limits sign-ins and sign-ups per client address, which every
  // local client shares: on a 429 it waits its Retry-After (a minute at most)
  // and sends the form again, up to 10 times. The first 429 page is checked.
  async authForm(path, values) {
    for (let attempt = 1; ; attempt++) {
      await this.goto(path);
      await this.fill(values);
      const [res] = await Promise.all([
        this.page.waitForNavigation({ waitUntil: "load" }),
        this.page.click("form.stack button[type=submit]"),
      ]);
      if (res?.status() !== 429 || attempt > 10) return res?.status();
      if (!rateLimitedChecked) {
        rateLimitedChecked = true;
        await check(this, "rate limited (429)", 429);
      }
      const wait = Math.min(60, Number.parseInt(res.headers()["retry-after"], 10) || 10);
      console.log(`  (${this.who}: ${path} answered 429: trying again in ${wait + 1} s)`);
      await new Promise((r) => setTimeout(r, (wait + 1) * 1000));
    }
  }
  async fill(values) {
    for (const [sel, value] of Object.entries(values)) {
      await this.page.$eval(sel, (el) => { el.value = ""; });
      await this.page.type(sel, value);
    }
  }
  async close() {
    await this.context?.close();
  }
}

const axeResults = []; // {who, name, path, status, viewport, violations}
let rateLimitedChecked = false;

// Runs axe on the page as it is now, at every viewport (the page is
// reloaded only for a GET; a page after a POST is checked as it stands,
// since resizing keeps the document).
async function check(s, name, status) {
  const path = new URL(s.page.url()).pathname + new URL(s.page.url()).search;
  for (const vp of VIEWPORTS) {
    await s.page.setViewport(vp);
    // CDP evaluation is not subject to the page's CSP (no inline script is
    // added to the page).
    const hasAxe = await s.page.evaluate(() => typeof window.axe !== "undefined");
    if (!hasAxe) await s.page.evaluate(axeSource);
    const r = await s.page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const res = await axe.run(document, { resultTypes: ["violations"] });
      return {
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        violations: res.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
          nodes: v.nodes.map((n) => ({ target: n.target.join(" "), impact: n.impact, summary: n.failureSummary })),
        })),
      };
    });
    axeResults.push({ who: s.who, name, path, status, viewport: vp.name, width: vp.width, ...r });
  }
  await s.page.setViewport(VIEWPORTS[0]);
}

async function runAxe(productPath_) {
  console.log(`axe-core ${axeVersion} on every page, at ${VIEWPORTS.map((v) => `${v.name} ${v.width}px`).join(" and ")}, ${base}`);
  const browser = await launch();
  const sessions = [];
  try {
    // Anonymous pages.
    const anon = await new Session(browser, "anonymous").open();
    sessions.push(anon);
    await check(anon, "home", await anon.goto("/"));
    const category = await anon.page.$eval(".chips a", (a) => a.getAttribute("href")).catch(() => "/c/kitchen");
    await check(anon, "category", await anon.goto(category));
    await check(anon, "product", await anon.goto(productPath_));
    await check(anon, "search", await anon.goto("/search?q=kettle"));
    const facet = await anon.page.$eval(".facets a", (a) => a.getAttribute("href")).catch(() => null);
    if (facet) await check(anon, "search, filtered", await anon.goto(facet));
    await check(anon, "search, nothing found", await anon.goto("/search?q=qqqxxzzv"));
    // The search box's suggestions, open.
    await anon.goto("/");
    await anon.page.type("#q", "kett");
    const listed = await anon.page.waitForSelector("#q-suggestions:not([hidden]) li", { timeout: 5_000 }).then(() => true, () => false);
    if (listed) {
      await anon.page.keyboard.press("ArrowDown");
      await check(anon, "search suggestions", 200);
    } else {
      console.log("  (no search suggestions appeared for 'kett': that state is not checked)");
    }
    await check(anon, "sign-in", await anon.goto("/signin"));
    await check(anon, "sign-in, wrong password",
      await anon.authForm("/signin", { "#email": `nobody-${Date.now()}@example.com`, "#password": "not-the-password-1" }));
    await check(anon, "sign-up", await anon.goto("/signup"));
    await anon.fill({ "#name": "Web Audit", "#email": "not-an-address", "#password": "short" });
    await check(anon, "sign-up, errors", await anon.submitUnchecked("form.stack"));
    await check(anon, "not found", await anon.goto("/no-such-page"));
    await check(anon, "cart, signed out (to sign-in)", await anon.goto("/cart"));

    // A new shopper, through the sign-up form.
    const shopper = await new Session(browser, "shopper").open();
    sessions.push(shopper);
    const email = `webaudit-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const password = "a long enough password";
    let signedUp = await shopper.authForm("/signup", { "#name": "Web Audit", "#email": email, "#password": password });
    if (!(await shopper.page.$("form[action='/signout']"))) {
      // Created, but the sign-in that follows was refused (rate limit): the
      // storefront sends the new shopper to sign in. (A 409: an earlier try,
      // answered 429, created the account after all.)
      if (new URL(shopper.page.url()).pathname === "/signin") await check(shopper, "sign-in, account created", signedUp);
      signedUp = await shopper.authForm("/signin", { "#email": email, "#password": password });
    }
    if (!(await shopper.page.$("form[action='/signout']"))) {
      throw new Error(`sign-up of ${email} did not sign in (status ${signedUp}, at ${shopper.page.url()})`);
    }
    await check(anon, "sign-up, e-mail taken",
      await anon.authForm("/signup", { "#name": "Web Audit", "#email": email, "#password": password }));
    await check(shopper, "home, signed in", await shopper.goto("/"));
    await check(shopper, "cart, empty", await shopper.goto("/cart"));
    await check(shopper, "orders, none", await shopper.goto("/orders"));
    await check(shopper, "notifications, none", await shopper.goto("/notifications"));
    await shopper.goto(productPath_);
    await check(shopper, "cart, with items", await shopper.submit("form.add button[type=submit]"));
    await check(shopper, "checkout", await shopper.goto("/checkout"));
    await check(shopper, "checkout, errors", await shopper.submitUnchecked("form.stack"));
    await shopper.fill({ "#name": "Web Audit", "#line1": "1 Test Street", "#city": "Testville", "#postal_code": "12345", "#country": "DE" });
    await shopper.page.click("input[name=payment_token][value=tok_visa]");
    const placed = await shopper.submit("form.stack button[type=submit]");
    if (!/\/orders\/[^/]+$/.test(new URL(shopper.page.url()).pathname)) {
      throw new Error(`checkout did not lead to an order page (status ${placed}, at ${shopper.page.url()})`);
    }
    const orderPath = new URL(shopper.page.url()).pathname;
    await check(shopper, "order, just placed", placed);
    await new Promise((r) => setTimeout(r, 3_000));
    await check(shopper, "order, after 3 s", await shopper.goto(orderPath));
    // A declined card: an order cancelled with its reason.
    await shopper.goto(productPath_);
    await shopper.submit("form.add button[type=submit]");
    await shopper.goto("/checkout");
    await shopper.fill({ "#name": "Web Audit", "#line1": "1 Test Street", "#city": "Testville", "#postal_code": "12345", "#country": "DE" });
    await shopper.page.click("input[name=payment_token][value=tok_chargeDeclined]");
    const declined = await shopper.submit("form.stack button[type=submit]");
    const declinedPath = new URL(shopper.page.url()).pathname;
    if (!/^\/orders\/[^/]+$/.test(declinedPath)) {
      throw new Error(`checkout with a declined card did not lead to an order page (status ${declined}, at ${shopper.page.url()})`);
    }
    await new Promise((r) => setTimeout(r, 3_000));
    await check(shopper, "order, card declined", await shopper.goto(declinedPath));
    await check(shopper, "orders", await shopper.goto("/orders"));
    await check(shopper, "notifications", await shopper.goto("/notifications"));
    await check(shopper, "admin, as a shopper (403)", await shopper.goto("/admin/products"));

    // The admin corner.
    const admin = await new Session(browser, "admin").open();
    sessions.push(admin);
    let secrets;
    try {
      secrets = JSON.parse(readFileSync(opts.secrets, "utf8"));
    } catch (err) {
      throw new Error(`reading the admin's credentials: ${err.message} (--secrets or SHOPMESH_SECRETS)`);
    }
    if (!secrets["admin-email"] || !secrets["admin-password"]) throw new Error(`${opts.secrets} has no admin-email/admin-password`);
    await check(admin, "admin products",
      await admin.authForm("/signin?next=%2Fadmin%2Fproducts", { "#email": secrets["admin-email"], "#password": secrets["admin-password"] }));
    if (!new URL(admin.page.url()).pathname.startsWith("/admin/products")) {
      throw new Error(`admin sign-in did not lead to /admin/products (at ${admin.page.url()})`);
    }
    const edit = await admin.page.$eval("table.lines tbody a", (a) => a.getAttribute("href"));
    await check(admin, "admin product, edit", await admin.goto(edit));
    await check(admin, "admin product, new", await admin.goto("/admin/products/new"));
    // Nothing is created: the empty form only shows its errors.
    await check(admin, "admin product, new with errors", await admin.submitUnchecked("form.stack"));
  } finally {
    for (const s of sessions) await s.close().catch(() => {});
    await browser.close();
  }

  let failed = false;
  const byPage = new Map();
  for (const r of axeResults) {
    const key = `${r.who}: ${r.name}`;
    const e = byPage.get(key) || { ...r, counts: {}, bad: [] };
    for (const v of r.violations) {
      e.counts[v.impact] = (e.counts[v.impact] || 0) + 1;
      if (FAILING_IMPACTS.has(v.impact)) e.bad.push({ ...v, viewport: r.viewport });
      else if (opts.verbose) console.log(`  (${v.impact}) ${key} [${r.viewport}] ${v.id}: ${v.help} ${v.nodes.map((n) => n.target).join(", ")}`);
    }
    if (r.overflow > 0) e.overflow = `${r.overflow}px wider than ${r.width}px`;
    byPage.set(key, e);
  }
  for (const [key, e] of byPage) {
    const counts = Object.entries(e.counts).map(([k, n]) => `${n} ${k}`).join(", ");
    console.log(`  ${e.bad.length ? "FAIL" : "ok  "} ${key} (${e.path}, ${e.status})${counts ? `: ${counts}` : ": no violations"}` +
      (e.overflow ? ` (scrolls sideways: ${e.overflow})` : ""));
    for (const v of e.bad) {
      failed = true;
      console.log(`       ${v.impact} ${v.id} [${v.viewport}]: ${v.help}\n         ${v.helpUrl}`);
      for (const n of v.nodes.slice(0, 10)) console.log(`         - ${n.target}`);
    }
  }
  const csp = sessions.flatMap((s) => s.cspErrors.map((t) => `${s.who}: ${t}`));
  for (const t of csp) console.log(`  FAIL CSP violation: ${t}`);
  console.log(failed || csp.length ? "" : `  axe: no serious or critical violation on ${byPage.size} pages`);
  return !failed && csp.length === 0;
}

// ---------------------------------------------------------------- main

const pages = [["home", "/"], ["search", "/search?q=kettle"]];
let ok = true;
try {
  const product = await productPath();
  pages.push(["product", product]);
  if (opts.only !== "axe") ok = (await runLighthouse(pages)) && ok;
  if (opts.only !== "lighthouse") ok = (await runAxe(product)) && ok;
} catch (err) {
  console.error(`audit: ${err.stack || err}`);
  process.exit(2);
}
console.log(ok ? "audit: all targets met" : "audit: FAILED");
process.exit(ok ? 0 : 1);
