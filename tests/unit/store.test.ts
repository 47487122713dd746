import { APPLICATION_ID } from "../../src/store/application-id.js";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Verdict } from "../../src/analysis/verdict.js";
import type { Observation } from "../../src/probes/observation.js";
import { StoreError } from "../../src/store/errors.js";
import { CURRENT_SCHEMA_VERSION, migrate } from "../../src/store/schema.js";
import { hashHostname, isProcessAlive } from "../../src/base/process-identity.js";
import { Store, type MeasurementInput } from "../../src/store/store.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

let dir: string;
const open: Store[] = [];
const raw: Database.Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-store-"));
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const d of raw.splice(0)) if (d.open) d.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(path: string, options?: Parameters<typeof Store.open>[1]): Store {
  const s = Store.open(path, options);
  open.push(s);
  return s;
}

// A second connection that does not go through the store, as an analyst's sqlite3 would.
function rawDb(path: string, options?: Database.Options): Database.Database {
  const d = new Database(path, options);
  raw.push(d);
  return d;
}

function catchError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    return err as StoreError;
  }
  throw new Error("expected an error, none was thrown");
}

const blockedVerdict: Verdict = {
  status: "blocked",
  layer: "tls",
  failure: "connection_reset",
  evidence: ["TCP to 203.0.113.5:443 connected, then the TLS handshake was reset", "the control completed the handshake"],
};

// Written out field by field (not with tests/helpers/observations.ts): the round trip must give back exactly these.
const observations: Observation[] = [
  {
    step: "dns",
    t0: 0,
    t: 12.5,
    failure: null,
    engine: "udp",
    resolver: "198.51.100.53:53",
    hostname: "weixin.qq.com",
    qtype: "A",
    addresses: ["127.0.0.2"],
    responses: [
      { t: 5, rcode: "NOERROR", addresses: ["127.0.0.2"] },
      { t: 40, rcode: "NOERROR", addresses: ["203.0.113.5"], cnames: ["weixin.qq.com.cdn"] },
    ],
  },
  { step: "tcp", t0: 13, t: 20, failure: null, address: "203.0.113.5:443" },
  {
    step: "tls",
    t0: 20,
    t: 31,
    failure: "connection_reset",
    address: "203.0.113.5:443",
    serverName: "weixin.qq.com",
    certificates: [],
    verified: false,
  },
  {
    step: "http",
    t0: 32,
    t: 60,
    failure: null,
    address: "[2001:db8::1]:80",
    url: "http://weixin.qq.com/",
    hop: 0,
    requestHeaders: { "user-agent": "reachprobe/0.1.0" },
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
    title: "Доступ ограничен",
    bodyLength: 5,
    bodyTruncated: false,
    bodySha256: "ab".repeat(32),
    bodySample: "<html>\u0000\"quoted\"</html>",
    location: null,
  },
];

function measurement(over: Partial<MeasurementInput> = {}): MeasurementInput {
  return {
    target: "https://weixin.qq.com/",
    service: "WeChat",
    verdict: blockedVerdict,
    observations,
    startedAt: new Date("2025-05-01T10:00:00.000Z"),
    finishedAt: new Date("2025-05-01T10:00:00.060Z"),
    durationMs: 60,
    ...over,
  };
}

// Not tests/helpers/seed.ts: these tests call the Store's own writes one by one, as the subject under test.
function startRun(store: Store, startedAt = "2025-05-01T10:00:00.000Z"): string {
  return store.startRun({ startedAt, version: "0.1.0", options: { timeoutMs: 5000, concurrency: 4 }, targetCount: 2 });
}

