/**
 * The rows the HTML report reads from the results database (report-sql.ts holds the SQL), as
 * plain data: src/report/ computes and renders from them and never sees a statement. Each
 * statement is prepared on first use and then reused, and rows are streamed where the report
 * streams them, so that memory grows with runs, endpoints and cells, never with measurements.
 */
import type Database from "better-sqlite3";
import type { Layer, Status } from "../analysis/verdict.js";
import {
  CHANGE_DETAIL_SQL,
  changesSql,
  DATABASE_NETWORKS_SQL,
  DATABASE_RUNS_SQL,
  ENDPOINTS_SQL,
  newestChangesSql,
  RUN_BEFORE_SQL,
  RUN_LAST_MEASUREMENT_SQL,
  RUN_MEASUREMENTS_SQL,
  RUN_SQL,
  runFilter,
  runsSql,
} from "./report-sql.js";

/**
 * The period's runs, oldest first, as columns: a year of hourly runs on twelve networks is
 * 105,120 runs, which as arrays of numbers are a few objects and as rows 105,120 of them (and
 * as many times made and collected). Times are milliseconds since 1970: the report compares and
 * buckets runs by time, and would parse the ISO text 210,240 times.
 */
export interface ReportRunColumns {
  rowid: number[];
  startedAt: number[];
  /** null: no finished_at. */
  finishedAt: Array<number | null>;
  /** 1 when its state is `completed`, else 0. */
  completed: number[];
  /** Its target_count. */
  planned: Array<number | null>;
  /** Its network key (network.ts). */
  network: string[];
}

/** One run as runsSql() gives it: rowid, started_at and finished_at in ms, completed, target_count, network key. */
type ReportRunRow = [number, number, number | null, number, number | null, string];

/** One run as the page shows it. */
export interface ReportRunDetail {
  id: string;
  started_at: string;
  finished_at: string | null;
  state: string;
  target_count: number | null;
}

/** The last run of a network before the period: its rowid and finished_at. */
export interface ReportRunBefore {
  rowid: number;
  finished_at: string | null;
}

/** target, status, layer, failure of one measurement of a run. */
export type ReportRunMeasurementRow = [string, Status, Layer | null, string | null];

/** One endpoint of a network: its latest measurement (with evidence_json) and its first of the period. */
export interface ReportEndpointRow {
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  failure: string | null;
  latestAt: string;
  evidence: string;
  firstAt: string;
  firstStatus: Status;
  firstLayer: Layer | null;
  firstFailure: string | null;
}

/** target, status, layer, failure, started_at in milliseconds since 1970, whether it is one of the period's (0 or 1). */
export type ReportChangeRow = [string, Status, Layer | null, string | null, number, number];

/** A change as the change list shows it, from the index; rid is its measurement's rowid. */
export interface ReportListedChangeRow {
  at: string;
  rid: number;
  service: string;
  target: string;
  prev_status: Status;
  prev_layer: Layer | null;
  status: Status;
  layer: Layer | null;
  failure: string | null;
}

/** What the change list shows beyond the index (CHANGE_DETAIL_SQL). */
export interface ReportChangeDetail {
  evidence: unknown;
  previousAt: string | null;
  previousFailure: string | null;
}

/** The parameters of one network's queries: its key, and the start of the period (@from, "" for all). */
export interface ReportNetworkParams {
  network: string;
  from: string;
  /** Set when a run from before the period straddles its start (report-sql.ts, IN_PERIOD_RUN). */
  since?: string;
}

