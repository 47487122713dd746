/**
 * Keeping the derived columns right: prev_status, prev_layer and changed of each measurement
 * are those of the measurement before it of the same target on the same network (ordered by
 * started_at, then arrival), as SQLite's triggers keep them (schema.ts). SQLite has one writer;
 * here many probes write at once and rows arrive late and out of order, so each batch
 * re-derives, under its networks' advisory locks (ingest.ts), every row of the (network, target)
 * pairs it touched from its earliest new row on, and writes only the rows that were wrong.
 */

/**
 * The statement: $1 networks, $2 targets, $3 the earliest new started_at of each pair (ISO).
 * Rows from the last measurement before that time on are re-derived; that last one keeps its own.
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
  SELECT m.network, m.target, m.started_at, m.seq, m.status, m.layer,
         LAG(m.status) OVER win AS ps, LAG(m.layer) OVER win AS pl,
         ROW_NUMBER() OVER win AS rn, b.p_at IS NOT NULL AS has_prev
  FROM b JOIN measurements AS m
    ON m.network = b.network AND m.target = b.target AND m.started_at >= COALESCE(b.p_at, b.since)
   AND (b.p_at IS NULL OR (m.started_at, m.seq) >= (b.p_at, b.p_seq))
  WINDOW win AS (PARTITION BY m.network, m.target ORDER BY m.started_at, m.seq)
),
n AS (
  SELECT network, target, started_at, seq, ps, pl,
         CASE WHEN rn = 1 THEN NULL ELSE (ps IS DISTINCT FROM status OR pl IS DISTINCT FROM layer) END AS ch
  FROM w WHERE NOT (rn = 1 AND has_prev)
)
UPDATE measurements AS m SET prev_status = n.ps, prev_layer = n.pl, changed = n.ch
FROM n
WHERE m.network = n.network AND m.target = n.target AND m.started_at = n.started_at AND m.seq = n.seq
  AND (m.prev_status, m.prev_layer, m.changed) IS DISTINCT FROM (n.ps, n.pl, n.ch)`;
}
