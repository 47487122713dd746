/**
 * Merging other reachprobe databases (volunteers' files) into this one. Rows keep their ids,
 * so merging a file twice adds nothing; an id already present with different content is a
 * conflict, reported and skipped, never overwritten. A source is opened read-only and checked
 * (an SQLite file, a reachprobe schema this code knows) before anything is copied, and each
 * source is copied in one transaction: all of it that can be merged, or nothing. Blobs (body
 * samples and the like, blobs.ts) come along with the rows that refer to them; rows of a
 * version 1 source have their values moved into blobs as the migration to version 2 does, so a
 * merged row reads back exactly as in its source.
 */
import { APPLICATION_ID } from "./application-id.js";
import { ReachprobeError } from "../base/errors.js";
import { realpathSync } from "node:fs";
import Database from "better-sqlite3";
import { withAddon } from "./sqlite-addon.js";
import { blobKey, BlobStore, decodeBlob, type BlobRow } from "./blobs.js";
import { markLossySamples } from "./lossy-samples.js";
import { repackColumns, type GetBlobText } from "./observation-refs.js";
import { scrubRowJson } from "./scrub-row.js";
import { CURRENT_SCHEMA_VERSION, schemaVersion } from "./schema.js";
import { BUSY_TIMEOUT_MS, type Store } from "./store.js";

/** The codes a MergeError can carry: why a source file was refused. */
export type MergeErrorCode = "E_MERGE_OPEN" | "E_NOT_REACHPROBE_DB" | "E_SCHEMA_NEWER" | "E_SCHEMA_UNKNOWN" | "E_MERGE_SAME_FILE";

/** A source file that was refused; nothing was merged from it, and it was not changed. */
export class MergeError extends ReachprobeError {
  declare readonly code: MergeErrorCode;
  /** The source file concerned. */
  readonly file: string;
  constructor(code: MergeErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(code, "usage", message, options);
    this.file = file;
  }
}

/** A row that was skipped because its id is taken by a different row (or its run was). */
export interface MergeConflict {
  table: "runs" | "measurements";
  id: string;
  /** What differs, in plain words. */
  reason: string;
}

/** What merging one file did. */
export interface MergeSummary {
  file: string;
  /** The source's schema version. */
  schemaVersion: number;
  runsAdded: number;
  /** Runs already present with the same content. */
  runsDuplicate: number;
  measurementsAdded: number;
  /** Measurements already present with the same content. */
  measurementsDuplicate: number;
  /** Every conflict, runs and measurements together. */
  conflictCount: number;
  /** The first MAX_CONFLICTS_LISTED conflicts, for the report. */
  conflicts: MergeConflict[];
}

/** How a file is merged. */
export interface MergeOptions {
  /**
   * Scrub every address from the HTTP responses' header values, titles and body samples
   * (src/probes/scrub-observations.ts) on the way in: for a merged file that will be passed on
   * (docs/fleet.md, "Scrubbing").
   */
  scrub?: boolean;
}

/** How many conflicts a summary lists one by one (all are counted). */
export const MAX_CONFLICTS_LISTED = 100;

// Schema version 1's columns. Migrations only add, so every version this code knows has them;
// naming them (never SELECT *) copies exactly what the destination has.
const RUN_COLUMNS = [
  "id", "started_at", "finished_at", "state", "reachprobe_version", "pid", "hostname_hash", "network_label",
  "probe_asn", "probe_cc", "options_json", "target_count", "summary_json", "canary_json",
] as const;
const MEASUREMENT_COLUMNS = [
  "id", "run_id", "target", "service", "status", "layer", "failure", "evidence_json",
  "observations_json", "control_json", "started_at", "finished_at", "duration_ms",
] as const;

type Row = Record<string, unknown> & { id: string };

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Opens a source read-only and checks that reachprobe can merge it: an SQLite file with the
 * runs and measurements tables and their columns, at a schema version from 1 to
 * CURRENT_SCHEMA_VERSION. Throws a MergeError naming the file (and the versions) otherwise.
 */
