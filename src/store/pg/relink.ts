/**
 * Keeping the derived columns right: prev_status, prev_layer and changed of each measurement
 * are those of the measurement before it of the same target on the same network (ordered by
 * started_at, then arrival), as SQLite's triggers keep them (schema.ts). SQLite has one writer;
 * here many probes write at once and rows arrive late and out of order, so each batch
 * re-derives, under its networks' advisory locks (ingest.ts), every row of the (network, target)
 * pairs it touched from its earliest new row on, and writes only the rows that were wrong.
 * The same rows, read once, make the pairs' spans again (spans.ts).
 */
import type pg from "pg";
import type { DetailRow } from "../changes.js";
import { CONTROLLED, respan } from "./spans.js";

/**
 * The rows of each (network, target) a batch touched, from the last measurement before its
 * earliest new row on ($1 networks, $2 targets, $3 those times, $4 the batch's ids), with
 * their derived columns re-derived (relink.ts: `ps`, `pl`, `ch`, and `wrong` where the stored
 * ones differ; the first row, when it is that last one before, keeps its own), `st` where a
 * span starts, `fresh` for the batch's own rows, and on that first row the stored span
 * holding it (`x_*`) and where the next stored span began. Read pair by pair through
 * measurements_network_target_started_at (a lateral scan in key order): as a join, the
 * planner hashed every partition of 10 million rows (19 s a batch of 200 pairs).
 */
export const REGION_SQL = `
WITH k AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(network, target, since, i)
),
b AS (
  SELECT k.i, k.network, k.target, k.since, p.started_at AS p_at, p.seq AS p_seq
  FROM k LEFT JOIN LATERAL (
    SELECT x.started_at, x.seq FROM measurements AS x
    WHERE x.network = k.network AND x.target = k.target AND x.started_at < k.since
    ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS p ON true
),
w AS (
  SELECT b.i, b.network, b.target, b.p_at IS NOT NULL AS has_prev, m.*,
         LAG(m.status) OVER win AS lag_status, LAG(m.layer) OVER win AS lag_layer, ROW_NUMBER() OVER win AS rn
  FROM b CROSS JOIN LATERAL (
    SELECT m.started_at, m.seq, m.status, m.layer, m.prev_status, m.prev_layer, m.changed, m.service, m.failure, m.run_id, m.id, m.control_json
    FROM measurements AS m
    WHERE m.network = b.network AND m.target = b.target AND m.started_at >= COALESCE(b.p_at, b.since)
      AND (b.p_at IS NULL OR (m.started_at, m.seq) >= (b.p_at, b.p_seq))
    ORDER BY m.started_at, m.seq) AS m
  WINDOW win AS (PARTITION BY b.i ORDER BY m.started_at, m.seq)
),
n AS (
  SELECT w.*, w.rn = 1 AND w.has_prev AS kept,
         CASE WHEN w.rn = 1 AND w.has_prev THEN w.prev_status ELSE w.lag_status END AS ps,
         CASE WHEN w.rn = 1 AND w.has_prev THEN w.prev_layer ELSE w.lag_layer END AS pl,
         CASE WHEN w.rn = 1 AND w.has_prev THEN w.changed WHEN w.rn = 1 THEN NULL
              ELSE (w.lag_status IS DISTINCT FROM w.status OR w.lag_layer IS DISTINCT FROM w.layer) END AS ch
  FROM w
)
SELECT n.i::integer AS i, iso(n.started_at) AS at, n.started_at::text AS ts, n.seq, n.status, n.layer, n.service, n.failure, n.run_id, n.id,
       ${CONTROLLED.replaceAll("m.", "n.")} AS c, n.ch IS DISTINCT FROM false AS st, n.id IN (SELECT unnest($4::text[])) AS fresh,
       n.ps, n.pl, n.ch, NOT n.kept AND (n.prev_status, n.prev_layer, n.changed) IS DISTINCT FROM (n.ps, n.pl, n.ch) AS wrong,
       n.kept AS has_prev,
       iso(x.from_at) AS x_from_at, x.from_seq AS x_from_seq, x.status AS x_status, x.layer AS x_layer, x.service AS x_service,
       x.failure AS x_failure, x.run_id AS x_run_id, x.id AS x_id, x.controlled AS x_controlled, x.runs AS x_runs,
       iso(x.later_at) AS x_later_at, x.later_seq AS x_later_seq, x.later_service AS x_later_service, x.later_failure AS x_later_failure,
       x.later_run_id AS x_later_run_id, x.later_id AS x_later_id, iso(y.from_at) AS next_at, y.from_seq AS next_seq
FROM n
LEFT JOIN LATERAL (
  SELECT s.* FROM spans AS s WHERE n.kept AND s.network = n.network AND s.target = n.target AND (s.from_at, s.from_seq) <= (n.started_at, n.seq)
  ORDER BY s.from_at DESC, s.from_seq DESC LIMIT 1) AS x ON true
LEFT JOIN LATERAL (
  SELECT s.from_at, s.from_seq FROM spans AS s WHERE n.kept AND s.network = n.network AND s.target = n.target AND (s.from_at, s.from_seq) > (n.started_at, n.seq)
  ORDER BY s.from_at, s.from_seq LIMIT 1) AS y ON true
ORDER BY n.i, n.started_at, n.seq`;

