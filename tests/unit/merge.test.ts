/**
 * Merging volunteers' databases: ids kept, nothing duplicated, network labels kept, a second
 * merge a no-op, conflicts reported and skipped, and refused files (newer schema, not a
 * database, not reachprobe's) leaving both files untouched.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Verdict } from "../../src/analysis/verdict.js";
import { MergeError, mergeDatabase, openMergeSource } from "../../src/store/merge.js";
import { CURRENT_SCHEMA_VERSION } from "../../src/store/schema.js";
import { Store } from "../../src/store/store.js";
import { tcpObs } from "../helpers/observations.js";
import { seedRun, type SeedRow } from "../helpers/seed.js";

let dir: string;
const open: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-merge-"));
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(name: string): Store {
  const s = Store.open(join(dir, name), { hostname: "volunteer", now: () => new Date("2025-05-01T12:00:00.000Z") });
  open.push(s);
  return s;
}

const ok: Verdict = { status: "ok", layer: null, failure: null, evidence: [] };
const blocked: Verdict = { status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: ["resolver returned 127.0.0.2"] };

/** Adds a finished run with one measurement per target; returns the run id and measurement ids. */
function addRun(store: Store, runId: string, startedAt: string, label: string | null, targets: string[], verdict: Verdict = ok): { runId: string; ids: string[] } {
  const rows = targets.map((target, i): SeedRow => [target, "WeChat", verdict, { id: `${runId}-m${i}`, observations: [tcpObs("192.0.2.1:443", { t0: 1, t: 2 })] }]);
  return seedRun(store, { id: runId, at: startedAt, network: { label, asn: 12389, cc: "RU" }, options: { list: null }, rows, spacingMs: 1, durationMs: 5, summary: [{ service: "WeChat" }] });
}

/** Copies a database file whole, as a volunteer's later copy of the same file would be. */
function copyDb(store: Store, name: string): string {
  const to = join(dir, name);
  store.db.prepare("VACUUM INTO ?").run(to);
  return to;
}

function sha(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function rows(store: Store, sql: string): unknown[] {
  return store.db.prepare(sql).all();
}

function refusal(fn: () => unknown): MergeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MergeError) return err;
    throw err;
  }
  throw new Error("expected the file to be refused, it was merged");
}

