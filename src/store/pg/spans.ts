/**
 * The spans table of the fleet database (docs/fleet.md, "The schema"): one row per stretch of
 * consecutive measurements of one target on one network with the same status and layer (a
 * span of history, a stretch start of changes), with what the reading commands read of it:
 * its first measurement, its last, how many it holds, and the first measurement after its
 * first that had a control helper's answer (and started after it: changes.ts looks up the first
 * answer by time). history and changes read these rows instead of
 * counting and looking up millions of measurements (src/store/pg/read.ts).
 *
 * The collector keeps it right per batch, after the relink (relink.ts), under the same
 * network locks: for each (network, target) the batch touched, the spans from the one holding
 * the last measurement before the batch's earliest new row on are made again from the rows
 * from that measurement on (the rows the relink re-derived) and that span's stored prefix, so
 * that rows arriving late and out of order leave the same rows as a recomputation over the
 * whole table (spansFromMeasurementsSql, which also fills the table when it is created).
 */
import type pg from "pg";
import type { DetailRow } from "../changes.js";
import type { MeasurementVerdictRef, RegionRow } from "./relink.js";

/** The table (schema version 3). */
export const SPANS_TABLE_SQL = `
CREATE TABLE spans (
  network        text NOT NULL,
  target         text NOT NULL,
  from_at        timestamptz NOT NULL,
  from_seq       bigint NOT NULL,
  status         text NOT NULL,
  layer          text,
  service        text NOT NULL,
  failure        text,
  run_id         text NOT NULL,
  id             text NOT NULL,
  controlled     boolean NOT NULL,
  runs           integer NOT NULL,
  last_at        timestamptz NOT NULL,
  last_seq       bigint NOT NULL,
  last_service   text NOT NULL,
  last_failure   text,
  last_run_id    text NOT NULL,
  later_at       timestamptz,
  later_seq      bigint,
  later_service  text,
  later_failure  text,
  later_run_id   text,
  later_id       text,
  PRIMARY KEY (network, target, from_at, from_seq)
);
CREATE INDEX spans_target ON spans (target);
`;

/** A control helper answered for this measurement `m` (changes.ts, CONTROLLED). */
export const CONTROLLED = `(m.control_json IS NOT NULL AND (m.control_json::json ->> 'failure') IS NULL)`;

/** The spans table's columns, in the order spansFromMeasurementsSql and respan write them. */
export const SPAN_COLUMNS = [
  "network", "target", "from_at", "from_seq", "status", "layer", "service", "failure", "run_id", "id", "controlled", "runs",
  "last_at", "last_seq", "last_service", "last_failure", "last_run_id",
  "later_at", "later_seq", "later_service", "later_failure", "later_run_id", "later_id",
] as const;

/**
 * The spans of every (network, target), made from the measurements alone, with SPAN_COLUMNS:
 * what fills the table when it is created, and, with EXCEPT, the check that the kept table is
 * right (spansDriftSql). A span starts at each measurement whose `changed` is not false
 * (relink.ts keeps it right).
 */
