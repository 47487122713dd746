/**
 * Body samples (and headers, certificate chains, control answers) stored once by SHA-256 in the
 * blobs table: what a reader gets back is exactly what the probe made, an unchanged page run
 * after run is one blob, a version 1 file is migrated in place (ids, rowids and derived columns
 * kept, integrity_check ok), and merge carries blobs between files in both directions.
 */
import { sqlBlocks } from "../helpers/doc-sql.js";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ControlObservation, Observation } from "../../src/probes/observation.js";
import { mergeDatabase } from "../../src/store/merge.js";
import { CURRENT_SCHEMA_VERSION, MIGRATIONS } from "../../src/store/schema.js";
import { PAGE_SIZE, Store, type MeasurementInput } from "../../src/store/store.js";
import { certInfo, controlObs, dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";

let dir: string;
const open: Array<{ close(): void }> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-blobs-"));
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(name: string): Store {
  const s = Store.open(join(dir, name), { hostname: "probe" });
  open.push(s);
  return s;
}

const sha256 = (s: string) => createHash("sha256").update(Buffer.from(s, "utf8")).digest("hex");

/** A page of about 9 KB, non-ASCII included, cut at 8192 bytes as the probe keeps it. */
function page(site: string): string {
  const body = `<!DOCTYPE html><html><head><title>${site} — новости</title></head><body>` +
    Array.from({ length: 120 }, (_, i) => `<p class="c${i}">Paragraph ${i} of ${site}: ünïcödé ✓ 新闻 ${i * 7919}</p>`).join("\n");
  return Buffer.from(body, "utf8").subarray(0, 8192).toString("utf8");
}

/** What one run's probe saw for `site`: the request and time details change, the page does not. */
function observations(site: string, run: number): Observation[] {
  const headers = {
    "content-type": "text/html; charset=utf-8",
    server: "nginx/1.24.0",
    date: `Sun, 06 Dec 2026 0${run}:00:00 GMT`,
    "set-cookie": `sid=${run}abc; Path=/; HttpOnly`,
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'self'; img-src * data:",
  };
  return [
    dnsObs(site, ["198.51.100.7"], { engine: "udp", t0: run, t: run + 5, responses: [{ t: run + 4, rcode: "NOERROR", addresses: ["198.51.100.7"], cnames: [] }] }),
    tcpObs("198.51.100.7:443", { t0: run + 5, t: run + 9 }),
    tlsObs("198.51.100.7:443", site, {
      t0: run + 9,
      t: run + 20,
      version: "TLSv1.3",
      alpn: "http/1.1",
      certificates: [
        certInfo(`CN=${site}`, "CN=Test CA", { sans: [`DNS:${site}`, `DNS:www.${site}`], validFrom: "2026-01-01T00:00:00.000Z", validTo: "2027-01-01T00:00:00.000Z", fingerprint256: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99" }),
        certInfo("CN=Test CA", "CN=Test CA", { validFrom: "2026-01-01T00:00:00.000Z", validTo: "2036-01-01T00:00:00.000Z", fingerprint256: "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00" }),
      ],
    }),
    httpObs("198.51.100.7:443", `https://${site}/`, {
      t0: run + 20,
      t: run + 60,
      requestHeaders: { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36", accept: "text/html" },
      status: 200, headers, title: `${site} — новости`, bodyLength: 9100, bodyTruncated: false, bodySha256: "f".repeat(64), bodySample: page(site), location: null,
    }),
    // A short body stays inline: its reference would be longer than it.
    httpObs("198.51.100.7:443", `https://${site}/x`, { hop: 1, t0: run + 60, t: run + 61, status: 204, headers: { date: "x" }, title: null, bodyLength: 2, bodyTruncated: false, bodySha256: "e".repeat(64), bodySample: "ok", location: null }),
  ];
}

function control(site: string, run: number): ControlObservation {
  return controlObs(
    {
      tcp_connect: { "198.51.100.7:443": { status: true, failure: null } },
      tls_handshake: { "198.51.100.7:443": { server_name: site, status: true, failure: null } },
      http_request: { failure: null, status_code: 200, body_length: 9100, title: site, headers: { "content-type": "text/html", date: `run ${run}`, server: "nginx/1.24.0" } },
      dns: { failure: null, addrs: ["198.51.100.7"] },
      ip_info: { "198.51.100.7": { asn: 0, flags: 11 } },
    },
    { helper: "https://control.test/", t0: run, t: run + 100, status: 200 },
  );
}

function measurement(site: string, run: number, id?: string): MeasurementInput {
  return {
    ...(id ? { id } : {}),
    target: `https://${site}/`,
    service: "Web",
    verdict: { status: "ok", layer: null, failure: null, evidence: [] },
    observations: observations(site, run),
    control: control(site, run),
    startedAt: new Date(Date.UTC(2026, 11, 6, run, 0, 0)),
    finishedAt: new Date(Date.UTC(2026, 11, 6, run, 0, 1)),
    durationMs: 1000,
  };
}

/** Runs `runs` hourly runs over `sites` and returns what was stored, by measurement id. */
// Not tests/helpers/seed.ts: each row carries whole observations and a control, kept to compare with what is read back.
function runs(store: Store, sites: string[], runCount: number, prefix = "r"): Map<string, MeasurementInput> {
  const stored = new Map<string, MeasurementInput>();
  for (let run = 1; run <= runCount; run++) {
    const runId = store.startRun({ id: `${prefix}${run}`, startedAt: new Date(Date.UTC(2026, 11, 6, run)), version: "0.1.0", options: {}, targetCount: sites.length });
    for (const site of sites) {
      const m = measurement(site, run, `${prefix}${run}-${site}`);
      store.addMeasurement(runId, m);
      stored.set(m.id!, m);
    }
    store.finishRun(runId, "completed");
  }
  return stored;
}

function readBack(store: Store): Map<string, { observations: unknown; control: unknown }> {
  return new Map([...store.iterateMeasurements()].map(({ measurement: m }) => [m.id, { observations: m.observations, control: m.control }]));
}

function expectSame(store: Store, stored: Map<string, MeasurementInput>): void {
  const back = readBack(store);
  expect(back.size).toBe(stored.size);
  for (const [id, m] of stored) {
    const got = back.get(id)!;
    // The same JSON text, key order included, as the old code path stored and exports write.
    expect(JSON.stringify(got.observations)).toBe(JSON.stringify(m.observations));
    expect(JSON.stringify(got.control)).toBe(JSON.stringify(m.control));
  }
}

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return db.prepare(sql).pluck().get(...params) as number;
}

describe("storing measurements with blobs", () => {
  it("reads back exactly the observations and control answer the probe made", () => {
    const store = openStore("a.db");
    const stored = runs(store, ["a.test"], 1);
    expectSame(store, stored);
    expect(store.listMeasurements("r1")[0]!.observations).toEqual(observations("a.test", 1));
  });

  it("keeps a reference in observations_json and the compressed UTF-8 bytes in blobs", () => {
    const store = openStore("a.db");
    runs(store, ["a.test"], 1);
    const row = store.db.prepare("SELECT observations_json, control_json FROM measurements").get() as { observations_json: string; control_json: string };
    const sample = page("a.test");
    expect(row.observations_json).not.toContain("Paragraph 1 of");
    const http = (JSON.parse(row.observations_json) as Array<Record<string, unknown>>)[3]!;
    expect(http.bodySampleSha256).toBe(sha256(sample));
    expect(http).not.toHaveProperty("bodySample");
    // Changing header values stay inline; the rest of the map is a blob.
    expect(http.headersVolatile).toEqual({ date: "Sun, 06 Dec 2026 01:00:00 GMT", "set-cookie": "sid=1abc; Path=/; HttpOnly" });
    const blob = store.db.prepare("SELECT size, compression, data FROM blobs WHERE sha256 = ?").get(sha256(sample)) as { size: number; compression: string; data: Buffer };
    expect(blob.compression).toBe("zlib");
    expect(blob.size).toBe(Buffer.byteLength(sample));
    expect(blob.data.length).toBeLessThan(blob.size / 2);
    expect(inflateSync(blob.data).toString("utf8")).toBe(sample);
    // The short sample of the second hop stays inline.
    expect((JSON.parse(row.observations_json) as Array<Record<string, unknown>>)[4]!.bodySample).toBe("ok");
    expect(JSON.parse(row.control_json)).toMatchObject({ helper: "https://control.test/", responseVolatile: { date: "run 1" } });
  });

  it("stores an unchanged page once however many runs see it", () => {
    const store = openStore("a.db");
    runs(store, ["a.test", "b.test"], 1);
    const afterOne = count(store.db, "SELECT COUNT(*) FROM blobs");
    runs(store, ["a.test", "b.test"], 3, "again");
    expect(count(store.db, "SELECT COUNT(*) FROM measurements")).toBe(8);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs")).toBe(afterOne);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", sha256(page("a.test")))).toBe(1);
    // Per site: sample, certificates, control answer; the request headers and the response
    // headers (without their changing values) are the same for both sites.
    expect(afterOne).toBe(2 * 3 + 2);
  });

  it("writes a row's new blobs with it or not at all: a refused row leaves none, the next one stores them", () => {
    const store = openStore("a.db");
    expect(() => store.addMeasurement("no-such-run", measurement("a.test", 1))).toThrow(/no run no-such-run/);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs")).toBe(0);
    const stored = runs(store, ["a.test"], 1);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", sha256(page("a.test")))).toBe(1);
    expectSame(store, stored);
  });

  it("writes a batch's rows and blobs together: a batch refused at its last row leaves nothing, the same rows retried store every blob once", () => {
    const store = openStore("a.db");
    const runId = store.startRun({ id: "r1", startedAt: new Date(Date.UTC(2026, 11, 6, 1)), version: "0.1.0", options: {}, targetCount: 3 });
    // Two rows of one batch share a page: its blob is written with the first and found by the second.
    const batch = [measurement("a.test", 1, "m1"), { ...measurement("a.test", 1, "m2"), target: "https://a.test/again" }];
    expect(() => store.addMeasurements(runId, [...batch, measurement("b.test", 1, "m1")])).toThrow(/UNIQUE|constraint/i);
    expect(count(store.db, "SELECT COUNT(*) FROM measurements")).toBe(0);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs")).toBe(0);
    expect(store.addMeasurements(runId, batch)).toEqual(["m1", "m2"]);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", sha256(page("a.test")))).toBe(1);
    // A later batch refers to the blobs the first one committed without writing them again.
    store.addMeasurements(runId, [measurement("a.test", 1, "m3")]);
    expect(count(store.db, "SELECT COUNT(*) FROM blobs")).toBe(2 + 3);
    expectSame(store, new Map([...batch, measurement("a.test", 1, "m3")].map((m) => [m.id!, m])));
  });

  it("reads a hand-written row as it is, and names the measurement whose blob is missing", () => {
    const store = openStore("a.db");
    const runId = store.startRun({ id: "r", startedAt: new Date(), version: "0.1.0", options: {}, targetCount: 1 });
    const odd = [{ step: "constructor", t0: 1, t: 2, failure: null }, { step: "http", bodySample: "inline, as an analyst wrote it" }];
    const insert = store.db.prepare(`INSERT INTO measurements (id, run_id, target, service, status, evidence_json, observations_json, started_at, finished_at, duration_ms)
      VALUES (?, 'r', 'https://a.test/', 'Web', 'ok', '[]', ?, '2026-12-06T00:00:00.000Z', '2026-12-06T00:00:01.000Z', 1)`);
    insert.run("odd", JSON.stringify(odd));
    expect(store.listMeasurements(runId)[0]!.observations).toEqual(odd);
    insert.run("dangling", JSON.stringify([{ step: "http", bodySampleSha256: "0".repeat(64) }]));
    expect(() => store.listMeasurements(runId)).toThrow(`measurement dangling: cannot read its observations: blob ${"0".repeat(64)} is referred to but not in the blobs table`);
  });

  it("stores a sample that is not UTF-8 as its exact bytes, under their hash, and reads back its base64", () => {
    const store = openStore("a.db");
    const runId = store.startRun({ id: "r", startedAt: new Date(), version: "0.1.0", options: {}, targetCount: 1 });
    // 200 bytes: a PNG signature, bytes that are not UTF-8, and some repetition.
    const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80]), Buffer.alloc(186, 0xfe)]);
    const http = httpObs("198.51.100.7:80", "http://a.test/", { status: 200, bodyLength: 200, bodySha256: createHash("sha256").update(bytes).digest("hex"), bodySample: bytes.toString("base64"), bodySampleEncoding: "base64" });
    const m: MeasurementInput = { target: "http://a.test/", service: "Web", verdict: { status: "ok", layer: null, failure: null, evidence: [] }, observations: [tcpObs("198.51.100.7:80"), http], control: null, startedAt: new Date(), finishedAt: new Date(), durationMs: 1 };
    store.addMeasurement(runId, m);
    const row = store.db.prepare("SELECT observations_json FROM measurements").pluck().get() as string;
    const stored = (JSON.parse(row) as Array<Record<string, unknown>>)[1]!;
    expect(stored).toMatchObject({ bodySampleSha256: http.bodySha256, bodySampleEncoding: "base64" });
    const blob = store.db.prepare("SELECT size, compression, data FROM blobs WHERE sha256 = ?").get(http.bodySha256) as { size: number; compression: string; data: Buffer };
    expect(blob.size).toBe(200);
    expect(blob.compression === "zlib" ? inflateSync(blob.data) : blob.data).toEqual(bytes);
    expect(JSON.stringify(store.listMeasurements(runId)[0]!.observations)).toBe(JSON.stringify(m.observations));
  });

  it("reads a sample stored as UTF-8 text before samples were bytes as the same text", () => {
    const store = openStore("a.db");
    const runId = store.startRun({ id: "r", startedAt: new Date(), version: "0.1.0", options: {}, targetCount: 1 });
    const text = `old page \uFFFD\uFFFD ${"x".repeat(200)}`;
    const key = sha256(text);
    store.db.prepare("INSERT INTO blobs (sha256, size, compression, data) VALUES (?, ?, 'none', ?)").run(key, Buffer.byteLength(text), Buffer.from(text, "utf8"));
    store.db.prepare(`INSERT INTO measurements (id, run_id, target, service, status, evidence_json, observations_json, started_at, finished_at, duration_ms)
      VALUES ('old', 'r', 'https://a.test/', 'Web', 'ok', '[]', ?, '2026-12-06T00:00:00.000Z', '2026-12-06T00:00:01.000Z', 1)`).run(JSON.stringify([{ step: "http", bodySampleSha256: key }]));
    expect(store.listMeasurements(runId)[0]!.observations).toEqual([{ step: "http", bodySample: text }]);
  });

  it("answers docs/database.md's queries over blobs, with sqlite3's sqlar_uncompress", () => {
    const store = openStore("a.db");
    runs(store, ["a.test"], 1);
    // The sqlite3 shell's function, defined here as the shell defines it.
    store.db.function("sqlar_uncompress", (data: Buffer, size: number) => (data.length === size ? data : inflateSync(data)));
    const [samples, chains] = sqlBlocks("## Body samples and other blobs");
    expect(store.db.prepare(samples!).all()).toEqual([
      { target: "https://a.test/", url: "https://a.test/", body_sample: page("a.test") },
      { target: "https://a.test/", url: "https://a.test/x", body_sample: "ok" },
    ]);
    const rows = store.db.prepare(chains!.replace("https://example.com/", "https://a.test/")).all() as Array<Record<string, unknown>>;
    expect(rows.filter((r) => r.step === "tls").map((r) => r.leaf_subject)).toEqual(["CN=a.test"]);
    expect(rows.filter((r) => r.step === "http").map((r) => r.server)).toEqual(["nginx/1.24.0", null]);
  });
});