export function openMergeSource(file: string, dest?: Pick<Store, "path">): { db: Database.Database; version: number } {
  if (dest && sameFile(file, dest.path)) {
    throw new MergeError("E_MERGE_SAME_FILE", file, `${file} is the database being merged into; nothing to merge.`);
  }
  let db: Database.Database | undefined;
  try {
    // readonly + fileMustExist: a volunteer's file is never created, migrated or written to.
    db = new Database(file, withAddon({ readonly: true, fileMustExist: true }));
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const id = db.pragma("application_id", { simple: true }) as number;
    if (id !== 0 && id !== APPLICATION_ID) {
      throw new MergeError("E_NOT_REACHPROBE_DB", file, `${file} is not a reachprobe database: it belongs to another application (application_id 0x${(id >>> 0).toString(16)}). Nothing was merged from it.`);
    }
    const version = schemaVersion(db);
    if (version > CURRENT_SCHEMA_VERSION) {
      throw new MergeError(
        "E_SCHEMA_NEWER",
        file,
        `${file} has schema version ${version}, but this reachprobe only knows versions 1 to ${CURRENT_SCHEMA_VERSION}; ` +
          `upgrade reachprobe to merge it. Nothing was merged from it.`,
      );
    }
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    // Version 2 added blobs, which its measurements refer to.
    const missingTables = ["runs", "measurements", ...(version >= 2 ? ["blobs"] : [])].filter((t) => !tables.has(t));
    if (missingTables.length) {
      throw new MergeError(
        "E_NOT_REACHPROBE_DB",
        file,
        `${file} is not a reachprobe database: it has no ${missingTables.join(" or ")} table. Nothing was merged from it.`,
      );
    }
    if (version < 1) {
      throw new MergeError(
        "E_SCHEMA_UNKNOWN",
        file,
        `${file} has schema version ${version}, which no reachprobe writes (this one knows versions 1 to ${CURRENT_SCHEMA_VERSION}). Nothing was merged from it.`,
      );
    }
    for (const [table, wanted] of [["runs", RUN_COLUMNS], ["measurements", MEASUREMENT_COLUMNS]] as const) {
      const have = new Set((db.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name));
      const missing = wanted.filter((c) => !have.has(c));
      if (missing.length) {
        throw new MergeError(
          "E_NOT_REACHPROBE_DB",
          file,
          `${file} is not a reachprobe database of schema version ${version}: its ${table} table has no ${missing.join(", ")} column. Nothing was merged from it.`,
        );
      }
    }
    return { db, version };
  } catch (err) {
    db?.close();
    if (err instanceof MergeError) throw err;
    const code = sqliteCode(err);
    if (code === "SQLITE_NOTADB") {
      throw new MergeError("E_NOT_REACHPROBE_DB", file, `${file} is not a reachprobe database: it is not an SQLite file. Nothing was merged from it.`, { cause: err });
    }
    const reason = code.startsWith("SQLITE_CORRUPT") ? "the file is corrupt" : (err as Error).message;
    throw new MergeError("E_MERGE_OPEN", file, `cannot read ${file}: ${reason}. Nothing was merged from it.`, { cause: err });
  }
}

/** A source row's JSON columns as this version stores them, and the blobs they need. */
interface PreparedRow {
  observationsJson: unknown;
  controlJson: unknown;
  evidenceJson: unknown;
  /** Values held inline in the source, to be stored as blobs if the row is copied. */
  fresh: Array<{ key: string; bytes: Buffer; compress: boolean }>;
  /** Blobs the source row refers to. */
  refs: string[];
}

/** A source row that cannot be copied as asked; the reason is reported as a conflict. */
class RowRefused extends Error {}

