/**
 * Status over time: spans of consecutive measurements of one target on one network with the
 * same status and layer, and the latest status of each target. Read-only queries on the
 * derived columns of schema.ts; they interpret nothing beyond "same status and layer".
 */
import type Database from "better-sqlite3";
import type { Layer, Status } from "../analysis/verdict.js";

/** Which spans historySpans reads; everything when empty. */
export interface HistoryQuery {
  /** Only this network key ("" for unlabelled runs). */
  network?: string | null;
  /** Only these targets (canonical form, as stored); a string is one target. */
  target?: string | readonly string[] | null;
  /** Only targets whose latest measurement (on a network) names this service. */
  service?: string | null;
  /**
   * Only spans that were current at some time since this ISO time: a span that began earlier
   * and lasted past it is given whole (its real start and all its runs).
   */
  since?: string | null;
}

/** A span: consecutive measurements of one target on one network with the same status and layer. */
export interface Span {
  /** The network key ("" for unlabelled). */
  network: string;
  target: string;
  /** The service named by the span's latest measurement. */
  service: string;
  status: Status;
  /** Where the interference happened (blocked and anomaly only). */
  layer: Layer | null;
  /** The failure string of the span's latest measurement. */
  failure: string | null;
  /** When the span's first measurement started (ISO). */
  from: string;
  /** When the span's latest measurement started (ISO). */
  to: string;
  /** How many measurements (one a run) the span holds. */
  runs: number;
  /** The run of the span's latest measurement. */
  lastRunId: string;
  /** True for the target's latest span on this network: its status now, as far as is known. */
  current: boolean;
}

interface SpanRow extends Omit<Span, "current"> {
  current: 0 | 1;
}

function targets(q: HistoryQuery): string[] {
  if (q.target === null || q.target === undefined) return [];
  return typeof q.target === "string" ? [q.target] : [...q.target];
}

function spansSql(q: HistoryQuery, targetCount: number): string {
  // The (network, target) pairs asked about, one measurements_firsts entry each (a few
  // hundred at most), and then each pair's span starts through measurements_span_starts.
  // INDEXED BY: without statistics, SQLite would rather find a network's pairs by reading its
  // every measurement through measurements_network_target_started_at.
  const keys = ["f.changed IS NULL"];
  if (q.network != null) keys.push("f.network = @network");
  if (targetCount > 0) keys.push(`f.target IN (${Array.from({ length: targetCount }, (_v, i) => `@t${i}`).join(", ")})`);
  if (q.service != null) keys.push("(f.network, f.target) IN (SELECT network, target FROM latest_status WHERE service = @service)");
  // The end of a span is the next span's start, or '~' (after every ISO time) for the latest.
  // Counting a span's measurements walks measurements_network_target_started_at between the
  // two bounds and never touches the table. The bounds are plain times, which the index
  // compares cheaply; (started_at, rowid) row values, checked on every entry, cost three times
  // as much on a year of runs. Two probes then correct for measurements that share a bound's
  // started_at to the millisecond (ordered by rowid), so the count stays exact.
  return `
    WITH keys AS (
      SELECT f.network, f.target FROM measurements AS f INDEXED BY measurements_firsts WHERE ${keys.join(" AND ")}
    ),
    starts AS (
      SELECT m.network, m.target, m.status, m.layer, m.started_at AS from_at, m.rowid AS from_rowid,
             LEAD(m.started_at) OVER w AS next_at, LEAD(m.rowid) OVER w AS next_rowid
      FROM keys AS k CROSS JOIN measurements AS m INDEXED BY measurements_span_starts
      WHERE m.network = k.network AND m.target = k.target AND m.changed IS NOT 0
      WINDOW w AS (PARTITION BY m.network, m.target ORDER BY m.started_at, m.rowid)
    ),
    spans AS (
      SELECT s.*,
        (SELECT x.rowid FROM measurements AS x
         WHERE x.network = s.network AND x.target = s.target
           AND (x.started_at, x.rowid) < (COALESCE(s.next_at, '~'), COALESCE(s.next_rowid, 0))
         ORDER BY x.started_at DESC, x.rowid DESC LIMIT 1) AS last_rowid,
        (SELECT COUNT(*) FROM measurements AS x
         WHERE x.network = s.network AND x.target = s.target
           AND x.started_at >= s.from_at AND x.started_at < COALESCE(s.next_at, '~'))
        - (SELECT COUNT(*) FROM measurements AS x
           WHERE x.network = s.network AND x.target = s.target AND x.started_at = s.from_at AND x.rowid < s.from_rowid)
        + (SELECT COUNT(*) FROM measurements AS x
           WHERE x.network = s.network AND x.target = s.target AND x.started_at = s.next_at AND x.rowid < s.next_rowid) AS runs
      FROM starts AS s
      ${q.since != null ? "WHERE s.next_at IS NULL OR s.next_at > @since" : ""}
    )
    SELECT sp.network, sp.target, l.service, sp.status, sp.layer, l.failure,
           sp.from_at AS "from", l.started_at AS "to", sp.runs, l.run_id AS lastRunId,
           sp.next_at IS NULL AS current
    FROM spans AS sp JOIN measurements AS l ON l.rowid = sp.last_rowid
    ORDER BY sp.network, l.service, sp.target, sp.from_at, sp.from_rowid`;
}

