/**
 * What the HTML report shows, computed from the results database's rows (read by
 * store/report-rows.ts, with the SQL of store/report-sql.ts): the runs of the period, each
 * endpoint's timeline per network (bucketed, see report-buckets.ts), its latest verdict, the
 * status changes and the run list.
 *
 * A year of hourly runs of a hundred targets on three networks is 2.6 million measurements,
 * and the report does not read them one by one. It reads the runs (one row an hour), two rows
 * per endpoint (its first measurement of the period and its latest), and the status changes
 * (the small covering index measurements_changes). Between two changes an endpoint's status
 * and layer stay the same (that is what the store's `changed` column means), so its timeline
 * is a few stretches of runs with one verdict each, and a cell's counts are how many of the
 * cell's runs measured it. Which runs those are is known without counting rows when a run
 * vouches for it: a run that `completed` measured each of its `target_count` targets once
 * (docs/database.md, "Run states"), so when that count equals the number of endpoints whose
 * measurements on the network began before the run and went on after it, it measured every
 * one of them, once. Runs that do not vouch for themselves (interrupted, failed, still
 * running, overlapping another run of the network in time, or with another count, as when
 * the target list changed), and every run of a timeline with a cell per run, are read row by
 * row: their measurements, through measurements_run_id. Measurements are placed in runs by
 * time, which the overlap check makes safe for the vouched runs.
 *
 * A bucket of vouched runs names the failure of the measurement that began its worst stretch
 * (a stretch's later measurements may name another one with the same status and layer); a
 * cell of one run names its own. Memory grows with runs, endpoints and cells, never with
 * measurements.
 */
import { summarizeServices, type ServiceSummary } from "../analysis/service.js";
import type { Layer, Status } from "../analysis/verdict.js";
import { isoTimeMs } from "../base/iso-time.js";
import { networkName } from "../store/network.js";
import type { ReportListedChangeRow, ReportNetworkParams, ReportRows, ReportRunColumns } from "../store/report-rows.js";
import { chooseAxis, cellOf, MAX_CELLS, StripCells, type Axis } from "./report-buckets.js";
import { STATUS_RANK, STATUSES_WORST_FIRST } from "../analysis/status-words.js";

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
  /** The new verdict; its evidence is the first line of the measurement's evidence. */
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

/** The runs of one network in the period, oldest first, as parallel arrays. */
interface NetworkRuns {
  /** The key, as stored and compared. */
  key: string;
  /** The name, as shown. */
  name: string;
  rowids: number[];
  /** When each run started and finished (null: no finished_at), in milliseconds since 1970. */
  times: number[];
  ends: Array<number | null>;
  completed: number[];
  planned: Array<number | null>;
}

/** A verdict as the timelines use it. */
interface Verdict {
  status: Status;
  layer: Layer | null;
  failure: string | null;
}

/** An endpoint while its timeline is filled. */
interface EndpointAcc {
  target: string;
  service: string;
  latest: LatestVerdict;
  cells: StripCells;
  measured: number;
  /** Its first and latest measurements of the period, as run indexes. */
  first: number;
  last: number;
  /** Its verdict from run index `since` on, up to its next change. */
  verdict: Verdict;
  since: number;
}

