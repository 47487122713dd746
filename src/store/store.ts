/**
 * The store: the one writer of the results database. It records runs and measurements as
 * they happen and reads them back; it never interprets them (that is analysis/'s job).
 */
import { randomUUID } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { withAddon } from "./sqlite-addon.js";
import { makeDirs } from "../base/make-dirs.js";
import { hashHostname, isProcessAlive } from "../base/process-identity.js";
import type { Layer, Status, Verdict } from "../analysis/verdict.js";
import type { Failure } from "../net/failures.js";
import type { ControlObservation, Observation } from "../probes/observation.js";
import { BlobStore, type BlobRow } from "./blobs.js";
import { StoreError } from "./errors.js";
import { networkKeySql } from "./network.js";
import { packControl, packObservations, unpackControl, unpackObservations, type GetBlobText } from "./observation-refs.js";
import { CURRENT_SCHEMA_VERSION, INSERT_MEASUREMENT_SQL, knownSchemaVersion, migrate } from "./schema.js";
import { APPLICATION_ID, ownership } from "./application-id.js";

/** The state column of a run. */
export type RunState = "running" | "completed" | "interrupted" | "failed";

/** The states a run can be finished with. */
export type FinalRunState = Exclude<RunState, "running">;

/** How to open a database. */
export interface OpenOptions {
  /** Open without writing anything: no directory creation, no migration, no WAL switch. */
  readonly?: boolean;
  /** The host name to hash into runs.hostname_hash; defaults to os.hostname(). */
  hostname?: string;
  /** The clock for finished_at; defaults to the system clock. */
  now?: () => Date;
}

/** What a run is started with. */
export interface StartRunInput {
  /** A UUID; one is made when absent. */
  id?: string;
  startedAt: Date | string;
  /** The reachprobe version that made the run. */
  version: string;
  /** The run's options as JSON; the caller leaves out anything personal. */
  options: unknown;
  networkLabel?: string | null;
  targetCount: number;
  /** The result of the local-network check, if one was made. */
  canary?: unknown;
  probeAsn?: number | null;
  probeCc?: string | null;
}

/** One target's finished measurement. */
export interface MeasurementInput {
  /** A UUID; one is made when absent (given when merging another database's rows). */
  id?: string;
  /** The canonical target input (Target.input). */
  target: string;
  service: string;
  verdict: Verdict;
  observations: Observation[];
  /** What the control helper saw for this target, if one was asked. */
  control?: ControlObservation | null;
  startedAt: Date | string;
  finishedAt: Date | string;
  durationMs: number;
}

/** A run as stored, JSON columns parsed. */
export interface RunRecord {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  state: RunState;
  version: string | null;
  pid: number | null;
  hostnameHash: string | null;
  networkLabel: string | null;
  probeAsn: number | null;
  probeCc: string | null;
  options: unknown;
  targetCount: number | null;
  summary: unknown;
  canary: unknown;
}

