/**
 * The report's data against the obvious way of computing it: every measurement of the period
 * read one by one. loadReport reads the changes and a few rows per endpoint instead, and reads
 * measurements row by row only for runs that do not vouch for their own (interrupted, failed,
 * running, overlapping another run, a target list that changed); on random databases with all
 * of those, both must give the same page data. Also: the query plans never read the
 * measurements table from end to end.
 */
import type { Failure } from "../../src/net/failures.js";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { summarizeServices } from "../../src/analysis/service.js";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import { chooseAxis, cellOf, MAX_CELLS, StripCells } from "../../src/report/report-buckets.js";
import { loadReport, type Change, type ReportData, type ReportQuery, type RunInfo } from "../../src/report/report-data.js";
import { reportRows } from "../../src/store/report-rows.js";
import * as sql from "../../src/store/report-sql.js";
import { runFilter } from "../../src/store/report-sql.js";
import { Store } from "../../src/store/store.js";
import { seedRun, type SeedRow } from "../helpers/seed.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2025, 4, 1);

let dir: string;
let store: Store;
const clock = { now: T0 };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-report-data-"));
  // The clock gives runs their finished_at.
  store = Store.open(join(dir, "r.db"), { hostname: "test", now: () => new Date(clock.now) });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// The reference: every measurement of the period, one by one.

const differs = (a: { status: Status; layer: Layer | null }, b: { status: Status; layer: Layer | null }) => a.status !== b.status || a.layer !== b.layer;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Row {
  rid: number;
  run_id: string;
  network: string;
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  failure: string | null;
  started_at: string;
  evidence_json: string;
}

// Written from the stored columns, not with src/store's network key or run filter, so that a
// mistake there shows as a difference (bucketing and service summaries are checked in
// report-buckets.test.ts and service.test.ts, and are reused here).
const RANK: Record<Status, number> = { blocked: 4, anomaly: 3, down: 2, inconclusive: 1, ok: 0 };
/** The network a run was on: its label without surrounding spaces, else its ASN, else "". */
const keyOf = (label: string | null, asn: number | null) => (label ?? "").replace(/^ +| +$/g, "") || (asn === null ? "" : `AS${asn}`);
const nameOf = (key: string) => (key === "" ? "(unlabelled)" : key);