describe("schema", () => {
  it("creates the parent directory, migrates a new file to the current version and turns WAL on", () => {
    const path = join(dir, "nested", "deeper", "results.db");
    openStore(path);
    const db = rawDb(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(CURRENT_SCHEMA_VERSION);
    expect(CURRENT_SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    expect(db.pragma("journal_mode", { simple: true }), "WAL is a property of the file, seen by every connection").toBe("wal");
    const names = db
      .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((r) => (r as { type: string; name: string }).name);
    expect(names).toEqual(
      expect.arrayContaining([
        "runs",
        "measurements",
        "runs_started_at",
        "measurements_target_started_at",
        "measurements_service_started_at",
        "measurements_run_id",
      ]),
    );
  });

  it("sets the connection pragmas the design asks for", () => {
    const store = openStore(join(dir, "r.db"));
    expect(store.db.pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(store.db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(store.db.pragma("synchronous", { simple: true }), "NORMAL is 1").toBe(1);
  });

  it("keeps data and the version when a file is opened again", () => {
    const path = join(dir, "r.db");
    const first = openStore(path);
    const runId = startRun(first);
    first.addMeasurement(runId, measurement());
    first.close();
    const second = openStore(path);
    expect(second.db.pragma("user_version", { simple: true })).toBe(CURRENT_SCHEMA_VERSION);
    expect(second.listMeasurements(runId)).toHaveLength(1);
  });

  it("runs each migration in a transaction: a failing one leaves the file at the previous version", () => {
    const path = join(dir, "m.db");
    const db = rawDb(path);
    migrate(db, path, ["CREATE TABLE a (x INTEGER)"]);
    expect(db.pragma("user_version", { simple: true })).toBe(1);
    db.prepare("INSERT INTO a VALUES (1)").run();
    const err = catchError(() => migrate(db, path, ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y); SELECT nope FROM nowhere"]));
    expect(err.code).toBe("E_MIGRATION");
    expect(err.message).toContain(path);
    expect(db.pragma("user_version", { simple: true })).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get(), "half a migration must not stay").toBeUndefined();
    migrate(db, path, ["CREATE TABLE a (x INTEGER)", (d) => d.exec("ALTER TABLE a ADD COLUMN y TEXT DEFAULT 'kept'")]);
    expect(db.pragma("user_version", { simple: true })).toBe(2);
    expect(db.prepare("SELECT x, y FROM a").get(), "old rows survive a migration").toEqual({ x: 1, y: "kept" });
  });

  it("refuses a file from a newer reachprobe, naming the file and both versions, and leaves it untouched", () => {
    const path = join(dir, "future.db");
    const newer = CURRENT_SCHEMA_VERSION + 7;
    const db = rawDb(path);
    db.exec("CREATE TABLE future (x)");
    db.pragma(`user_version = ${newer}`);
    // As every reachprobe since schema 2 marks its files.
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.close();
    const before = readFileSync(path);
    for (const readonly of [false, true]) {
      const err = catchError(() => openStore(path, { readonly }));
      expect(err).toBeInstanceOf(StoreError);
      expect(err.code).toBe("E_SCHEMA_NEWER");
      expect(err.message).toContain(path);
      expect(err.message).toContain(String(newer));
      expect(err.message).toContain(String(CURRENT_SCHEMA_VERSION));
    }
    expect(readFileSync(path).equals(before), "the refused file must not change (no WAL switch, no migration)").toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("refuses to open an old file read-only instead of failing later on a missing column", () => {
    const path = join(dir, "empty.db");
    // A development build's file: our tables, no schema version (another application's tables are E_FOREIGN_DB).
    rawDb(path).exec("CREATE TABLE runs (x); CREATE TABLE measurements (x)");
    const err = catchError(() => openStore(path, { readonly: true }));
    expect(err.code).toBe("E_SCHEMA_OLDER");
    expect(err.message).toContain(path);
  });
});

describe("writing a measurement", () => {
  // total_changes() counts the rows a trigger writes too: 1 for the row alone, more when
  // measurements_derive_insert had to rewrite it because the INSERT left a derived column wrong.
  it("fills network, prev_status, prev_layer and changed itself, so that the trigger writes nothing", () => {
    const store = openStore(join(dir, "m.db"));
    const changes = () => store.db.prepare("SELECT total_changes()").pluck().get() as number;
    const ok: Verdict = { status: "ok", layer: null, failure: null, evidence: [] };
    const runs = [
      { at: "2025-05-01T10:00:00.000Z", label: "home", verdict: blockedVerdict },
      { at: "2025-05-01T11:00:00.000Z", label: "home", verdict: blockedVerdict },
      { at: "2025-05-01T12:00:00.000Z", label: "home", verdict: ok },
      { at: "2025-05-01T13:00:00.000Z", label: null, verdict: ok },
      { at: "2025-05-01T14:00:00.000Z", label: "home", verdict: ok },
    ];
    const written: number[] = [];
    for (const r of runs) {
      const runId = store.startRun({ startedAt: r.at, version: "0.1.0", options: {}, targetCount: 1, networkLabel: r.label });
      const before = changes();
      store.addMeasurement(runId, measurement({ verdict: r.verdict, startedAt: new Date(r.at), finishedAt: new Date(r.at) }));
      written.push(changes() - before);
    }
    expect(written).toEqual([1, 1, 1, 1, 1]);
    const rows = store.db
      .prepare("SELECT network, prev_status, prev_layer, changed FROM measurements ORDER BY started_at")
      .all();
    expect(rows).toEqual([
      { network: "home", prev_status: null, prev_layer: null, changed: null },
      { network: "home", prev_status: "blocked", prev_layer: "tls", changed: 0 },
      { network: "home", prev_status: "blocked", prev_layer: "tls", changed: 1 },
      { network: "", prev_status: null, prev_layer: null, changed: null },
      { network: "home", prev_status: "ok", prev_layer: null, changed: 0 },
    ]);
  });

  it("leaves it to the trigger when a row arrives before one already there (a late writer)", () => {
    const store = openStore(join(dir, "m.db"));
    const ok: Verdict = { status: "ok", layer: null, failure: null, evidence: [] };
    const later = store.startRun({ startedAt: "2025-05-01T12:00:00.000Z", version: "0.1.0", options: {}, targetCount: 1 });
    store.addMeasurement(later, measurement({ verdict: ok, startedAt: new Date("2025-05-01T12:00:00.000Z") }));
    const earlier = store.startRun({ startedAt: "2025-05-01T10:00:00.000Z", version: "0.1.0", options: {}, targetCount: 1 });
    store.addMeasurement(earlier, measurement({ startedAt: new Date("2025-05-01T10:00:00.000Z") }));
    const rows = store.db.prepare("SELECT status, prev_status, changed FROM measurements ORDER BY started_at").all();
    expect(rows).toEqual([
      { status: "blocked", prev_status: null, changed: null },
      { status: "ok", prev_status: "blocked", changed: 1 },
    ]);
  });
});

describe("opening what is not a database", () => {
  it("gives E_DB_OPEN naming the file, and does not overwrite it", () => {
    const path = join(dir, "targets.json");
    const text = '{"targets": ["https://weixin.qq.com/"], "padding": "' + "x".repeat(200) + '"}\n';
    writeFileSync(path, text);
    for (const readonly of [false, true]) {
      const err = catchError(() => openStore(path, { readonly }));
      expect(err).toBeInstanceOf(StoreError);
      expect(err.code).toBe("E_DB_OPEN");
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/not an SQLite database/);
    }
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  it("gives E_DB_OPEN naming the file when it cannot be created", () => {
    const blocker = join(dir, "file");
    writeFileSync(blocker, "");
    const path = join(blocker, "r.db");
    const err = catchError(() => openStore(path));
    expect(err.code).toBe("E_DB_OPEN");
    expect(err.message).toContain(path);
  });

  it("gives E_DB_OPEN for a missing file opened read-only, without creating it", () => {
    const path = join(dir, "missing", "r.db");
    const err = catchError(() => openStore(path, { readonly: true }));
    expect(err.code).toBe("E_DB_OPEN");
    expect(err.message).toContain(path);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });
});

// The contract every store implementation must keep; run against a file and an in-memory database.
describe.each([
  ["a file", () => join(dir, "contract.db")],
  ["memory", () => ":memory:"],
])("store contract (%s)", (_name, pathOf) => {
  it("round-trips a measurement: verdict, observations and times intact", () => {
    const store = openStore(pathOf());
    const runId = startRun(store);
    const id = store.addMeasurement(runId, measurement());
    const okId = store.addMeasurement(
      runId,
      measurement({
        target: "tcp://203.0.113.9:80",
        verdict: { status: "ok", layer: null, failure: null, evidence: [] },
        observations: [{ step: "tcp", t0: 1, t: 2, failure: null, address: "203.0.113.9:80" }],
        control: { helper: "https://control.example/", t0: 1, t: 3, failure: "connection_refused", response: null },
        startedAt: "2025-05-01T10:00:01Z",
        finishedAt: "2025-05-01T10:00:01.5Z",
        durationMs: 499.6,
      }),
    );
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(okId).not.toBe(id);
    const rows = store.listMeasurements(runId);
    expect(rows).toEqual([
      {
        id,
        runId,
        target: "https://weixin.qq.com/",
        service: "WeChat",
        verdict: blockedVerdict,
        observations,
        control: null,
        startedAt: "2025-05-01T10:00:00.000Z",
        finishedAt: "2025-05-01T10:00:00.060Z",
        durationMs: 60,
      },
      {
        id: okId,
        runId,
        target: "tcp://203.0.113.9:80",
        service: "WeChat",
        verdict: { status: "ok", layer: null, failure: null, evidence: [] },
        observations: [{ step: "tcp", t0: 1, t: 2, failure: null, address: "203.0.113.9:80" }],
        control: { helper: "https://control.example/", t0: 1, t: 3, failure: "connection_refused", response: null },
        startedAt: "2025-05-01T10:00:01.000Z",
        finishedAt: "2025-05-01T10:00:01.500Z",
        durationMs: 500,
      },
    ]);
  });

  it("round-trips the swaps' fields (purpose, swappedHost), their headers and certificates stored as blobs", () => {
    const swaps: Observation[] = [
      { step: "tcp", t0: 61, t: 62, failure: null, address: "203.0.113.5:443", hop: 1, purpose: "sni_swap" },
      {
        step: "tls",
        t0: 62,
        t: 70,
        failure: null,
        address: "203.0.113.5:443",
        serverName: "example.com",
        version: "TLSv1.3",
        alpn: "h2",
        certificates: [{ subject: "CN=weixin.qq.com", issuer: "CN=Some CA", sans: ["DNS:weixin.qq.com"], validFrom: "2025-01-01T00:00:00.000Z", validTo: "2026-01-01T00:00:00.000Z", fingerprint256: "AB:CD" }],
        verified: false,
        verifyFailure: "ssl_invalid_hostname",
        hop: 1,
        purpose: "sni_swap",
      },
      { step: "tcp", t0: 71, t: 72, failure: null, address: "[2001:db8::1]:80", purpose: "host_swap" },
      {
        step: "http",
        t0: 72,
        t: 80,
        failure: null,
        address: "[2001:db8::1]:80",
        url: "http://weixin.qq.com/",
        hop: 0,
        purpose: "host_swap",
        swappedHost: "example.com",
        requestHeaders: { Host: "example.com", Connection: "keep-alive", "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/159.0.0.0" },
        status: 404,
        headers: { "content-type": "text/html" },
        title: null,
        bodyLength: 0,
        bodyTruncated: false,
        bodySha256: "cd".repeat(32),
        bodySample: "",
        location: null,
      },
    ];
    const store = openStore(pathOf());
    const runId = startRun(store);
    store.addMeasurement(runId, measurement({ observations: [...observations, ...swaps] }));
    expect(store.listMeasurements(runId)[0]!.observations).toEqual([...observations, ...swaps]);
  });

  it("keeps the summary columns queryable without parsing JSON", () => {
    const store = openStore(pathOf());
    const runId = startRun(store);
    store.addMeasurement(runId, measurement());
    const row = store.db.prepare("SELECT status, layer, failure, json_array_length(observations_json) AS n FROM measurements").get();
    expect(row).toEqual({ status: "blocked", layer: "tls", failure: "connection_reset", n: 4 });
  });

  it("keeps a given measurement id, so merged rows stay the same rows", () => {
    const store = openStore(pathOf());
    const runId = startRun(store);
    const given = "0b7c5a52-8f7e-4d0a-9c2b-3f1e2d4c5b6a";
    expect(store.addMeasurement(runId, measurement({ id: given }))).toBe(given);
    expect(store.listMeasurements(runId)[0]?.id).toBe(given);
  });

  it("records a run from start to finish", () => {
    let clock = new Date("2025-05-01T10:05:00.123Z");
    const store = openStore(pathOf(), { now: () => clock, hostname: "probe-pi.example" });
    const runId = store.startRun({
      startedAt: new Date("2025-05-01T10:00:00Z"),
      version: "0.1.0",
      options: { timeoutMs: 5000 },
      networkLabel: "home-isp",
      targetCount: 3,
      canary: { ok: true },
      probeAsn: 64500,
      probeCc: "RU",
    });
    expect(store.getRun(runId)).toMatchObject({
      id: runId,
      state: "running",
      startedAt: "2025-05-01T10:00:00.000Z",
      finishedAt: null,
      pid: process.pid,
      version: "0.1.0",
      networkLabel: "home-isp",
      targetCount: 3,
      options: { timeoutMs: 5000 },
      canary: { ok: true },
      summary: null,
      probeAsn: 64500,
      probeCc: "RU",
    });
    store.finishRun(runId, "completed", { WeChat: { status: "blocked", blocked: 3, total: 3 } });
    expect(store.getRun(runId)).toMatchObject({
      state: "completed",
      finishedAt: "2025-05-01T10:05:00.123Z",
      summary: { WeChat: { status: "blocked", blocked: 3, total: 3 } },
    });
    clock = new Date("2025-05-01T11:00:00Z");
    const again = catchError(() => store.finishRun(runId, "interrupted"));
    expect(again.code).toBe("E_RUN_FINISHED");
    expect(store.getRun(runId)?.state, "a finished run keeps its state").toBe("completed");
    expect(catchError(() => store.finishRun("no-such-run", "failed")).code).toBe("E_RUN_NOT_FOUND");
    expect(catchError(() => store.addMeasurement("no-such-run", measurement())).code).toBe("E_RUN_NOT_FOUND");
    expect(store.getRun("no-such-run")).toBeUndefined();
  });

  it("refuses a time that is not a time instead of storing text that breaks ordering", () => {
    const store = openStore(pathOf());
    const runId = startRun(store);
    expect(catchError(() => store.addMeasurement(runId, measurement({ startedAt: "yesterday" }))).code).toBe("E_BAD_TIME");
    expect(store.listMeasurements(runId)).toEqual([]);
  });

  it("stores a short hash of the host name, never the name", () => {
    const store = openStore(pathOf());
    const runId = startRun(store);
    const hash = store.getRun(runId)?.hostnameHash;
    expect(hash).toBe(hashHostname(hostname()));
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
    const dump = JSON.stringify(store.db.prepare("SELECT * FROM runs").all());
    expect(dump).not.toContain(hostname());
  });
});

describe("a run whose process dies", () => {
  it("has its finished measurements visible to another connection before finishRun is ever called", () => {
    const path = join(dir, "r.db");
    const writer = openStore(path);
    const runId = startRun(writer);
    const id = writer.addMeasurement(runId, measurement());
    // The writer is never closed nor finished: as far as the file knows, it was killed here.
    const reader = openStore(path, { readonly: true });
    expect(reader.getRun(runId)?.state).toBe("running");
    expect(reader.listMeasurements(runId).map((m) => m.id)).toEqual([id]);
    const other = rawDb(path, { readonly: true });
    expect(other.prepare("SELECT status FROM measurements WHERE id = ?").get(id)).toEqual({ status: "blocked" });
  });

  it("keeps every measurement that finished before SIGKILL, and the next open marks the run interrupted", async () => {
    const path = join(dir, "killed", "r.db");
    // No compiled code exists in unit tests, so the child loads the TypeScript store through
    // vite's module runner, as vitest itself does.
    const viteEntry = pathToFileURL(createRequire(import.meta.url).resolve("vite")).href;
    const script = join(dir, "child.mjs");
    writeFileSync(
      script,
      `const { runnerImport } = await import(${JSON.stringify(viteEntry)});
const { module } = await runnerImport(${JSON.stringify(join(ROOT, "src/store/store.ts"))}, { configFile: false, logLevel: "silent", root: ${JSON.stringify(ROOT)} });
const m = JSON.parse(process.argv[2]);
const store = module.Store.open(${JSON.stringify(path)});
const runId = store.startRun({ startedAt: "2025-05-01T10:00:00.000Z", version: "0.1.0", options: {}, targetCount: 3 });
for (const finishedAt of ["2025-05-01T10:00:01.000Z", "2025-05-01T10:00:02.000Z"]) {
  store.addMeasurement(runId, { ...m, finishedAt });
}
process.stdout.write(JSON.stringify({ runId }) + "\\n");
setInterval(() => {}, 60_000);
`,
    );
    const child = spawn(process.execPath, [script, JSON.stringify(measurement())], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_code, signal) => done(signal)));
    try {
      const line = await new Promise<string>((done, fail) => {
        createInterface({ input: child.stdout }).once("line", done);
        child.once("exit", (code) => fail(new Error(`child exited (${code}) before writing: ${stderr}`)));
      });
      const { runId } = JSON.parse(line) as { runId: string };
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");

      const store = openStore(path);
      expect(store.getRun(runId)?.state).toBe("running");
      expect(store.listMeasurements(runId).map((m) => m.finishedAt)).toEqual(["2025-05-01T10:00:01.000Z", "2025-05-01T10:00:02.000Z"]);
      expect(store.markStaleRuns(isProcessAlive)).toBe(1);
      expect(store.getRun(runId)).toMatchObject({ state: "interrupted", finishedAt: "2025-05-01T10:00:02.000Z" });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 30_000);
});

describe("markStaleRuns", () => {
  function deadPid(): number {
    const done = spawnSync(process.execPath, ["-e", ""]);
    expect(done.pid, "a finished child gives a pid that nothing uses").toBeGreaterThan(0);
    return done.pid as number;
  }

  it("marks a running run with a dead pid interrupted and leaves live, other-host and finished runs alone", () => {
    const path = join(dir, "r.db");
    // Runs made by an earlier process: started through another store, which is then dropped.
    const earlier = openStore(path);
    const dead = startRun(earlier, "2025-05-01T09:00:00.000Z");
    earlier.addMeasurement(dead, measurement({ finishedAt: "2025-05-01T09:00:03.000Z" }));
    earlier.addMeasurement(dead, measurement({ finishedAt: "2025-05-01T09:00:07.000Z" }));
    earlier.addMeasurement(dead, measurement({ finishedAt: "2025-05-01T09:00:05.000Z" }));
    const deadEmpty = startRun(earlier, "2025-05-01T09:30:00.000Z");
    const live = startRun(earlier, "2025-05-01T10:00:00.000Z");
    const done = startRun(earlier, "2025-05-01T08:00:00.000Z");
    earlier.finishRun(done, "completed");
    earlier.close();
    const elsewhere = openStore(path, { hostname: "another-machine" });
    const remote = startRun(elsewhere, "2025-05-01T09:45:00.000Z");
    elsewhere.close();

    const gone = deadPid();
    const db = rawDb(path);
    db.prepare("UPDATE runs SET pid = ? WHERE id IN (?, ?, ?)").run(gone, dead, deadEmpty, remote);
    db.prepare("UPDATE runs SET pid = ? WHERE id = ?").run(process.pid, live);
    expect(isProcessAlive(gone)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);

    const store = openStore(path);
    expect(store.markStaleRuns(isProcessAlive)).toBe(2);
    expect(store.getRun(dead), "finished_at is when the last measurement finished").toMatchObject({
      state: "interrupted",
      finishedAt: "2025-05-01T09:00:07.000Z",
    });
    expect(store.getRun(deadEmpty), "with no measurement, finished_at is started_at").toMatchObject({
      state: "interrupted",
      finishedAt: "2025-05-01T09:30:00.000Z",
    });
    expect(store.getRun(live)?.state).toBe("running");
    expect(store.getRun(remote)?.state, "a pid from another host means nothing here").toBe("running");
    expect(store.getRun(done)?.state).toBe("completed");
    expect(store.markStaleRuns(isProcessAlive), "a second pass finds nothing").toBe(0);
  });

  it("never marks a run the same store started, whatever the predicate says", () => {
    const store = openStore(join(dir, "r.db"));
    const mine = startRun(store);
    expect(store.markStaleRuns(() => false)).toBe(0);
    expect(store.getRun(mine)?.state).toBe("running");
  });
});
