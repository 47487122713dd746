/**
 * The reading commands' queries on the fleet database (history, changes, export, report): the
 * same answers as the SQLite store's (history.ts, changes.ts, store.ts, report-rows.ts) for
 * the same rows, read through the same derived columns and partial indexes. Ties in started_at
 * are broken by seq (arrival) where SQLite uses rowid. Times come out as ISO text (iso()).
 */
import type pg from "pg";
import type { ChangesQuery, StatusChange } from "../changes.js";
import type { HistoryQuery, Span } from "../history.js";
import type { NetworkSummary } from "../network.js";
import { referencedBlobs, unpackControl, unpackObservations } from "../observation-refs.js";
import { decodeBlob } from "../blobs.js";
import type { MeasurementQuery, MeasurementWithRun, RunRecord, RunState } from "../store.js";
import type { Layer, Status } from "../../analysis/verdict.js";
import type { Failure } from "../../net/failures.js";

type Params = unknown[];

// Positional parameters from named pieces: `p(value)` returns "$n".
function binder(): { params: Params; p: (v: unknown) => string } {
  const params: Params = [];
  return { params, p: (v) => (params.push(v), `$${params.length}`) };
}

/** The SQL of history on PostgreSQL and its parameters (exported for EXPLAIN in tests and the benchmark). */
export function pgHistorySql(q: HistoryQuery): { text: string; params: Params } {
  const { params, p } = binder();
  const keys = ["f.changed IS NULL"];
  if (q.network != null) keys.push(`f.network = ${p(q.network)}`);
  const targets = q.target == null ? [] : typeof q.target === "string" ? [q.target] : [...q.target];
  if (targets.length) keys.push(`f.target = ANY(${p(targets)}::text[])`);
  if (q.service != null) keys.push(`(f.network, f.target) IN (SELECT network, target FROM latest_status WHERE service = ${p(q.service)})`);
  const since = q.since != null ? `WHERE s.next_at IS NULL OR s.next_at > ${p(q.since)}::timestamptz` : "";
  // Every lookup per (network, target) and per span is bounded on started_at by plain times as
  // well as by (started_at, seq) row values: the plain bounds let PostgreSQL skip the month
  // partitions a span does not reach (run-time pruning), which row values alone do not.
  // OFFSET 0 keeps each lateral lookup a lookup (an index probe per key) instead of letting the
  // planner turn it into a join over every key's index entries.
  const text = `
    WITH keys AS (SELECT f.network, f.target FROM measurements AS f WHERE ${keys.join(" AND ")}),
    starts AS (
      SELECT k.network, k.target, m.status, m.layer, m.started_at AS from_at, m.seq AS from_seq,
             LEAD(m.started_at) OVER w AS next_at, LEAD(m.seq) OVER w AS next_seq
      FROM keys AS k CROSS JOIN LATERAL (
        SELECT x.status, x.layer, x.started_at, x.seq FROM measurements AS x
        WHERE x.network = k.network AND x.target = k.target AND x.changed IS DISTINCT FROM false OFFSET 0) AS m
      WINDOW w AS (PARTITION BY k.network, k.target ORDER BY m.started_at, m.seq)
    ),
    spans AS (SELECT * FROM starts AS s ${since})
    SELECT s.network, s.target, l.service, s.status, s.layer, l.failure, iso(s.from_at) AS "from", iso(l.started_at) AS "to",
           c.n AS runs, l.run_id AS "lastRunId", s.next_at IS NULL AS current
    FROM spans AS s
    CROSS JOIN LATERAL (
      SELECT x.service, x.failure, x.started_at, x.run_id FROM measurements AS x
      WHERE x.network = s.network AND x.target = s.target
        AND x.started_at >= s.from_at AND x.started_at <= COALESCE(s.next_at, 'infinity')
        AND (s.next_at IS NULL OR (x.started_at, x.seq) < (s.next_at, s.next_seq))
      ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS l
    CROSS JOIN LATERAL (
      SELECT count(*)::integer AS n FROM measurements AS x
      WHERE x.network = s.network AND x.target = s.target
        AND x.started_at >= s.from_at AND x.started_at <= COALESCE(s.next_at, 'infinity')
        AND (x.started_at, x.seq) >= (s.from_at, s.from_seq)
        AND (s.next_at IS NULL OR (x.started_at, x.seq) < (s.next_at, s.next_seq))) AS c
    ORDER BY s.network, l.service, s.target, s.from_at, s.from_seq`;
  return { text, params };
}

