/**
 * Pushing a probe's database to a collector (docs/fleet.md, "Pushing"): everything not yet
 * acknowledged (push-marks.ts), in bounded batches in rowid order, each acknowledged before
 * the next is read. A batch that fails on the way (a reset, a timeout, a 503) is sent again
 * after a backoff, the same rows with the same ids, so a batch the collector did write is
 * counted as duplicates, never stored twice; one it refuses (4xx) stops the push with its
 * message and leaves the queue as it was. The local database is only read, besides the marks.
 */
import type Database from "better-sqlite3";
import { Agent, request, type Dispatcher } from "undici";
import { blobKey, BlobStore, encodeBlob } from "../store/blobs.js";
import { referencedBlobs } from "../store/observation-refs.js";
import { scrubRowJson } from "../store/scrub-row.js";
import type { Batch, WireBlob, WireMeasurement, WireRun } from "../store/pg/ingest.js";
import { PushMarks } from "./push-marks.js";

/** How a push is done. */
export interface PushOptions {
  /** The collector's base URL, e.g. https://collector.example:8443 */
  url: string;
  token: string;
  /** Measurements a batch (at most 5000, what the collector takes). */
  batchSize?: number;
  /** Tries of one batch before giving up (the queue stays). */
  tries?: number;
  /** The first backoff in ms, doubled each try, at most maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Told about each batch and each retry. */
  onProgress?: (event: PushEvent) => void;
  /**
   * Scrub every address from the HTTP responses' header values, titles and body samples before
   * they are sent (docs/fleet.md, "Scrubbing"); `reachprobe push` does unless --no-scrub.
   */
  scrub?: boolean;
}

/** What a push reports as it goes. */
export type PushEvent =
  | { kind: "batch"; measurements: number; added: number; duplicate: number; runs: number }
  | { kind: "retry"; attempt: number; waitMs: number; reason: string };

/** What a push did. */
export interface PushSummary {
  batches: number;
  measurementsSent: number;
  measurementsAdded: number;
  measurementsDuplicate: number;
  runsSent: number;
}

/** A push that stopped: refused by the collector (`refused`), or out of tries. Acknowledged batches stay acknowledged. */
export class PushError extends Error {
  override readonly name = "PushError";
  constructor(
    message: string,
    readonly refused: boolean,
    readonly summary: PushSummary,
  ) {
    super(message);
  }
}

// The byte budget of one batch's JSON: a batch stops growing past it (bodies of blobs can be large).
const BATCH_BYTES = 16 * 1024 * 1024;

const RUN_COLS = "r.id, r.started_at, r.finished_at, r.state, r.reachprobe_version, r.pid, r.hostname_hash, r.network_label, r.probe_asn, r.probe_cc, r.options_json, r.target_count, r.summary_json, r.canary_json";
const MEASUREMENT_COLS = "m.rowid AS rowid, m.id, m.run_id, m.target, m.service, m.status, m.layer, m.failure, m.evidence_json, m.observations_json, m.control_json, m.started_at, m.finished_at, m.duration_ms";

/** The key of a collector in push_marks: its URL without a trailing slash, query or credentials. */
export function collectorKey(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
}

class Transient extends Error {}