export function spansFromMeasurementsSql(): string {
  return `
WITH g AS (
  SELECT m.network, m.target, m.started_at, m.seq, m.status, m.layer, m.service, m.failure, m.run_id, m.id,
         ${CONTROLLED} AS c, m.changed IS DISTINCT FROM false AS st,
         count(*) FILTER (WHERE m.changed IS DISTINCT FROM false) OVER w AS grp,
         max(m.started_at) FILTER (WHERE m.changed IS DISTINCT FROM false) OVER w AS grp_from,
         COALESCE(LEAD(m.changed IS DISTINCT FROM false) OVER w, true) AS is_last
  FROM measurements AS m
  WINDOW w AS (PARTITION BY m.network, m.target ORDER BY m.started_at, m.seq)
),
a AS (
  SELECT network, target, grp, count(*)::integer AS runs,
         max(started_at) FILTER (WHERE st) AS from_at, max(seq) FILTER (WHERE st) AS from_seq,
         max(status) FILTER (WHERE st) AS status, max(layer) FILTER (WHERE st) AS layer,
         max(service) FILTER (WHERE st) AS service, max(failure) FILTER (WHERE st) AS failure,
         max(run_id) FILTER (WHERE st) AS run_id, max(id) FILTER (WHERE st) AS id, bool_or(c) FILTER (WHERE st) AS controlled,
         max(started_at) FILTER (WHERE is_last) AS last_at, max(seq) FILTER (WHERE is_last) AS last_seq,
         max(service) FILTER (WHERE is_last) AS last_service, max(failure) FILTER (WHERE is_last) AS last_failure,
         max(run_id) FILTER (WHERE is_last) AS last_run_id,
         (min(ARRAY[extract(epoch FROM started_at) * 1000, seq]) FILTER (WHERE c AND started_at > grp_from))[2] AS later_seq
  FROM g GROUP BY network, target, grp
)
SELECT a.network, a.target, a.from_at, a.from_seq, a.status, a.layer, a.service, a.failure, a.run_id, a.id, a.controlled, a.runs,
       a.last_at, a.last_seq, a.last_service, a.last_failure, a.last_run_id,
       l.started_at, l.seq, l.service, l.failure, l.run_id, l.id
FROM a LEFT JOIN LATERAL (
  SELECT m.started_at, m.seq, m.service, m.failure, m.run_id, m.id FROM measurements AS m
  WHERE a.later_seq IS NOT NULL AND m.seq = a.later_seq AND m.network = a.network AND m.target = a.target) AS l ON true`;
}

/** How many rows the kept spans table and a recomputation from the measurements disagree on (0 when it is right). */
export function spansDriftSql(): string {
  const kept = `SELECT ${SPAN_COLUMNS.join(", ")} FROM spans`;
  const made = `SELECT * FROM (${spansFromMeasurementsSql()}) AS r`;
  return `SELECT (SELECT count(*) FROM (${kept} EXCEPT ALL ${made}) AS a) + (SELECT count(*) FROM (${made} EXCEPT ALL ${kept}) AS b) AS n`;
}

interface Later extends DetailRow {
  at: string;
  seq: number;
}

/** A span as it is made again. */
interface SpanRow extends MeasurementVerdictRef {
  network: string;
  target: string;
  from_at: string;
  from_seq: number;
  controlled: boolean;
  runs: number;
  last: RegionRow | null;
  later: Later | null;
}