// Packed as this version writes rows, so that a row is compared byte for byte with the
// destination's and a row of an older version arrives as the migrations would have left it
// (values moved into blobs: version 2; lossy samples marked: version 3). With `scrub`, a row
// whose HTTP responses quote an address is read whole from the source and packed again
// scrubbed: its values go in as fresh blobs, and the source's blobs that hold what was
// scrubbed are not copied.
function prepareRow(m: Row, version: number, text: GetBlobText, scrub: boolean): PreparedRow {
  const fresh: PreparedRow["fresh"] = [];
  const put = (bytes: Buffer, compress: boolean) => {
    const key = blobKey(bytes);
    fresh.push({ key, bytes, compress });
    return key;
  };
  let observationsJson = m.observations_json;
  if (version < 3 && typeof observationsJson === "string") {
    try {
      observationsJson = markLossySamples(observationsJson, text) ?? observationsJson;
    } catch (err) {
      // A blob the source lacks: the row is copied or refused as its blobs decide below.
      if (!(err instanceof RowRefused)) throw err;
    }
  }
  let evidenceJson = m.evidence_json;
  if (scrub) {
    if (typeof observationsJson !== "string" || typeof evidenceJson !== "string") throw new RowRefused("its observations_json or evidence_json is not text, so it cannot be scrubbed");
    try {
      const clean = scrubRowJson({ observationsJson, evidenceJson }, text, put);
      if (clean) ({ observationsJson, evidenceJson } = clean);
    } catch (err) {
      throw err instanceof RowRefused ? err : new RowRefused(`it cannot be read to scrub it (${(err as Error).message})`);
    }
  }
  const r = repackColumns(observationsJson, m.control_json, put);
  const made = new Set(fresh.map((f) => f.key));
  return { observationsJson: r.observationsJson, controlJson: r.controlJson, evidenceJson, fresh, refs: r.refs.filter((k) => !made.has(k)) };
}

function blobIntact(row: BlobRow): boolean {
  try {
    return blobKey(decodeBlob(row)) === row.sha256;
  } catch {
    return false;
  }
}

function differingColumns(a: Row, b: Row, columns: readonly string[]): string[] {
  return columns.filter((c) => a[c] !== b[c]);
}

/**
 * Merges one source file into `dest` in a single transaction and says what it did. Throws a
 * MergeError (nothing merged) when the file is refused; a failure while copying rolls the
 * whole file back.
 */