/** The SQL of changes on PostgreSQL and its parameters. */
export function pgChangesSql(q: ChangesQuery): { text: string; params: Params } {
  const { params, p } = binder();
  const where = ["m.changed"];
  if (q.since != null) where.push(`m.started_at >= ${p(q.since)}::timestamptz`);
  if (q.until != null) where.push(`m.started_at < ${p(q.until)}::timestamptz`);
  if (q.network != null) where.push(`m.network = ${p(q.network)}`);
  if (q.target != null) where.push(`m.target = ${p(q.target)}`);
  const dir = q.oldestFirst ? "ASC" : "DESC";
  const previous = q.withPrevious !== false;
  const text = `
    SELECT m.network, m.target, m.service, m.prev_status, m.prev_layer, m.status, m.layer, m.failure,
           iso(m.started_at) AS at, m.run_id, m.id AS measurement_id
           ${previous ? `, iso(pr.started_at) AS previous_at, pr.run_id AS previous_run_id` : ""}
    FROM measurements AS m
    ${previous ? `LEFT JOIN LATERAL (
      SELECT q.started_at, q.run_id FROM measurements AS q
      WHERE q.network = m.network AND q.target = m.target AND (q.started_at, q.seq) < (m.started_at, m.seq)
      ORDER BY q.started_at DESC, q.seq DESC LIMIT 1) AS pr ON true` : ""}
    WHERE ${where.join(" AND ")}
    ORDER BY m.started_at ${dir}, m.network, m.target`;
  return { text, params };
}

interface RunRowPg {
  id: string;
  started_at: string;
  finished_at: string | null;
  state: RunState;
  reachprobe_version: string | null;
  pid: number | null;
  hostname_hash: string | null;
  network_label: string | null;
  probe_asn: number | null;
  probe_cc: string | null;
  options_json: string | null;
  target_count: number | null;
  summary_json: string | null;
  canary_json: string | null;
}

const json = (t: string | null): unknown => (t === null ? null : JSON.parse(t));

function runRecord(r: RunRowPg): RunRecord {
  return {
    id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, state: r.state, version: r.reachprobe_version, pid: r.pid,
    hostnameHash: r.hostname_hash, networkLabel: r.network_label, probeAsn: r.probe_asn, probeCc: r.probe_cc,
    options: json(r.options_json), targetCount: r.target_count, summary: json(r.summary_json), canary: json(r.canary_json),
  };
}

const RUN_SELECT = `r.id, iso(r.started_at) AS started_at, iso(r.finished_at) AS finished_at, r.state, r.reachprobe_version, r.pid,
  r.hostname_hash, r.network_label, r.probe_asn, r.probe_cc, r.options_json, r.target_count, r.summary_json, r.canary_json`;

/** How many measurements an export reads a page. */
const EXPORT_PAGE = 2000;

/** Read queries on one connection (a REPEATABLE READ snapshot when `snapshot()` was called). */
export class PgReader {
  readonly db: pg.ClientBase;
  /** The database as people should see it (no password). */
  readonly path: string;

  constructor(db: pg.ClientBase, path: string) {
    this.db = db;
    this.path = path;
  }