/** A measurement's verdict and where it came from, as a region's rows and the spans hold them. */
export interface MeasurementVerdictRef extends DetailRow {
  status: string;
  layer: string | null;
}

/** A row of REGION_SQL. */
export interface RegionRow extends MeasurementVerdictRef {
  i: number;
  at: string;
  /** started_at as PostgreSQL writes it (full precision, for the relink's UPDATE). */
  ts: string;
  seq: number;
  c: boolean;
  st: boolean;
  fresh: boolean;
  ps: string | null;
  pl: string | null;
  ch: boolean | null;
  wrong: boolean;
  has_prev: boolean;
  x_from_at: string | null;
  x_from_seq: number | null;
  x_status: string | null;
  x_layer: string | null;
  x_service: string | null;
  x_failure: string | null;
  x_run_id: string | null;
  x_id: string | null;
  x_controlled: boolean | null;
  x_runs: number | null;
  x_later_at: string | null;
  x_later_seq: number | null;
  x_later_service: string | null;
  x_later_failure: string | null;
  x_later_run_id: string | null;
  x_later_id: string | null;
  next_at: string | null;
  next_seq: number | null;
}

/**
 * Writes the derived columns REGION_SQL found wrong, $1..$7 arrays of its columns. From arrays
 * the planner knows how few rows there are, and finds each by its key (an UPDATE joined to a
 * query over the pairs' rows hashed every partition instead: 5.8 s a batch at 10 million).
 */
const RELINK_UPDATE_SQL = `
UPDATE measurements AS m SET prev_status = n.ps, prev_layer = n.pl, changed = n.ch
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::boolean[]) AS n(network, target, started_at, seq, ps, pl, ch)
WHERE m.network = n.network AND m.target = n.target AND m.started_at = n.started_at AND m.seq = n.seq`;

/**
 * Re-derives the derived columns of the (network, target) pairs a batch wrote, from each pair's
 * earliest new row (`since`, ISO) on, writing the rows that were wrong, and makes their spans
 * again; `freshIds` are the batch's new measurements. Under the pairs' network locks (ingest.ts).
 */
export async function relink(db: pg.ClientBase, pairs: ReadonlyArray<{ network: string; target: string; since: string }>, freshIds: readonly string[]): Promise<void> {
  if (pairs.length === 0) return;
  const region = (await db.query<RegionRow>(REGION_SQL, [pairs.map((p) => p.network), pairs.map((p) => p.target), pairs.map((p) => p.since), freshIds])).rows;
  const wrong = region.filter((r) => r.wrong);
  if (wrong.length) {
    await db.query(RELINK_UPDATE_SQL, [
      wrong.map((r) => pairs[r.i - 1]!.network), wrong.map((r) => pairs[r.i - 1]!.target), wrong.map((r) => r.ts), wrong.map((r) => r.seq),
      wrong.map((r) => r.ps), wrong.map((r) => r.pl), wrong.map((r) => r.ch),
    ]);
  }
  await respan(db, pairs, region);
}
