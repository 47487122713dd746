/**
 * Checking a pushed batch before anything is written (docs/fleet.md, "What the collector
 * refuses"): its shape, every row's fields against the closed lists and bounds below, times in
 * the one ISO form the store writes and within sane bounds, blobs whose bytes match their key.
 * One bad row refuses the whole batch, with a message naming the row and the field. Pure.
 */
import { blobKey, decodeBlob } from "../store/blobs.js";
import type { Batch, WireBlob, WireMeasurement, WireRun } from "../store/pg/ingest.js";

/** The most rows of each kind one batch may hold. */
export const BATCH_LIMITS = { runs: 1000, measurements: 5000, blobs: 5000 } as const;

/** A batch refused because of its content (HTTP 400). */
export class BatchInvalid extends Error {
  override readonly name = "BatchInvalid";
}

const STATUSES = new Set(["ok", "blocked", "anomaly", "down", "inconclusive"]);
const LAYERS = new Set(["dns", "tcp", "tls", "http"]);
const RUN_STATES = new Set(["running", "completed", "interrupted", "failed"]);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
/** The earliest time a row may carry; the latest is a day after the collector's clock. */
export const EARLIEST = "2015-01-01T00:00:00.000Z";
const DAY_MS = 86_400_000;
const KB = 1024;

type Obj = Record<string, unknown>;

function fail(where: string, field: string, why: string): never {
  throw new BatchInvalid(`${where}: ${field} ${why}`);
}

function str(o: Obj, where: string, field: string, max: number, nullable = false): string | null {
  const v = o[field];
  if (v === null || v === undefined) {
    if (nullable) return null;
    fail(where, field, "is missing");
  }
  if (typeof v !== "string") fail(where, field, `must be a string, not ${typeof v}`);
  if (v.length > max) fail(where, field, `is ${v.length} characters long; at most ${max} are accepted`);
  return v;
}

function int(o: Obj, where: string, field: string, min: number, max: number, nullable = false): number | null {
  const v = o[field];
  if (v === null || v === undefined) {
    if (nullable) return null;
    fail(where, field, "is missing");
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(where, field, `must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}`);
  return v;
}

function time(o: Obj, where: string, field: string, latest: string, nullable = false): string | null {
  const v = str(o, where, field, 24, nullable);
  if (v === null) return null;
  if (!ISO.test(v) || Number.isNaN(Date.parse(v)) || new Date(v).toISOString() !== v) fail(where, field, `must be a UTC time like 2026-05-04T10:00:00.000Z, not ${JSON.stringify(v)}`);
  if (v < EARLIEST || v > latest) fail(where, field, `${v} is outside ${EARLIEST} .. ${latest} (is the probe's clock right?)`);
  return v;
}

function json(o: Obj, where: string, field: string, max: number, nullable = false): string | null {
  const v = str(o, where, field, max, nullable);
  if (v === null) return null;
  try {
    JSON.parse(v);
  } catch {
    fail(where, field, "is not valid JSON");
  }
  return v;
}

function id(o: Obj, where: string, field: string): string {
  const v = str(o, where, field, 100)!;
  if (!ID.test(v)) fail(where, field, `must be letters, digits and . _ : - (at most 100), not ${JSON.stringify(v)}`);
  return v;
}

function oneOf(o: Obj, where: string, field: string, allowed: Set<string>, nullable = false): string | null {
  const v = str(o, where, field, 20, nullable);
  if (v !== null && !allowed.has(v)) fail(where, field, `must be one of ${[...allowed].join(", ")}${nullable ? " or null" : ""}, not ${JSON.stringify(v)}`);
  return v;
}

function obj(v: unknown, where: string): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new BatchInvalid(`${where} must be an object`);
  return v as Obj;
}

function run(v: unknown, i: number, latest: string): WireRun {
  const where = `runs[${i}]`;
  const o = obj(v, where);
  return {
    id: id(o, where, "id"),
    started_at: time(o, where, "started_at", latest)!,
    finished_at: time(o, where, "finished_at", latest, true),
    state: oneOf(o, where, "state", RUN_STATES) as WireRun["state"],
    reachprobe_version: str(o, where, "reachprobe_version", 100, true),
    pid: int(o, where, "pid", 0, 2 ** 31 - 1, true),
    hostname_hash: str(o, where, "hostname_hash", 128, true),
    network_label: str(o, where, "network_label", 200, true),
    probe_asn: int(o, where, "probe_asn", 0, 2 ** 32 - 1, true),
    probe_cc: str(o, where, "probe_cc", 8, true),
    options_json: json(o, where, "options_json", 256 * KB, true),
    target_count: int(o, where, "target_count", 0, 10_000_000, true),
    summary_json: json(o, where, "summary_json", 1024 * KB, true),
    canary_json: json(o, where, "canary_json", 256 * KB, true),
  };
}

