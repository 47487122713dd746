/**
 * The HTML report in a real browser: real `reachprobe run`s against loopback servers (a name
 * that resolves to 127.0.0.1, then to the loopback bogon 127.0.0.2: ok, then blocked at DNS),
 * then `reachprobe report`, opened from file:// in Debian's Chromium driven by playwright-core,
 * with every request that is not file: aborted and counted: the page must need none.
 * Chromium runs with its background networking off and a fresh profile. Where it is not
 * installed the browser test says so in one line and skips (CI's .ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipTag } from "../helpers/skip.js";
import { runCli } from "../helpers/cli.js";
import { closeAll, dnsServer, webServer, type DnsBehaviour } from "../helpers/servers.js";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCREENSHOT = join(ROOT, "test-output", "report.png");

if (!HAVE_CHROMIUM) {
  process.stderr.write(`report browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium; CI's .ci/run installs it)\n`);
}

// Flags that keep Chromium from reaching anything on its own (updates, metrics, sync, QUIC probes).
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-domain-reliability",
  "--metrics-recording-only",
  "--no-pings",
  // QUIRK: with only the flags above, Debian's Chromium 156 still looked up accounts.google.com
  // through the system resolver (seen with strace). A file:// page needs no name at all.
  "--host-resolver-rules=MAP * ~NOTFOUND",
];

// A service name with markup, from a real list file: it must reach the page as text.
const EVIL_SERVICE = `<script>window.__pwned = 1</script>Evil "svc"`;

let dir: string;
let db: string;
let html: string;
let flip: string;
let steady: string;
const codes: Array<number | null> = [];
let report: { code: number | null; stderr: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-report-browser-"));
  db = join(dir, "results.db");
  html = join(dir, "report.html");
  const port = await webServer((_req, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<html><title>Fine site</title><body>fine</body></html>");
  });
  const zone: Record<string, DnsBehaviour> = { "flip.test": { a: ["127.0.0.1"] }, "steady.test": { a: ["127.0.0.1"] } };
  const dns = await dnsServer(zone);
  // An honest outside resolver: the witness that makes the flipped loopback answer a proof of blocking.
  const honest = await dnsServer({ "flip.test": { a: ["127.0.0.1"] }, "steady.test": { a: ["127.0.0.1"] } });
  flip = `http://flip.test:${port}/`;
  steady = `http://steady.test:${port}/`;
  const list = join(dir, "targets.txt");
  writeFileSync(list, `# service: Fine\n${flip}\n${steady}\n# service: ${EVIL_SERVICE}\ntcp://127.0.0.1:${port}\n`);
  const run = () =>
    runCli(["run", "--no-system-resolver", "--resolver", `127.0.0.1:${dns.port}`, "--resolver", `127.0.0.1:${honest.port}`, "--public-ranges", "127.0.0.1/32", "--timeout", "700", "--dns-window", "150", "--no-canary", "--db", db, "--file", list]);
  // First run: flip.test answers 127.0.0.1 (ok). Then the "censor" makes it answer the
  // loopback bogon 127.0.0.2: blocked at DNS, twice.
  codes.push((await run()).code);
  zone["flip.test"] = { a: ["127.0.0.2"] };
  codes.push((await run()).code);
  codes.push((await run()).code);
  report = await runCli(["report", "--db", db, "--html", html]);
}, 120_000);

afterAll(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("reachprobe report after real runs", () => {
  it("the runs found the block (0, then 3 twice) and the report was written (0)", () => {
    expect(codes).toEqual([0, 3, 3]);
    expect(report.stderr).toMatch(/wrote .*report\.html \(1 network, 3 runs, 1 change;/);
    expect(report.code).toBe(0);
  });

  it("the change list names the transition of flip.test, ok to blocked at DNS", () => {
    const page = readFileSync(html, "utf8");
    const changes = /<table class="changes">(.*?)<\/table>/s.exec(page)?.[1] ?? "";
    const rows = changes.split("<tr>").slice(2);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(flip);
    expect(rows[0]).toMatch(/reachable<\/span><span class="arrow"[^>]*>→<\/span><span class="badge"><span class="sw k-blocked-dns"><\/span>BLOCKED at DNS/);
    expect(rows[0]).toContain("dns_bogon_error");
  });

  it("exits 1 for a database that does not exist, and does not create it", async () => {
    const missing = join(dir, "missing.db");
    const r = await runCli(["report", "--db", missing, "--html", join(dir, "x.html")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no database at/);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, "x.html"))).toBe(false);
  });

  it("without --html writes the page on stdout (a terminal is refused: tests/integration/cli-conventions.test.ts)", async () => {
    const r = await runCli(["report", "--db", db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<!doctype html>/i);
  });
});

describe.skipIf(!HAVE_CHROMIUM)(`the report in Chromium${skipTag(HAVE_CHROMIUM ? null : `${CHROMIUM} is not installed (apt-get install chromium)`)}`, () => {
  it("renders its charts from file:// alone, and is screenshotted", async () => {
    const { chromium } = await import("playwright-core");
    const profile = mkdtempSync(join(tmpdir(), "reachprobe-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const attempted: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) attempted.push(r.url());
      });
      await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort()));
      await page.goto(pathToFileURL(html).href, { waitUntil: "load" });

      // Self-contained: nothing but the file itself was asked for.
      expect(attempted, "requests the page tried to make").toEqual([]);

      // One strip per endpoint, one cell per run, each with a real size on screen.
      const strips = page.locator("svg.strip");
      expect(await strips.count()).toBe(3);
      const cells = page.locator("svg.strip rect");
      expect(await cells.count()).toBe(9);
      const boxes = await cells.evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect()).map((b) => ({ w: b.width, h: b.height })));
      for (const b of boxes) {
        expect(b.w).toBeGreaterThan(0);
        expect(b.h).toBeGreaterThan(0);
      }

      // flip.test: an ok cell, then blocked at DNS; every cell has a hover title.
      const flipRow = page.locator(".tl-row", { has: page.locator(`.ep[title="${flip}"]`) });
      const kinds = await flipRow.locator("svg.strip rect").evaluateAll((rects) => rects.map((r) => r.getAttribute("class")));
      expect(kinds).toEqual(["k-ok", "k-blocked-dns", "k-blocked-dns"]);
      const title = await flipRow.locator("svg.strip rect title").nth(1).textContent();
      expect(title).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · BLOCKED at DNS · dns_bogon_error$/);
      expect(await flipRow.locator(".now").innerText()).toContain("BLOCKED at DNS");

      await expect(page.locator(".legend").isVisible()).resolves.toBe(true);
      expect(await page.locator(".legend li").allInnerTexts()).toContain("BLOCKED at DNS");

      // The service name with markup is text: no script ran, none exists.
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator("script").count()).toBe(0);
      expect(await page.locator("#timelines h4", { hasText: "<script>" }).count()).toBe(1);

      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe("PNG");
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