/** What one network contributes to the report. */
interface NetworkResult {
  runs: NetworkRuns;
  axis: Axis;
  /** Measurements stored by each run. */
  measured: Int32Array;
  /** Each run's measurements by status: 5 counters a run, indexed by STATUS_RANK. */
  counts: Int32Array;
  endpoints: EndpointAcc[];
  /** Its newest changes, at most the report's maxChanges. */
  changes: ReportListedChangeRow[];
  changeCount: number;
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

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the last element of sorted `list` that is <= `value`, or -1. */
function lastAtOrBefore(list: readonly number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** An ISO time of the database (text) as the runs' times are: milliseconds since 1970. */
const iso = (ms: number) => new Date(ms).toISOString();

/** When runs ended, as far as overlaps go: finished_at, else their last measurement's start. */
function runEnds(rows: ReportRows) {
  // A run without finished_at (running, or left so by a process on another machine) lasted at
  // least until its last measurement; the latest run may still be going.
  return (rowid: number, end: number | null, start: number, latest: boolean): number => {
    if (end !== null) return end;
    if (latest) return Infinity;
    const last = rows.runLastMeasurement(rowid);
    return last === null ? start : isoTimeMs(last);
  };
}

/** When the network's last run before the period (@since) ended; null when it has none, -Infinity when nothing tells. */
function endBefore(rows: ReportRows, runs: NetworkRuns, since: string): number | null {
  const before = rows.runBefore(since, runs.key);
  if (!before) return null;
  return runEnds(rows)(before.rowid, before.finished_at === null ? null : isoTimeMs(before.finished_at), -Infinity, false);
}

/**
 * Which runs of a network overlap another of its runs in time (or the run before the period,
 * which ended at `previousEnd`): their measurements may interleave with another run's, so time
 * does not tell whose they are.
 */
function overlapping(rows: ReportRows, runs: NetworkRuns, previousEnd: number | null): Uint8Array {
  const n = runs.rowids.length;
  const endOf = runEnds(rows);
  const ends = new Float64Array(n);
  for (let i = 0; i < n; i++) ends[i] = endOf(runs.rowids[i]!, runs.ends[i]!, runs.times[i]!, i === n - 1);
  const overlap = new Uint8Array(n);
  let latestEnd = previousEnd ?? -Infinity;
  for (let i = 0; i < n; i++) {
    // Runs are in order of their start: one overlaps a later run when it ends after the next
    // one starts, and an earlier run when one of those ended after it started.
    if (latestEnd > runs.times[i]! || (i + 1 < n && ends[i]! > runs.times[i + 1]!)) overlap[i] = 1;
    if (ends[i]! > latestEnd) latestEnd = ends[i]!;
  }
  return overlap;
}

/** What one network's reads are asked with. */
interface NetworkParams {
  params: ReportNetworkParams;
  /** When the network's run before the period ended, in ms (null without one, or without a period). */
  previousEnd: number | null;
  /** Whether that run was still going when the period's first run started. */
  straddled: boolean;
}

function networkParams(rows: ReportRows, runs: NetworkRuns, q: ReportQuery): NetworkParams {
  // The period's measurements start no earlier than its first run.
  const from = q.since === null ? "" : iso(runs.times[0]!);
  const params: ReportNetworkParams = { network: runs.key, from };
  // A run from before the period still going when the period's first run started.
  const previousEnd = q.since === null ? null : endBefore(rows, runs, q.since);
  const straddled = previousEnd !== null && previousEnd > runs.times[0]!;
  if (straddled) params.since = q.since!;
  return { params, previousEnd, straddled };
}

/** Reads one network's timelines, run counts and changes. */
function loadNetwork(rows: ReportRows, runs: NetworkRuns, q: ReportQuery, maxCells: number, maxChanges: number, { params, previousEnd, straddled }: NetworkParams): NetworkResult {
  const n = runs.rowids.length;
  const axis = chooseAxis(runs.times, maxCells);
  // The run a measurement belongs to: the last one started before it. Runs for which that can
  // be wrong (overlapping ones) are read row by row.
  const runAt = (at: number) => Math.max(0, lastAtOrBefore(runs.times, at));

  // Runs to cells: a cell is a run, or a time bucket of consecutive runs.
  const cellOfRun = new Int32Array(n);
  for (let i = 0; i < n; i++) cellOfRun[i] = cellOf(axis, i, runs.times[i]!);
  // The first run after run i's cell.
  const cellEnd = new Int32Array(n);
  for (let i = n - 1; i >= 0; i--) cellEnd[i] = i + 1 < n && cellOfRun[i + 1] === cellOfRun[i] ? cellEnd[i + 1]! : i + 1;

  // 1. The endpoints: their latest verdict, and the runs from their first to their latest measurement.
  const endpoints = new Map<string, EndpointAcc>();
  // +1 at an endpoint's first run, -1 after its last.
  const active = new Int32Array(n + 1);
  for (const row of rows.endpoints(params)) {
    const first = runAt(isoTimeMs(row.firstAt));
    const last = Math.max(first, runAt(isoTimeMs(row.latestAt)));
    endpoints.set(row.target, {
      target: row.target,
      service: row.service,
      latest: { at: row.latestAt, status: row.status, layer: row.layer, failure: row.failure, evidence: parseEvidence(row.evidence) },
      cells: new StripCells(axis.cells),
      measured: 0,
      first,
      last,
      verdict: { status: row.firstStatus, layer: row.firstLayer, failure: row.firstFailure },
      since: first,
    });
    active[first]!++;
    active[last + 1]!--;
  }

  // 2. The runs that vouch for their measurements (see the top of this file). On a timeline
  // with a cell per run every run is read, so that each cell shows its own measurement.
  const vouched = new Uint8Array(n);
  if (axis.mode === "time") {
    const overlap = overlapping(rows, runs, previousEnd);
    let endpointsNow = 0;
    for (let i = 0; i < n; i++) {
      endpointsNow += active[i]!;
      vouched[i] = runs.completed[i] === 1 && runs.planned[i] === endpointsNow && overlap[i] === 0 ? 1 : 0;
    }
  }
  // How many vouched runs precede each run, and the latest vouched run at or before it.
  const vouchedBefore = new Int32Array(n + 1);
  const lastVouched = new Int32Array(n);
  for (let i = 0, latest = -1; i < n; i++) {
    vouchedBefore[i + 1] = vouchedBefore[i]! + vouched[i]!;
    if (vouched[i]) latest = i;
    lastVouched[i] = latest;
  }
  const anyVouched = vouchedBefore[n]! > 0;

  // Per status and run: +1 where a stretch of an endpoint with that status begins, -1 after it.
  const stretches = new Int32Array(5 * (n + 1));
  // An endpoint had verdict `v` over runs [a, b): each vouched run among them measured it once,
  // so each cell gets as many measurements as it has vouched runs there. The cell's failure is
  // that of the measurement that began the stretch.
  const stretch = (ep: EndpointAcc, a: number, b: number, v: Verdict) => {
    if (!anyVouched || b <= a) return;
    const rank = STATUS_RANK[v.status];
    stretches[rank * (n + 1) + a]!++;
    stretches[rank * (n + 1) + b]!--;
    for (let i = a; i < b; ) {
      const end = Math.min(b, cellEnd[i]!);
      const k = vouchedBefore[end]! - vouchedBefore[i]!;
      if (k > 0) {
        ep.cells.add(cellOfRun[i]!, v.status, v.layer, v.failure, k, lastVouched[end - 1]!);
        ep.measured += k;
      }
      i = end;
    }
  };

  // 3. The changes, oldest first: each ends an endpoint's stretch and begins its next.
  let changeCount = 0;
  for (const [target, status, layer, failure, at, inPeriod] of rows.changes(params, straddled)) {
    changeCount += inPeriod;
    const ep = endpoints.get(target);
    if (!ep) continue;
    const run = Math.min(Math.max(ep.since, runAt(at)), ep.last);
    stretch(ep, ep.since, run, ep.verdict);
    ep.verdict = { status, layer, failure };
    ep.since = run;
  }
  for (const ep of endpoints.values()) stretch(ep, ep.since, ep.last + 1, ep.verdict);

  // 4. Each run's measurements by status: vouched runs' from the stretches, the others' row by row.
  const measured = new Int32Array(n);
  const counts = new Int32Array(5 * n);
  const running = new Int32Array(5);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < 5; s++) running[s]! += stretches[s * (n + 1) + i]!;
    if (!vouched[i]) continue;
    for (let s = 0; s < 5; s++) counts[i * 5 + s] = running[s]!;
    measured[i] = runs.planned[i]!;
  }
  for (let i = 0; i < n; i++) {
    if (vouched[i]) continue;
    const cell = cellOfRun[i]!;
    for (const [target, status, layer, failure] of rows.runMeasurements(runs.rowids[i]!)) {
      measured[i]!++;
      counts[i * 5 + STATUS_RANK[status]]!++;
      const ep = endpoints.get(target);
      if (!ep) continue;
      ep.cells.add(cell, status, layer, failure, 1, i);
      ep.measured++;
    }
  }

