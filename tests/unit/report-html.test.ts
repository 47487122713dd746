/**
 * The HTML report from small hand-made databases (written through the Store, as runs write
 * them): its strips, cells, changes and runs, its filters, and that nothing from the database
 * can become markup.
 */
import type { Failure } from "../../src/net/failures.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import { loadReport, type ReportData, type ReportQuery } from "../../src/report/report-data.js";
import { escapeHtml, formatTime } from "../../src/report/report-format.js";
import { reportRows } from "../../src/store/report-rows.js";
import { thousands } from "../../src/base/plural.js";
import { renderReport } from "../../src/report/report-html.js";
import { Store } from "../../src/store/store.js";
import { seedRun, type SeedRow } from "../helpers/seed.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 4, 18, 10, 0, 0);
const EVIL_TARGET = "https://x.test/<script>alert(1)</script>";
const EVIL_EVIDENCE = `the page said <img src=x onerror="alert(2)"> & more`;

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-report-"));
  store = Store.open(join(dir, "r.db"), { hostname: "test" });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

type V = [Status, Layer | null, Failure | null] | null;

/** Adds one run from `network` at `at` with one measurement per [target, service, verdict] (null: not measured). */
function addRun(network: { label?: string; asn?: number }, at: number, rows: Array<[string, string, V]>, state: "completed" | "interrupted" = "completed"): string {
  const seeded = rows.map(([target, service, v]): SeedRow => {
    if (!v) return [target, service, null];
    const [status, layer, failure] = v;
    const evidence = target === EVIL_TARGET ? [EVIL_EVIDENCE] : status === "ok" ? [] : [`${target} looked ${status}`];
    return [target, service, { status, layer, failure, evidence }];
  });
  return seedRun(store, { at, network, rows: seeded, version: "test", spacingMs: 10, durationMs: 5, state }).runId;
}

const OK: V = ["ok", null, null];
const DNS: V = ["blocked", "dns", "dns_bogon_error"];
const TLS: V = ["blocked", "tls", "connection_reset"];
const ANOMALY: V = ["anomaly", "tcp", "generic_timeout_error"];

/** home-isp: three runs in which a.test gets blocked and b.test turns suspicious; AS64500: two; unlabelled: one. */
function smallDatabase(): void {
  const home = { label: "home-isp" };
  addRun(home, T0, [["https://a.test/", "WeChat", OK], ["tcp://b.test:443", "WeChat", OK], [EVIL_TARGET, "LINE", OK]]);
  addRun(home, T0 + HOUR, [["https://a.test/", "WeChat", DNS], ["tcp://b.test:443", "WeChat", OK], [EVIL_TARGET, "LINE", OK]]);
  addRun(home, T0 + 2 * HOUR, [["https://a.test/", "WeChat", DNS], ["tcp://b.test:443", "WeChat", ANOMALY], [EVIL_TARGET, "LINE", OK]]);
  addRun({ asn: 64500 }, T0 + 5 * 60_000, [["https://a.test/", "WeChat", OK]]);
  addRun({ asn: 64500 }, T0 + HOUR + 5 * 60_000, [["https://a.test/", "WeChat", OK]]);
  addRun({}, T0 + 10 * 60_000, [["https://a.test/", "WeChat", OK]]);
}

function report(q: Partial<ReportQuery> = {}): { data: ReportData; html: string } {
  const data = loadReport(reportRows(store.db), { since: null, network: null, ...q });
  const html = [...renderReport(data, { database: "r.db", generatedAt: new Date(T0 + 3 * HOUR), version: "test" })].join("");
  return { data, html };
}

/** Each strip in the page: the target it is labelled with and the kinds of its cells, in order (a rect across n alike buckets is n cells). */
function strips(html: string): Array<{ target: string; cells: string[] }> {
  const out: Array<{ target: string; cells: string[] }> = [];
  for (const m of html.matchAll(/<svg class="strip[^"]*"[^>]*aria-label="Timeline of (.*?): \d+ of \d+ cells measured">(.*?)<\/svg>/g)) {
    out.push({ target: m[1]!, cells: [...m[2]!.matchAll(/<rect [^>]*width="(\d+)"[^>]*class="k-([a-z-]+)"/g)].flatMap((c) => Array<string>(Number(c[1])).fill(c[2]!)) });
  }
  return out;
}

