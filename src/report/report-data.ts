/**
 * What the HTML report shows, read from the results database by streaming rows: the runs of
 * the period, each endpoint's timeline per network (bucketed, see report-buckets.ts), its
 * latest verdict, the status changes and the run list. Memory grows with runs and endpoints,
 * never with measurements: a year of hourly runs of a hundred targets is read row by row.
 */
import type Database from "better-sqlite3";
import { summarizeServices, type ServiceSummary } from "../analysis/service.js";
import type { Layer, Status } from "../analysis/verdict.js";
import { networkKeySql, networkName } from "../store/network.js";
import { chooseAxis, cellOf, MAX_CELLS, StripCells, type Axis } from "./report-buckets.js";
import { STATUS_RANK } from "./report-palette.js";

// The network a run was made from, over `runs r`: the store's one definition (network.ts),
// so that the report's networks and changes are those of history, changes and the views.
const NETWORK_KEY_SQL = networkKeySql("r");

/** What to put in the report. */
export interface ReportQuery {
  /** Only runs started at or after this ISO time; null for all. */
  since: string | null;
  /** Only runs from this network key (store/network.ts; "" for unlabelled); null for all. */
  network: string | null;
  /** Most cells a timeline strip gets (MAX_CELLS by default). */
  maxCells?: number;
  /** Most changes listed, newest first (all are counted). */
  maxChanges?: number;
  /** Most runs listed, newest first (all are counted). */
  maxRuns?: number;
}

/** One run as the run list shows it. */
export interface RunInfo {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  state: string;
  /** The network's name as people read it (networkName). */
  network: string;
  /** Targets the run planned to measure. */
  targetCount: number | null;
  /** Measurements it stored. */
  measured: number;
  /** Its measurements by status. */
  counts: Record<Status, number>;
}

/** One verdict at one time. */
export interface VerdictAt {
  at: string;
  status: Status;
  layer: Layer | null;
  failure: string | null;
}

/** An endpoint's latest verdict, with its evidence. */
export interface LatestVerdict extends VerdictAt {
  evidence: string[];
}

/** One endpoint on one network: its cells and where it stands now. */
export interface EndpointTimeline {
  service: string;
  target: string;
  cells: StripCells;
  latest: LatestVerdict;
  /** How many times it was measured in the period. */
  measured: number;
}

/** One service on one network. */
export interface ServiceTimelines {
  service: string;
  /** The service's current status from its endpoints' latest verdicts. */
  summary: ServiceSummary;
  /** Worst latest verdict first, then by target. */
  endpoints: EndpointTimeline[];
}

/** Everything the report shows about one network. */
export interface NetworkReport {
  network: string;
  axis: Axis;
  runCount: number;
  firstRunAt: string;
  lastRun: RunInfo;
  services: ServiceTimelines[];
}

/** A status change of one endpoint on one network, between two consecutive measurements. */
export interface Change {
  at: string;
  network: string;
  service: string;
  target: string;
  from: VerdictAt;
  to: LatestVerdict;
}

/** The whole report's content. */
export interface ReportData {
  since: string | null;
  /** The network asked for, by name; null for all. */
  network: string | null;
  /** Networks with runs in the period, by name. */
  networks: NetworkReport[];
  runCount: number;
  measurementCount: number;
  /** Newest first, at most maxRuns. */
  runs: RunInfo[];
  /** Newest first, at most maxChanges. */
  changes: Change[];
  changeCount: number;
  firstRunAt: string | null;
  lastRunAt: string | null;
  /** Runs in the whole database, whatever the filters. */
  databaseRunCount: number;
  /** Every network in the database, whatever the filters, by name. */
  databaseNetworks: string[];
}

interface RunRow {
  id: string;
  started_at: string;
  finished_at: string | null;
  state: string;
  target_count: number | null;
  network: string;
}

interface MeasurementRow {
  rid: number;
  run_id: string;
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  failure: string | null;
  started_at: string;
}

interface RunSlot {
  info: RunInfo;
  net: NetworkAcc;
  index: number;
  timeMs: number;
}

interface Seen extends VerdictAt {
  rid: number;
}

interface StripAcc {
  service: string;
  target: string;
  cells: StripCells;
  first: Seen;
  last: Seen;
  measured: number;
}