  const changes = rows.newestChanges(params, straddled, maxChanges);
  return {
    runs,
    axis,
    measured,
    counts,
    endpoints: [...endpoints.values()].filter((ep) => ep.measured > 0),
    changes,
    changeCount,
  };
}

/** Whether a network's timeline has a cell per run, so that every run's measurements are read (loadNetwork, step 2). */
const readsEveryRun = (times: readonly number[], maxCells: number) => chooseAxis(times, maxCells).mode === "run";

/**
 * The runs whose measurements loadReport will read, from the period's runs (what ReportRows.runs
 * gives), for a store that reads them ahead (store/pg/report-rows.ts): every run of a network
 * whose timeline has a cell per run.
 */
export function runsReadAhead(runs: ReportRunColumns, q: ReportQuery): number[] {
  const byNetwork = new Map<string, { rowids: number[]; times: number[] }>();
  for (let k = 0; k < runs.rowid.length; k++) {
    let net = byNetwork.get(runs.network[k]!);
    if (!net) byNetwork.set(runs.network[k]!, (net = { rowids: [], times: [] }));
    net.rowids.push(runs.rowid[k]!);
    net.times.push(runs.startedAt[k]!);
  }
  const read: number[] = [];
  for (const net of byNetwork.values()) if (readsEveryRun(net.times, q.maxCells ?? MAX_CELLS)) read.push(...net.rowids);
  return read;
}

