/**
 * Writing a probe's batch into the fleet database: one transaction per batch, all of it or
 * nothing, idempotent by the rows' own ids (the ids `merge` keeps), and the derived columns
 * (prev_status, prev_layer, changed) kept right whatever order rows arrive in from however
 * many probes (relink.ts). The probe is the token's, never the batch's (docs/fleet.md).
 */
import type pg from "pg";
import { networkKey } from "../network.js";
import { ensurePartitions } from "./schema.js";
import { relink } from "./relink.js";
import type { MeasurementRow, RunRow } from "../store.js";

/** A run as pushed: the SQLite runs row (schema.ts), times as stored (ISO text). */
export type WireRun = RunRow;

/**
 * A measurement as pushed: the SQLite measurements row without its derived columns; its
 * failure any string (a probe of another version may know failures this one does not).
 */
export type WireMeasurement = Omit<MeasurementRow, "failure"> & { failure: string | null };

/** A blob as pushed: the SQLite blobs row (blobs.ts), its data in base64. */
export interface WireBlob {
  sha256: string;
  size: number;
  compression: "none" | "zlib";
  data: string;
}

/** What a probe sends: runs (new, or changed since it last sent them), measurements and the blobs they refer to. */
export interface Batch {
  version: 1;
  runs: WireRun[];
  measurements: WireMeasurement[];
  blobs: WireBlob[];
}

/** What a batch did. */
export interface IngestResult {
  runsAdded: number;
  runsUpdated: number;
  measurementsAdded: number;
  /** Measurements this probe had sent before (a retried or duplicated push). */
  measurementsDuplicate: number;
}

/** A batch refused as a whole (HTTP 409): it claims rows of another probe, or contradicts what is stored. */
export class BatchConflict extends Error {
  override readonly name = "BatchConflict";
}

const RUN_COLUMNS = [
  "id", "started_at", "finished_at", "state", "reachprobe_version", "pid", "hostname_hash", "network_label",
  "probe_asn", "probe_cc", "options_json", "target_count", "summary_json", "canary_json",
] as const;
// The columns a later push may change: a run is sent while running, then again when finished.
const RUN_IMMUTABLE = ["started_at", "reachprobe_version", "pid", "hostname_hash", "network_label", "probe_asn", "probe_cc", "options_json", "target_count"] as const;
const RUN_TYPES: Record<(typeof RUN_COLUMNS)[number], string> = {
  id: "text", started_at: "timestamptz", finished_at: "timestamptz", state: "text", reachprobe_version: "text", pid: "integer",
  hostname_hash: "text", network_label: "text", probe_asn: "bigint", probe_cc: "text", options_json: "text", target_count: "integer",
  summary_json: "text", canary_json: "text",
};

interface StoredRun {
  id: string;
  probe_id: number;
  network: string;
  state: string;
  [column: string]: unknown;
}

// A stored run's columns in the form the batch has them (times as ISO text).
const STORED_RUN_SQL = `SELECT id, probe_id, network, iso(started_at) AS started_at, iso(finished_at) AS finished_at, state,
  reachprobe_version, pid, hostname_hash, network_label, probe_asn, probe_cc, options_json, target_count, summary_json, canary_json
  FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

// Columns as parallel arrays: one statement inserts a whole batch (unnest), whatever its size.
function columnArrays<T>(rows: readonly T[], columns: readonly (keyof T & string)[]): unknown[][] {
  return columns.map((c) => rows.map((r) => r[c] ?? null));
}

/** The network lock key of a network: one advisory lock per network serializes relinking it. */
const NETWORK_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended(n, 14)) FROM unnest($1::text[]) AS n ORDER BY n`;

/**
 * Writes a validated batch for probe `probeId` in one transaction on `db` (a client of its own,
 * not a pool). Throws BatchConflict (nothing written) when a run or measurement id belongs to
 * another probe, or a run contradicts its stored self.
 */