/** A schema version 1 file as the old code wrote it: the V1 SQL and rows with every value inline. */
function v1File(name: string, sites: string[], runCount: number): { file: string; stored: Map<string, MeasurementInput> } {
  const file = join(dir, name);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec(MIGRATIONS[0] as string);
  db.pragma("user_version = 1");
  const insertRun = db.prepare(`INSERT INTO runs (id, started_at, finished_at, state, target_count) VALUES (?, ?, ?, 'completed', ?)`);
  const insert = db.prepare(`INSERT INTO measurements (id, run_id, target, service, status, layer, failure, evidence_json, observations_json, control_json, started_at, finished_at, duration_ms)
    VALUES (@id, @runId, @target, @service, 'ok', NULL, NULL, '[]', @observations, @control, @startedAt, @finishedAt, 1000)`);
  const stored = new Map<string, MeasurementInput>();
  for (let run = 1; run <= runCount; run++) {
    const at = new Date(Date.UTC(2026, 11, 6, run)).toISOString();
    insertRun.run(`v1-${run}`, at, at, sites.length);
    for (const site of sites) {
      const m = measurement(site, run, `v1-${run}-${site}`);
      insert.run({
        id: m.id, runId: `v1-${run}`, target: m.target, service: m.service,
        observations: JSON.stringify(m.observations), control: run % 2 ? JSON.stringify(m.control) : null,
        startedAt: (m.startedAt as Date).toISOString(), finishedAt: (m.finishedAt as Date).toISOString(),
      });
      if (run % 2 === 0) m.control = null;
      stored.set(m.id!, m);
    }
  }
  db.close();
  return { file, stored };
}