/** The rows of a table in the page, as text with tags removed, one string a cell. */
function tableRows(html: string, cls: string): string[][] {
  const table = new RegExp(`<table class="${cls}">(.*?)</table>`, "s").exec(html)?.[1] ?? "";
  const body = /<tbody>(.*?)<\/tbody>/s.exec(table)?.[1] ?? "";
  return [...body.matchAll(/<tr>(.*?)<\/tr>/gs)].map((r) => [...r[1]!.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/gs)].map((c) => c[1]!.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim()));
}

describe("escapeHtml", () => {
  test.each([
    ["<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    [`a "quoted" 'value'`, "a &quot;quoted&quot; &#39;value&#39;"],
    ["AT&T", "AT&amp;T"],
    ["&lt;", "&amp;lt;"],
    ["plain", "plain"],
  ])("%j -> %j", (input, want) => expect(escapeHtml(input)).toBe(want));
});

describe("thousands", () => {
  test.each([0, 7, 999, 1000, 26_280, 2_628_000, -1234, 1234.5])("%d as en-US writes it", (n) => expect(thousands(n)).toBe(n.toLocaleString("en-US")));
});

describe("a report from a small database", () => {
  test("one strip per endpoint and network, one cell per run, in run order", () => {
    smallDatabase();
    const { data, html } = report();
    expect(data.networks.map((n) => n.network)).toEqual(["(unlabelled)", "AS64500", "home-isp"]);
    const got = strips(html);
    expect(got).toHaveLength(5);
    expect(got.reduce((n, s) => n + s.cells.length, 0)).toBe(3 * 3 + 2 + 1);
    const home = data.networks.find((n) => n.network === "home-isp")!;
    expect(home.axis).toMatchObject({ mode: "run", cells: 3 });
    // Services by name; in a service, the worst latest verdict first: a.test (blocked), then b.test (suspicious).
    const homeStrips = got.slice(-3);
    expect(homeStrips.map((s) => s.target)).toEqual([escapeHtml(EVIL_TARGET), "https://a.test/", "tcp://b.test:443"]);
    expect(homeStrips[0]!.cells).toEqual(["ok", "ok", "ok"]);
    expect(homeStrips[1]!.cells).toEqual(["ok", "blocked-dns", "blocked-dns"]);
    expect(homeStrips[2]!.cells).toEqual(["ok", "ok", "anomaly"]);
  });

  test("every cell has a hover title with time, status, layer and failure", () => {
    smallDatabase();
    const { html } = report();
    const titles = [...html.matchAll(/<rect [^>]*><title>(.*?)<\/title><\/rect>/g)].map((m) => m[1]!);
    expect(titles.length).toBeGreaterThanOrEqual(12);
    expect(titles).toContain(`${formatTime(T0 + HOUR, true)} · BLOCKED at DNS · dns_bogon_error`);
    expect(titles).toContain(`${formatTime(T0 + 2 * HOUR + 10, true)} · suspicious at TCP · generic_timeout_error`);
  });

  test("the current status adds up each service's latest verdicts per network", () => {
    smallDatabase();
    const { data, html } = report();
    const home = data.networks.find((n) => n.network === "home-isp")!;
    expect(home.services.map((s) => [s.service, s.summary.status, s.summary.counts.blocked, s.summary.endpoints])).toEqual([
      ["LINE", "ok", 0, 1],
      ["WeChat", "partly blocked", 1, 2],
    ]);
    const rows = tableRows(html, "matrix");
    expect(rows.map((r) => r[0])).toEqual(["LINE", "WeChat"]);
    // Columns: service, (unlabelled), AS64500, home-isp.
    expect(rows[1]![3]).toMatch(/^partly blocked 2 endpoints: 1 of 2 blocked, 1 suspicious/);
    expect(rows[0]![1]).toBe("not measured");
    expect(html).toMatch(/Latest measurements: <strong>WeChat<\/strong> partly blocked on home-isp\./);
  });

  test("the change list has each transition once, newest first, with the evidence of the new verdict", () => {
    smallDatabase();
    const { data, html } = report();
    expect(data.changeCount).toBe(2);
    expect(data.changes.map((c) => [c.target, c.from.status, c.to.status, c.to.layer])).toEqual([
      ["tcp://b.test:443", "ok", "anomaly", "tcp"],
      ["https://a.test/", "ok", "blocked", "dns"],
    ]);
    const rows = tableRows(html, "changes");
    expect(rows).toHaveLength(2);
    expect(rows[1]).toEqual([formatTime(T0 + HOUR), "home-isp", "WeChat https://a.test/", "reachable → BLOCKED at DNS", "dns_bogon_error · https://a.test/ looked blocked"]);
  });

  test("a new layer is a change too, as the store's changed column has it", () => {
    const net = { label: "n" };
    addRun(net, T0, [["https://a.test/", "WeChat", DNS]]);
    addRun(net, T0 + HOUR, [["https://a.test/", "WeChat", TLS]]);
    const { data } = report();
    expect(data.changes.map((c) => `${c.from.layer}->${c.to.layer}`)).toEqual(["dns->tls"]);
  });

  test("the run list: every run newest first, with its network, state, targets and blocked count", () => {
    smallDatabase();
    addRun({ label: "home-isp" }, T0 + 3 * HOUR, [["https://a.test/", "WeChat", DNS], ["tcp://b.test:443", "WeChat", null]], "interrupted");
    const { html } = report();
    const rows = tableRows(html, "runs");
    expect(rows).toHaveLength(7);
    expect(rows.map((r) => r.slice(0, 5))).toEqual([
      [formatTime(T0 + 3 * HOUR, true), "home-isp", "interrupted", "1 of 2", "1"],
      [formatTime(T0 + 2 * HOUR, true), "home-isp", "completed", "3", "1"],
      [formatTime(T0 + HOUR + 5 * 60_000, true), "AS64500", "completed", "1", "0"],
      [formatTime(T0 + HOUR, true), "home-isp", "completed", "3", "1"],
      [formatTime(T0 + 10 * 60_000, true), "(unlabelled)", "completed", "1", "0"],
      [formatTime(T0 + 5 * 60_000, true), "AS64500", "completed", "1", "0"],
      [formatTime(T0, true), "home-isp", "completed", "3", "0"],
    ]);
  });

  test("an endpoint missing from a run leaves its cell empty", () => {
    const net = { label: "n" };
    addRun(net, T0, [["https://a.test/", "S", OK], ["https://b.test/", "S", OK]]);
    addRun(net, T0 + HOUR, [["https://a.test/", "S", OK], ["https://b.test/", "S", null]]);
    addRun(net, T0 + 2 * HOUR, [["https://a.test/", "S", OK], ["https://b.test/", "S", DNS]]);
    const got = strips(report().html);
    expect(got.map((s) => [s.target, s.cells.length])).toEqual([["https://b.test/", 2], ["https://a.test/", 3]]);
    expect(report().html).toContain(`aria-label="Timeline of https://b.test/: 2 of 3 cells measured"`);
  });
});

describe("nothing from the database becomes markup", () => {
  test("a target with <script> and evidence with <img onerror> are shown as text", () => {
    smallDatabase();
    addRun({ label: "home-isp" }, T0 + 3 * HOUR, [[EVIL_TARGET, `<b>Evil</b> "service"`, ["blocked", "http", null]]]);
    const { html } = report();
    // No script at all: the page has none of its own.
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain("<b>Evil</b>");
    expect(html).toContain("https://x.test/&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(2)&quot;&gt; &amp; more");
    expect(html).toContain("&lt;b&gt;Evil&lt;/b&gt; &quot;service&quot;");
  });

  test("network labels are escaped too", () => {
    addRun({ label: `<i>isp</i>"` }, T0, [["https://a.test/", "S", OK]]);
    const { html } = report();
    expect(html).not.toContain("<i>isp</i>");
    expect(html).toContain("&lt;i&gt;isp&lt;/i&gt;&quot;");
  });
});

describe("empty and filtered reports", () => {
  test("an empty database gives a clear no-measurements page", () => {
    const { data, html } = report();
    expect(data.runCount).toBe(0);
    expect(html).toContain("<h2>No measurements yet</h2>");
    expect(html).toContain("reachprobe run --db FILE");
    expect(strips(html)).toEqual([]);
    expect(html).not.toContain('id="changes"');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/<\/html>\n$/);
  });

  test("--network keeps one network; (unlabelled) and AS<number> name runs without a label", () => {
    smallDatabase();
    expect(report({ network: "home-isp" }).data.networks.map((n) => n.network)).toEqual(["home-isp"]);
    expect(report({ network: "AS64500" }).data.runCount).toBe(2);
    expect(report({ network: "" }).data.networks.map((n) => n.network)).toEqual(["(unlabelled)"]);
  });

  test("a filter that matches nothing says so and lists the networks there are", () => {
    smallDatabase();
    const { html } = report({ network: "elsewhere" });
    expect(html).toContain("<h2>No runs match</h2>");
    expect(html).toContain("Networks in the database: (unlabelled), AS64500, home-isp.");
  });

  test("--since keeps later runs, and a change at the start of the period still counts", () => {
    smallDatabase();
    const since = new Date(T0 + 90 * 60_000).toISOString();
    const { data, html } = report({ since });
    expect(data.runCount).toBe(1);
    expect(strips(html).map((s) => s.cells)).toEqual([["ok"], ["blocked-dns"], ["anomaly"]]);
    // b.test was ok before the period and is suspicious in its first run inside it; a.test stayed blocked.
    expect(data.changes.map((c) => [c.target, c.from.status, c.to.status])).toEqual([["tcp://b.test:443", "ok", "anomaly"]]);
    expect(html).toContain(`runs since ${formatTime(since)}`);
  });
});