function reference(db: Database.Database, q: ReportQuery): ReportData {
  const maxCells = q.maxCells ?? MAX_CELLS;
  const maxChanges = q.maxChanges ?? 500;
  const maxRuns = q.maxRuns ?? 500;
  const everyRun = db
    .prepare<[], { id: string; started_at: string; finished_at: string | null; state: string; target_count: number | null; network_label: string | null; probe_asn: number | null }>(
      "SELECT id, started_at, finished_at, state, target_count, network_label, probe_asn FROM runs ORDER BY rowid",
    )
    .all()
    .map((r, i) => ({ ...r, i, network: keyOf(r.network_label, r.probe_asn) }));
  const runs = everyRun
    .filter((r) => (q.since === null || r.started_at >= q.since) && (q.network === null || r.network === q.network))
    .sort((a, b) => byText(a.started_at, b.started_at) || a.i - b.i);
  const networkOfRun = new Map(everyRun.map((r) => [r.id, r.network]));
  interface Net {
    name: string;
    runs: RunInfo[];
    times: number[];
    endpoints: Map<string, { service: string; target: string; cells: StripCells | null; measured: number; latest: Row | null }>;
  }
  const nets = new Map<string, Net>();
  const slots = new Map<string, { net: Net; index: number; time: number; info: RunInfo }>();
  const all: RunInfo[] = [];
  for (const r of runs) {
    let net = nets.get(r.network);
    if (!net) nets.set(r.network, (net = { name: nameOf(r.network), runs: [], times: [], endpoints: new Map() }));
    const info: RunInfo = { id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, state: r.state, network: net.name, targetCount: r.target_count, measured: 0, counts: { ok: 0, blocked: 0, anomaly: 0, down: 0, inconclusive: 0 } };
    slots.set(r.id, { net, index: net.runs.length, time: Date.parse(r.started_at), info });
    net.runs.push(info);
    net.times.push(Date.parse(r.started_at));
    all.push(info);
  }
  const axes = new Map([...nets].map(([k, n]) => [k, chooseAxis(n.times, maxCells)]));

  // Each measurement on its run's network, in time order per network and target.
  const rows = db
    .prepare<[], Omit<Row, "network">>("SELECT rowid AS rid, run_id, target, service, status, layer, failure, started_at, evidence_json FROM measurements")
    .all()
    .map((row) => ({ ...row, network: networkOfRun.get(row.run_id)! }))
    .sort((a, b) => byText(a.network, b.network) || byText(a.target, b.target) || byText(a.started_at, b.started_at) || a.rid - b.rid);
  const changes: Array<Change & { rid: number }> = [];
  let measurementCount = 0;
  let previous: Row | null = null;
  for (const row of rows) {
    const prev = previous && previous.network === row.network && previous.target === row.target ? previous : null;
    previous = row;
    const slot = slots.get(row.run_id);
    if (!slot) continue;
    measurementCount++;
    slot.info.measured++;
    slot.info.counts[row.status]++;
    const axis = axes.get(row.network)!;
    let ep = slot.net.endpoints.get(row.target);
    if (!ep) slot.net.endpoints.set(row.target, (ep = { service: row.service, target: row.target, cells: new StripCells(axis.cells), measured: 0, latest: null }));
    ep.cells!.add(cellOf(axis, slot.index, slot.time), row.status, row.layer, row.failure, 1, slot.index);
    ep.measured++;
    ep.latest = row;
    ep.service = row.service;
    if (prev && differs(prev, row)) {
      const evidence = JSON.parse(row.evidence_json) as string[];
      changes.push({
        rid: row.rid,
        at: row.started_at,
        network: slot.net.name,
        service: row.service,
        target: row.target,
        from: { at: prev.started_at, status: prev.status, layer: prev.layer, failure: prev.failure },
        to: { at: row.started_at, status: row.status, layer: row.layer, failure: row.failure, evidence: evidence.slice(0, 1) },
      });
    }
  }
  changes.sort((a, b) => byText(b.at, a.at) || b.rid - a.rid);

  const networks = [...nets]
    .sort(([, a], [, b]) => byText(a.name, b.name))
    .map(([key, net]) => {
      const byService = new Map<string, Array<{ service: string; target: string; cells: StripCells; measured: number; latest: { at: string; status: Status; layer: Layer | null; failure: string | null; evidence: string[] } }>>();
      for (const ep of net.endpoints.values()) {
        const l = ep.latest!;
        const list = byService.get(ep.service) ?? [];
        list.push({ service: ep.service, target: ep.target, cells: ep.cells!, measured: ep.measured, latest: { at: l.started_at, status: l.status, layer: l.layer, failure: l.failure, evidence: JSON.parse(l.evidence_json) as string[] } });
        byService.set(ep.service, list);
      }
      const services = [...byService]
        .sort(([a], [b]) => byText(a, b))
        .map(([service, endpoints]) => {
          endpoints.sort((a, b) => RANK[b.latest.status] - RANK[a.latest.status] || byText(a.target, b.target));
          return { service, summary: summarizeServices(endpoints.map((e) => ({ service, status: e.latest.status })))[0]!, endpoints };
        });
      return { network: net.name, axis: axes.get(key)!, runCount: net.runs.length, firstRunAt: net.runs[0]!.startedAt, lastRun: net.runs[net.runs.length - 1]!, services };
    });

  return {
    since: q.since,
    network: q.network === null ? null : nameOf(q.network),
    networks,
    runCount: all.length,
    measurementCount,
    runs: all.slice(-maxRuns).reverse(),
    changes: changes.slice(0, maxChanges).map(({ rid: _rid, ...c }) => c),
    changeCount: changes.length,
    firstRunAt: all[0]?.startedAt ?? null,
    lastRunAt: all[all.length - 1]?.startedAt ?? null,
    databaseRunCount: db.prepare<[], number>("SELECT COUNT(*) FROM runs").pluck().get()!,
    databaseNetworks: [...new Set(everyRun.map((r) => nameOf(r.network)))].sort(byText),
  };
}

/** The data as plain values, every cell of every strip spelled out. */
function plain(d: ReportData) {
  return {
    ...d,
    networks: d.networks.map((n) => ({
      ...n,
      services: n.services.map((s) => ({
        ...s,
        endpoints: s.endpoints.map((e) => ({ ...e, cells: Array.from({ length: n.axis.cells }, (_v, i) => e.cells.get(i)) })),
      })),
    })),
  };
}

// ---------------------------------------------------------------------------------------
// Random databases, written through the Store as runs write them.

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VERDICTS: ReadonlyArray<[Status, Layer | null]> = [
  ["ok", null], ["ok", null], ["ok", null],
  ["blocked", "dns"], ["blocked", "tcp"], ["blocked", "tls"], ["blocked", "http"],
  ["anomaly", "tcp"], ["anomaly", "tls"], ["down", null], ["inconclusive", null],
];
// One failure per status and layer: a bucket's failure is then the same however it is computed.
// Invented failure strings, one per status and layer, so a test can tell them apart in the output.
const failureOf = (status: Status, layer: Layer | null) => (status === "ok" ? null : (`${status}_${layer ?? "none"}_error` as Failure));