/** A measurement as stored, with its verdict and observations rebuilt from the columns. */
export interface MeasurementRecord {
  id: string;
  runId: string;
  target: string;
  service: string;
  verdict: Verdict;
  observations: Observation[];
  control: ControlObservation | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** A `runs` row as both stores return it (times as ISO text); pg/read.ts reads the same columns. */
export interface RunRow {
  id: string;
  started_at: string;
  finished_at: string | null;
  state: RunState;
  reachprobe_version: string | null;
  pid: number | null;
  hostname_hash: string | null;
  network_label: string | null;
  probe_asn: number | null;
  probe_cc: string | null;
  options_json: string | null;
  target_count: number | null;
  summary_json: string | null;
  canary_json: string | null;
}

/** A `measurements` row's columns that a MeasurementRecord is made of (times as ISO text), in both stores. */
export interface MeasurementRow {
  id: string;
  run_id: string;
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  failure: Failure | null;
  evidence_json: string;
  observations_json: string;
  control_json: string | null;
  started_at: string;
  finished_at: string;
  duration_ms: number;
}

/** A measurement with the run it belongs to, as exports read them. */
export interface MeasurementWithRun {
  run: RunRecord;
  measurement: MeasurementRecord;
}

/** Which measurements iterateMeasurements reads; every one when empty. */
export interface MeasurementQuery {
  /** Only measurements started at or after this time (ISO-8601 UTC, as stored). */
  since?: string | null;
  /** Only measurements of runs on this network: its key (network.ts), the label or else AS<asn>. */
  network?: string | null;
}

/** The page size of a new database file, in bytes. */
export const PAGE_SIZE = 8192;

/** The busy timeout in ms: how long a connection waits for another one's lock before failing. */
export const BUSY_TIMEOUT_MS = 5000;

// Always toISOString(): one fixed-width UTC form, so that string order is time order and
// MAX()/ORDER BY on the TEXT columns work.
function toIso(value: Date | string, what: string): string {
  const date = typeof value === "string" ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) {
    throw new StoreError("E_BAD_TIME", `${what} is not a valid time: ${String(value)}`);
  }
  return date.toISOString();
}

function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function openFailure(file: string, err: unknown): StoreError {
  const code = sqliteCode(err) ?? "";
  let reason: string;
  if (code === "SQLITE_NOTADB") {
    reason = "it is not an SQLite database; check that the path points at a reachprobe .db file";
  } else if (code.startsWith("SQLITE_CORRUPT")) {
    reason = "the database is corrupt; restore it from a backup or start a new file";
  } else if (code.startsWith("SQLITE_BUSY")) {
    reason = `another process kept it locked for more than ${BUSY_TIMEOUT_MS} ms; try again when it is done`;
  } else if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM")) {
    reason = `${(err as Error).message}; check that the file and its directory exist and that you may write to them`;
  } else {
    reason = err instanceof Error ? err.message : String(err);
  }
  return new StoreError("E_DB_OPEN", `cannot open ${file} as a reachprobe database: ${reason}`, { cause: err, file });
}

/** A run as commands see it, from its row. */
export function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    state: row.state,
    version: row.reachprobe_version,
    pid: row.pid,
    hostnameHash: row.hostname_hash,
    networkLabel: row.network_label,
    probeAsn: row.probe_asn,
    probeCc: row.probe_cc,
    options: fromJson(row.options_json),
    targetCount: row.target_count,
    summary: fromJson(row.summary_json),
    canary: fromJson(row.canary_json),
  };
}

/** A measurement as commands see it, from its row; `text` gives a referenced blob's text. */
export function measurementFromRow(row: MeasurementRow, text: GetBlobText): MeasurementRecord {
  let observations: Observation[];
  let control: ControlObservation | null;
  try {
    observations = unpackObservations(row.observations_json, text);
    control = row.control_json ? unpackControl(row.control_json, text) : null;
  } catch (err) {
    throw new Error(`measurement ${row.id}: cannot read its observations: ${(err as Error).message}`, { cause: err });
  }
  return {
    id: row.id,
    runId: row.run_id,
    target: row.target,
    service: row.service,
    verdict: {
      status: row.status,
      layer: row.layer,
      failure: row.failure,
      evidence: JSON.parse(row.evidence_json) as string[],
    },
    observations,
    control,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
  };
}

// The runs columns, prefixed so that they can share a row with a measurement's.
const RUN_COLUMNS = [
  "id", "started_at", "finished_at", "state", "reachprobe_version", "pid", "hostname_hash", "network_label",
  "probe_asn", "probe_cc", "options_json", "target_count", "summary_json", "canary_json",
] as const;