export function mergeDatabase(dest: Store, file: string, options: MergeOptions = {}): MergeSummary {
  const { db: src, version } = openMergeSource(file, dest);
  const summary: MergeSummary = {
    file,
    schemaVersion: version,
    runsAdded: 0,
    runsDuplicate: 0,
    measurementsAdded: 0,
    measurementsDuplicate: 0,
    conflictCount: 0,
    conflicts: [],
  };
  const conflict = (c: MergeConflict) => {
    summary.conflictCount++;
    if (summary.conflicts.length < MAX_CONFLICTS_LISTED) summary.conflicts.push(c);
  };
  try {
    const db = dest.db;
    const list = (cols: readonly string[]) => cols.join(", ");
    const readRuns = src.prepare<[], Row>(`SELECT ${list(RUN_COLUMNS)} FROM runs ORDER BY started_at, id`);
    const readMeasurements = src.prepare<[], Row>(`SELECT ${list(MEASUREMENT_COLUMNS)} FROM measurements ORDER BY rowid`);
    const getRun = db.prepare<[string], Row>(`SELECT ${list(RUN_COLUMNS)} FROM runs WHERE id = ?`);
    const getMeasurement = db.prepare<[string], Row>(`SELECT ${list(MEASUREMENT_COLUMNS)} FROM measurements WHERE id = ?`);
    const insertRun = db.prepare(`INSERT INTO runs (${list(RUN_COLUMNS)}) VALUES (${RUN_COLUMNS.map((c) => `@${c}`).join(", ")})`);
    const insertMeasurement = db.prepare(
      `INSERT INTO measurements (${list(MEASUREMENT_COLUMNS)}) VALUES (${MEASUREMENT_COLUMNS.map((c) => `@${c}`).join(", ")})`,
    );
    const blobs = new BlobStore(db);
    const hasBlobs = src.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'blobs'").get() !== undefined;
    const readBlob = hasBlobs ? src.prepare<[string], BlobRow>(`SELECT sha256, size, compression, data FROM blobs WHERE sha256 = ?`) : null;
    // The source's blobs a row refers to that the destination lacks, each checked against its
    // key; or why the row cannot be copied.
    const blobsToCopy = (refs: string[]): { copies: BlobRow[]; refused: string | null } => {
      const copies: BlobRow[] = [];
      for (const key of refs) {
        if (blobs.has(key) || copies.some((c) => c.sha256 === key)) continue;
        const row = readBlob?.get(key);
        if (row === undefined) return { copies, refused: `it refers to blob ${key}, which is in neither database` };
        if (!blobIntact(row)) return { copies, refused: `its blob ${key} in the source does not match its key (a damaged file)` };
        copies.push(row);
      }
      return { copies, refused: null };
    };
    // The source's blobs as the rows read them, each checked against its key.
    const sourceText: GetBlobText = (key, encoding = "utf8") => {
      const row = readBlob?.get(key);
      if (row === undefined) throw new RowRefused(`it refers to blob ${key}, which is not in the source`);
      if (!blobIntact(row)) throw new RowRefused(`its blob ${key} in the source does not match its key (a damaged file)`);
      return decodeBlob(row).toString(encoding);
    };
    const copy = db.transaction(() => {
      // Runs whose id is taken by a different run: none of their measurements may be hung on
      // the other run, so they are skipped too.
      const conflictingRuns = new Set<string>();
      for (const run of readRuns.iterate()) {
        const existing = getRun.get(run.id);
        if (existing === undefined) {
          insertRun.run(run);
          summary.runsAdded++;
          continue;
        }
        const diff = differingColumns(existing, run, RUN_COLUMNS);
        if (diff.length === 0) {
          summary.runsDuplicate++;
        } else {
          conflictingRuns.add(run.id);
          conflict({ table: "runs", id: run.id, reason: `a different run with this id is already there (differs in ${diff.join(", ")})` });
        }
      }
      for (const m of readMeasurements.iterate()) {
        let prepared: PreparedRow;
        try {
          prepared = prepareRow(m, version, sourceText, options.scrub === true);
        } catch (err) {
          if (!(err instanceof RowRefused)) throw err;
          conflict({ table: "measurements", id: m.id, reason: err.message });
          continue;
        }
        m.observations_json = prepared.observationsJson;
        m.control_json = prepared.controlJson;
        m.evidence_json = prepared.evidenceJson;
        const existing = getMeasurement.get(m.id);
        const runId = String(m.run_id);
        if (existing !== undefined) {
          const diff = differingColumns(existing, m, MEASUREMENT_COLUMNS);
          if (diff.length === 0) summary.measurementsDuplicate++;
          else conflict({ table: "measurements", id: m.id, reason: `a different measurement with this id is already there (differs in ${diff.join(", ")})` });
        } else if (conflictingRuns.has(runId)) {
          conflict({ table: "measurements", id: m.id, reason: `its run ${runId} conflicts` });
        } else if (getRun.get(runId) === undefined) {
          conflict({ table: "measurements", id: m.id, reason: `its run ${runId} is in neither database` });
        } else {
          const { copies, refused } = blobsToCopy(prepared.refs);
          if (refused !== null) {
            conflict({ table: "measurements", id: m.id, reason: refused });
          } else {
            for (const f of prepared.fresh) blobs.putKeyed(f.key, f.bytes, f.compress);
            for (const row of copies) blobs.putRow(row);
            insertMeasurement.run(m);
            summary.measurementsAdded++;
          }
        }
      }
    });
    // IMMEDIATE: take the write lock before reading the destination, so that a run writing to
    // it at the same time cannot slip a row in between our check and our insert.
    copy.immediate();
    return summary;
  } finally {
    src.close();
  }
}