async function post(o: PushOptions, dispatcher: Dispatcher, batch: Batch): Promise<{ measurements_added: number; measurements_duplicate: number }> {
  const body = JSON.stringify(batch);
  let res;
  try {
    res = await request(`${collectorKey(o.url)}/v1/batches`, {
      method: "POST",
      dispatcher,
      headers: { authorization: `Bearer ${o.token}`, "content-type": "application/json" },
      body,
      headersTimeout: o.timeoutMs ?? 120_000,
      bodyTimeout: o.timeoutMs ?? 120_000,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A certificate that does not check out will not by trying again.
    if (typeof e.code === "string" && /CERT|SIGNATURE|ALTNAME|ISSUER/.test(e.code)) {
      throw new PushError(`the collector's certificate was refused (${e.code}): ${e.message}; nothing was sent`, true, { batches: 0, measurementsSent: 0, measurementsAdded: 0, measurementsDuplicate: 0, runsSent: 0 });
    }
    throw new Transient(`${e.code ? `${e.code}: ` : ""}${e.message}`);
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw new Transient(`the answer was cut: ${(err as Error).message}`);
  }
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: a proxy's page; the status decides
  }
  if (res.statusCode === 200 && doc.ok === true) return doc as { measurements_added: number; measurements_duplicate: number };
  const why = typeof doc.error === "string" ? doc.error : `HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ""}`;
  // 5xx and 429 may pass; 4xx will not change by trying again.
  if (res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408) throw new Transient(`the collector answered ${res.statusCode}: ${why}`);
  throw new PushError(`the collector refused the batch (HTTP ${res.statusCode}): ${why}`, true, { batches: 0, measurementsSent: 0, measurementsAdded: 0, measurementsDuplicate: 0, runsSent: 0 });
}

/** Pushes everything the collector at o.url has not acknowledged; resolves with what was done. */
export async function push(db: Database.Database, o: PushOptions): Promise<PushSummary> {
  const key = collectorKey(o.url);
  const marks = new PushMarks(db, key);
  const batchSize = Math.min(o.batchSize ?? 1000, 5000);
  const tries = o.tries ?? 6;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? (() => new Date());
  const summary: PushSummary = { batches: 0, measurementsSent: 0, measurementsAdded: 0, measurementsDuplicate: 0, runsSent: 0 };
  const nextMeasurements = db.prepare<[number, number], WireMeasurement & { rowid: number }>(
    `SELECT ${MEASUREMENT_COLS} FROM measurements AS m WHERE m.rowid > ? ORDER BY m.rowid LIMIT ?`,
  );
  const pendingRunsOf = (ids: string[]) =>
    db.prepare<Record<string, string>, WireRun>(
      `SELECT ${RUN_COLS} FROM runs AS r WHERE r.id IN (${ids.map((_v, i) => `@r${i}`).join(", ")}) AND ${PushMarks.PENDING_RUN}`,
    ).all(Object.fromEntries([["collector", key], ...ids.map((id, i) => [`r${i}`, id])]));
  const pendingRuns = db.prepare<[{ collector: string }], WireRun>(`SELECT ${RUN_COLS} FROM runs AS r WHERE ${PushMarks.PENDING_RUN} ORDER BY r.rowid LIMIT 1000`);
  const blobRow = db.prepare<[string], { sha256: string; size: number; compression: string; data: Buffer }>(`SELECT sha256, size, compression, data FROM blobs WHERE sha256 = ?`);
  const hasBlobs = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'blobs'`).get() !== undefined;
  const sentBlobs = new Set<string>();
  const local = hasBlobs ? new BlobStore(db) : null;
  // A row as sent with scrubbing: the same row when it quotes no address; else its
  // observations packed again, scrubbed, with the blobs that packing made. A row that cannot be
  // read stops the push (PushError), as a refused batch does.
  const scrubbed = (m: WireMeasurement): { row: WireMeasurement; fresh: Map<string, WireBlob> } => {
    const fresh = new Map<string, WireBlob>();
    let clean: { observationsJson: string; evidenceJson: string } | null = null;
    try {
      clean = scrubRowJson(
        { observationsJson: m.observations_json, evidenceJson: m.evidence_json },
        (k, encoding) => {
          if (local === null) throw new Error(`blob ${k} is referred to but there is no blobs table`);
          return local.text(k, encoding);
        },
        (bytes, compress) => {
          const key = blobKey(bytes);
          const { compression, data } = encodeBlob(bytes, compress);
          fresh.set(key, { sha256: key, size: bytes.length, compression, data: data.toString("base64") });
          return key;
        },
      );
    } catch (err) {
      // Sent as it is, it could carry an address; the queue stays for a push without scrubbing.
      throw new PushError(`measurement ${m.id} cannot be read to scrub it (${(err as Error).message}); nothing more was sent (push --no-scrub sends it as it is)`, true, summary);
    }
    return { row: clean === null ? m : { ...m, observations_json: clean.observationsJson, evidence_json: clean.evidenceJson }, fresh };
  };
  // A dispatcher of its own: `run --push` pushes after the run has closed undici's global one.
  const dispatcher = new Agent({ connections: 1 });

  const send = async (batch: Batch, lastRowid: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await post(o, dispatcher, batch);
        marks.acknowledge(lastRowid, batch.runs, now());
        summary.batches++;
        summary.measurementsSent += batch.measurements.length;
        summary.measurementsAdded += r.measurements_added;
        summary.measurementsDuplicate += r.measurements_duplicate;
        summary.runsSent += batch.runs.length;
        for (const b of batch.blobs) sentBlobs.add(b.sha256);
        o.onProgress?.({ kind: "batch", measurements: batch.measurements.length, added: r.measurements_added, duplicate: r.measurements_duplicate, runs: batch.runs.length });
        return;
      } catch (err) {
        if (err instanceof PushError) throw new PushError(err.message, true, summary);
        if (attempt >= tries) throw new PushError(`gave up after ${tries} tries: ${(err as Error).message}; nothing is lost, push again later`, false, summary);
        const waitMs = Math.min(o.maxBackoffMs ?? 60_000, (o.backoffMs ?? 1000) * 2 ** (attempt - 1));
        o.onProgress?.({ kind: "retry", attempt, waitMs, reason: (err as Error).message });
        await sleep(waitMs);
      }
    }
  };

  try {
    return await pushAll();
  } finally {
    await dispatcher.close().catch(() => {});
  }

  async function pushAll(): Promise<PushSummary> {
    let after = marks.highWater();
    for (;;) {
      const rows = nextMeasurements.all(after, batchSize);
      if (rows.length === 0) break;
      const measurements: WireMeasurement[] = [];
      const blobs: WireBlob[] = [];
      let bytes = 0;
      let last = after;
      for (const { rowid, ...stored } of rows) {
        if (measurements.length > 0 && bytes > BATCH_BYTES) break;
        const { row: m, fresh } = o.scrub === true ? scrubbed(stored) : { row: stored, fresh: new Map<string, WireBlob>() };
        measurements.push(m);
        bytes += m.observations_json.length + (m.control_json?.length ?? 0) + m.evidence_json.length + 500;
        last = rowid;
        if (!hasBlobs) continue;
        let observations: unknown = null;
        let control: unknown = null;
        try {
          observations = JSON.parse(m.observations_json);
          control = m.control_json === null ? null : JSON.parse(m.control_json);
        } catch {
          // the collector refuses what does not parse, with the row named
        }
        for (const k of referencedBlobs(observations, control)) {
          if (sentBlobs.has(k) || blobs.some((b) => b.sha256 === k)) continue;
          const made = fresh.get(k);
          if (made) {
            blobs.push(made);
            bytes += made.data.length;
            continue;
          }
          const b = blobRow.get(k);
          if (!b) continue;
          blobs.push({ sha256: b.sha256, size: b.size, compression: b.compression as WireBlob["compression"], data: b.data.toString("base64") });
          bytes += b.data.length * 1.34;
        }
      }
      const runs = pendingRunsOf([...new Set(measurements.map((m) => m.run_id))]);
      await send({ version: 1, runs, measurements, blobs }, last);
      after = last;
    }
    // Runs that changed without new measurements (finished, summarized), and runs without any.
    for (;;) {
      const runs = pendingRuns.all({ collector: key });
      if (runs.length === 0) break;
      await send({ version: 1, runs, measurements: [], blobs: [] }, after);
      if (runs.length < 1000) {
        // A run still changing as we push is sent by the next push.
        break;
      }
    }
    return summary;
  }
}
