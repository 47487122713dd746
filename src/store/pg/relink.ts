/**
 * Keeping the derived columns right: prev_status, prev_layer and changed of each measurement
 * are those of the measurement before it of the same target on the same network (ordered by
 * started_at, then arrival), as SQLite's triggers keep them (schema.ts). SQLite has one writer;
 * here many probes write at once and rows arrive late and out of order, so each batch
 * re-derives, under its networks' advisory locks (ingest.ts), every row of the (network, target)
 * pairs it touched from its earliest new row on, and writes only the rows that were wrong.
 */

/**
 * The rows to correct: $1 networks, $2 targets, $3 the earliest new started_at of each pair
 * (ISO). Rows from the last measurement before that time on are re-derived (that last one keeps
 * its own), and those whose derived columns differ are returned with the right values. They
 * are read pair by pair through measurements_network_target_started_at (a lateral scan in key
 * order): written as a join, the planner hashed every partition, 5.8 s a batch of 200 pairs
 * at 10 million measurements.
 */
export function relinkSql(): string {
  return `
WITH k AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(network, target, since)
),
b AS (
  SELECT k.network, k.target, k.since, p.started_at AS p_at, p.seq AS p_seq
  FROM k LEFT JOIN LATERAL (
    SELECT x.started_at, x.seq FROM measurements AS x
    WHERE x.network = k.network AND x.target = k.target AND x.started_at < k.since
    ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS p ON true
),
w AS (
  SELECT m.network, m.target, m.started_at, m.seq, m.status, m.layer, m.prev_status, m.prev_layer, m.changed,
         LAG(m.status) OVER win AS ps, LAG(m.layer) OVER win AS pl,
         ROW_NUMBER() OVER win AS rn, b.p_at IS NOT NULL AS has_prev
  FROM b CROSS JOIN LATERAL (
    SELECT x.network, x.target, x.started_at, x.seq, x.status, x.layer, x.prev_status, x.prev_layer, x.changed FROM measurements AS x
    WHERE x.network = b.network AND x.target = b.target AND x.started_at >= COALESCE(b.p_at, b.since)
      AND (b.p_at IS NULL OR (x.started_at, x.seq) >= (b.p_at, b.p_seq))
    ORDER BY x.started_at, x.seq) AS m
  WINDOW win AS (PARTITION BY m.network, m.target ORDER BY m.started_at, m.seq)
),
n AS (
  SELECT network, target, started_at, seq, prev_status, prev_layer, changed, ps, pl,
         CASE WHEN rn = 1 THEN NULL ELSE (ps IS DISTINCT FROM status OR pl IS DISTINCT FROM layer) END AS ch
  FROM w WHERE NOT (rn = 1 AND has_prev)
)
SELECT network, target, started_at::text AS started_at, seq, ps, pl, ch FROM n
WHERE (prev_status, prev_layer, changed) IS DISTINCT FROM (ps, pl, ch)`;
}

/**
 * Writes what relinkSql found, $1..$7 arrays of its columns. From arrays the planner knows how
 * few rows there are, and finds each by its key (an UPDATE joined to the statement above hashed
 * every partition instead).
 */
export const RELINK_UPDATE_SQL = `
UPDATE measurements AS m SET prev_status = n.ps, prev_layer = n.pl, changed = n.ch
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::boolean[]) AS n(network, target, started_at, seq, ps, pl, ch)
WHERE m.network = n.network AND m.target = n.target AND m.started_at = n.started_at AND m.seq = n.seq`;