describe("many runs", () => {
  test("runs beyond the cell limit fall into buckets showing their worst status, and the legend says how big", () => {
    const net = { label: "n" };
    // 48 hourly runs over two days; the target is blocked once, in the 30th run.
    for (let i = 0; i < 48; i++) addRun(net, T0 - 10 * HOUR + i * HOUR, [["https://a.test/", "S", i === 30 ? DNS : OK]]);
    const { data, html } = report({ maxCells: 10 });
    const axis = data.networks[0]!.axis;
    expect(axis).toMatchObject({ mode: "time", bucketMs: 6 * HOUR });
    const [strip] = strips(html);
    expect(strip!.cells.length).toBe(axis.cells);
    expect(strip!.cells.length).toBeLessThanOrEqual(10);
    expect(strip!.cells.filter((c) => c === "blocked-dns")).toHaveLength(1);
    expect(html).toContain("each cell is 6 hours: the worst status measured in it");
    expect(html).toMatch(/<title>[^<]*worst: BLOCKED at DNS · dns_bogon_error · 6 measurements: 1 blocked, 5 reachable<\/title>/);
  });

  test("long lists are cut, newest first, and say how many are left out", () => {
    const net = { label: "n" };
    for (let i = 0; i < 12; i++) addRun(net, T0 + i * HOUR, [["https://a.test/", "S", i % 2 ? DNS : OK]]);
    const { data, html } = report({ maxRuns: 5, maxChanges: 4 });
    expect(data.runs).toHaveLength(5);
    expect(data.runs[0]!.startedAt).toBe(new Date(T0 + 11 * HOUR).toISOString());
    expect(data.changeCount).toBe(11);
    expect(data.changes.map((c) => c.at.slice(11, 13))).toEqual(["21", "20", "19", "18"]);
    expect(html).toContain("7 earlier runs not listed.");
    expect(html).toContain("7 earlier changes not listed.");
  });
});
