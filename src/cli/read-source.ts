/**
 * Where the reading commands (history, changes, runs, show; export and report have their own) read from: an SQLite file, or
 * the fleet's PostgreSQL database when --db is a postgresql:// URL (docs/fleet.md). Both give
 * the same answers for the same rows (tests/integration/read-contract.test.ts).
 */
import pg from "pg";
import { meaningfulChanges, type MeaningfulChangesQuery, type StatusChange } from "../store/changes.js";
import type { HistoryQuery, Span } from "../store/history.js";
import { historySpans, latestRuns } from "../store/history.js";
import { listNetworks, networkName, type NetworkSummary } from "../store/network.js";
import { listServices } from "../store/names.js";
import { findById, listRuns, type IdMatch, type RunListEntry, type RunListQuery } from "../store/runs.js";
import type { MeasurementRecord, RunRecord } from "../store/store.js";
import { UsageError } from "../base/errors.js";
import { isPgUrl, pgFailure, redactUrl, SESSION_OPTIONS } from "../store/pg/connect.js";
import { PgReader } from "../store/pg/read.js";
import { PG_SCHEMA_VERSION, pgSchemaVersion } from "../store/pg/schema.js";
import { EXIT } from "./exit-codes.js";
import { openForReading, readErrorCode } from "./read-command.js";

/** What history, changes, runs and show read, from either store. */
export interface ReadSource {
  /** The database as people should see it (a URL without its password). */
  path: string;
  historySpans(q: HistoryQuery): Promise<Iterable<Span>>;
  latestRuns(): Promise<Map<string, { runId: string; at: string }>>;
  meaningfulChanges(q: MeaningfulChangesQuery): Promise<StatusChange[]>;
  listNetworks(): Promise<NetworkSummary[]>;
  /** Every service measured, sorted. */
  listServices(): Promise<string[]>;
  /** The newest run, on `network` if given. */
  newestRun(network: string | null): Promise<{ id: string; startedAt: string } | null>;
  /** The newest runs with their counts (runs.ts, listRuns). */
  listRuns(q: RunListQuery): Promise<RunListEntry[]>;
  /** The run or measurement an id prefix names; a UsageError otherwise (runs.ts, findById). */
  findById(prefix: string): Promise<IdMatch>;
  getRun(id: string): Promise<RunRecord | undefined>;
  getMeasurement(id: string): Promise<MeasurementRecord | undefined>;
  /** A run's measurements in the order they started. */
  listMeasurements(runId: string): Promise<MeasurementRecord[]>;
}

/** Opens a PostgreSQL fleet database for reading; a message to print when it cannot be. */
export async function openPgReader(url: string): Promise<{ reader: PgReader; close: () => Promise<void> } | string> {
  const session = () => {
    const c = new pg.Client({ connectionString: url, application_name: "reachprobe", connectionTimeoutMillis: 10_000, options: SESSION_OPTIONS });
    c.on("error", () => {});
    return c;
  };
  const client = session();
  try {
    await client.connect();
    const version = await pgSchemaVersion(client);
    if (version === 0) throw new Error("it holds no reachprobe fleet schema (start reachprobe collector on it first)");
    if (version > PG_SCHEMA_VERSION) throw new Error(`it has schema version ${version}, newer than this reachprobe's ${PG_SCHEMA_VERSION}; upgrade reachprobe`);
    const connect = async () => {
      const c = session();
      await c.connect();
      return c;
    };
    return { reader: new PgReader(client, redactUrl(url), connect), close: () => client.end() };
  } catch (err) {
    await client.end().catch(() => {});
    return pgFailure(url, err).message;
  }
}

/**
 * Opens `db` (a file, or a postgresql:// URL) for reading, runs `body`, and turns a database that
 * cannot be read into a message and exit 1, and a filter that names nothing in it (a UsageError)
 * into a message and exit 2.
 */
export async function withReadSource(db: string, say: (text: string) => void, body: (source: ReadSource) => Promise<number>): Promise<number> {
  if (isPgUrl(db)) {
    const opened = await openPgReader(db);
    if (typeof opened === "string") {
      say(opened);
      return EXIT.FAILURE;
    }
    const r = opened.reader;
    try {
      return await body({
        path: r.path,
        historySpans: (q) => r.historySpans(q),
        latestRuns: () => r.latestRuns(),
        meaningfulChanges: (q) => r.meaningfulChanges(q),
        listNetworks: () => r.listNetworks(),
        listServices: () => r.listServices(),
        newestRun: (network) => r.newestRun(network),
        listRuns: (q) => r.listRuns(q),
        findById: (prefix) => r.findById(prefix),
        getRun: (id) => r.getRun(id),
        getMeasurement: (id) => r.getMeasurement(id),
        listMeasurements: (runId) => r.listMeasurements(runId),
      });
    } catch (err) {
      if (err instanceof UsageError) {
        say(err.message);
        return EXIT.USAGE;
      }
      if (typeof (err as { code?: unknown }).code !== "string" || err instanceof TypeError) throw err;
      say(`cannot read ${r.path}: ${(err as Error).message}`);
      return EXIT.FAILURE;
    } finally {
      await opened.close();
    }
  }
  const store = openForReading(db);
  if (typeof store === "string") {
    say(store);
    return EXIT.FAILURE;
  }
  try {
    return await body({
      path: store.path,
      historySpans: async (q) => historySpans(store.db, q),
      latestRuns: async () => latestRuns(store.db),
      meaningfulChanges: async (q) => meaningfulChanges(store.db, q),
      listNetworks: async () => listNetworks(store.db),
      listServices: async () => listServices(store.db),
      newestRun: async (network) => {
        const r = listRuns(store.db, { limit: 1, network })[0];
        return r ? { id: r.id, startedAt: r.startedAt } : null;
      },
      listRuns: async (q) => listRuns(store.db, q),
      findById: async (prefix) => findById(store.db, prefix),
      getRun: async (id) => store.getRun(id),
      getMeasurement: async (id) => store.getMeasurement(id),
      listMeasurements: async (runId) => store.listMeasurements(runId),
    });
  } catch (err) {
    return readErrorCode(db, err, say);
  } finally {
    store.close();
  }
}

/** Why an empty answer is empty: no measurements at all, or a network that is not in the database. */
export async function emptyHintOf(source: ReadSource, query: { network?: string | null }): Promise<string> {
  const networks = await source.listNetworks();
  if (networks.length === 0) return `The database ${source.path} holds no measurements yet.\n`;
  if (query.network != null && !networks.some((n) => n.network === query.network)) {
    return `No network "${networkName(query.network)}" in ${source.path}; its networks: ${networks.map((n) => networkName(n.network)).join(", ")}.\n`;
  }
  return "";
}
