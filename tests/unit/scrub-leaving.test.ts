/**
 * Data that leaves the machine: HTTP responses scrubbed of every address (merge --scrub; push is
 * in tests/integration/fleet-scrub.test.ts), and body samples stored as text before samples were
 * kept as bytes marked lossy by schema version 3 (and by a merge of an older file), which the
 * OONI export then never presents as the bytes received.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Verdict } from "../../src/analysis/verdict.js";
import { observationLine } from "../../src/cli/show.js";
import { toOoniWebConnectivity } from "../../src/export/export-ooni.js";
import { bodySampleBytes, bodySampleIsWhole } from "../../src/probes/body-sample.js";
import type { HttpObservation } from "../../src/probes/observation.js";
import { scrubHttpObservation, scrubObservations, scrubQuotedTitles } from "../../src/probes/scrub-observations.js";
import { decodeBlob, type BlobRow } from "../../src/store/blobs.js";
import { mergeDatabase } from "../../src/store/merge.js";
import { CURRENT_SCHEMA_VERSION, MIGRATIONS } from "../../src/store/schema.js";
import { Store } from "../../src/store/store.js";
import { containsAny, leakyPage, QUOTED } from "../helpers/leaky-page.js";
import { dnsObs, httpObs, tcpObs } from "../helpers/observations.js";
import { seedRun } from "../helpers/seed.js";

let dir: string;
const open: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-scrub-"));
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("scrubbing an HTTP observation", () => {
  it.each([false, true])("replaces every address in headers, repeats, title and body (binary %s), keeps the rest byte for byte", (binary) => {
    const o = leakyPage(binary);
    const s = scrubHttpObservation(o);
    const bytes = bodySampleBytes(s);
    expect(containsAny(JSON.stringify({ ...s, bodySample: undefined }))).toEqual([]);
    expect(containsAny(bytes.toString("latin1"))).toEqual([]);
    expect(s.headers!.server).toBe("censor/1.0 (address-free header)");
    expect(s.headers!["x-client-ip"]).toBe("[scrubbed]");
    expect(s.headerRepeats!["set-cookie"]).toEqual(["ip=[scrubbed]; Path=/", "v6=[scrubbed]; Path=/"]);
    expect(s.title).toBe("Blocked for [scrubbed]");
    if (binary) {
      expect(s.bodySampleEncoding).toBe("base64");
      expect([...bytes.subarray(0, 3)]).toEqual([0x89, 0xff, 0xfe]);
      expect(bytes.subarray(-13).toString("latin1")).toBe("ip=[scrubbed]");
    } else {
      expect(s.bodySampleEncoding).toBeUndefined();
    }
    // The hash of the page as received would give the address back: gone; wholeness kept apart.
    expect(s.bodySha256).toBeUndefined();
    expect(s.scrubbed).toBe(true);
    expect(s.bodySampleWhole).toBe(true);
    expect(bodySampleIsWhole(s)).toBe(true);
    // The caller's observation is not changed.
    expect(o.title).toBe("Blocked for 203.0.113.77");
  });

  it("leaves an observation that quotes no address as it is (the same object), and scrubbing twice changes nothing more", () => {
    const clean = httpObs("192.0.2.1:443", "https://a.example/", { status: 200, headers: { server: "nginx/1.24.0" }, title: "Hello", bodySample: "<p>no address here, version 1.2.3</p>", bodySha256: "x" });
    expect(scrubHttpObservation(clean)).toBe(clean);
    const list = [dnsObs("a.example", ["203.0.113.5"]), tcpObs("203.0.113.5:443"), clean];
    // DNS answers and the endpoints connected to are what the measurement is about: kept.
    expect(scrubObservations(list)).toBe(list);
    const once = scrubHttpObservation(leakyPage(true));
    expect(scrubHttpObservation(once)).toBe(once);
  });
});

// The verdict quotes the page's title, as compare-http's evidence does.
describe("titles quoted in the evidence", () => {
  it("are scrubbed as the title is, in the export too; other addresses in the evidence (answers, endpoints) stay", () => {
    const page = leakyPage(false);
    const evidence = ['HTTP 403, 390 bytes, "Blocked for 203.0.113.77" where the control got HTTP 200', "answers from 192.0.2.1"];
    expect(scrubQuotedTitles(evidence, [page])).toEqual(['HTTP 403, 390 bytes, "Blocked for [scrubbed]" where the control got HTTP 200', "answers from 192.0.2.1"]);
    const clean = httpObs("192.0.2.1:80", "http://a.example/", { title: "Hello" });
    expect(scrubQuotedTitles(evidence, [clean])).toBe(evidence);
    const run = { id: "r", startedAt: "2026-12-01T10:00:00.000Z", finishedAt: null, state: "completed" as const, version: "0.1.0", pid: 1, hostnameHash: "x", networkLabel: null, probeAsn: 64500, probeCc: "RU", options: {}, targetCount: 1, summary: null, canary: null };
    const m = { id: "m", runId: "r", target: "http://blocked.example/", service: "S", verdict: { ...ok, evidence }, observations: [page], control: null, startedAt: run.startedAt, finishedAt: run.startedAt, durationMs: 1 };
    const out = JSON.stringify(toOoniWebConnectivity({ run, measurement: m }, { softwareVersion: "0.1.0" }));
    expect(containsAny(out)).toEqual([]);
    expect(out).toContain("answers from 192.0.2.1");
  });
});

const ok: Verdict = { status: "blocked", layer: "http", failure: null, evidence: ['HTTP 403, 390 bytes, "Blocked for 203.0.113.77" where the control got HTTP 200', "answers from 192.0.2.1"] };

function allText(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT observations_json, control_json, evidence_json FROM measurements").all() as Array<{ observations_json: string; control_json: string | null; evidence_json: string }>;
    const blobs = (db.prepare("SELECT sha256, size, compression, data FROM blobs").all() as BlobRow[]).map((b) => decodeBlob(b).toString("latin1"));
    return [...rows.map((r) => `${r.observations_json}\n${r.control_json ?? ""}\n${r.evidence_json}`), ...blobs].join("\n");
  } finally {
    db.close();
  }
}

describe("merge --scrub", () => {
  function volunteer(): string {
    const file = join(dir, "volunteer.db");
    const s = Store.open(file, { hostname: "volunteer" });
    seedRun(s, {
      id: "run-1",
      at: "2026-12-01T10:00:00.000Z",
      network: { label: "home", asn: 64500, cc: "RU" },
      rows: [
        ["http://blocked.example/", "Site", ok, { id: "m-text", observations: [dnsObs("blocked.example", ["192.0.2.1"]), tcpObs("192.0.2.1:80"), leakyPage(false)] }],
        ["http://blocked.example/bin", "Site", ok, { id: "m-bin", observations: [leakyPage(true)] }],
      ],
    });
    s.close();
    return file;
  }

  it("copies the rows with no address from a body or header left, in the rows or in the blobs; without --scrub they are all there", () => {
    const file = volunteer();
    // The source holds every address (else this test could not fail).
    expect(containsAny(allText(file)).sort()).toEqual([...QUOTED].sort());

    const into = Store.open(join(dir, "scrubbed.db"));
    open.push(into);
    expect(mergeDatabase(into, file, { scrub: true })).toMatchObject({ measurementsAdded: 2, conflictCount: 0 });
    expect(containsAny(allText(into.path))).toEqual([]);
    // What the analysis is about stays: the DNS answer and the address connected to.
    const m = into.getMeasurement("m-text")!;
    expect(m.observations.map((o) => o.step)).toEqual(["dns", "tcp", "http"]);
    const page = m.observations[2] as HttpObservation;
    expect(page.address).toBe("192.0.2.1:80");
    expect(page.title).toBe("Blocked for [scrubbed]");
    expect(bodySampleBytes(page).toString()).toContain("Your address: [scrubbed], seen via [scrubbed] and [scrubbed].");
    // The verdict stands; the title it quotes is scrubbed as the title is, the rest kept.
    expect(m.verdict).toEqual({ ...ok, evidence: ['HTTP 403, 390 bytes, "Blocked for [scrubbed]" where the control got HTTP 200', "answers from 192.0.2.1"] });

    // Merging the file again adds nothing: the scrubbed rows are the same bytes.
    expect(mergeDatabase(into, file, { scrub: true })).toMatchObject({ measurementsAdded: 0, measurementsDuplicate: 2, conflictCount: 0 });

    const plain = Store.open(join(dir, "plain.db"));
    open.push(plain);
    mergeDatabase(plain, file);
    expect(containsAny(allText(plain.path)).sort()).toEqual([...QUOTED].sort());
  });

  it("exports a scrubbed row as the whole body, without the hash of the page as received", () => {
    const into = Store.open(join(dir, "scrubbed.db"));
    open.push(into);
    mergeDatabase(into, volunteer(), { scrub: true });
    const m = into.getMeasurement("m-bin")!;
    const out = toOoniWebConnectivity({ run: into.getRun(m.runId)!, measurement: m }, { softwareVersion: "0.1.0" });
    const r = out.test_keys.requests[0]!;
    expect(r.response.body_is_truncated).toBe(false);
    expect(r.x_body_sha256).toBeUndefined();
    expect(out.test_keys.x_reachprobe.evidence[0]).toContain('"Blocked for [scrubbed]"');
    expect(r.response.body).toMatchObject({ format: "base64" });
    expect(containsAny(JSON.stringify(out))).toEqual([]);
  });
});

// ---- schema version 3: text samples that lost bytes ----

/** The sample as reachprobe stored it before bytes were kept: the bytes' UTF-8 text. */
function oldTextSample(body: Buffer, over: Partial<HttpObservation> = {}): HttpObservation {
  return httpObs("192.0.2.1:80", "http://old.example/", { status: 200, headers: {}, bodyLength: body.length, bodyTruncated: false, bodySha256: sha(body), bodySample: body.toString("utf8"), ...over });
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x41, 0x42]);
const LONG_BINARY = Buffer.concat([Buffer.from("<html>".padEnd(200, "x")), Buffer.from([0xff, 0xfe]), Buffer.from("</html>")]);
// A page that really holds U+FFFD (EF BF BD), read whole: its text is its bytes.
const REAL_FFFD = Buffer.from("caf\uFFFD au lait", "utf8");

