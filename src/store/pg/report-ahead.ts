/**
 * What the fleet report reads ahead of its passes (report-rows.ts, computeWithPgRows): while
 * the first session reads the period's runs, the second reads each network's endpoints and
 * changes, guessed from the runs table alone (a year's runs are 105,120 rows to receive, and
 * those 36 reads as long again, one after the other); once the runs are in, the runs whose
 * measurements the report will read (the report's own rule, given by the caller) are added, and
 * both sessions take reads from one queue until it is empty. A guess that misses costs only its
 * read: the passes still ask for whatever they lack.
 */
import type pg from "pg";
import type { ReportNetworkParams } from "../report-rows.js";
import { epochMsSql } from "./iso-ms.js";

/** A read made ahead: it keeps what it read in the report's cache itself. */
export type AheadRead = (db: pg.ClientBase) => Promise<void>;

/**
 * Reads that two sessions take one at a time, from producers that add them as they learn of
 * them: `take` returns once every producer is done and nothing is left.
 */
export class ReadQueue {
  private readonly reads: AheadRead[] = [];
  private producers: number;
  private waiting: Array<() => void> = [];

  constructor(producers: number) {
    this.producers = producers;
  }

  add(reads: Iterable<AheadRead>): void {
    this.reads.push(...reads);
    this.wake();
  }

  /** One producer has added all it will. */
  done(): void {
    this.producers--;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  }

  /** Makes reads on `db` until every producer is done and none is left. */
  async take(db: pg.ClientBase): Promise<void> {
    for (;;) {
      const next = this.reads.shift();
      if (next) await next(db);
      else if (this.producers <= 0) return;
      else await new Promise<void>((resume) => this.waiting.push(resume));
    }
  }
}

/** The report's runs: those started since `since`, from network key `network` (null for all). */
export type RunFilter = { since: string | null; network: string | null };

/** The WHERE clause over `runs AS r` of the report's runs and its parameters ($1 the since, when there is one). */
export function runsOfPeriodSql(f: RunFilter): { period: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  if (f.since !== null) where.push(`r.started_at >= $${params.push(f.since)}::timestamptz`);
  if (f.network !== null) where.push(`r.network = $${params.push(f.network)}`);
  return { period: where.length ? `WHERE ${where.join(" AND ")}` : "", params };
}

/** A network-wide read the report will make, as its ReportRows method's name and arguments. */
export type NetworkRead = ["endpoints", [ReportNetworkParams]] | ["changes", [ReportNetworkParams, boolean]] | ["newestChanges", [ReportNetworkParams, boolean, number]];

/**
 * The network-wide reads that the pass after the runs will ask for (report-data.ts, willRead:
 * each network's endpoints, changes and newest `listed` changes). Their parameters are what
 * report-data.ts (networkParams) makes of the runs: a network's first run of the period, and
 * whether the run before it was still going then. A network whose run before the period has no
 * finished_at (its end is its last measurement) is left to the passes.
 */
export async function guessNetworkReads(db: pg.ClientBase, filter: RunFilter, listed: number): Promise<NetworkRead[]> {
  const { period, params } = runsOfPeriodSql(filter);
  // first and beforeEnd in milliseconds; first null without a period (params.from is then "").
  type Row = { network: string; first: number | null; before: boolean; beforeEnd: number | null };
  const found =
    filter.since === null
      ? (await db.query<{ network: string }>(`SELECT DISTINCT r.network FROM runs AS r ${period}`, params)).rows.map((r): Row => ({ network: r.network, first: null, before: false, beforeEnd: null }))
      : (
          await db.query<Row>(
            `SELECT k.network, ${epochMsSql("k.first")}::float8 AS first, b.seq IS NOT NULL AS before, ${epochMsSql("b.finished_at")}::float8 AS "beforeEnd"
             FROM (SELECT r.network, min(r.started_at) AS first FROM runs AS r ${period} GROUP BY r.network) AS k
             LEFT JOIN LATERAL (SELECT r.seq, r.finished_at FROM runs AS r WHERE r.started_at < $1::timestamptz AND r.network = k.network
               ORDER BY r.started_at DESC, r.seq DESC LIMIT 1) AS b ON true`,
            params,
          )
        ).rows;
  const reads: NetworkRead[] = [];
  for (const { network, first, before, beforeEnd } of found) {
    if (before && beforeEnd === null) continue;
    // As networkParams builds them, key order included (the cache keys are their JSON).
    const p: ReportNetworkParams = { network, from: first === null ? "" : new Date(first).toISOString() };
    const straddled = before && beforeEnd! > first!;
    if (straddled) p.since = filter.since!;
    reads.push(["endpoints", [p]], ["changes", [p, straddled]], ["newestChanges", [p, straddled, listed]]);
  }
  return reads;
}
