/**
 * The reading commands' queries on the fleet database (history, changes, export, report): the
 * same answers as the SQLite store's (history.ts, changes.ts, store.ts, report-rows.ts) for
 * the same rows, read through the same derived columns and partial indexes. Ties in started_at
 * are broken by seq (arrival) where SQLite uses rowid. Times come out as ISO text (iso()).
 */
import type pg from "pg";
import { foldStretches, sortChanges, type ChangesQuery, type DetailRow, type MeaningfulChangesQuery, type StatusChange, type StretchStart } from "../changes.js";
import type { HistoryQuery, Span } from "../history.js";
import type { NetworkSummary } from "../network.js";
import { referencedBlobs, type GetBlobText } from "../observation-refs.js";
import { decodeBlob } from "../blobs.js";
import { epochMsSql, isoMs } from "./iso-ms.js";
import { measurementFromRow, runFromRow, type MeasurementQuery, type MeasurementRecord, type MeasurementRow, type MeasurementWithRun, type RunRecord, type RunRow } from "../store.js";
import { idPrefix, pickId, type IdMatch, type RunListEntry, type RunListQuery } from "../runs.js";
import type { Layer, Status } from "../../analysis/verdict.js";

type Params = unknown[];

// Positional parameters from named pieces: `p(value)` returns "$n".
function binder(): { params: Params; p: (v: unknown) => string } {
  const params: Params = [];
  return { params, p: (v) => (params.push(v), `$${params.length}`) };
}

/**
 * The SQL of history on PostgreSQL and its parameters (exported for EXPLAIN in tests and the
 * benchmark): the spans table (spans.ts) holds each span whole, its count and its last
 * measurement, so history reads one row per span.
 */