function spanParams(q: HistoryQuery, list: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  if (q.network != null) params.network = q.network;
  if (q.service != null) params.service = q.service;
  if (q.since != null) params.since = q.since;
  list.forEach((t, i) => (params[`t${i}`] = t));
  return params;
}

/**
 * The spans matching `query`, ordered by network, service, target and time (oldest first).
 * Rows are read one at a time (statement.iterate()), so a caller that streams them keeps
 * memory flat; the connection runs no other statement until the iteration ends.
 */
export function* historySpans(db: Database.Database, query: HistoryQuery = {}): Generator<Span> {
  const list = targets(query);
  const stmt = db.prepare<[Record<string, string>], SpanRow>(spansSql(query, list.length));
  for (const row of stmt.iterate(spanParams(query, list))) yield { ...row, current: row.current === 1 };
}

/** The SQL historySpans runs for `query`, for EXPLAIN QUERY PLAN in tests and benchmarks. */
export function historySpansSql(query: HistoryQuery = {}): string {
  return spansSql(query, targets(query).length);
}

/** The latest measurement of a target on a network: a row of the `latest_status` view. */
export interface LatestStatus {
  network: string;
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  failure: string | null;
  /** When the latest measurement started (ISO). */
  measuredAt: string;
  runId: string;
  measurementId: string;
  /** When the current status and layer began: the start of the current span (ISO). */
  statusSince: string;
}

/**
 * The latest status of every target on every network (or on `network` only), ordered by
 * network, service and target; one row per target and network, read through `latest_status`.
 */
export function* latestStatuses(db: Database.Database, query: { network?: string | null } = {}): Generator<LatestStatus> {
  const stmt = db.prepare<[Record<string, string>], LatestStatus>(`
    SELECT network, target, service, status, layer, failure, measured_at AS measuredAt, run_id AS runId,
           measurement_id AS measurementId, status_since AS statusSince
    FROM latest_status
    ${query.network != null ? "WHERE network = @network" : ""}
    ORDER BY network, service, target`);
  yield* stmt.iterate(query.network != null ? { network: query.network } : {});
}

/** The latest run of each network: the run of its most recent measurement, by network key. */
export function latestRuns(db: Database.Database): Map<string, { runId: string; at: string }> {
  const rows = db
    .prepare<[], { network: string; runId: string; at: string }>(
      // SQLite's bare-column rule: with MAX(), run_id comes from the row holding the maximum.
      `SELECT network, run_id AS runId, MAX(measured_at) AS at FROM latest_status GROUP BY network`,
    )
    .all();
  return new Map(rows.map((r) => [r.network, { runId: r.runId, at: r.at }]));
}