/** A schema version 1 file written by the old code, with every sample inline as text. */
function oldFile(name: string): string {
  const file = join(dir, name);
  const db = new Database(file);
  db.exec(MIGRATIONS[0] as string);
  db.pragma("user_version = 1");
  db.prepare(`INSERT INTO runs (id, started_at, finished_at, state, target_count) VALUES ('old-run', '2026-11-01T10:00:00.000Z', '2026-11-01T10:01:00.000Z', 'completed', 4)`).run();
  const insert = db.prepare(`INSERT INTO measurements (id, run_id, target, service, status, layer, failure, evidence_json, observations_json, control_json, started_at, finished_at, duration_ms)
    VALUES (?, 'old-run', 'http://old.example/', 'Old', 'ok', NULL, NULL, '[]', ?, NULL, '2026-11-01T10:00:00.000Z', '2026-11-01T10:00:01.000Z', 1000)`);
  insert.run("png", JSON.stringify([oldTextSample(PNG)]));
  // Longer than a blob's minimum: the migration to version 2 moves it into the blobs table first.
  insert.run("long", JSON.stringify([oldTextSample(LONG_BINARY)]));
  // Longer than the old sample cap: the sample is the first bytes only (cut in a character).
  insert.run("cut", JSON.stringify([oldTextSample(PNG, { bodyLength: 20_000, bodySha256: sha("the whole body") })]));
  insert.run("fffd", JSON.stringify([oldTextSample(REAL_FFFD)]));
  insert.run("ascii", JSON.stringify([oldTextSample(Buffer.from("plain text"))]));
  db.close();
  return file;
}