const TARGETS: ReadonlyArray<[string, string]> = [
  ["https://a.test/", "WeChat"],
  ["tcp://b.test:443", "WeChat"],
  ["https://c.test/", "LINE"],
  ["https://d.test/", "LINE"],
  ["http://e.test/", "Telegram"],
  ["https://x.test/<script>", `<b>Evil</b> "svc"`],
];

type RunKind = "completed" | "interrupted" | "failed" | "overlapping" | "running";

interface Built {
  /** Every run's start, per network, in order. */
  starts: string[][];
  kinds: RunKind[][];
}

/**
 * Networks with `runs` runs each, about an hour apart and interleaved. Most runs complete;
 * some are interrupted or failed part-way, some last past the next run's start with their
 * measurements interleaved with its, the last may be running. Targets join and leave the list
 * (one leaves for a while and comes back). Verdicts stick for a while, then change.
 */
// Not tests/helpers/seed.ts: runs end in several states, overlap and interleave, each finish time set by the clock.
function build(seed: number, runs: number, networks: Array<{ label?: string; asn?: number }>): Built {
  const rand = prng(seed);
  const built: Built = { starts: [], kinds: [] };
  networks.forEach((net, n) => {
    const verdicts = TARGETS.map(() => VERDICTS[Math.floor(rand() * VERDICTS.length)]!);
    const starts: string[] = [];
    const kinds: RunKind[] = [];
    let start = T0 + n * 7 * MINUTE;
    for (let r = 0; r < runs; r++) {
      const listed = TARGETS.filter((_t, k) => k !== 3 || r >= runs / 3).filter((_t, k) => k !== 4 || r < runs / 2 || r >= (3 * runs) / 4);
      const x = rand();
      const kind: RunKind =
        r === runs - 1 && x < 0.3 ? "running" : x < 0.06 ? "interrupted" : x < 0.08 ? "failed" : x < 0.12 && r > 0 && r < runs - 3 ? "overlapping" : "completed";
      const id = store.startRun({ startedAt: new Date(start), version: "test", options: {}, networkLabel: net.label ?? null, probeAsn: net.asn ?? null, targetCount: listed.length });
      const measuredCount = kind === "interrupted" || kind === "failed" ? Math.floor(rand() * listed.length) : kind === "running" ? Math.floor(rand() * (listed.length + 1)) : listed.length;
      // An overlapping run takes 80 minutes, past the next run's start; the others a few seconds.
      const step = kind === "overlapping" ? 16 * MINUTE : 20_000;
      let last = start;
      listed.slice(0, measuredCount).forEach(([target, service], i) => {
        const k = TARGETS.findIndex((t) => t[0] === target);
        if (rand() < 0.15) verdicts[k] = VERDICTS[Math.floor(rand() * VERDICTS.length)]!;
        const [status, layer] = verdicts[k]!;
        const at = start + i * step + Math.floor(rand() * 1000);
        last = at + 500;
        const evidence = status === "ok" ? [] : [`${target} looked ${status} <${layer}>`, "and more"];
        store.addMeasurement(id, { target, service, verdict: { status, layer, failure: failureOf(status, layer), evidence }, observations: [], startedAt: new Date(at), finishedAt: new Date(last), durationMs: 500 });
      });
      if (kind !== "running") {
        clock.now = last + 1000;
        store.finishRun(id, kind === "overlapping" ? "completed" : kind);
      }
      starts.push(new Date(start).toISOString());
      kinds.push(kind);
      start += HOUR + Math.floor((rand() - 0.5) * 10 * MINUTE);
    }
    built.starts.push(starts);
    built.kinds.push(kinds);
  });
  return built;
}

/** Counts the runs that loadReport reads row by row. */
function countRowReads(db: Database.Database): { runs: number } {
  const count = { runs: 0 };
  const prepare = db.prepare.bind(db);
  (db as { prepare: unknown }).prepare = (text: string) => {
    const stmt = prepare(text);
    if (text === sql.RUN_MEASUREMENTS_SQL) {
      const iterate = stmt.iterate.bind(stmt);
      (stmt as { iterate: unknown }).iterate = (...args: unknown[]) => {
        count.runs++;
        return iterate(...(args as []));
      };
    }
    return stmt;
  };
  return count;
}

const NETWORKS = [{ label: "home-isp" }, { asn: 64500 }, {}];

