/**
 * Status changes: every measurement whose status or layer differs from the previous
 * measurement of the same target on the same network, read through the `status_changes` view.
 */
import type Database from "better-sqlite3";
import type { Layer, Status } from "../analysis/verdict.js";
import { judge, stateFromNewest } from "./change-rules.js";

/** Which changes statusChanges reads. */
export interface ChangesQuery {
  /** Only changes at or after this ISO time. */
  since?: string | null;
  /** Only changes before this ISO time. */
  until?: string | null;
  /** Only this network key ("" for unlabelled runs). */
  network?: string | null;
  /** Only this target (canonical form, as stored). */
  target?: string | null;
  /** Oldest first instead of newest first. */
  oldestFirst?: boolean;
  /**
   * Also read the measurement before each change (previousAt, previousRunId); true by default.
   * Without it the changes come from one small index alone, which matters for a year of them.
   */
  withPrevious?: boolean;
}

/** A status and the layer it happened at. */
export interface StatusAt {
  status: Status;
  layer: Layer | null;
}

/** One transition of one target on one network. */
export interface StatusChange {
  /** The network key ("" for unlabelled). */
  network: string;
  target: string;
  service: string;
  /** The status before: that of the previous measurement of the target on this network. */
  from: StatusAt;
  /** The status after, with the failure string that decided it. */
  to: StatusAt & { failure: string | null };
  /** When the first measurement with the new status started (ISO). */
  at: string;
  /** The run of that measurement: where the change was seen first. */
  runId: string;
  measurementId: string;
  /** When the previous measurement (the old status, seen last) started (ISO); null without withPrevious. */
  previousAt: string | null;
  /** The run of that previous measurement; null without withPrevious. */
  previousRunId: string | null;
}

interface ChangeRow {
  network: string;
  target: string;
  service: string;
  previous_status: Status;
  previous_layer: Layer | null;
  status: Status;
  layer: Layer | null;
  failure: string | null;
  changed_at: string;
  run_id: string;
  measurement_id: string;
  previous_at?: string;
  previous_run_id?: string;
}

/** The SQL statusChanges runs for `query`, for EXPLAIN QUERY PLAN in tests and benchmarks. */
export function statusChangesSql(query: ChangesQuery = {}): string {
  const where: string[] = [];
  if (query.since != null) where.push("changed_at >= @since");
  if (query.until != null) where.push("changed_at < @until");
  if (query.network != null) where.push("network = @network");
  if (query.target != null) where.push("target = @target");
  const dir = query.oldestFirst ? "ASC" : "DESC";
  // measurements_changes holds only the changes, by time: a week's changes are read without
  // touching the rest of the year.
  const columns = [
    "network", "target", "service", "previous_status", "previous_layer", "status", "layer", "failure",
    "changed_at", "run_id", "measurement_id",
    ...(query.withPrevious === false ? [] : ["previous_at", "previous_run_id"]),
  ];
  return `SELECT ${columns.join(", ")} FROM status_changes ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY changed_at ${dir}, network, target`;
}

/**
 * The changes matching `query`, newest first (or oldest first). Rows are read one at a time
 * (statement.iterate()); the connection runs no other statement until the iteration ends.
 */
export function* statusChanges(db: Database.Database, query: ChangesQuery = {}): Generator<StatusChange> {
  const params: Record<string, string> = {};
  if (query.since != null) params.since = query.since;
  if (query.until != null) params.until = query.until;
  if (query.network != null) params.network = query.network;
  if (query.target != null) params.target = query.target;
  const stmt = db.prepare<[Record<string, string>], ChangeRow>(statusChangesSql(query));
  for (const r of stmt.iterate(params)) {
    yield {
      network: r.network,
      target: r.target,
      service: r.service,
      from: { status: r.previous_status, layer: r.previous_layer },
      to: { status: r.status, layer: r.layer, failure: r.failure },
      at: r.changed_at,
      runId: r.run_id,
      measurementId: r.measurement_id,
      previousAt: r.previous_at ?? null,
      previousRunId: r.previous_run_id ?? null,
    };
  }
}

/** Which changes meaningfulChanges reads. */
export interface MeaningfulChangesQuery {
  /** Only changes at or after this ISO time. */
  since?: string | null;
  /** Only this network key ("" for unlabelled runs). */
  network?: string | null;
  /** Only these targets (canonical form, as stored). */
  targets?: readonly string[] | null;
  /** Only the targets of this service (as stored). */
  service?: string | null;
  /** Only the changes this run saw (with `since` at its start). */
  runId?: string | null;
}

interface PointRow {
  network: string;
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  failure: string | null;
  started_at: string;
  run_id: string;
  id: string;
  controlled: 0 | 1;
}

// A control helper answered for this measurement: the same test as the analysis's (a control
// observation without a failure).
const CONTROLLED = "(control_json IS NOT NULL AND json_extract(control_json, '$.failure') IS NULL)";
const POINT_COLUMNS = `network, target, service, status, layer, failure, started_at, run_id, id, ${CONTROLLED} AS controlled`;

/** How far back, in measurements of one target, the state before --since is looked for. */
const LOOK_BACK = 1000;

/**
 * The changes of state by the rules of change-rules.ts (runs that could not measure and
 * helper-less runs next to helper runs are not changes), newest first. Each (network, target)
 * is folded oldest first from its state before `since`, read backwards through
 * measurements_network_target_started_at.
 */
export function meaningfulChanges(db: Database.Database, query: MeaningfulChangesQuery = {}): StatusChange[] {
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (query.since != null) {
    where.push("started_at >= @since");
    params.since = query.since;
  }
  if (query.network != null) {
    where.push("network = @network");
    params.network = query.network;
  }
  if (query.service != null) {
    where.push("service = @service");
    params.service = query.service;
  }
  if (query.targets?.length) {
    where.push(`target IN (${query.targets.map((_, i) => `@t${i}`).join(", ")})`);
    query.targets.forEach((t, i) => (params[`t${i}`] = t));
  }
  const rows = db
    .prepare<[Record<string, string>], PointRow>(
      `SELECT ${POINT_COLUMNS} FROM measurements ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY network, target, started_at, rowid`,
    )
    .all(params);
  const before = db.prepare<[string, string, string], PointRow>(
    `SELECT ${POINT_COLUMNS} FROM measurements WHERE network = ? AND target = ? AND started_at < ? ORDER BY started_at DESC, rowid DESC LIMIT ${LOOK_BACK}`,
  );
  const point = (r: PointRow) => ({ ...r, controlled: r.controlled === 1 });
  const out: StatusChange[] = [];
  let key = "";
  let state: ReturnType<typeof point> | null = null;
  for (const raw of rows) {
    const r = point(raw);
    const k = `${r.network}\u0000${r.target}`;
    if (k !== key) {
      key = k;
      state = query.since != null ? stateFromNewest(before.all(r.network, r.target, query.since).map(point)) : null;
    }
    const verdict = judge(state, r);
    if (verdict === "skip") continue;
    if (verdict === "change" && state && (query.runId == null || r.run_id === query.runId)) {
      out.push({
        network: r.network,
        target: r.target,
        service: r.service,
        from: { status: state.status, layer: state.layer },
        to: { status: r.status, layer: r.layer, failure: r.failure },
        at: r.started_at,
        runId: r.run_id,
        measurementId: r.id,
        previousAt: state.started_at,
        previousRunId: state.run_id,
      });
    }
    state = r;
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.network.localeCompare(b.network) || a.target.localeCompare(b.target)));
}