const lossyIds = (s: Store) => ["png", "long", "cut", "fffd", "ascii"].filter((id) => (s.getMeasurement(id)!.observations[0] as HttpObservation).bodySampleLossy === true);

describe("schema version 3: text samples stored before bytes were kept", () => {
  it("marks a sample lossy when its text has U+FFFD and is not the whole body received; the rest are left as they were", () => {
    const file = oldFile("old.db");
    const s = Store.open(file);
    open.push(s);
    expect(s.db.pragma("user_version", { simple: true })).toBe(CURRENT_SCHEMA_VERSION);
    expect(CURRENT_SCHEMA_VERSION).toBe(3);
    expect(lossyIds(s)).toEqual(["png", "long", "cut"]);
    // The text itself is kept as it was.
    expect((s.getMeasurement("png")!.observations[0] as HttpObservation).bodySample).toBe(PNG.toString("utf8"));
    // Opening again changes nothing.
    const before = s.db.prepare("SELECT id, observations_json FROM measurements ORDER BY id").all();
    s.close();
    open.pop();
    const again = Store.open(file);
    open.push(again);
    expect(again.db.prepare("SELECT id, observations_json FROM measurements ORDER BY id").all()).toEqual(before);
  });

  it("the OONI export flags a lossy sample (x_body_sample_lossy) and never calls it the whole body; an exact one is whole", () => {
    const s = Store.open(oldFile("old.db"));
    open.push(s);
    const request = (id: string) => {
      const m = s.getMeasurement(id)!;
      return toOoniWebConnectivity({ run: s.getRun(m.runId)!, measurement: m }, { softwareVersion: "0.1.0" }).test_keys.requests[0]!;
    };
    for (const id of ["png", "long"]) {
      expect(request(id).x_body_sample_lossy).toBe(true);
      expect(request(id).response.body_is_truncated).toBe(true);
    }
    expect(request("fffd").x_body_sample_lossy).toBeUndefined();
    expect(request("fffd").response.body_is_truncated).toBe(false);
    expect(request("fffd").response.body).toBe("caf\uFFFD au lait");
  });

  it("show says a lossy sample was stored as text, and says nothing of an exact one", () => {
    const s = Store.open(oldFile("old.db"));
    open.push(s);
    expect(observationLine(s.getMeasurement("png")!.observations[0]!)).toContain("16 bytes, sample stored as text (bytes that were not UTF-8 lost)");
    expect(observationLine(s.getMeasurement("fffd")!.observations[0]!)).not.toContain("sample stored as text");
  });

  it("a merge of a file written before version 3 marks its rows as the migration does", () => {
    const file = oldFile("volunteer-old.db");
    const into = Store.open(join(dir, "into.db"));
    open.push(into);
    expect(mergeDatabase(into, file)).toMatchObject({ schemaVersion: 1, measurementsAdded: 5, conflictCount: 0 });
    expect(lossyIds(into)).toEqual(["png", "long", "cut"]);
    // The same rows, migrated in place, are duplicates of the merged ones.
    const migrated = Store.open(file);
    migrated.close();
    expect(mergeDatabase(into, file)).toMatchObject({ schemaVersion: 3, measurementsAdded: 0, measurementsDuplicate: 5, conflictCount: 0 });
  });
});