describe("page size", () => {
  it("gives a new file 8 KB pages and leaves an existing file's as they are", () => {
    expect(openStore("new.db").db.pragma("page_size", { simple: true })).toBe(PAGE_SIZE);
    const { file } = v1File("old.db", ["a.test"], 1);
    const store = Store.open(file, { hostname: "probe" });
    open.push(store);
    expect(store.db.pragma("page_size", { simple: true })).toBe(4096);
  });
});

describe("migrating a version 1 file", () => {
  it("moves every row's samples into blobs, keeping ids, rowids, derived columns and the observations", () => {
    // 3 sites x 210 runs = 630 rows: more than one batch of the migration.
    const { file, stored } = v1File("old.db", ["a.test", "b.test", "c.test"], 210);
    const before = new Database(file, { readonly: true });
    const keys = before.prepare("SELECT rowid, id, network, prev_status, changed FROM measurements ORDER BY rowid").all();
    before.close();

    const store = Store.open(file, { hostname: "probe" });
    open.push(store);
    expect(store.db.pragma("user_version", { simple: true })).toBe(CURRENT_SCHEMA_VERSION);
    expect(store.db.prepare("SELECT rowid, id, network, prev_status, changed FROM measurements ORDER BY rowid").all()).toEqual(keys);
    expectSame(store, stored);
    expect(count(store.db, "SELECT COUNT(*) FROM measurements WHERE observations_json LIKE '%Paragraph 1 of%'")).toBe(0);
    // Three pages, chains and control answers; one set of request and of response headers.
    expect(count(store.db, "SELECT COUNT(*) FROM blobs")).toBe(3 * 3 + 2);
    expect(store.db.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(store.db.pragma("foreign_key_check")).toEqual([]);
  });

  it("leaves a row whose JSON does not parse as it was", () => {
    const { file } = v1File("old.db", ["a.test"], 1);
    const db = new Database(file);
    db.prepare("UPDATE measurements SET observations_json = 'not json'").run();
    db.close();
    const store = Store.open(file, { hostname: "probe" });
    open.push(store);
    expect(count(store.db, "SELECT COUNT(*) FROM measurements WHERE observations_json = 'not json'")).toBe(1);
  });
});

describe("merging with blobs", () => {
  it("carries blobs from one file to another, in both directions, and reads back the same", () => {
    const a = openStore("a.db");
    const b = openStore("b.db");
    const fromA = runs(a, ["a.test", "shared.test"], 2, "a");
    const fromB = runs(b, ["b.test", "shared.test"], 2, "b");
    a.close();
    b.close();
    const into = openStore("into-a.db");
    expect(mergeDatabase(into, join(dir, "a.db")).measurementsAdded).toBe(4);
    expect(mergeDatabase(into, join(dir, "b.db")).measurementsAdded).toBe(4);
    expectSame(into, new Map([...fromA, ...fromB]));
    const intoB = openStore("into-b.db");
    mergeDatabase(intoB, join(dir, "b.db"));
    mergeDatabase(intoB, join(dir, "a.db"));
    expectSame(intoB, new Map([...fromA, ...fromB]));
    // The shared site's page is one blob in the merged file.
    expect(count(into.db, "SELECT COUNT(*) FROM blobs WHERE sha256 = ?", sha256(page("shared.test")))).toBe(1);
    expect(count(into.db, "SELECT COUNT(*) FROM blobs")).toBe(count(intoB.db, "SELECT COUNT(*) FROM blobs"));
    // Merging again adds nothing.
    expect(mergeDatabase(into, join(dir, "b.db"))).toMatchObject({ measurementsAdded: 0, measurementsDuplicate: 4, conflictCount: 0 });
    expect(into.db.pragma("integrity_check", { simple: true })).toBe("ok");
  });

  it("merges a version 1 file, whose rows match the same file migrated", () => {
    const { file, stored } = v1File("old.db", ["a.test", "b.test"], 3);
    const into = openStore("into.db");
    expect(mergeDatabase(into, file)).toMatchObject({ schemaVersion: 1, measurementsAdded: 6, conflictCount: 0 });
    expectSame(into, stored);
    // The same file, migrated (opened by a newer reachprobe), is the same rows: duplicates, no conflicts.
    Store.open(file, { hostname: "probe" }).close();
    expect(mergeDatabase(into, file)).toMatchObject({ schemaVersion: CURRENT_SCHEMA_VERSION, measurementsAdded: 0, measurementsDuplicate: 6, conflictCount: 0 });
    // And the other way: the merged file into the migrated one.
    const migrated = Store.open(file, { hostname: "probe" });
    open.push(migrated);
    expect(mergeDatabase(migrated, join(dir, "into.db"))).toMatchObject({ measurementsAdded: 0, measurementsDuplicate: 6, conflictCount: 0 });
  });

  it("skips, as a conflict, a row whose blob is missing from its file", () => {
    const a = openStore("a.db");
    runs(a, ["a.test"], 1);
    a.db.prepare("DELETE FROM blobs WHERE sha256 = ?").run(sha256(page("a.test")));
    a.close();
    const into = openStore("into.db");
    const summary = mergeDatabase(into, join(dir, "a.db"));
    expect(summary).toMatchObject({ measurementsAdded: 0, conflictCount: 1 });
    expect(summary.conflicts[0]!.reason).toBe(`it refers to blob ${sha256(page("a.test"))}, which is in neither database`);
  });

  it("skips, as a conflict, a row whose blob in its file does not match its key", () => {
    const a = openStore("a.db");
    runs(a, ["a.test"], 1);
    a.db.prepare("UPDATE blobs SET data = ?, compression = 'none', size = 3 WHERE sha256 = ?").run(Buffer.from("bad"), sha256(page("a.test")));
    a.close();
    const into = openStore("into.db");
    const summary = mergeDatabase(into, join(dir, "a.db"));
    expect(summary).toMatchObject({ measurementsAdded: 0, conflictCount: 1 });
    expect(summary.conflicts[0]!.reason).toBe(`its blob ${sha256(page("a.test"))} in the source does not match its key (a damaged file)`);
    expect(count(into.db, "SELECT COUNT(*) FROM blobs")).toBe(0);
  });
});