function measurement(v: unknown, i: number, latest: string): WireMeasurement {
  const where = `measurements[${i}]`;
  const o = obj(v, where);
  const m: WireMeasurement = {
    id: id(o, where, "id"),
    run_id: id(o, where, "run_id"),
    target: str(o, where, "target", 2048)!,
    service: str(o, where, "service", 200)!,
    status: oneOf(o, where, "status", STATUSES) as WireMeasurement["status"],
    layer: oneOf(o, where, "layer", LAYERS, true) as WireMeasurement["layer"],
    failure: str(o, where, "failure", 2000, true),
    evidence_json: json(o, where, "evidence_json", 64 * KB)!,
    observations_json: json(o, where, "observations_json", 2048 * KB)!,
    control_json: json(o, where, "control_json", 1024 * KB, true),
    started_at: time(o, where, "started_at", latest)!,
    finished_at: time(o, where, "finished_at", latest)!,
    duration_ms: int(o, where, "duration_ms", 0, 86_400_000)!,
  };
  const evidence = JSON.parse(m.evidence_json) as unknown;
  if (!Array.isArray(evidence) || !evidence.every((e) => typeof e === "string")) fail(where, "evidence_json", "must be a JSON array of strings");
  return m;
}

function blob(v: unknown, i: number): WireBlob {
  const where = `blobs[${i}]`;
  const o = obj(v, where);
  const sha256 = str(o, where, "sha256", 64)!;
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail(where, "sha256", "must be 64 lower-case hex digits");
  const size = int(o, where, "size", 0, 16 * 1024 * KB)!;
  const compression = oneOf(o, where, "compression", new Set(["none", "zlib"])) as WireBlob["compression"];
  const data = str(o, where, "data", Math.ceil((16 * 1024 * KB * 4) / 3) + 4)!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) fail(where, "data", "must be base64");
  let bytes: Buffer;
  try {
    bytes = decodeBlob({ sha256, size, compression, data: Buffer.from(data, "base64") });
  } catch (err) {
    fail(where, "data", `does not decode: ${(err as Error).message}`);
  }
  if (blobKey(bytes) !== sha256) fail(where, "data", "does not hash to its sha256");
  return { sha256, size, compression, data };
}

function list(o: Obj, key: keyof typeof BATCH_LIMITS): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new BatchInvalid(`${key} must be an array`);
  if (v.length > BATCH_LIMITS[key]) throw new BatchInvalid(`${key} holds ${v.length} rows; at most ${BATCH_LIMITS[key]} a batch are accepted`);
  return v;
}

/** The batch in `body` (parsed JSON), checked; throws BatchInvalid naming the first bad row and field. */
export function validateBatch(body: unknown, now: Date = new Date()): Batch {
  const o = obj(body, "the batch");
  if (o.version !== 1) throw new BatchInvalid(`the batch's version must be 1, not ${JSON.stringify(o.version)}`);
  const latest = new Date(now.getTime() + DAY_MS).toISOString();
  const batch: Batch = {
    version: 1,
    runs: list(o, "runs").map((r, i) => run(r, i, latest)),
    measurements: list(o, "measurements").map((m, i) => measurement(m, i, latest)),
    blobs: list(o, "blobs").map(blob),
  };
  const seen = new Set<string>();
  batch.measurements.forEach((m, i) => {
    if (seen.has(m.id)) throw new BatchInvalid(`measurements[${i}]: id ${m.id} appears twice in the batch`);
    seen.add(m.id);
  });
  const runIds = new Set<string>();
  batch.runs.forEach((r, i) => {
    if (runIds.has(r.id)) throw new BatchInvalid(`runs[${i}]: id ${r.id} appears twice in the batch`);
    runIds.add(r.id);
  });
  return batch;
}