/** Reads the report's content from the results database's rows (store/report-rows.ts), in one read transaction. */
export function loadReport(rows: ReportRows, q: ReportQuery): ReportData {
  // One snapshot: a run writing meanwhile cannot make the runs, timelines and changes disagree.
  return rows.snapshot(() => readReport(rows, q));
}

function readReport(rows: ReportRows, q: ReportQuery): ReportData {
  const maxCells = q.maxCells ?? MAX_CELLS;
  const maxChanges = q.maxChanges ?? 500;
  const maxRuns = q.maxRuns ?? 500;

  // 1. The runs: small (one row an hour is 8,760 a year), kept as arrays to build each axis.
  const nets = new Map<string, NetworkRuns>();
  // Every run of the period in order, as its network and its index there (two arrays: a
  // year's 105,120 pairs as arrays of two cost more than the rest of this loop).
  const orderNet: NetworkRuns[] = [];
  const orderIndex: number[] = [];
  const runs = rows.runs(q);
  for (let k = 0; k < runs.rowid.length; k++) {
    const key = runs.network[k]!;
    let net = nets.get(key);
    if (!net) {
      net = { key, name: networkName(key), rowids: [], times: [], ends: [], completed: [], planned: [] };
      nets.set(key, net);
    }
    orderNet.push(net);
    orderIndex.push(net.rowids.length);
    net.rowids.push(runs.rowid[k]!);
    net.times.push(runs.startedAt[k]!);
    net.ends.push(runs.finishedAt[k]!);
    net.completed.push(runs.completed[k]!);
    net.planned.push(runs.planned[k]!);
  }

  // 2. Each network's timelines, run counts and changes; the reads of every network named first
  // (ReportRows.willRead), so that a store that fetches ahead can fetch them all at once.
  const results = new Map<NetworkRuns, NetworkResult>();
  const paramsOf = new Map([...nets.values()].map((net) => [net, networkParams(rows, net, q)] as const));
  // A timeline with a cell per run reads every run's measurements (loadNetwork, step 2).
  rows.willRead?.([...paramsOf].map(([net, { params, straddled }]) => ({
    params, straddled, maxChanges, runsRead: readsEveryRun(net.times, maxCells) ? net.rowids : [],
  })));
  for (const net of nets.values()) results.set(net, loadNetwork(rows, net, q, maxCells, maxChanges, paramsOf.get(net)!));

  const runInfo = (net: NetworkRuns, i: number): RunInfo => {
    const r = results.get(net)!;
    const row = rows.run(net.rowids[i]!)!;
    const counts = {} as Record<Status, number>;
    for (const s of STATUSES_WORST_FIRST) counts[s] = r.counts[i * 5 + STATUS_RANK[s]]!;
    return {
      id: row.id,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      state: row.state,
      network: net.name,
      targetCount: row.target_count,
      measured: r.measured[i]!,
      counts,
    };
  };

  // 3. The newest changes of all networks, with what the index does not hold.
  const listed = [...results.values()]
    .flatMap((r) => r.changes.map((c) => ({ network: r.runs.name, c })))
    .sort((a, b) => byText(b.c.at, a.c.at) || b.c.rid - a.c.rid);
  if (listed.length > maxChanges) listed.length = maxChanges;
  const changes: Change[] = listed.map(({ network, c }) => {
    const d = rows.changeDetail(c.rid);
    const evidence = d?.evidence === null || d?.evidence === undefined ? [] : [String(d.evidence)];
    return {
      at: c.at,
      network,
      service: c.service,
      target: c.target,
      from: { at: d?.previousAt ?? c.at, status: c.prev_status, layer: c.prev_layer, failure: d?.previousFailure ?? null },
      to: { at: c.at, status: c.status, layer: c.layer, failure: c.failure, evidence },
    };
  });

  const networks: NetworkReport[] = [...results.values()]
    .sort((a, b) => byText(a.runs.name, b.runs.name))
    .map((r) => {
      const byService = new Map<string, EndpointTimeline[]>();
      for (const ep of r.endpoints) {
        const endpoint: EndpointTimeline = { service: ep.service, target: ep.target, cells: ep.cells, measured: ep.measured, latest: ep.latest };
        const list = byService.get(ep.service) ?? [];
        list.push(endpoint);
        byService.set(ep.service, list);
      }
      const services = [...byService]
        .sort(([a], [b]) => byText(a, b))
        .map(([service, endpoints]) => {
          endpoints.sort((a, b) => STATUS_RANK[b.latest.status] - STATUS_RANK[a.latest.status] || byText(a.target, b.target));
          const [summary] = summarizeServices(endpoints.map((e) => ({ service, status: e.latest.status })));
          return { service, summary: summary!, endpoints };
        });
      const n = r.runs.rowids.length;
      return { network: r.runs.name, axis: r.axis, runCount: n, firstRunAt: iso(r.runs.times[0]!), lastRun: runInfo(r.runs, n - 1), services };
    });

  let measurementCount = 0;
  for (const r of results.values()) for (const m of r.measured) measurementCount += m;

  const databaseRunCount = rows.databaseRunCount();
  // Without filters, the runs read are all there are.
  const unfiltered = q.since === null && q.network === null;
  const databaseNetworks = (unfiltered ? [...nets.keys()] : rows.databaseNetworks()).map(networkName).sort(byText);

  const n = orderNet.length;
  const listedRuns: RunInfo[] = [];
  for (let k = n - 1; k >= Math.max(0, n - maxRuns); k--) listedRuns.push(runInfo(orderNet[k]!, orderIndex[k]!));
  return {
    since: q.since,
    network: q.network === null ? null : networkName(q.network),
    networks,
    runCount: n,
    measurementCount,
    runs: listedRuns,
    changes,
    changeCount: [...results.values()].reduce((sum, r) => sum + r.changeCount, 0),
    firstRunAt: n ? iso(orderNet[0]!.times[orderIndex[0]!]!) : null,
    lastRunAt: n ? iso(orderNet[n - 1]!.times[orderIndex[n - 1]!]!) : null,
    databaseRunCount,
    databaseNetworks,
  };
}
