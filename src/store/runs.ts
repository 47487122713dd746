/** Runs as people look them up: the list, newest first, with counts per status, and ids found by prefix. */
import type Database from "better-sqlite3";
import type { Status } from "../analysis/verdict.js";
import { UsageError } from "../base/errors.js";
import { networkKeySql } from "./network.js";
import type { RunState } from "./store.js";

/** One run in the list. */
export interface RunListEntry {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  state: RunState;
  /** The network key ("" for unlabelled). */
  network: string;
  /** Targets planned. */
  targetCount: number | null;
  /** Measurements stored, per status. */
  counts: Record<Status, number>;
}

/** Which runs listRuns reads. */
export interface RunListQuery {
  /** At most this many, newest first. */
  limit: number;
  /** Only runs started at or after this ISO time. */
  since?: string | null;
  /** Only this network key. */
  network?: string | null;
}

interface RunListRow {
  id: string;
  started_at: string;
  finished_at: string | null;
  state: RunState;
  network: string;
  target_count: number | null;
  blocked: number;
  anomaly: number;
  down: number;
  inconclusive: number;
  ok: number;
}

/** The newest runs matching `query`, newest first, each with its measurements counted per status. */
export function listRuns(db: Database.Database, query: RunListQuery): RunListEntry[] {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: query.limit };
  if (query.since != null) {
    where.push("started_at >= @since");
    params.since = query.since;
  }
  if (query.network != null) {
    where.push(`${networkKeySql("runs")} = @network`);
    params.network = query.network;
  }
  // The newest runs first (runs_started_at), then only their measurements (measurements_run_id).
  const rows = db
    .prepare<[Record<string, string | number>], RunListRow>(
      `SELECT r.id, r.started_at, r.finished_at, r.state, r.network, r.target_count,
              COALESCE(SUM(m.status = 'blocked'), 0) AS blocked, COALESCE(SUM(m.status = 'anomaly'), 0) AS anomaly,
              COALESCE(SUM(m.status = 'down'), 0) AS down, COALESCE(SUM(m.status = 'inconclusive'), 0) AS inconclusive,
              COALESCE(SUM(m.status = 'ok'), 0) AS ok
       FROM (SELECT id, started_at, finished_at, state, ${networkKeySql("runs")} AS network, target_count, rowid AS rid
             FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
             ORDER BY started_at DESC, rowid DESC LIMIT @limit) AS r
       LEFT JOIN measurements AS m ON m.run_id = r.id
       GROUP BY r.id
       ORDER BY r.started_at DESC, r.rid DESC`,
    )
    .all(params);
  return rows.map((r) => ({
    id: r.id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    state: r.state,
    network: r.network,
    targetCount: r.target_count,
    counts: { blocked: r.blocked, anomaly: r.anomaly, down: r.down, inconclusive: r.inconclusive, ok: r.ok },
  }));
}

/** What an id prefix named. */
export type IdMatch = { kind: "run" | "measurement"; id: string };

// LIKE treats % and _ as wildcards: ids are UUIDs (hex and dashes), so anything else cannot match.
const ID_PREFIX = /^[0-9a-f-]{1,36}$/i;

function matching(db: Database.Database, table: "runs" | "measurements", prefix: string): string[] {
  return db
    .prepare<[string, string], { id: string }>(`SELECT id FROM ${table} WHERE id >= ? AND id < ? ORDER BY id LIMIT 6`)
    .all(prefix, `${prefix}\u{10FFFF}`)
    .map((r) => r.id);
}

/** The prefix as ids are compared (lower case), or a UsageError when it cannot start an id. */
export function idPrefix(prefix: string): string {
  const p = prefix.trim().toLowerCase();
  if (!ID_PREFIX.test(p)) throw new UsageError(`"${prefix}" is not a run or measurement id (ids are hexadecimal UUIDs, e.g. 3f2a9c1e); list the runs with "reachprobe runs"`, "E_NOT_FOUND");
  return p;
}

/**
 * The one id among `found` (the runs' then the measurements' ids starting with `prefix`, at most
 * 6 of each, in id order), or a UsageError (E_NOT_FOUND, or E_AMBIGUOUS listing candidates)
 * that says what to type instead. Both stores decide through it.
 */
export function pickId(prefix: string, found: readonly IdMatch[], kind?: "run" | "measurement"): IdMatch {
  if (found.length === 1) return found[0]!;
  const what = kind ?? "run or measurement";
  if (found.length === 0) throw new UsageError(`no ${what} id starts with "${prefix}"; list the runs with "reachprobe runs"`, "E_NOT_FOUND");
  const shown = found.slice(0, 5).map((f) => `${f.kind} ${f.id}`).join(", ");
  throw new UsageError(`"${prefix}" is the start of more than one id (${shown}${found.length > 5 ? ", ..." : ""}); type more of it`, "E_AMBIGUOUS");
}

/**
 * The run or measurement whose id starts with `prefix` (case-insensitive, as git takes a commit's),
 * among runs and measurements unless `kind` says which. Throws a UsageError (E_NOT_FOUND, or
 * E_AMBIGUOUS listing candidates) that says what to type instead.
 */
export function findById(db: Database.Database, prefix: string, kind?: "run" | "measurement"): IdMatch {
  const p = idPrefix(prefix);
  const kinds = kind ? [kind] : (["run", "measurement"] as const);
  const found: IdMatch[] = [];
  for (const k of kinds) for (const id of matching(db, k === "run" ? "runs" : "measurements", p)) found.push({ kind: k, id });
  return pickId(prefix, found, kind);
}