describe("merging reachprobe databases", () => {
  it("copies two overlapping files into a third without duplicates, keeping ids and network labels", () => {
    const a = openStore("a.db");
    const r1 = addRun(a, "run-1", "2025-05-01T10:00:00.000Z", "Rostelecom Moscow", ["https://weixin.qq.com/", "tcp://long.weixin.qq.com:8080"], blocked);
    // b.db is a later copy of a.db with one more run, from another network.
    const bPath = copyDb(a, "b.db");
    const b = openStore("b.db");
    const r2 = addRun(b, "run-2", "2025-05-02T10:00:00.000Z", "MTS Saint Petersburg", ["https://weixin.qq.com/"]);

    const c = openStore("c.db");
    const first = mergeDatabase(c, join(dir, "a.db"));
    expect(first).toMatchObject({ runsAdded: 1, measurementsAdded: 2, runsDuplicate: 0, measurementsDuplicate: 0, conflictCount: 0, schemaVersion: CURRENT_SCHEMA_VERSION });
    const second = mergeDatabase(c, bPath);
    expect(second).toMatchObject({ runsAdded: 1, measurementsAdded: 1, runsDuplicate: 1, measurementsDuplicate: 2, conflictCount: 0 });

    expect(rows(c, "SELECT id, network_label, probe_asn, probe_cc, state FROM runs ORDER BY started_at")).toEqual([
      { id: "run-1", network_label: "Rostelecom Moscow", probe_asn: 12389, probe_cc: "RU", state: "completed" },
      { id: "run-2", network_label: "MTS Saint Petersburg", probe_asn: 12389, probe_cc: "RU", state: "completed" },
    ]);
    expect(rows(c, "SELECT id FROM measurements ORDER BY id").map((r) => (r as { id: string }).id)).toEqual([...r1.ids, ...r2.ids].sort());
    // The copied rows read back exactly as the volunteer's store wrote them.
    expect(c.listMeasurements("run-1")).toEqual(a.listMeasurements("run-1"));
    expect(c.getRun("run-2")).toEqual(b.getRun("run-2"));
  });

  it("adds nothing when the same file is merged twice", () => {
    const a = openStore("a.db");
    addRun(a, "run-1", "2025-05-01T10:00:00.000Z", "home", ["https://a.test/", "https://b.test/"]);
    const c = openStore("c.db");
    mergeDatabase(c, join(dir, "a.db"));
    const before = rows(c, "SELECT * FROM measurements ORDER BY id");
    const again = mergeDatabase(c, join(dir, "a.db"));
    expect(again).toMatchObject({ runsAdded: 0, measurementsAdded: 0, runsDuplicate: 1, measurementsDuplicate: 2, conflictCount: 0 });
    expect(rows(c, "SELECT * FROM measurements ORDER BY id")).toEqual(before);
  });

  it("reports a measurement whose id exists with different content as a conflict, and keeps the existing row", () => {
    const a = openStore("a.db");
    addRun(a, "run-1", "2025-05-01T10:00:00.000Z", "home", ["https://a.test/", "https://b.test/"]);
    const tampered = copyDb(a, "tampered.db");
    const raw = new Database(tampered);
    raw.prepare("UPDATE measurements SET status = 'blocked', layer = 'tls', failure = 'connection_reset' WHERE id = 'run-1-m1'").run();
    raw.close();

    const c = openStore("c.db");
    mergeDatabase(c, join(dir, "a.db"));
    const s = mergeDatabase(c, tampered);
    expect(s).toMatchObject({ runsDuplicate: 1, measurementsDuplicate: 1, measurementsAdded: 0, conflictCount: 1 });
    expect(s.conflicts).toEqual([{ table: "measurements", id: "run-1-m1", reason: expect.stringMatching(/differs in status, layer, failure/) as unknown }]);
    expect(rows(c, "SELECT status FROM measurements WHERE id = 'run-1-m1'")).toEqual([{ status: "ok" }]);
  });

  it("skips a run whose id is taken by a different run, and every measurement of it", () => {
    const c = openStore("c.db");
    addRun(c, "run-1", "2025-05-01T10:00:00.000Z", "home", ["https://a.test/"]);
    const other = openStore("other.db");
    addRun(other, "run-1", "2025-06-01T10:00:00.000Z", "office", ["https://a.test/", "https://z.test/"]);
    const s = mergeDatabase(c, join(dir, "other.db"));
    expect(s).toMatchObject({ runsAdded: 0, measurementsAdded: 0, conflictCount: 3 });
    expect(s.conflicts[0]).toMatchObject({ table: "runs", id: "run-1", reason: expect.stringMatching(/started_at.*network_label/) as unknown });
    expect(s.conflicts.slice(1).map((x) => x.reason)).toEqual(["a different measurement with this id is already there (differs in started_at, finished_at)", "its run run-1 conflicts"]);
    expect(c.getRun("run-1")?.networkLabel).toBe("home");
    expect(rows(c, "SELECT COUNT(*) AS n FROM measurements")).toEqual([{ n: 1 }]);
  });

  it("refuses a file with a newer schema, naming the file and both versions, and merges nothing from it", () => {
    const a = openStore("a.db");
    addRun(a, "run-1", "2025-05-01T10:00:00.000Z", "home", ["https://a.test/"]);
    const newer = copyDb(a, "newer.db");
    const raw = new Database(newer);
    raw.pragma(`user_version = ${CURRENT_SCHEMA_VERSION + 1}`);
    raw.close();
    const hash = sha(newer);

    const c = openStore("c.db");
    const err = refusal(() => mergeDatabase(c, newer));
    expect(err.code).toBe("E_SCHEMA_NEWER");
    expect(err.message).toContain(newer);
    expect(err.message).toContain(`schema version ${CURRENT_SCHEMA_VERSION + 1}`);
    expect(err.message).toMatch(new RegExp(`versions 1 to ${CURRENT_SCHEMA_VERSION}.*upgrade reachprobe.*Nothing was merged`));
    expect(rows(c, "SELECT COUNT(*) AS n FROM runs")).toEqual([{ n: 0 }]);
    expect(sha(newer)).toBe(hash);
  });

  it("refuses a file that is not a database at all", () => {
    const notDb = join(dir, "notes.db");
    writeFileSync(notDb, "these are my notes, not a database\n".repeat(200));
    const err = refusal(() => mergeDatabase(openStore("c.db"), notDb));
    expect(err.code).toBe("E_NOT_REACHPROBE_DB");
    expect(err.message).toBe(`${notDb} is not a reachprobe database: it is not an SQLite file. Nothing was merged from it.`);
    expect(readFileSync(notDb, "utf8")).toMatch(/^these are my notes/);
  });

  it("refuses an SQLite file that is not reachprobe's, and a missing file", () => {
    const other = join(dir, "other.sqlite");
    const raw = new Database(other);
    raw.exec("CREATE TABLE runs (id TEXT)");
    raw.close();
    const err = refusal(() => openMergeSource(other));
    expect(err.code).toBe("E_NOT_REACHPROBE_DB");
    expect(err.message).toContain(`${other} is not a reachprobe database: it has no measurements table`);

    const missing = refusal(() => openMergeSource(join(dir, "nowhere.db")));
    expect(missing.code).toBe("E_MERGE_OPEN");
    expect(missing.message).toContain(join(dir, "nowhere.db"));
  });

  it("refuses to merge a database into itself", () => {
    const c = openStore("c.db");
    expect(refusal(() => mergeDatabase(c, join(dir, "c.db"))).code).toBe("E_MERGE_SAME_FILE");
  });

  it("merges all of a file or nothing when a row cannot be copied", () => {
    const a = openStore("a.db");
    addRun(a, "run-1", "2025-05-01T10:00:00.000Z", "home", ["https://a.test/"]);
    addRun(a, "run-2", "2025-05-02T10:00:00.000Z", "home", ["https://b.test/"]);
    const broken = copyDb(a, "broken.db");
    // A row the destination's CHECK constraint refuses, written past the source's own check.
    const raw = new Database(broken);
    raw.pragma("ignore_check_constraints = ON");
    raw.prepare("UPDATE measurements SET status = 'weird' WHERE id = 'run-2-m0'").run();
    raw.close();

    const c = openStore("c.db");
    expect(() => mergeDatabase(c, broken)).toThrow(/CHECK constraint/);
    expect(rows(c, "SELECT (SELECT COUNT(*) FROM runs) AS runs, (SELECT COUNT(*) FROM measurements) AS measurements")).toEqual([{ runs: 0, measurements: 0 }]);
  });

  it("never writes to the source, even one in WAL mode with its -wal file", () => {
    const a = openStore("a.db");
    addRun(a, "run-1", "2025-05-01T10:00:00.000Z", "home", ["https://a.test/"]);
    // a.db stays open: its newest pages are in a.db-wal, which the read-only merge must see.
    const before = sha(join(dir, "a.db"));
    const s = mergeDatabase(openStore("c.db"), join(dir, "a.db"));
    expect(s.measurementsAdded).toBe(1);
    expect(sha(join(dir, "a.db"))).toBe(before);
  });
});
