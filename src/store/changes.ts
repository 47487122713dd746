/**
 * Status changes: every measurement whose status or layer differs from the previous
 * measurement of the same target on the same network, read through the `status_changes` view.
 */
import type Database from "better-sqlite3";
import type { Layer, Status } from "../analysis/verdict.js";
import { judge } from "./change-rules.js";
import { networkKeySql } from "./network.js";

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

/** Where a target's status or layer changed (or its first measurement): an entry of measurements_span_starts. */
interface StartRow {
  rid: number;
  network: string;
  target: string;
  status: Status;
  layer: Layer | null;
  started_at: string;
}

/** What a reported change shows beyond the index. */
interface DetailRow {
  service: string;
  failure: string | null;
  run_id: string;
  id: string;
}

// A control helper answered for this measurement: a control observation without a failure (the
// test the analysis makes). control_json is NULL for runs without a helper: no JSON is read then.
const CONTROLLED = "(control_json IS NOT NULL AND json_extract(control_json, '$.failure') IS NULL)";

/**
 * The changes of state by the rules of change-rules.ts (a run that could not measure, or a run
 * without a helper's answer next to runs with one, is not a change), newest first.
 *
 * Only where a target's status or layer changed can its state change, except that a stretch of
 * one suspect status (blocked, anomaly) may begin without a helper's answer and get one later.
 * So each target is folded over its stretches: the entries of the small partial index
 * measurements_span_starts, all time, so that the state at `since` is exact, read from the index
 * alone. Rows are read only where they matter: whether a helper answered, for the suspect
 * stretches of networks that ever had a helper (and, when its first measurement had none, the
 * first one in the stretch that had); the service, failure and ids of the changes reported, and
 * the measurement before each.
 */
export function meaningfulChanges(db: Database.Database, query: MeaningfulChangesQuery = {}): StatusChange[] {
  const where = ["changed IS NOT 0"];
  const params: Record<string, string> = {};
  if (query.network != null) {
    where.push("network = @network");
    params.network = query.network;
  }
  let targets = query.targets?.length ? [...query.targets] : null;
  if (query.service != null) {
    // The service is not in the index: its targets, from each target's first measurement.
    const ofService = db
      .prepare<[string], string>(`SELECT DISTINCT target FROM measurements INDEXED BY measurements_firsts WHERE changed IS NULL AND service = ?`)
      .pluck()
      .all(query.service);
    targets = targets ? targets.filter((t) => ofService.includes(t)) : ofService;
    if (targets.length === 0) return [];
  }
  if (targets) {
    where.push(`target IN (${targets.map((_, i) => `@t${i}`).join(", ")})`);
    targets.forEach((t, i) => (params[`t${i}`] = t));
  }
  const starts = db.prepare<[Record<string, string>], StartRow>(
    `SELECT rowid AS rid, network, target, status, layer, started_at
     FROM measurements INDEXED BY measurements_span_starts WHERE ${where.join(" AND ")}
     ORDER BY network, target, started_at, rowid`,
  );
  const controlledAt = db.prepare<[number], 0 | 1>(`SELECT ${CONTROLLED} FROM measurements WHERE rowid = ?`).pluck();
  const firstControlled = db.prepare<[string, string, string, string], StartRow>(
    `SELECT rowid AS rid, network, target, status, layer, started_at
     FROM measurements WHERE network = ? AND target = ? AND started_at > ? AND started_at < ? AND ${CONTROLLED}
     ORDER BY started_at, rowid LIMIT 1`,
  );
  const detail = db.prepare<[number], DetailRow>(`SELECT service, failure, run_id, id FROM measurements WHERE rowid = ?`);
  const lastBefore = db.prepare<[string, string, string], { started_at: string; run_id: string }>(
    `SELECT started_at, run_id FROM measurements WHERE network = ? AND target = ? AND started_at < ? ORDER BY started_at DESC, rowid DESC LIMIT 1`,
  );
  const helperNetworks = new Set(
    db.prepare<[], string>(`SELECT DISTINCT ${networkKeySql("r")} FROM runs AS r WHERE json_extract(r.options_json, '$.control') IS NOT NULL`).pluck().all(),
  );
  const since = query.since ?? "";
  const out: StatusChange[] = [];
  const foldTarget = (points: StartRow[]) => {
    const helper = helperNetworks.has(points[0]!.network);
    // The state, and where its stretch ends (the start of the next one): the measurement before a change.
    let state: { status: Status; layer: Layer | null; controlled: boolean; end: string | null } | null = null;
    points.forEach((p, i) => {
      const end = points[i + 1]?.started_at ?? null;
      const suspect = p.status === "blocked" || p.status === "anomaly";
      // Without a helper on the network, no measurement of it had a helper's answer.
      const controlled = helper && suspect && controlledAt.get(p.rid) === 1;
      const later = helper && suspect && !controlled ? (firstControlled.get(p.network, p.target, p.started_at, end ?? "\uffff") ?? null) : null;
      let at = p;
      let verdict = judge(state, { status: p.status, layer: p.layer, controlled });
      if (verdict === "skip" && later) {
        // Skipped for want of a helper's answer, which came later in the stretch.
        at = later;
        verdict = judge(state, { status: p.status, layer: p.layer, controlled: true });
      }
      if (verdict === "skip") return;
      if (verdict === "change" && state && at.started_at >= since) {
        const d = detail.get(at.rid)!;
        if (query.runId == null || d.run_id === query.runId) {
          const before = lastBefore.get(p.network, p.target, state.end ?? at.started_at);
          out.push({
            network: at.network,
            target: at.target,
            service: d.service,
            from: { status: state.status, layer: state.layer },
            to: { status: at.status, layer: at.layer, failure: d.failure },
            at: at.started_at,
            runId: d.run_id,
            measurementId: d.id,
            previousAt: before?.started_at ?? null,
            previousRunId: before?.run_id ?? null,
          });
        }
      }
      // A helper's answer later in the stretch makes it the helper's verdict (judge: adopt).
      state = { status: p.status, layer: p.layer, controlled: controlled || later !== null, end };
    });
  };
  // Read whole (index entries, a few thousand for a year), so the lookups never run inside an iteration.
  let group: StartRow[] = [];
  for (const r of starts.all(params)) {
    if (group.length && (group[0]!.network !== r.network || group[0]!.target !== r.target)) {
      foldTarget(group);
      group = [];
    }
    group.push(r);
  }
  if (group.length) foldTarget(group);
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.network.localeCompare(b.network) || a.target.localeCompare(b.target)));
}