/** The results database: runs and their measurements, written as they complete. */
export class Store {
  /** The underlying connection, for read queries elsewhere in src/store/; nothing else writes through it. */
  readonly db: Database.Database;
  /** The database file as it was given to open(). */
  readonly path: string;
  /** True when opened read-only. */
  readonly readonly: boolean;
  private readonly hostHash: string;
  private readonly now: () => Date;
  // Runs this instance started: never marked stale, whatever the isAlive predicate says.
  private readonly ownRuns = new Set<string>();
  private readonly blobs: BlobStore;
  // The keys of the blobs that the rows of the batch being written refer to (null outside a
  // batch): once it commits they are known to be stored, and cost no query again.
  private batchKeys: Array<{ sha256: string }> | null = null;
  private readonly blobText: GetBlobText;
  private readonly insertWithBlobs: Database.Transaction<(blobs: BlobRow[], row: Record<string, unknown>) => void>;
  private readonly addBatch: Database.Transaction<(runId: string, ms: readonly MeasurementInput[]) => string[]>;

  private readonly insertRun: Database.Statement;
  private readonly insertMeasurement: Database.Statement;
  private readonly finishRunStmt: Database.Statement;
  private readonly canaryStmt: Database.Statement;
  private readonly selectRun: Database.Statement<[string], RunRow>;
  private readonly selectMeasurements: Database.Statement<[string], MeasurementRow>;
  private readonly selectRunningHere: Database.Statement<[string], { id: string; pid: number | null }>;
  private readonly markInterrupted: Database.Statement<[string]>;
  private readonly markStale: Database.Transaction<(isAlive: (pid: number) => boolean) => number>;

  private constructor(db: Database.Database, path: string, options: OpenOptions) {
    this.db = db;
    this.path = path;
    this.readonly = options.readonly === true;
    this.hostHash = hashHostname(options.hostname ?? osHostname());
    this.now = options.now ?? (() => new Date());
    this.blobs = new BlobStore(db);
    this.blobText = (key, encoding) => this.blobs.text(key, encoding);
    this.addBatch = db.transaction((runId: string, ms: readonly MeasurementInput[]) => ms.map((m) => this.addMeasurement(runId, m)));

    // Prepared once: each later call only binds and steps, which keeps a year of hourly
    // runs cheap to write and read.
    this.insertRun = db.prepare(`
      INSERT INTO runs (id, started_at, state, reachprobe_version, pid, hostname_hash, network_label,
                        probe_asn, probe_cc, options_json, target_count, canary_json)
      VALUES (@id, @startedAt, 'running', @version, @pid, @hostnameHash, @networkLabel,
              @probeAsn, @probeCc, @optionsJson, @targetCount, @canaryJson)`);
    this.insertMeasurement = db.prepare(INSERT_MEASUREMENT_SQL);
    this.insertWithBlobs = db.transaction((blobs: BlobRow[], row: Record<string, unknown>) => {
      this.blobs.insertRows(blobs);
      this.insertMeasurement.run(row);
    });
    this.finishRunStmt = db.prepare(`
      UPDATE runs SET state = @state, finished_at = @finishedAt, summary_json = COALESCE(@summaryJson, summary_json)
      WHERE id = @id AND state = 'running'`);
    this.canaryStmt = db.prepare(`UPDATE runs SET canary_json = @canaryJson WHERE id = @id`);
    this.selectRun = db.prepare<[string], RunRow>(`SELECT * FROM runs WHERE id = ?`);
    // rowid breaks ties in started_at, giving insertion order.
    this.selectMeasurements = db.prepare<[string], MeasurementRow>(
      `SELECT * FROM measurements WHERE run_id = ? ORDER BY started_at, rowid`,
    );
    this.selectRunningHere = db.prepare<[string], { id: string; pid: number | null }>(
      `SELECT id, pid FROM runs WHERE state = 'running' AND hostname_hash = ?`,
    );
    this.markInterrupted = db.prepare<[string]>(`
      UPDATE runs
      SET state = 'interrupted',
          finished_at = COALESCE((SELECT MAX(m.finished_at) FROM measurements m WHERE m.run_id = runs.id), runs.started_at)
      WHERE id = ? AND state = 'running'`);
    // Runs from other hosts are left alone: their pids mean nothing here.
    this.markStale = db.transaction((isAlive: (pid: number) => boolean) => {
      let marked = 0;
      for (const run of this.selectRunningHere.all(this.hostHash)) {
        if (run.pid === null || this.ownRuns.has(run.id) || isAlive(run.pid)) continue;
        marked += this.markInterrupted.run(run.id).changes;
      }
      return marked;
    });
  }