interface NetworkAcc {
  /** The key, as stored and compared. */
  key: string;
  /** The name, as shown. */
  network: string;
  runs: RunInfo[];
  times: number[];
  axis: Axis | null;
  strips: Map<string, StripAcc>;
}

interface PendingChange {
  at: string;
  network: string;
  service: string;
  target: string;
  from: VerdictAt;
  to: Seen;
}

function filters(q: ReportQuery): { where: string; params: Record<string, string> } {
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

function parseEvidence(json: string | undefined): string[] {
  if (json === undefined) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

/** A change, as the store's `changed` column defines it: another status, or another layer. */
function differs(a: VerdictAt, b: VerdictAt): boolean {
  return a.status !== b.status || a.layer !== b.layer;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Reads the report's content from an open database (read-only is enough). */
export function loadReport(db: Database.Database, q: ReportQuery): ReportData {
  const maxCells = q.maxCells ?? MAX_CELLS;
  const maxChanges = q.maxChanges ?? 500;
  const maxRuns = q.maxRuns ?? 500;
  const { where, params } = filters(q);

  // 1. The runs: small (one row an hour is 8,760 a year), kept whole to build each axis.
  const nets = new Map<string, NetworkAcc>();
  const slots = new Map<string, RunSlot>();
  const runStmt = db.prepare<Record<string, string>, RunRow>(`
    SELECT r.id, r.started_at, r.finished_at, r.state, r.target_count, ${NETWORK_KEY_SQL} AS network
    FROM runs r ${where}
    ORDER BY r.started_at, r.rowid`);
  const allRuns: RunInfo[] = [];
  for (const row of runStmt.iterate(params)) {
    let net = nets.get(row.network);
    if (!net) {
      net = { key: row.network, network: networkName(row.network), runs: [], times: [], axis: null, strips: new Map() };
      nets.set(row.network, net);
    }
    const info: RunInfo = {
      id: row.id,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      state: row.state,
      network: net.network,
      targetCount: row.target_count,
      measured: 0,
      counts: { ok: 0, blocked: 0, anomaly: 0, down: 0, inconclusive: 0 },
    };
    const timeMs = Date.parse(row.started_at);
    slots.set(row.id, { info, net, index: net.runs.length, timeMs });
    net.runs.push(info);
    net.times.push(timeMs);
    allRuns.push(info);
  }
  for (const net of nets.values()) net.axis = chooseAxis(net.times, maxCells);

  // 2. The measurements, streamed in run order: each lands in its endpoint's cell, and a
  // status or layer different from the endpoint's previous one on that network is a change
  // (as the store's `changed` column has it). An endpoint is a target on a network; its
  // service is the one it was last measured under.
  const pending: PendingChange[] = [];
  let changeCount = 0;
  let measurementCount = 0;
  const byNewest = (a: PendingChange, b: PendingChange) => byText(b.at, a.at) || b.to.rid - a.to.rid;
  const addChange = (c: PendingChange) => {
    changeCount++;
    pending.push(c);
    // Only the newest maxChanges are listed: trim now and then instead of keeping them all.
    if (pending.length >= 2 * maxChanges + 64) {
      pending.sort(byNewest);
      pending.length = maxChanges;
    }
  };
  const mStmt = db.prepare<Record<string, string>, MeasurementRow>(`
    SELECT m.rowid AS rid, m.run_id, m.target, m.service, m.status, m.layer, m.failure, m.started_at
    FROM runs r JOIN measurements m ON m.run_id = r.id
    ${where}
    ORDER BY r.started_at, r.rowid`);
  // Within a run, rows come in measurements_run_id's order, (run_id, rowid): the order they
  // were written, with no sort of a year of rows.
  for (const row of mStmt.iterate(params)) {
    const slot = slots.get(row.run_id);
    if (!slot) continue;
    measurementCount++;
    slot.info.measured++;
    slot.info.counts[row.status]++;
    const net = slot.net;
    const axis = net.axis!;
    const seen: Seen = { at: row.started_at, status: row.status, layer: row.layer, failure: row.failure, rid: row.rid };
    let strip = net.strips.get(row.target);
    if (!strip) {
      strip = { service: row.service, target: row.target, cells: new StripCells(axis.cells), first: seen, last: seen, measured: 0 };
      net.strips.set(row.target, strip);
    } else if (differs(strip.last, seen)) {
      addChange({ at: row.started_at, network: net.network, service: row.service, target: row.target, from: strip.last, to: seen });
    }
    strip.service = row.service;
    strip.last = seen;
    strip.measured++;
    strip.cells.add(cellOf(axis, slot.index, slot.timeMs), row.status, row.layer, row.failure);
  }

  // 3. With --since, an endpoint's first measurement in the period is a change when the one
  // before the period differed: `changes --since` counts it too.
  if (q.since !== null) {
    const before = db.prepare<[string, string, string], VerdictAt>(`
      SELECT m.started_at AS at, m.status, m.layer, m.failure
      FROM measurements m JOIN runs r ON r.id = m.run_id
      WHERE m.target = ? AND ${NETWORK_KEY_SQL} = ? AND r.started_at < ?
      ORDER BY m.started_at DESC, m.rowid DESC LIMIT 1`);
    for (const net of nets.values()) {
      for (const s of net.strips.values()) {
        const prev = before.get(s.target, net.key, q.since);
        if (prev && differs(prev, s.first)) {
          addChange({ at: s.first.at, network: net.network, service: s.service, target: s.target, from: prev, to: s.first });
        }
      }
    }
  }
  pending.sort(byNewest);
  if (pending.length > maxChanges) pending.length = maxChanges;

  // 4. Evidence only for what is shown: the listed changes and each endpoint's latest verdict.
  const evidenceStmt = db.prepare<[number], { evidence_json: string }>(`SELECT evidence_json FROM measurements WHERE rowid = ?`);
  const evidenceOf = (rid: number) => parseEvidence(evidenceStmt.get(rid)?.evidence_json);
  const changes: Change[] = pending.map((c) => ({
    at: c.at,
    network: c.network,
    service: c.service,
    target: c.target,
    from: { at: c.from.at, status: c.from.status, layer: c.from.layer, failure: c.from.failure },
    to: { at: c.to.at, status: c.to.status, layer: c.to.layer, failure: c.to.failure, evidence: evidenceOf(c.to.rid) },
  }));

  const networks: NetworkReport[] = [...nets.values()]
    .sort((a, b) => byText(a.network, b.network))
    .map((net) => {
      const byService = new Map<string, EndpointTimeline[]>();
      for (const s of net.strips.values()) {
        const { rid, ...last } = s.last;
        const endpoint: EndpointTimeline = { service: s.service, target: s.target, cells: s.cells, measured: s.measured, latest: { ...last, evidence: evidenceOf(rid) } };
        const list = byService.get(s.service) ?? [];
        list.push(endpoint);
        byService.set(s.service, list);
      }
      const services = [...byService]
        .sort(([a], [b]) => byText(a, b))
        .map(([service, endpoints]) => {
          endpoints.sort((a, b) => STATUS_RANK[b.latest.status] - STATUS_RANK[a.latest.status] || byText(a.target, b.target));
          const [summary] = summarizeServices(endpoints.map((e) => ({ service, status: e.latest.status })));
          return { service, summary: summary!, endpoints };
        });
      return { network: net.network, axis: net.axis!, runCount: net.runs.length, firstRunAt: net.runs[0]!.startedAt, lastRun: net.runs[net.runs.length - 1]!, services };
    });

  const totals = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM runs`).get()!;
  const databaseNetworks = db
    .prepare<[], { network: string }>(`SELECT DISTINCT ${NETWORK_KEY_SQL} AS network FROM runs r`)
    .all()
    .map((r) => networkName(r.network))
    .sort(byText);

  return {
    since: q.since,
    network: q.network === null ? null : networkName(q.network),
    networks,
    runCount: allRuns.length,
    measurementCount,
    runs: allRuns.slice(-maxRuns).reverse(),
    changes,
    changeCount,
    firstRunAt: allRuns[0]?.startedAt ?? null,
    lastRunAt: allRuns[allRuns.length - 1]?.startedAt ?? null,
    databaseRunCount: totals.n,
    databaseNetworks,
  };
}
