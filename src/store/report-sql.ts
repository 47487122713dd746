/**
 * The SQL of the HTML report (src/report/report-data.ts says what it reads and why). Each
 * statement reads runs, or an index of measurements, or measurements by their run or rowid:
 * none reads the measurements table from end to end (tests/unit/report-data.test.ts checks the
 * query plans). Runs are named by rowid until they are shown.
 */
import { networkKeySql } from "./network.js";

// The network a run was made from, over `runs r`: the store's one definition (network.ts),
// so that the report's networks and changes are those of history, changes and the views.
const NETWORK_KEY_SQL = networkKeySql("r");

/** An ISO time column as milliseconds since 1970 (null for null), as Date.parse reads it. */
const MS_SQL = (column: string) => `CAST(round(unixepoch(${column}, 'subsec') * 1000) AS INTEGER)`;

/** The runs of the period, oldest first, with what placing their measurements needs. `where` is runFilter()'s. */
export function runsSql(where: string): string {
  return `SELECT r.rowid, ${MS_SQL("r.started_at")}, ${MS_SQL("r.finished_at")}, r.state = 'completed', r.target_count, ${NETWORK_KEY_SQL}
    FROM runs AS r ${where}
    ORDER BY r.started_at, r.rowid`;
}

/** One run as the page shows it, by rowid. */
export const RUN_SQL = `SELECT r.id, r.started_at, r.finished_at, r.state, r.target_count FROM runs AS r WHERE r.rowid = ?`;

/** The run of a network started last before the period (@since), to see whether it overlaps the period's first. */
export const RUN_BEFORE_SQL = `SELECT r.rowid, r.finished_at FROM runs AS r
  WHERE r.started_at < @since AND ${NETWORK_KEY_SQL} = @network
  ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1`;

/** When the last measurement of a run (by rowid) started; null without any. */
export const RUN_LAST_MEASUREMENT_SQL = `SELECT MAX(m.started_at) FROM measurements AS m
  WHERE m.run_id = (SELECT r.id FROM runs AS r WHERE r.rowid = ?)`;

/** The measurements of one run (by rowid), in the order they were written. */
export const RUN_MEASUREMENTS_SQL = `SELECT m.target, m.status, m.layer, m.failure FROM measurements AS m
  WHERE m.run_id = (SELECT r.id FROM runs AS r WHERE r.rowid = ?)`;

/**
 * One row per endpoint (target) of a network measured since @from: its latest measurement,
 * with the evidence the page shows beside its timeline, and its first measurement since @from.
 * INDEXED BY: measurements_firsts holds one entry per target and network (see schema.ts).
 */
export const ENDPOINTS_SQL = `SELECT f.target,
    l.service, l.status, l.layer, l.failure, l.started_at AS latestAt, l.evidence_json AS evidence,
    e.started_at AS firstAt, e.status AS firstStatus, e.layer AS firstLayer, e.failure AS firstFailure
  FROM measurements AS f INDEXED BY measurements_firsts
  JOIN measurements AS l ON l.rowid = (
    SELECT x.rowid FROM measurements AS x WHERE x.network = f.network AND x.target = f.target
    ORDER BY x.started_at DESC, x.rowid DESC LIMIT 1)
  JOIN measurements AS e ON e.rowid = (
    SELECT x.rowid FROM measurements AS x WHERE x.network = f.network AND x.target = f.target AND x.started_at >= @from
    ORDER BY x.started_at, x.rowid LIMIT 1)
  WHERE f.changed IS NULL AND f.network = @network`;

// The period's measurements are those started at or after its first run (@from). Only when a
// run from before the period was still going then could one of its measurements be among them;
// in that case, and only then, a change is counted when its run is one of the period's.
const IN_PERIOD_RUN = "c.run_id IN (SELECT r.id FROM runs AS r WHERE r.started_at >= @since)";

/**
 * The status changes of a network since @from, oldest first: the entries of the covering index
 * measurements_changes alone (a year of them is a few thousand), as the timelines need them,
 * and whether each is one of the period's (see IN_PERIOD_RUN).
 */
export function changesSql(straddled = false): string {
  return `SELECT c.target, c.status, c.layer, c.failure, ${MS_SQL("c.started_at")}, ${straddled ? IN_PERIOD_RUN : "1"}
  FROM measurements AS c INDEXED BY measurements_changes
  WHERE c.changed = 1 AND c.started_at >= @from AND c.network = @network
  ORDER BY c.started_at`;
}

/** The newest @limit changes of a network since @from, as the change list shows them, from the same index. */
export function newestChangesSql(straddled = false): string {
  return `SELECT c.started_at AS at, c.rowid AS rid, c.service, c.target,
    c.prev_status, c.prev_layer, c.status, c.layer, c.failure
  FROM measurements AS c INDEXED BY measurements_changes
  WHERE c.changed = 1 AND c.started_at >= @from AND c.network = @network ${straddled ? `AND ${IN_PERIOD_RUN}` : ""}
  ORDER BY c.started_at DESC, c.rowid DESC LIMIT @limit`;
}

/**
 * What the change list shows beyond the index: the first evidence line of the change (a
 * malformed evidence_json gives none), and when the measurement before it started and its failure.
 */
export const CHANGE_DETAIL_SQL = `SELECT
    CASE WHEN json_valid(c.evidence_json) THEN c.evidence_json ->> '$[0]' END AS evidence,
    p.started_at AS previousAt, p.failure AS previousFailure
  FROM measurements AS c
  LEFT JOIN measurements AS p ON p.rowid = (
    SELECT x.rowid FROM measurements AS x
    WHERE x.network = c.network AND x.target = c.target AND (x.started_at, x.rowid) < (c.started_at, c.rowid)
    ORDER BY x.started_at DESC, x.rowid DESC LIMIT 1)
  WHERE c.rowid = ?`;

/** The run count of the whole database, for the page that says nothing matched. */
export const DATABASE_RUNS_SQL = `SELECT COUNT(*) FROM runs`;
/** The network keys of the whole database, for the same page. */
export const DATABASE_NETWORKS_SQL = `SELECT DISTINCT ${NETWORK_KEY_SQL} FROM runs AS r`;

/** The WHERE clause of runsSql() and its parameters: runs started at or after `since` (ISO), from network key `network`; null for all. */
export function runFilter(q: { since: string | null; network: string | null }): { where: string; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  if (q.since !== null) {
    parts.push("r.started_at >= @since");
    params.since = q.since;
  }
  if (q.network !== null) {
    parts.push(`${NETWORK_KEY_SQL} = @network`);
    params.network = q.network;
  }
  return { where: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}