export async function ingestBatch(db: pg.ClientBase, database: string, probeId: number, batch: Batch): Promise<IngestResult> {
  const result: IngestResult = { runsAdded: 0, runsUpdated: 0, measurementsAdded: 0, measurementsDuplicate: 0 };
  await ensurePartitions(db, database, batch.measurements.map((m) => m.started_at.slice(0, 7)));
  await db.query("BEGIN");
  try {
    // Runs: locked in id order (two pushes of one probe at once wait for each other, never deadlock).
    const runs = [...batch.runs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const wanted = [...new Set([...runs.map((r) => r.id), ...batch.measurements.map((m) => m.run_id)])];
    const stored = new Map((await db.query<StoredRun>(STORED_RUN_SQL, [wanted])).rows.map((r) => [r.id, r]));
    const fresh: WireRun[] = [];
    for (const run of runs) {
      const have = stored.get(run.id);
      if (!have) {
        fresh.push(run);
        continue;
      }
      if (have.probe_id !== probeId) throw new BatchConflict(`run ${run.id} belongs to another probe`);
      const differ = RUN_IMMUTABLE.filter((c) => (have[c] ?? null) !== (run[c] ?? null));
      if (differ.length) throw new BatchConflict(`run ${run.id} is stored with a different ${differ.join(", ")}`);
      // A run moves forward only: a replayed batch from while it was running changes nothing.
      if (have.state === "running" && (run.state !== "running" || run.finished_at !== have.finished_at || run.summary_json !== have.summary_json || run.canary_json !== have.canary_json)) {
        await db.query(`UPDATE runs SET state = $2, finished_at = $3::timestamptz, summary_json = $4, canary_json = $5 WHERE id = $1`, [run.id, run.state, run.finished_at, run.summary_json, run.canary_json]);
        result.runsUpdated++;
      } else if (have.state !== "running" && have.canary_json === null && run.canary_json !== null) {
        await db.query(`UPDATE runs SET canary_json = $2 WHERE id = $1`, [run.id, run.canary_json]);
      }
    }
    if (fresh.length) {
      await db.query(
        `INSERT INTO runs (probe_id, ${RUN_COLUMNS.join(", ")})
         SELECT $1, * FROM unnest(${RUN_COLUMNS.map((c, i) => `$${i + 2}::${RUN_TYPES[c]}[]`).join(", ")})`,
        [probeId, ...columnArrays(fresh, RUN_COLUMNS)],
      );
      result.runsAdded = fresh.length;
    }
    const networkOf = new Map<string, string>();
    for (const r of fresh) networkOf.set(r.id, networkKey({ networkLabel: r.network_label, probeAsn: r.probe_asn }));
    for (const [id, r] of stored) networkOf.set(id, r.network);
    for (const m of batch.measurements) {
      const owner = stored.get(m.run_id);
      if (owner && owner.probe_id !== probeId) throw new BatchConflict(`measurement ${m.id}: run ${m.run_id} belongs to another probe`);
      if (!networkOf.has(m.run_id)) throw new BatchConflict(`measurement ${m.id}: run ${m.run_id} is neither in the batch nor stored`);
    }

    // Measurement ids: claimed once for good; an id already ours is a duplicate, anyone else's a conflict.
    const ids = batch.measurements.map((m) => m.id);
    const claimed = new Set(
      (await db.query<{ id: string }>(
        `INSERT INTO measurement_ids (id, probe_id) SELECT id, $2 FROM unnest($1::text[]) AS id ON CONFLICT (id) DO NOTHING RETURNING id`,
        [ids, probeId],
      )).rows.map((r) => r.id),
    );
    if (claimed.size < ids.length) {
      const others = await db.query<{ id: string }>(
        `SELECT id FROM measurement_ids WHERE id = ANY($1::text[]) AND probe_id <> $2 LIMIT 1`,
        [ids.filter((id) => !claimed.has(id)), probeId],
      );
      if (others.rows.length) throw new BatchConflict(`measurement ${others.rows[0]!.id} belongs to another probe`);
    }
    const rows = batch.measurements.filter((m) => claimed.has(m.id));
    result.measurementsAdded = rows.length;
    result.measurementsDuplicate = batch.measurements.length - rows.length;

    if (batch.blobs.length) {
      await db.query(
        `INSERT INTO blobs (sha256, size, compression, data)
         SELECT s, z, c, decode(d, 'base64') FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[]) AS b(s, z, c, d)
         ON CONFLICT (sha256) DO NOTHING`,
        columnArrays(batch.blobs, ["sha256", "size", "compression", "data"]),
      );
    }

    if (rows.length) {
      const networks = rows.map((m) => networkOf.get(m.run_id)!);
      // Whoever else writes these networks now waits until this batch is committed, and this
      // batch's relink then sees their rows (READ COMMITTED: each statement a fresh snapshot).
      await db.query(NETWORK_LOCK_SQL, [[...new Set(networks)]]);
      await db.query(
        // The derived columns as they are when the batch's rows come after every stored row of
        // their (network, target), the usual case: a row's previous is the one before it in the
        // batch, or for the first, the last stored. The relink below corrects what a late row
        // changes, writing nothing when nothing is wrong: rows are not written twice.
        `INSERT INTO measurements (seq, probe_id, network, id, run_id, target, service, status, layer, failure, evidence_json,
                                   observations_json, control_json, started_at, finished_at, duration_ms, prev_status, prev_layer, changed)
         WITH n AS (
           SELECT u.*, nextval('measurements_seq') AS seq
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                       $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::integer[]) WITH ORDINALITY
             AS u(network, id, run_id, target, service, status, layer, failure, evidence_json, observations_json, control_json,
                  started_at, finished_at, duration_ms, ord)
           ORDER BY u.ord
         ),
         w AS (
           SELECT n.*, LAG(n.status) OVER win AS ps, LAG(n.layer) OVER win AS pl, ROW_NUMBER() OVER win AS rn
           FROM n WINDOW win AS (PARTITION BY n.network, n.target ORDER BY n.started_at, n.seq)
         )
         SELECT w.seq, $1, w.network, w.id, w.run_id, w.target, w.service, w.status, w.layer, w.failure, w.evidence_json,
                w.observations_json, w.control_json, w.started_at, w.finished_at, w.duration_ms,
                CASE WHEN w.rn = 1 THEN p.status ELSE w.ps END,
                CASE WHEN w.rn = 1 THEN p.layer ELSE w.pl END,
                CASE WHEN w.rn > 1 THEN (w.ps IS DISTINCT FROM w.status OR w.pl IS DISTINCT FROM w.layer)
                     WHEN p.status IS NOT NULL THEN (p.status IS DISTINCT FROM w.status OR p.layer IS DISTINCT FROM w.layer) END
         FROM w LEFT JOIN LATERAL (
           SELECT x.status, x.layer FROM measurements AS x
           WHERE w.rn = 1 AND x.network = w.network AND x.target = w.target AND x.started_at <= w.started_at
           ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS p ON true`,
        [
          probeId,
          networks,
          ...columnArrays(rows, ["id", "run_id", "target", "service", "status", "layer", "failure", "evidence_json", "observations_json", "control_json", "started_at", "finished_at", "duration_ms"]),
        ],
      );
      // Each (network, target) from its earliest new row on.
      const since = new Map<string, { network: string; target: string; at: string }>();
      rows.forEach((m, i) => {
        const key = `${networks[i]}\n${m.target}`;
        const k = since.get(key);
        if (!k || m.started_at < k.at) since.set(key, { network: networks[i]!, target: m.target, at: m.started_at });
      });
      const keys = [...since.values()];
      // The derived columns re-derived, and the spans history and changes read made again (relink.ts, spans.ts).
      await relink(db, keys.map((k) => ({ network: k.network, target: k.target, since: k.at })), rows.map((m) => m.id));
    }
    await db.query("COMMIT");
    return result;
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