describe("loadReport gives what reading every measurement gives", () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])("random database %i: all runs, bucketed and one cell per run", (seed) => {
    build(seed, 60, NETWORKS);
    for (const maxCells of [6, 13, 400]) {
      const q: ReportQuery = { since: null, network: null, maxCells, maxChanges: 7, maxRuns: 9 };
      expect(plain(loadReport(reportRows(store.db), q))).toEqual(plain(reference(store.db, q)));
    }
  });

  test.each([11, 12, 13, 14, 15, 16])("random database %i: --since (at, between and just after runs) and --network", (seed) => {
    const built = build(seed, 50, NETWORKS);
    const rand = prng(seed * 31);
    const starts = built.starts[0]!;
    const sinces = [
      starts[Math.floor(rand() * starts.length)]!,
      new Date(Date.parse(starts[Math.floor(rand() * starts.length)]!) + 20 * MINUTE).toISOString(),
      // Just after an overlapping run started: it straddles the start of the period.
      ...built.kinds[0]!.flatMap((k, i) => (k === "overlapping" ? [new Date(Date.parse(starts[i]!) + 1).toISOString()] : [])),
    ];
    for (const since of sinces) {
      for (const network of [null, "home-isp", "AS64500", ""]) {
        const q: ReportQuery = { since, network, maxCells: 9, maxChanges: 5, maxRuns: 6 };
        expect(plain(loadReport(reportRows(store.db), q)), `since ${since}, network ${network}`).toEqual(plain(reference(store.db, q)));
      }
    }
  });

  test("a year-like history with no mishaps is read without a single run's rows", () => {
    const rand = prng(99);
    const verdicts = TARGETS.map(() => VERDICTS[0]!);
    for (let r = 0; r < 300; r++) {
      const start = T0 + r * HOUR;
      const rows = TARGETS.map(([target, service], i): SeedRow => {
        if (rand() < 0.05) verdicts[i] = VERDICTS[Math.floor(rand() * VERDICTS.length)]!;
        const [status, layer] = verdicts[i]!;
        return [target, service, { status, layer, failure: failureOf(status, layer), evidence: [] }];
      });
      clock.now = start + 10_000;
      seedRun(store, { at: start, network: { label: "n" }, version: "t", rows, spacingMs: 1000, durationMs: 500 });
    }
    const reads = countRowReads(store.db);
    const q: ReportQuery = { since: null, network: null, maxCells: 40 };
    const data = loadReport(reportRows(store.db), q);
    expect(reads.runs).toBe(0);
    expect(data.measurementCount).toBe(300 * TARGETS.length);
    expect(plain(data)).toEqual(plain(reference(store.db, q)));
  });

  test("only the runs that do not vouch for themselves are read row by row", () => {
    const built = build(5, 80, [{ label: "n" }]);
    const kinds = built.kinds[0]!;
    const reads = countRowReads(store.db);
    const q: ReportQuery = { since: null, network: null, maxCells: 20 };
    const data = loadReport(reportRows(store.db), q);
    expect(plain(data)).toEqual(plain(reference(store.db, q)));
    const unusual = kinds.filter((k) => k !== "completed").length;
    expect(unusual).toBeGreaterThan(0);
    // Each unusual run, the run after an overlapping one, and the runs whose target list differs.
    expect(reads.runs).toBeGreaterThanOrEqual(unusual);
    expect(reads.runs).toBeLessThan(kinds.length / 2);
  });
});