  /** Makes every later read see one snapshot, as SQLite's read transaction does. */
  async snapshot(): Promise<void> {
    await this.db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  /** History spans (history.ts, historySpans). */
  async historySpans(q: HistoryQuery): Promise<Span[]> {
    const { text, params } = pgHistorySql(q);
    return (await this.db.query<Span>(text, params)).rows;
  }

  /** The latest run of each network (history.ts, latestRuns). */
  async latestRuns(): Promise<Map<string, { runId: string; at: string }>> {
    const r = await this.db.query<{ network: string; runId: string; at: string }>(
      `SELECT DISTINCT ON (network) network, run_id AS "runId", iso(measured_at) AS at FROM latest_status ORDER BY network, measured_at DESC`,
    );
    return new Map(r.rows.map((x) => [x.network, { runId: x.runId, at: x.at }]));
  }

  /** Status changes (changes.ts, statusChanges). */
  async statusChanges(q: ChangesQuery): Promise<StatusChange[]> {
    const { text, params } = pgChangesSql(q);
    const rows = (await this.db.query<{
      network: string; target: string; service: string; prev_status: Status; prev_layer: Layer | null; status: Status; layer: Layer | null;
      failure: string | null; at: string; run_id: string; measurement_id: string; previous_at?: string | null; previous_run_id?: string | null;
    }>(text, params)).rows;
    return rows.map((r) => ({
      network: r.network, target: r.target, service: r.service,
      from: { status: r.prev_status, layer: r.prev_layer },
      to: { status: r.status, layer: r.layer, failure: r.failure },
      at: r.at, runId: r.run_id, measurementId: r.measurement_id,
      previousAt: r.previous_at ?? null, previousRunId: r.previous_run_id ?? null,
    }));
  }

  /** The networks with their target counts (network.ts, listNetworks). */
  async listNetworks(): Promise<NetworkSummary[]> {
    const r = await this.db.query<NetworkSummary>(
      `SELECT network, count(*)::integer AS targets, iso(max(measured_at)) AS "lastMeasuredAt" FROM latest_status GROUP BY network ORDER BY network`,
    );
    return r.rows;
  }

  /**
   * Measurements with their runs (store.ts, iterateMeasurements): run by run, oldest first, and
   * by started_at within a run; read a page at a time (keyset), so memory stays flat.
   */
  async *iterateMeasurements(q: MeasurementQuery = {}): AsyncGenerator<MeasurementWithRun> {
    const runWhere: string[] = [];
    const runParams: unknown[] = [];
    if (q.network != null) runWhere.push(`r.network = $${runParams.push(q.network)}`);
    if (q.since != null) runWhere.push(`EXISTS (SELECT 1 FROM measurements AS m WHERE m.run_id = r.id AND m.started_at >= $${runParams.push(q.since)}::timestamptz)`);
    const runs = (await this.db.query<RunRowPg>(`SELECT ${RUN_SELECT} FROM runs AS r ${runWhere.length ? `WHERE ${runWhere.join(" AND ")}` : ""} ORDER BY r.started_at, r.seq`, runParams)).rows;
    const blobText = new Map<string, string>();
    for (const runRow of runs) {
      const run = runRecord(runRow);
      let after: [string, number] = ["-infinity", -1];
      for (;;) {
        const page = (await this.db.query<{
          id: string; run_id: string; target: string; service: string; status: Status; layer: Layer | null; failure: string | null;
          evidence_json: string; observations_json: string; control_json: string | null; started_at: string; finished_at: string;
          duration_ms: number; seq: number; ts: string;
        }>(
          `SELECT m.id, m.run_id, m.target, m.service, m.status, m.layer, m.failure, m.evidence_json, m.observations_json, m.control_json,
                  iso(m.started_at) AS started_at, iso(m.finished_at) AS finished_at, m.duration_ms, m.seq, m.started_at::text AS ts
           FROM measurements AS m
           WHERE m.run_id = $1 AND (m.started_at, m.seq) > ($2::timestamptz, $3) ${q.since != null ? "AND m.started_at >= $5::timestamptz" : ""}
           ORDER BY m.started_at, m.seq LIMIT $4`,
          q.since != null ? [run.id, after[0], after[1], EXPORT_PAGE, q.since] : [run.id, after[0], after[1], EXPORT_PAGE],
        )).rows;
        // Blobs the page refers to, in one query.
        const keys = new Set<string>();
        for (const m of page) for (const k of referencedBlobs(JSON.parse(m.observations_json), m.control_json ? JSON.parse(m.control_json) : null)) keys.add(k);
        const missing = [...keys].filter((k) => !blobText.has(k));
        if (missing.length) {
          if (blobText.size > 1000) blobText.clear();
          const b = await this.db.query<{ sha256: string; size: number; compression: string; data: Buffer }>(`SELECT sha256, size, compression, data FROM blobs WHERE sha256 = ANY($1::text[])`, [missing]);
          for (const row of b.rows) blobText.set(row.sha256, decodeBlob(row).toString("utf8"));
        }
        const text = (key: string) => {
          const t = blobText.get(key);
          if (t === undefined) throw new Error(`blob ${key} is referred to but not in the blobs table`);
          return t;
        };
        for (const m of page) {
          yield {
            run,
            measurement: {
              id: m.id, runId: m.run_id, target: m.target, service: m.service,
              verdict: { status: m.status, layer: m.layer, failure: m.failure as Failure | null, evidence: JSON.parse(m.evidence_json) as string[] },
              observations: unpackObservations(m.observations_json, text),
              control: m.control_json ? unpackControl(m.control_json, text) : null,
              startedAt: m.started_at, finishedAt: m.finished_at, durationMs: m.duration_ms,
            },
          };
        }
        if (page.length < EXPORT_PAGE) break;
        const last = page[page.length - 1]!;
        after = [last.ts, last.seq];
      }
    }
  }
}