  /**
   * Opens (creating it and its directory if needed) and migrates a database; errors carry
   * code E_DB_OPEN, E_SCHEMA_NEWER, E_SCHEMA_OLDER (read-only on an old file) or E_MIGRATION.
   */
  static open(path: string, options: OpenOptions = {}): Store {
    const readonly = options.readonly === true;
    const inMemory = path === ":memory:" || path === "";
    let db: Database.Database | undefined;
    try {
      if (!readonly && !inMemory) makeDirs(dirname(path));
      db = new Database(path, withAddon(readonly ? { readonly: true, fileMustExist: true } : {}));
      // First, so that the pragmas and the migration below wait for other writers instead of failing.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Checked before anything writes, so that a file from a newer reachprobe (or a file that
      // is not a database at all) is refused untouched.
      const owned = inMemory ? "new" : ownership(db, path);
      const found = knownSchemaVersion(db, path);
      if (readonly && found < CURRENT_SCHEMA_VERSION) {
        throw new StoreError(
          "E_SCHEMA_OLDER",
          `${path} has schema version ${found}, older than this reachprobe's ${CURRENT_SCHEMA_VERSION}, ` +
            `and cannot be upgraded when opened read-only; open it once for writing (e.g. reachprobe run) to upgrade it.`,
          { file: path },
        );
      }
      if (!readonly) {
        // Takes effect only on a new, empty file (existing files keep theirs). With body samples
        // and the like in blobs, a measurement row is about 2 KB: a 4 KB page held 1.5 of them
        // on average (28% of it unused), an 8 KB page holds 3 to 4 (bench/storage-bench.mjs,
        // bytes per measurement at steady state: 4.3x fewer than schema version 1 with 4 KB
        // pages, 5.2x with 8 KB).
        db.pragma(`page_size = ${PAGE_SIZE}`);
        // WAL: readers (history, report) never block the writer, and a killed writer leaves
        // the file whole. It is a property of the file, so it sticks for every later connection.
        db.pragma("journal_mode = WAL");
      }
      db.pragma("foreign_keys = ON");
      // NORMAL in WAL mode: a killed process loses no committed transaction; only a power
      // loss can roll back the last few, and it never corrupts the file.
      db.pragma("synchronous = NORMAL");
      if (!readonly) {
        migrate(db, path);
        // Temporary files in memory. An insert inside a batch (addMeasurements) keeps a
        // statement journal, the pages it changes as they were, to undo itself alone if it
        // fails; with the triggers (schema.ts) a row changes more than SQLite's 64 KiB
        // threshold of 8 KB pages, and each one went to a file of its own in /var/tmp: 17,000 of
        // a field run's 20,000 writes (strace), for 1,000 rows. After migrate: a migration's
        // statement over every row would keep a whole table's pages in memory.
        db.pragma("temp_store = MEMORY");
        // A new file gets reachprobe's id; one made before ids were written is adopted.
        if (owned !== "ours") db.pragma(`application_id = ${APPLICATION_ID}`);
      }
      return new Store(db, path, options);
    } catch (err) {
      db?.close();
      if (err instanceof StoreError) throw err;
      throw openFailure(path, err);
    }
  }

  /** Records a new run in state 'running' and returns its id. */
  startRun(input: StartRunInput): string {
    const id = input.id ?? randomUUID();
    this.insertRun.run({
      id,
      startedAt: toIso(input.startedAt, "startedAt"),
      version: input.version,
      pid: process.pid,
      hostnameHash: this.hostHash,
      networkLabel: input.networkLabel ?? null,
      probeAsn: input.probeAsn ?? null,
      probeCc: input.probeCc ?? null,
      optionsJson: toJson(input.options),
      targetCount: input.targetCount,
      canaryJson: toJson(input.canary),
    });
    this.ownRuns.add(id);
    return id;
  }