export function pgHistorySql(q: HistoryQuery): { text: string; params: Params } {
  const { params, p } = binder();
  const where: string[] = [];
  if (q.network != null) where.push(`s.network = ${p(q.network)}`);
  const targets = q.target == null ? [] : typeof q.target === "string" ? [q.target] : [...q.target];
  if (targets.length) where.push(`s.target = ANY(${p(targets)}::text[])`);
  if (q.service != null) where.push(`(s.network, s.target) IN (SELECT network, target FROM latest_status WHERE service = ${p(q.service)})`);
  const since = q.since != null ? `WHERE s.next_at IS NULL OR s.next_at > ${p(q.since)}::timestamptz` : "";
  const text = `
    WITH spans_of AS (
      SELECT s.*, LEAD(s.from_at) OVER w AS next_at
      FROM spans AS s ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      WINDOW w AS (PARTITION BY s.network, s.target ORDER BY s.from_at, s.from_seq)
    )
    SELECT s.network, s.target, s.last_service AS service, s.status, s.layer, s.last_failure AS failure, iso(s.from_at) AS "from", iso(s.last_at) AS "to",
           s.runs, s.last_run_id AS "lastRunId", s.next_at IS NULL AS current
    FROM spans_of AS s ${since}
    ORDER BY s.network, s.last_service, s.target, s.from_at, s.from_seq`;
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

/**
 * The SQL of meaningful changes on PostgreSQL: every stretch start of the chosen targets, all
 * time, with what the fold of changes.ts looks up, from the spans table (spans.ts): whether a
 * helper answered its first measurement and when the first one later in the stretch that a
 * helper answered started (within the times SQLite's lookup takes: after the start's, before
 * the next start's), and whether its network ever had a helper. Where a change can be
 * reported (a start since \`q.since\`, or a helper's answer since then), also the row's
 * service, failure and ids, the helper's answer's, and the last measurement before it: the
 * previous span's last, unless that started at the same time as the start (then pgBeforeSql
 * looks it up, as SQLite does, by time). Older starts only steer the fold: the rest is left
 * out, which keeps a year's 50,000 rows small.
 */
export function pgMeaningfulChangesSql(q: MeaningfulChangesQuery, targets: readonly string[] | null): { text: string; params: Params } {
  const { params, p } = binder();
  const where: string[] = [];
  if (q.network != null) where.push(`s.network = ${p(q.network)}`);
  if (targets) where.push(`s.target = ANY(${p(targets)}::text[])`);
  const since = q.since != null ? p(q.since) : null;
  const recent = since === null ? "true" : `(s.from_at >= ${since}::timestamptz OR l.later_at >= ${since}::timestamptz)`;
  const text = `
    WITH helper AS (SELECT DISTINCT r.network FROM runs AS r WHERE r.options_json LIKE '%"control"%' AND (r.options_json::json ->> 'control') IS NOT NULL),
    starts AS (
      SELECT s.*, LEAD(s.from_at) OVER w AS next_at, LAG(s.last_at) OVER w AS before_at, LAG(s.last_run_id) OVER w AS before_run_id
      FROM spans AS s ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      WINDOW w AS (PARTITION BY s.network, s.target ORDER BY s.from_at, s.from_seq)
    )
    SELECT s.network, s.target, s.status, s.layer, ${epochMsSql("s.from_at")}, s.network IN (SELECT network FROM helper), s.controlled, ${epochMsSql("l.later_at")}, d.*
    FROM starts AS s
    LEFT JOIN LATERAL (SELECT s.later_at WHERE s.later_at > s.from_at AND s.later_at < COALESCE(s.next_at, 'infinity')) AS l ON true
    LEFT JOIN LATERAL (
      SELECT s.service, s.failure, s.run_id, s.id, s.before_at IS NULL OR s.before_at < s.from_at, ${epochMsSql("s.before_at")}, s.before_run_id,
             s.later_service, s.later_failure, s.later_run_id, s.later_id
      WHERE ${recent}) AS d ON true
    ORDER BY s.network, s.target, s.from_at, s.from_seq`;
  return { text, params };
}

/** The last measurement of each (network, target) before a time, for the stretch starts pgMeaningfulChangesSql did not look before. */
export function pgBeforeSql(): string {
  return `
    SELECT k.i, iso(b.started_at) AS before_at, b.run_id AS before_run_id
    FROM unnest($1::integer[], $2::text[], $3::text[], $4::timestamptz[]) AS k(i, network, target, end_at)
    CROSS JOIN LATERAL (
      SELECT x.started_at, x.run_id FROM measurements AS x
      WHERE x.network = k.network AND x.target = k.target AND x.started_at < k.end_at
      ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS b`;
}

/** A stretch start with what the fold looks up, as pgMeaningfulChangesSql reads it. */
interface PgStretch extends StretchStart, DetailRow {
  controlled: boolean;
  later: PgStretch | null;
  /** The measurement before; undefined when there is none, null when it was not looked up. */
  before: { started_at: string; run_id: string } | undefined | null;
}

const RUN_SELECT = `r.id, iso(r.started_at) AS started_at, iso(r.finished_at) AS finished_at, r.state, r.reachprobe_version, r.pid,
  r.hostname_hash, r.network_label, r.probe_asn, r.probe_cc, r.options_json, r.target_count, r.summary_json, r.canary_json`;

// A measurement's columns as measurementFromRow reads them.
const MEASUREMENT_SELECT = `m.id, m.run_id, m.target, m.service, m.status, m.layer, m.failure, m.evidence_json, m.observations_json, m.control_json,
  iso(m.started_at) AS started_at, iso(m.finished_at) AS finished_at, m.duration_ms`;

/** How many measurements an export reads a page. */
const EXPORT_PAGE = 2000;

/** Read queries on one connection (a REPEATABLE READ snapshot when `snapshot()` was called). */
export class PgReader {
  readonly db: pg.ClientBase;
  /** The database as people should see it (no password). */
  readonly path: string;
  /** Opens another session on the same database (for reads split in two, report-rows.ts); absent, reads use `db` alone. */
  readonly connect: (() => Promise<pg.Client>) | undefined;

  constructor(db: pg.ClientBase, path: string, connect?: () => Promise<pg.Client>) {
    this.db = db;
    this.path = path;
    this.connect = connect;
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

  /** Changes of state by the rules of change-rules.ts (changes.ts, meaningfulChanges), newest first. */
  async meaningfulChanges(q: MeaningfulChangesQuery): Promise<StatusChange[]> {
    let targets = q.targets?.length ? [...q.targets] : null;
    if (q.service != null) {
      // The service of a target is its first measurement's (changes.ts does the same).
      const ofService = (await this.db.query<{ target: string }>(`SELECT DISTINCT target FROM measurements WHERE changed IS NULL AND service = $1`, [q.service])).rows.map((r) => r.target);
      targets = targets ? targets.filter((t) => ofService.includes(t)) : ofService;
      if (targets.length === 0) return [];
    }
    const { text, params } = pgMeaningfulChangesSql(q, targets);
    type Row = [
      network: string, target: string, status: Status, layer: Layer | null, started_at: number, helper: boolean, controlled: boolean, later_at: number | null,
      service: string | null, failure: string | null, run_id: string | null, id: string | null, looked_before: boolean | null, before_at: number | null,
      before_run_id: string | null, later_service: string | null, later_failure: string | null, later_run_id: string | null, later_id: string | null,
    ];
    const rows = (await this.db.query<Row>({ text, values: params, rowMode: "array" })).rows as unknown as Row[];
    // A change whose old state ended before `since` (an outage across it), or whose previous
    // span's last measurement started at the same time, was not looked before: noted by its
    // index in `out` (before() is called right before its change is pushed).
    const unlooked: Array<{ i: number; end: PgStretch }> = [];
    const out: StatusChange[] = [];
    const lookups = {
      controlled: (x: PgStretch) => x.controlled,
      later: (x: PgStretch) => x.later,
      detail: (x: PgStretch) => x,
      before: (x: PgStretch) => {
        if (x.before === null) unlooked.push({ i: out.length, end: x });
        return x.before ?? undefined;
      },
    };
    let group: PgStretch[] = [];
    let helper = false;
    for (const r of rows) {
      const [network, target, status, layer, startedMs, hasHelper, controlled, laterMs] = r;
      const started_at = isoMs(startedMs);
      if (group.length && (group[0]!.network !== network || group[0]!.target !== target)) {
        foldStretches(group, helper, lookups, q, out);
        group = [];
      }
      helper = hasHelper;
      // Details are there only where a change can be reported (pgMeaningfulChangesSql); the fold reads them only there.
      const [, , , , , , , , service, failure, run_id, id, looked, beforeAt, beforeRunId, laterService, laterFailure, laterRunId, laterId] = r;
      const later: PgStretch | null = laterMs === null ? null : {
        network, target, status, layer, started_at: isoMs(laterMs),
        service: laterService!, failure: laterFailure, run_id: laterRunId!, id: laterId!, controlled: true, later: null, before: null,
      };
      group.push({
        network, target, status, layer, started_at, service: service!, failure, run_id: run_id!, id: id!, controlled, later,
        before: !looked ? null : beforeAt === null ? undefined : { started_at: isoMs(beforeAt), run_id: beforeRunId! },
      });
    }
    if (group.length) foldStretches(group, helper, lookups, q, out);
    if (unlooked.length) {
      const b = (await this.db.query<{ i: number; before_at: string; before_run_id: string }>(pgBeforeSql(), [
        unlooked.map((u) => u.i), unlooked.map((u) => u.end.network), unlooked.map((u) => u.end.target), unlooked.map((u) => u.end.started_at),
      ])).rows;
      for (const r of b) {
        out[r.i]!.previousAt = r.before_at;
        out[r.i]!.previousRunId = r.before_run_id;
      }
    }
    return sortChanges(out);
  }

  /** Every service measured, sorted as SQLite sorts them (names.ts, listServices). */
  async listServices(): Promise<string[]> {
    // A loose index scan over measurements_service_started_at: one probe per service, not a pass over every row.
    const r = await this.db.query<{ service: string }>(
      `WITH RECURSIVE s AS (SELECT min(service) AS service FROM measurements
         UNION ALL SELECT (SELECT min(m.service) FROM measurements AS m WHERE m.service > s.service) FROM s WHERE s.service IS NOT NULL)
       SELECT service FROM s WHERE service IS NOT NULL`,
    );
    // SQLite's order (BINARY), whatever the database's collation.
    return r.rows.map((x) => x.service).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The newest run, on `network` if given (runs.ts, listRuns with limit 1). */
  async newestRun(network: string | null): Promise<{ id: string; startedAt: string } | null> {
    const r = await this.db.query<{ id: string; startedAt: string }>(
      `SELECT id, iso(started_at) AS "startedAt" FROM runs ${network != null ? "WHERE network = $1" : ""} ORDER BY started_at DESC, seq DESC LIMIT 1`,
      network != null ? [network] : [],
    );
    return r.rows[0] ?? null;
  }

  /** The networks with their target counts (network.ts, listNetworks). */
  async listNetworks(): Promise<NetworkSummary[]> {
    const r = await this.db.query<NetworkSummary>(
      `SELECT network, count(*)::integer AS targets, iso(max(measured_at)) AS "lastMeasuredAt" FROM latest_status GROUP BY network ORDER BY network`,
    );
    return r.rows;
  }

  /** The newest runs with their measurements counted per status (runs.ts, listRuns). */
  async listRuns(q: RunListQuery): Promise<RunListEntry[]> {
    const { params, p } = binder();
    const where: string[] = [];
    if (q.since != null) where.push(`r.started_at >= ${p(q.since)}::timestamptz`);
    if (q.network != null) where.push(`r.network = ${p(q.network)}`);
    // The newest runs first (runs_started_at), then only their measurements (measurements_run_id, covering status).
    const rows = (await this.db.query<{
      id: string; started_at: string; finished_at: string | null; state: RunListEntry["state"]; network: string; target_count: number | null;
      blocked: number; anomaly: number; down: number; inconclusive: number; ok: number;
    }>(
      `SELECT r.id, iso(r.started_at) AS started_at, iso(r.finished_at) AS finished_at, r.state, r.network, r.target_count,
              c.blocked, c.anomaly, c.down, c.inconclusive, c.ok
       FROM (SELECT id, started_at, finished_at, state, network, target_count, seq FROM runs AS r
             ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
             ORDER BY r.started_at DESC, r.seq DESC LIMIT ${p(q.limit)}) AS r
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE m.status = 'blocked')::integer AS blocked, count(*) FILTER (WHERE m.status = 'anomaly')::integer AS anomaly,
                count(*) FILTER (WHERE m.status = 'down')::integer AS down, count(*) FILTER (WHERE m.status = 'inconclusive')::integer AS inconclusive,
                count(*) FILTER (WHERE m.status = 'ok')::integer AS ok
         FROM measurements AS m WHERE m.run_id = r.id) AS c
       ORDER BY r.started_at DESC, r.seq DESC`,
      params,
    )).rows;
    return rows.map((r) => ({
      id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, state: r.state, network: r.network, targetCount: r.target_count,
      counts: { blocked: r.blocked, anomaly: r.anomaly, down: r.down, inconclusive: r.inconclusive, ok: r.ok },
    }));
  }

  /**
   * The run or measurement whose id starts with `prefix` (runs.ts, findById: the same rule and
   * messages). Ids are compared byte by byte as SQLite compares them, whatever the database's
   * collation (runs_id_bytes, measurement_ids_bytes).
   */
  async findById(prefix: string, kind?: "run" | "measurement"): Promise<IdMatch> {
    const p = idPrefix(prefix);
    const found: IdMatch[] = [];
    for (const k of kind ? [kind] : (["run", "measurement"] as const)) {
      const r = await this.db.query<{ id: string }>(
        `SELECT id FROM ${k === "run" ? "runs" : "measurement_ids"} WHERE id COLLATE "C" >= $1 AND id COLLATE "C" < $2 ORDER BY id COLLATE "C" LIMIT 6`,
        [p, `${p}\u{10FFFF}`],
      );
      for (const row of r.rows) found.push({ kind: k, id: row.id });
    }
    return pickId(prefix, found, kind);
  }

  /** The run with this id, or undefined (store.ts, getRun). */
  async getRun(id: string): Promise<RunRecord | undefined> {
    const r = await this.db.query<RunRow>(`SELECT ${RUN_SELECT} FROM runs AS r WHERE r.id = $1`, [id]);
    return r.rows[0] === undefined ? undefined : runFromRow(r.rows[0]);
  }

  /** The measurement with this id, or undefined (store.ts, getMeasurement). */
  async getMeasurement(id: string): Promise<MeasurementRecord | undefined> {
    const r = await this.db.query<MeasurementRow>(`SELECT ${MEASUREMENT_SELECT} FROM measurements AS m WHERE m.id = $1`, [id]);
    return (await this.records(r.rows))[0];
  }

  /** A run's measurements in the order they started, ties by arrival (store.ts, listMeasurements). */
  async listMeasurements(runId: string): Promise<MeasurementRecord[]> {
    const r = await this.db.query<MeasurementRow>(`SELECT ${MEASUREMENT_SELECT} FROM measurements AS m WHERE m.run_id = $1 ORDER BY m.started_at, m.seq`, [runId]);
    return this.records(r.rows);
  }

  // Rows to records, with the blobs they refer to read in one query.
  private async records(rows: MeasurementRow[], cache = new Map<string, Buffer>()): Promise<MeasurementRecord[]> {
    const text = await this.blobsFor(rows, cache);
    return rows.map((row) => measurementFromRow(row, text));
  }

  /**
   * Reads into `cache` the blobs `rows` refer to that it lacks, in one query, and returns how to
   * read one (a body sample stored from base64 is given back as base64, as BlobStore.text does).
   */
  private async blobsFor(rows: MeasurementRow[], cache: Map<string, Buffer>): Promise<GetBlobText> {
    const keys = new Set<string>();
    for (const m of rows) for (const k of referencedBlobs(JSON.parse(m.observations_json), m.control_json ? JSON.parse(m.control_json) : null)) keys.add(k);
    // Emptied before, not after, deciding what is missing: else a page's cached keys would be lost.
    if (cache.size > 1000) cache.clear();
    const missing = [...keys].filter((k) => !cache.has(k));
    if (missing.length) {
      const b = await this.db.query<{ sha256: string; size: number; compression: string; data: Buffer }>(`SELECT sha256, size, compression, data FROM blobs WHERE sha256 = ANY($1::text[])`, [missing]);
      for (const row of b.rows) cache.set(row.sha256, decodeBlob(row));
    }
    return (key, encoding = "utf8") => {
      const t = cache.get(key);
      if (t === undefined) throw new Error(`blob ${key} is referred to but not in the blobs table`);
      return t.toString(encoding);
    };
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
    const runs = (await this.db.query<RunRow>(`SELECT ${RUN_SELECT} FROM runs AS r ${runWhere.length ? `WHERE ${runWhere.join(" AND ")}` : ""} ORDER BY r.started_at, r.seq`, runParams)).rows;
    const blobs = new Map<string, Buffer>();
    for (const runRow of runs) {
      const run = runFromRow(runRow);
      let after: [string, number] = ["-infinity", -1];
      for (;;) {
        const page = (await this.db.query<MeasurementRow & { seq: number; ts: string }>(
          `SELECT ${MEASUREMENT_SELECT}, m.seq, m.started_at::text AS ts
           FROM measurements AS m
           WHERE m.run_id = $1 AND (m.started_at, m.seq) > ($2::timestamptz, $3) ${q.since != null ? "AND m.started_at >= $5::timestamptz" : ""}
           ORDER BY m.started_at, m.seq LIMIT $4`,
          q.since != null ? [run.id, after[0], after[1], EXPORT_PAGE, q.since] : [run.id, after[0], after[1], EXPORT_PAGE],
        )).rows;
        for (const measurement of await this.records(page, blobs)) yield { run, measurement };
        if (page.length < EXPORT_PAGE) break;
        const last = page[page.length - 1]!;
        after = [last.ts, last.seq];
      }
    }
  }
}