const before = (a: { at: string; seq: number }, b: { at: string; seq: number }) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * Makes the spans of the (network, target) pairs a batch wrote again, from REGION_SQL's rows
 * (read before the relink's UPDATE, with the derived columns as it writes them): each pair's
 * spans from the one holding its first row on are replaced.
 */
export async function respan(db: pg.ClientBase, pairs: ReadonlyArray<{ network: string; target: string }>, region: readonly RegionRow[]): Promise<void> {
  if (pairs.length === 0) return;
  const rowsOf = new Map<number, RegionRow[]>();
  for (const r of region) {
    r.seq = Number(r.seq);
    let list = rowsOf.get(r.i);
    if (!list) rowsOf.set(r.i, (list = []));
    list.push(r);
  }
  const made: SpanRow[] = [];
  // Per pair, the spans from this start on are replaced (null: all of them).
  const del: Array<{ network: string; target: string; from_at: string | null; from_seq: number | null }> = [];
  for (const [i, rows] of rowsOf) {
    const { network, target } = pairs[i - 1]!;
    const p = rows[0]!;
    if (p.has_prev && p.x_from_at === null) throw new Error(`spans: no span holds ${network} ${target} at ${p.at} (the spans table is not in step with measurements)`);
    const x = p.has_prev ? p : undefined;
    del.push({ network, target, from_at: x ? x.x_from_at : null, from_seq: x ? Number(x.x_from_seq) : null });
    let cur: SpanRow | null = null;
    let skipStart = false;
    if (x && !(p.st && p.at === x.x_from_at && p.seq === Number(x.x_from_seq))) {
      // The rows of the holding span before p are unchanged: its stored count less its old rows from p on.
      const next = x.next_at === null ? null : { at: x.next_at, seq: Number(x.next_seq) };
      const oldInX = rows.filter((r) => !r.fresh && (next === null || before(r, next))).length;
      const later = x.x_later_at === null ? null : { at: x.x_later_at, seq: Number(x.x_later_seq), service: x.x_later_service!, failure: x.x_later_failure, run_id: x.x_later_run_id!, id: x.x_later_id! };
      cur = {
        network, target, from_at: x.x_from_at!, from_seq: Number(x.x_from_seq), status: x.x_status!, layer: x.x_layer,
        service: x.x_service!, failure: x.x_failure, run_id: x.x_run_id!, id: x.x_id!,
        controlled: x.x_controlled!, runs: x.x_runs! - oldInX, last: null,
        // The first answered measurement after the span's first, if it came before p.
        later: later && before(later, p) ? later : null,
      };
      skipStart = true;
    }
    for (const r of rows) {
      if (r.st && !(skipStart && r === p)) {
        if (cur) made.push(cur);
        cur = { network, target, from_at: r.at, from_seq: r.seq, status: r.status, layer: r.layer, service: r.service, failure: r.failure, run_id: r.run_id, id: r.id, controlled: r.c, runs: 0, last: null, later: null };
      } else if (r.c && cur && cur.later === null && r.at > cur.from_at) {
        cur.later = { at: r.at, seq: r.seq, service: r.service, failure: r.failure, run_id: r.run_id, id: r.id };
      }
      if (!cur) throw new Error(`spans: ${network} ${target} has a measurement before its first span start`);
      cur.runs++;
      cur.last = r;
    }
    if (cur) made.push(cur);
  }
  // Found pair by pair through the key (a join would read the whole table, which grows with the fleet), deleted by row address.
  await db.query(
    `DELETE FROM spans WHERE ctid = ANY(ARRAY(
       SELECT x.ctid FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[]) AS d(network, target, from_at, from_seq)
       CROSS JOIN LATERAL (SELECT s.ctid FROM spans AS s WHERE s.network = d.network AND s.target = d.target
         AND s.from_at >= COALESCE(d.from_at, '-infinity') AND (s.from_at, s.from_seq) >= (COALESCE(d.from_at, '-infinity'), COALESCE(d.from_seq, 0))
         ORDER BY s.from_at, s.from_seq) AS x))`,
    [del.map((d) => d.network), del.map((d) => d.target), del.map((d) => d.from_at), del.map((d) => d.from_seq)],
  );
  const col = <T>(f: (s: SpanRow) => T) => made.map(f);
  await db.query(
    `INSERT INTO spans (${SPAN_COLUMNS.join(", ")})
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                          $11::boolean[], $12::integer[], $13::timestamptz[], $14::bigint[], $15::text[], $16::text[], $17::text[],
                          $18::timestamptz[], $19::bigint[], $20::text[], $21::text[], $22::text[], $23::text[])`,
    [
      col((s) => s.network), col((s) => s.target), col((s) => s.from_at), col((s) => s.from_seq), col((s) => s.status), col((s) => s.layer),
      col((s) => s.service), col((s) => s.failure), col((s) => s.run_id), col((s) => s.id), col((s) => s.controlled), col((s) => s.runs),
      col((s) => s.last!.at), col((s) => s.last!.seq), col((s) => s.last!.service), col((s) => s.last!.failure), col((s) => s.last!.run_id),
      col((s) => s.later?.at ?? null), col((s) => s.later?.seq ?? null), col((s) => s.later?.service ?? null), col((s) => s.later?.failure ?? null),
      col((s) => s.later?.run_id ?? null), col((s) => s.later?.id ?? null),
    ],
  );
}