describe("cells that hold stretches of runs", () => {
  const net = { label: "n" };
  function run(at: number, rows: Array<[string, Status, Layer | null, Failure | null]>): void {
    // The clock gives the run its finished_at, 10 s after it started.
    clock.now = at + 10_000;
    seedRun(store, { at, network: net, rows: rows.map(([target, status, layer, failure]): SeedRow => [target, "S", { status, layer, failure, evidence: [] }]), version: "t", spacingMs: 1000, durationMs: 500 });
  }


  test("a bucket counts every run of a stretch and names the failure that began its worst one", () => {
    // Blocked at TCP for 12 hours, first with one failure and then another; a day a cell.
    for (let h = 0; h < 48; h++) {
      const failure = h < 6 ? "connection_reset" : "generic_timeout_error";
      run(T0 + h * HOUR, [["https://a.test/", h >= 30 && h < 42 ? "blocked" : "ok", h >= 30 && h < 42 ? "tcp" : null, h >= 30 && h < 42 ? failure : null]]);
    }
    const data = loadReport(reportRows(store.db), { since: null, network: null, maxCells: 3 });
    const [ep] = data.networks[0]!.services[0]!.endpoints;
    expect(data.networks[0]!.axis).toMatchObject({ mode: "time", cells: 2 });
    expect(ep!.cells.get(0)).toEqual({ status: "ok", layer: null, failure: null, counts: { blocked: 0, anomaly: 0, down: 0, inconclusive: 0, ok: 24 } });
    expect(ep!.cells.get(1)).toEqual({ status: "blocked", layer: "tcp", failure: "generic_timeout_error", counts: { blocked: 12, anomaly: 0, down: 0, inconclusive: 0, ok: 12 } });
    expect(ep!.measured).toBe(48);
  });

  test("a run that is still going is read as it is, and the others are not", () => {
    for (let h = 0; h < 30; h++) run(T0 + h * HOUR, [["https://a.test/", "ok", null, null], ["https://b.test/", h % 7 ? "ok" : "down", null, h % 7 ? null : "connection_refused"]]);
    const blocked = { status: "blocked" as const, layer: "dns" as const, failure: "dns_nxdomain_error" as const, evidence: ["x"] };
    const at = T0 + 30 * HOUR;
    seedRun(store, { at, network: net, version: "t", targetCount: 2, state: null, rows: [["https://b.test/", "S", blocked, { startedAt: new Date(at + 1), finishedAt: new Date(at + 2) }]] });
    const reads = countRowReads(store.db);
    const q: ReportQuery = { since: null, network: null, maxCells: 4 };
    const data = loadReport(reportRows(store.db), q);
    expect(reads.runs).toBe(1);
    expect(plain(data)).toEqual(plain(reference(store.db, q)));
    expect(data.runs[0]).toMatchObject({ state: "running", measured: 1, counts: { blocked: 1 } });
  });
});

describe("the report's queries", () => {
  // What the planner does without statistics, as in a file nobody has run ANALYZE on.
  const statements: Array<[string, string, Record<string, unknown> | unknown[]]> = [
    ["runs", sql.runsSql(""), {}],
    ["runs of a period on a network", sql.runsSql(runFilter({ since: "2025-05-01", network: "n" }).where), { since: "2025-05-01", network: "n" }],
    ["one run", sql.RUN_SQL, [1]],
    ["the run before the period", sql.RUN_BEFORE_SQL, { since: "2025-05-01", network: "n" }],
    ["a run's last measurement", sql.RUN_LAST_MEASUREMENT_SQL, [1]],
    ["a run's measurements", sql.RUN_MEASUREMENTS_SQL, [1]],
    ["endpoints", sql.ENDPOINTS_SQL, { network: "n", from: "" }],
    ["changes", sql.changesSql(), { network: "n", from: "" }],
    ["changes, a run straddling the period", sql.changesSql(true), { network: "n", from: "", since: "2025-05-01" }],
    ["newest changes", sql.newestChangesSql(), { network: "n", from: "", limit: 5 }],
    ["newest changes, a run straddling the period", sql.newestChangesSql(true), { network: "n", from: "", since: "2025-05-01", limit: 5 }],
    ["a change's detail", sql.CHANGE_DETAIL_SQL, [1]],
    ["database runs", sql.DATABASE_RUNS_SQL, []],
    ["database networks", sql.DATABASE_NETWORKS_SQL, []],
  ];

  test.each(statements)("%s: measurements only through an index or by rowid", (_name, text, params) => {
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN ${text}`)
      .all(params as never)
      .map((r) => (r as { detail: string }).detail);
    const scans = plan.filter(
      (d) =>
        (/^SCAN (m|c|f|l|e|p|x|measurements)( |$)/.test(d) && !/INDEX measurements_(firsts|changes)\b/.test(d)) ||
        /^SEARCH \w+ USING (COVERING )?INDEX measurements_(target|service)_started_at/.test(d),
    );
    expect(scans, plan.join("\n")).toEqual([]);
    // The changes are read from their covering index alone, never from the table.
    if (text.includes("INDEXED BY measurements_changes")) expect(plan.join("\n")).toMatch(/SEARCH c USING COVERING INDEX measurements_changes/);
  });
});

describe("src/report/ computes from plain rows", () => {
  // Its reads are store/report-rows.ts's: no database handle, statement or SQL text of its own.
  const dir = fileURLToPath(new URL("../../src/report/", import.meta.url));
  test.each(readdirSync(dir).filter((f) => f.endsWith(".ts")))("%s opens no database and holds no SQL", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    expect(text).not.toMatch(/better-sqlite3|\.prepare\(|\bSELECT\b[\s\S]*\bFROM\b/);
  });
});