  /**
   * Adds several measurements in one transaction: once this returns all of them survive the
   * process being killed, and none if it is killed before. A run hands over the results that
   * finished in the last 0.1 s, and reports them only after this returns: one commit for many
   * rows costs a fraction of one commit a row.
   */
  addMeasurements(runId: string, ms: readonly MeasurementInput[]): string[] {
    const keys: Array<{ sha256: string }> = [];
    this.batchKeys = keys;
    try {
      const ids = this.addBatch(runId, ms);
      this.blobs.markStored(keys);
      return ids;
    } catch (err) {
      // Blobs a rolled-back row marked as stored are not in the file: look them up again.
      this.blobs.forget();
      throw err;
    } finally {
      this.batchKeys = null;
    }
  }

  /** Stores one finished measurement, committed before this returns, and returns its id. */
  addMeasurement(runId: string, m: MeasurementInput): string {
    const id = m.id ?? randomUUID();
    try {
      // Hashed and compressed before the write lock is taken. A row is one statement in
      // autocommit mode, or one transaction with the blobs new to the file: once this
      // returns, it survives the process being killed.
      const staged: BlobRow[] = [];
      const stage = (bytes: Buffer, compress: boolean) => {
        const key = this.blobs.stage(bytes, compress, staged);
        this.batchKeys?.push({ sha256: key });
        return key;
      };
      const row = {
        id,
        runId,
        target: m.target,
        service: m.service,
        status: m.verdict.status,
        layer: m.verdict.layer,
        failure: m.verdict.failure,
        evidenceJson: JSON.stringify(m.verdict.evidence),
        observationsJson: packObservations(m.observations, stage),
        controlJson: m.control ? packControl(m.control, stage) : null,
        startedAt: toIso(m.startedAt, "startedAt"),
        finishedAt: toIso(m.finishedAt, "finishedAt"),
        durationMs: Math.round(m.durationMs),
      };
      if (staged.length === 0) {
        this.insertMeasurement.run(row);
      } else if (this.db.inTransaction) {
        // In a batch (addMeasurements) already: its transaction holds the row and its blobs
        // together, and a nested one (a savepoint a row) would only cost time.
        this.blobs.insertRows(staged);
        this.insertMeasurement.run(row);
      } else {
        this.insertWithBlobs(staged, row);
        this.blobs.markStored(staged);
      }
    } catch (err) {
      if (sqliteCode(err) === "SQLITE_CONSTRAINT_FOREIGNKEY") {
        throw new StoreError("E_RUN_NOT_FOUND", `no run ${runId} in ${this.path}; call startRun first`, {
          cause: err,
          file: this.path,
        });
      }
      throw err;
    }
    return id;
  }

  /** Records the canary's outcome, which is known only after the run has started. */
  recordCanary(runId: string, canary: unknown): void {
    this.canaryStmt.run({ id: runId, canaryJson: JSON.stringify(canary) });
  }

  /** Ends a running run with its final state and, optionally, its per-service summary. */
  finishRun(runId: string, state: FinalRunState, summary?: unknown): void {
    const result = this.finishRunStmt.run({
      id: runId,
      state,
      finishedAt: this.now().toISOString(),
      summaryJson: toJson(summary),
    });
    this.ownRuns.delete(runId);
    if (result.changes === 1) return;
    const run = this.selectRun.get(runId);
    if (run === undefined) {
      throw new StoreError("E_RUN_NOT_FOUND", `no run ${runId} in ${this.path}`, { file: this.path });
    }
    throw new StoreError(
      "E_RUN_FINISHED",
      `run ${runId} in ${this.path} is already ${run.state}; it cannot be finished again as ${state}`,
      { file: this.path },
    );
  }