/** The report's reads of one database. */
export interface ReportRows {
  /** Runs `read` in one read transaction, so that a run writing meanwhile cannot make its reads disagree. */
  snapshot<T>(read: () => T): T;
  /** The runs started since `since` from network key `network` (null for all), oldest first. */
  runs(filter: { since: string | null; network: string | null }): ReportRunColumns;
  /** One run by rowid. */
  run(rowid: number): ReportRunDetail | undefined;
  /** The network's last run started before `since`. */
  runBefore(since: string, network: string): ReportRunBefore | undefined;
  /** When the last measurement of a run (by rowid) started; null without any. */
  runLastMeasurement(rowid: number): string | null;
  /** The measurements of one run (by rowid), in the order they were written. */
  runMeasurements(rowid: number): Iterable<ReportRunMeasurementRow>;
  /** One row per endpoint of a network measured since params.from. */
  endpoints(params: ReportNetworkParams): Iterable<ReportEndpointRow>;
  /** The status changes of a network since params.from, oldest first. */
  changes(params: ReportNetworkParams, straddled: boolean): Iterable<ReportChangeRow>;
  /** The newest `limit` changes of a network since params.from. */
  newestChanges(params: ReportNetworkParams, straddled: boolean, limit: number): ReportListedChangeRow[];
  /** A change's first evidence line and the measurement before it, by the change's rowid. */
  changeDetail(rid: number): ReportChangeDetail | undefined;
  /** Runs in the whole database. */
  databaseRunCount(): number;
  /** Every network key in the database. */
  databaseNetworks(): string[];
  /**
   * Told, before any of them is read, which networks' endpoints, changes and newest changes the
   * report will read (with these parameters), and which runs' measurements it will read
   * whatever those say (`runsRead`, rowids): a store that answers from rows fetched ahead (the
   * fleet's, store/pg/report-rows.ts) may stop the pass here to fetch them. Optional.
   */
  willRead?(reads: ReadonlyArray<{ params: ReportNetworkParams; straddled: boolean; maxChanges: number; runsRead: readonly number[] }>): void;
}

/** The report's reads of an open database (read-only is enough). */
export function reportRows(db: Database.Database): ReportRows {
  const prepared = new Map<string, Database.Statement>();
  // Prepared on first use, then reused; `raw` ones give arrays, `pluck` ones the first column.
  const statement = <P extends unknown[] | {}, R>(text: string, mode: "object" | "raw" | "pluck" = "object"): Database.Statement<P, R> => {
    const key = `${mode}\n${text}`;
    let stmt = prepared.get(key);
    if (!stmt) {
      stmt = db.prepare(text);
      if (mode === "raw") stmt.raw();
      else if (mode === "pluck") stmt.pluck();
      prepared.set(key, stmt);
    }
    return stmt as unknown as Database.Statement<P, R>;
  };
  return {
    snapshot: (read) => db.transaction(read)(),
    runs(filter) {
      const { where, params } = runFilter(filter);
      const c: ReportRunColumns = { rowid: [], startedAt: [], finishedAt: [], completed: [], planned: [], network: [] };
      for (const [rowid, startedAt, finishedAt, completed, planned, network] of statement<Record<string, string>, ReportRunRow>(runsSql(where), "raw").iterate(params)) {
        c.rowid.push(rowid);
        c.startedAt.push(startedAt);
        c.finishedAt.push(finishedAt);
        c.completed.push(completed);
        c.planned.push(planned);
        c.network.push(network);
      }
      return c;
    },
    run: (rowid) => statement<[number], ReportRunDetail>(RUN_SQL).get(rowid),
    runBefore: (since, network) => statement<Record<string, string>, ReportRunBefore>(RUN_BEFORE_SQL).get({ since, network }),
    runLastMeasurement: (rowid) => statement<[number], string | null>(RUN_LAST_MEASUREMENT_SQL, "pluck").get(rowid) ?? null,
    runMeasurements: (rowid) => statement<[number], ReportRunMeasurementRow>(RUN_MEASUREMENTS_SQL, "raw").iterate(rowid),
    endpoints: (params) => statement<ReportNetworkParams, ReportEndpointRow>(ENDPOINTS_SQL).iterate(params),
    changes: (params, straddled) => statement<ReportNetworkParams, ReportChangeRow>(changesSql(straddled), "raw").iterate(params),
    newestChanges: (params, straddled, limit) => statement<ReportNetworkParams & { limit: number }, ReportListedChangeRow>(newestChangesSql(straddled)).all({ ...params, limit }),
    changeDetail: (rid) => statement<[number], ReportChangeDetail>(CHANGE_DETAIL_SQL).get(rid),
    databaseRunCount: () => statement<[], number>(DATABASE_RUNS_SQL, "pluck").get() ?? 0,
    databaseNetworks: () => statement<[], string>(DATABASE_NETWORKS_SQL, "pluck").all(),
  };
}