  /**
   * Marks as 'interrupted' the runs still 'running' that this host started from a process
   * that is gone (a kill, a crash, a reboot), and returns how many it marked.
   */
  markStaleRuns(isAlive: (pid: number) => boolean = isProcessAlive): number {
    // IMMEDIATE: read and update under one write lock, so two processes cleaning up at once
    // cannot both count the same run.
    return this.markStale.immediate(isAlive);
  }

  /**
   * Marks as 'interrupted' the runs still 'running' that the holder of a stale lock this run took
   * over had started (host null: this one), and returns how many: a lock from another host is
   * only known dead once its lease expires, which markStaleRuns cannot judge.
   */
  markRunsOfHolder(hostnameHash: string | null, pid: number): number {
    return this.db
      .prepare<[string, number]>(
        `UPDATE runs SET state = 'interrupted',
           finished_at = COALESCE((SELECT MAX(m.finished_at) FROM measurements m WHERE m.run_id = runs.id), runs.started_at)
         WHERE state = 'running' AND hostname_hash = ? AND pid = ?`,
      )
      .run(hostnameHash ?? this.hostHash, pid).changes;
  }

  /** The run with this id, or undefined. */
  getRun(id: string): RunRecord | undefined {
    const row = this.selectRun.get(id);
    return row === undefined ? undefined : runFromRow(row);
  }

  /** The measurement with this id, or undefined. */
  getMeasurement(id: string): MeasurementRecord | undefined {
    const row = this.db.prepare<[string], MeasurementRow>(`SELECT * FROM measurements WHERE id = ?`).get(id);
    return row === undefined ? undefined : measurementFromRow(row, this.blobText);
  }

  /** A run's measurements in the order they started. */
  listMeasurements(runId: string): MeasurementRecord[] {
    return this.selectMeasurements.all(runId).map((row) => measurementFromRow(row, this.blobText));
  }

  /**
   * Every measurement matching `query` with its run, run by run (oldest first) and in the order
   * they started within a run. Rows are read one at a time from the statement, so memory stays
   * flat however large the file; the connection runs no other statement until iteration ends.
   */
  *iterateMeasurements(query: MeasurementQuery = {}): Generator<MeasurementWithRun> {
    const where: string[] = [];
    const params: Record<string, string> = {};
    if (query.since != null) {
      where.push("m.started_at >= @since");
      params.since = toIso(query.since, "since");
    }
    if (query.network != null) {
      where.push(`${networkKeySql("r")} = @network`);
      params.network = query.network;
    }
    // Run by run: CROSS JOIN keeps runs as the outer loop (walked in runs_started_at order, whose
    // entries end in the rowid) and measurements_run_id finds each run's rows, so SQLite sorts
    // one run's measurements at a time instead of copying the whole table into a sorter first.
    const stmt = this.db.prepare<[Record<string, string>], MeasurementRow & Record<string, unknown>>(`
      SELECT m.*, ${RUN_COLUMNS.map((c) => `r.${c} AS r_${c}`).join(", ")}
      FROM runs AS r CROSS JOIN measurements AS m ON m.run_id = r.id
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY r.started_at, r.rowid, m.started_at, m.rowid`);
    let run: RunRecord | null = null;
    for (const row of stmt.iterate(params)) {
      if (run === null || run.id !== row.run_id) {
        const runRow = Object.fromEntries(RUN_COLUMNS.map((c) => [c, row[`r_${c}`]])) as unknown as RunRow;
        run = runFromRow(runRow);
      }
      yield { run, measurement: measurementFromRow(row, this.blobText) };
    }
  }

  /** Closes the connection (safe to call twice); runs still 'running' stay so until finished or found stale. */
  close(): void {
    if (!this.db.open) return;
    if (!this.readonly) {
      try {
        // Keeps the query planner's statistics fresh at almost no cost; failing it loses nothing.
        this.db.pragma("optimize");
      } catch {
        // ignored on purpose
      }
    }
    this.db.close();
  }
}
