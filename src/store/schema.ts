/**
 * The database schema as forward-only migrations keyed by `PRAGMA user_version`.
 * The schema is a public interface (docs/database.md): analysts open the file with `sqlite3`,
 * so a migration may add but never drop or rename what people query, and never loses data.
 */
import type Database from "better-sqlite3";
import { BLOBS_TABLE_SQL, BlobStore } from "./blobs.js";
import { StoreError } from "./errors.js";
import { markLossySamples } from "./lossy-samples.js";
import { repackColumns } from "./observation-refs.js";
import { networkKeySql } from "./network.js";

/** One migration: SQL to execute, or a function for steps SQL alone cannot express. */
export type Migration = string | ((db: Database.Database) => void);

// Columns are in the order SQLite stores them in a row: the short columns that queries read
// (status, times, network) come before the JSON, so that reading them never walks a row's
// overflow pages, which hold what does not fit on the row's own page (a large observations_json).
const V1_TABLES = `
CREATE TABLE runs (
  id                 TEXT PRIMARY KEY,
  started_at         TEXT NOT NULL,
  finished_at        TEXT,
  state              TEXT NOT NULL CHECK (state IN ('running', 'completed', 'interrupted', 'failed')),
  reachprobe_version TEXT,
  pid                INTEGER,
  hostname_hash      TEXT,
  network_label      TEXT,
  probe_asn          INTEGER,
  probe_cc           TEXT,
  options_json       TEXT,
  target_count       INTEGER,
  summary_json       TEXT,
  canary_json        TEXT
);
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE measurements (
  id                TEXT PRIMARY KEY,
  run_id            TEXT NOT NULL REFERENCES runs (id),
  network           TEXT NOT NULL DEFAULT '',
  target            TEXT NOT NULL,
  service           TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('ok', 'blocked', 'anomaly', 'down', 'inconclusive')),
  layer             TEXT CHECK (layer IS NULL OR layer IN ('dns', 'tcp', 'tls', 'http')),
  failure           TEXT,
  prev_status       TEXT,
  prev_layer        TEXT,
  changed           INTEGER,
  started_at        TEXT NOT NULL,
  finished_at       TEXT NOT NULL,
  duration_ms       INTEGER NOT NULL,
  evidence_json     TEXT NOT NULL,
  observations_json TEXT NOT NULL,
  control_json      TEXT
);
CREATE INDEX measurements_target_started_at ON measurements (target, started_at);
CREATE INDEX measurements_service_started_at ON measurements (service, started_at);
CREATE INDEX measurements_run_id ON measurements (run_id);
CREATE INDEX measurements_network_target_started_at ON measurements (network, target, started_at);
CREATE INDEX measurements_span_starts ON measurements (network, target, started_at, status, layer) WHERE changed IS NOT 0;
CREATE INDEX measurements_firsts ON measurements (target, network) WHERE changed IS NULL;
-- Covering: a change is read from the index alone, never from its (large) row.
CREATE INDEX measurements_changes ON measurements
  (started_at, network, target, service, prev_status, prev_layer, status, layer, failure, run_id, id) WHERE changed = 1;
`;

// Derived columns: measurements.network, prev_status, prev_layer and changed.
//
// `network` is the run's network key (network.ts), copied onto the measurement so that one
// index, (network, target, started_at), serves "one target on one network over time" without
// joining runs for each of a year's rows. `prev_status` and `prev_layer` are those of the
// previous measurement of the same target on the same network, and `changed` says whether
// this one differs from it in status or layer (NULL: the first one; 0: the same; 1: a change).
// With them, a week's or a year's changes are the rows of a small partial index
// (measurements_changes) instead of a window function over every row, and the spans of
// `reachprobe history` start at the rows of another (measurements_span_starts).
//
// Triggers keep the columns right whoever writes the rows (the store, a merge, an analyst's
// sqlite3) and in whatever order (a merge adds older rows after newer ones): inserting,
// deleting or re-keying a row re-derives it and the row that follows it on its network.
// Measurements of one target on one network are ordered by (started_at, rowid).

// A subquery giving (status, layer, changed) of the row of `row` against the measurement before
// it in the network `network` (an SQL expression), or no row (= NULLs) when there is none.
function previousOf(row: string, network: string): string {
  return `SELECT p.status, p.layer, (p.status IS NOT ${row}.status OR p.layer IS NOT ${row}.layer)
    FROM measurements AS p
    WHERE p.network = ${network} AND p.target = ${row}.target
      AND (p.started_at, p.rowid) < (${row}.started_at, ${row}.rowid)
    ORDER BY p.started_at DESC, p.rowid DESC LIMIT 1`;
}

// Re-derives prev_status, prev_layer and changed of the row whose rowid is `rowid`, writing
// only when they are wrong (an UPDATE rewrites the whole row, JSON included).
function relink(rowid: string): string {
  return `UPDATE measurements SET (prev_status, prev_layer, changed) = (${previousOf("measurements", "measurements.network")})
  WHERE rowid = ${rowid} AND (prev_status, prev_layer, changed) IS NOT (${previousOf("measurements", "measurements.network")});`;
}

// The rowid of the first measurement after a position (network, target, started_at, rowid).
function nextAfter(network: string, target: string, startedAt: string, rowid: string): string {
  return `(SELECT n.rowid FROM measurements AS n
    WHERE n.network = ${network} AND n.target = ${target} AND (n.started_at, n.rowid) > (${startedAt}, ${rowid})
    ORDER BY n.started_at, n.rowid LIMIT 1)`;
}

// '' when the run does not exist, so that the foreign key, not NOT NULL, reports the missing run.
const runKey = (run: string) => `COALESCE((SELECT ${networkKeySql("r")} FROM runs AS r WHERE r.id = ${run}), '')`;

/**
 * The INSERT the store writes a new measurement with (named parameters: id, runId, target,
 * service, status, layer, failure, evidenceJson, observationsJson, controlJson, startedAt,
 * finishedAt, durationMs). It fills the derived columns itself, as measurements_derive_insert
 * would: the trigger then finds them right and only checks them, instead of rewriting the new
 * row and its three partial indexes, and, on a labelled network, setting `network` in a second
 * UPDATE whose own trigger relinks (a field run's rows written again into a copy of its file:
 * 60-89 us a row before, 50-64 after; 85-116 and 53-77 on a labelled network; docs/development.md
 * "CPU per target"). The trigger still decides:
 * whatever this computes, a wrong value is put right there. A new row's rowid is above every
 * existing row's, so the measurement before it is the last one that started no later.
 */
export const INSERT_MEASUREMENT_SQL = `
INSERT INTO measurements (id, run_id, network, target, service, status, layer, failure, prev_status, prev_layer, changed,
                          evidence_json, observations_json, control_json, started_at, finished_at, duration_ms)
SELECT @id, @runId, n.network, @target, @service, @status, @layer, @failure,
       p.status, p.layer, CASE WHEN p.rowid IS NULL THEN NULL ELSE (p.status IS NOT @status OR p.layer IS NOT @layer) END,
       @evidenceJson, @observationsJson, @controlJson, @startedAt, @finishedAt, @durationMs
FROM (SELECT ${runKey("@runId")} AS network) AS n
LEFT JOIN measurements AS p ON p.rowid = (
  SELECT q.rowid FROM measurements AS q
  WHERE q.network = n.network AND q.target = @target AND q.started_at <= @startedAt
  ORDER BY q.started_at DESC, q.rowid DESC LIMIT 1)`;

const V1_TRIGGERS = `
CREATE TRIGGER measurements_derive_insert AFTER INSERT ON measurements BEGIN
  -- A writer that left network out (or got it wrong): network and the previous row in one write.
  -- Changing network fires measurements_derive_update, which relinks the rows that follow.
  UPDATE measurements
  SET network = ${runKey("NEW.run_id")},
      (prev_status, prev_layer, changed) = (${previousOf("measurements", runKey("NEW.run_id"))})
  WHERE rowid = NEW.rowid AND network IS NOT ${runKey("NEW.run_id")};
  ${relink("NEW.rowid")}
  ${relink(nextAfter("NEW.network", "NEW.target", "NEW.started_at", "NEW.rowid"))}
END;

CREATE TRIGGER measurements_derive_update AFTER UPDATE OF network, target, started_at, status, layer ON measurements BEGIN
  ${relink("NEW.rowid")}
  ${relink(nextAfter("OLD.network", "OLD.target", "OLD.started_at", "OLD.rowid"))}
  ${relink(nextAfter("NEW.network", "NEW.target", "NEW.started_at", "NEW.rowid"))}
END;

CREATE TRIGGER measurements_derive_delete AFTER DELETE ON measurements BEGIN
  ${relink(nextAfter("OLD.network", "OLD.target", "OLD.started_at", "OLD.rowid"))}
END;

-- A run's network named after its measurements were written (a label or an ASN set later)
-- moves them to that network.
CREATE TRIGGER runs_network_update AFTER UPDATE OF network_label, probe_asn ON runs
WHEN ${networkKeySql("NEW")} IS NOT ${networkKeySql("OLD")} BEGIN
  UPDATE measurements SET network = ${networkKeySql("NEW")} WHERE run_id = NEW.id;
END;
`;

// The views analysts query (docs/database.md, "Views and queries for analysts"). Their WHERE clauses
// repeat the partial indexes' conditions word for word (SQLite uses a partial index only
// then), and INDEXED BY holds them to those small indexes: without statistics the planner
// would rather read a network's every measurement through (network, ...) for
// "WHERE network = ?", checking `changed` row by row.
const V1_VIEWS = `
CREATE VIEW latest_status AS
SELECT f.network, f.target, l.service, l.status, l.layer, l.failure,
       l.started_at AS measured_at, l.run_id, l.id AS measurement_id,
       (SELECT s.started_at FROM measurements AS s
        WHERE s.network = l.network AND s.target = l.target AND s.changed IS NOT 0
        ORDER BY s.started_at DESC, s.rowid DESC LIMIT 1) AS status_since
FROM measurements AS f INDEXED BY measurements_firsts
JOIN measurements AS l ON l.rowid = (
  SELECT x.rowid FROM measurements AS x
  WHERE x.network = f.network AND x.target = f.target
  ORDER BY x.started_at DESC, x.rowid DESC LIMIT 1)
WHERE f.changed IS NULL;

-- LEFT JOIN: a query that asks for neither previous_at nor previous_run_id never reads the
-- previous measurement (SQLite drops a LEFT JOIN on a unique key whose columns are unused).
CREATE VIEW status_changes AS
SELECT m.network, m.target, m.service,
       m.prev_status AS previous_status, m.prev_layer AS previous_layer,
       m.status, m.layer, m.failure,
       m.started_at AS changed_at, m.run_id, m.id AS measurement_id,
       p.started_at AS previous_at, p.run_id AS previous_run_id
FROM measurements AS m INDEXED BY measurements_changes
LEFT JOIN measurements AS p ON p.rowid = (
  SELECT q.rowid FROM measurements AS q
  WHERE q.network = m.network AND q.target = m.target AND (q.started_at, q.rowid) < (m.started_at, m.rowid)
  ORDER BY q.started_at DESC, q.rowid DESC LIMIT 1)
WHERE m.changed = 1;
`;

const V1 = V1_TABLES + V1_TRIGGERS + V1_VIEWS;

// Rows rewritten per batch: memory stays flat whatever the size of the file.
const V2_BATCH = 500;

/**
 * Version 2: the blobs table, and every existing row's body samples, headers, certificate
 * chains and control answers moved into it (observation-refs.ts). Rows keep their rowid and id;
 * only observations_json and control_json change, which no trigger watches. A value whose JSON
 * does not parse is left as it is (readers fail on it as before).
 */
function v2(db: Database.Database): void {
  db.exec(BLOBS_TABLE_SQL);
  const blobs = new BlobStore(db);
  // Keyset batches by rowid: a statement cannot stay open while this connection writes.
  const batch = db.prepare<[number], { rowid: number; observations_json: string; control_json: string | null }>(
    `SELECT rowid, observations_json, control_json FROM measurements WHERE rowid > ? ORDER BY rowid LIMIT ${V2_BATCH}`,
  );
  const update = db.prepare<[string, string | null, number]>(`UPDATE measurements SET observations_json = ?, control_json = ? WHERE rowid = ?`);
  const put = (bytes: Buffer, compress: boolean) => blobs.put(bytes, compress);
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = batch.all(after);
    if (rows.length === 0) break;
    for (const row of rows) {
      const r = repackColumns(row.observations_json, row.control_json, put);
      if (r.moved > 0) update.run(r.observationsJson as string, r.controlJson as string | null, row.rowid);
    }
    after = rows[rows.length - 1]!.rowid;
  }
}

/**
 * Version 3: body samples stored as text before samples were kept as bytes, whose bytes were
 * not all UTF-8 (U+FFFD in their text), marked `bodySampleLossy: true` (lossy-samples.ts), so
 * that nothing presents them as the bytes received. Only observations_json changes, which no
 * trigger watches; rows with nothing to mark are not written.
 */
function v3(db: Database.Database): void {
  const blobs = new BlobStore(db);
  const text = (key: string, encoding?: "utf8" | "base64") => blobs.text(key, encoding);
  // A sample is text only when it holds U+FFFD, as UTF-8 (EF BF BD) inline or in its blob: rows
  // whose JSON mentions no sample at all are skipped by SQL.
  const batch = db.prepare<[number], { rowid: number; observations_json: string }>(
    `SELECT rowid, observations_json FROM measurements WHERE rowid > ? AND observations_json LIKE '%"bodySample%' ORDER BY rowid LIMIT ${V2_BATCH}`,
  );
  const update = db.prepare<[string, number]>(`UPDATE measurements SET observations_json = ? WHERE rowid = ?`);
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = batch.all(after);
    if (rows.length === 0) break;
    for (const row of rows) {
      let marked: string | null = null;
      try {
        marked = markLossySamples(row.observations_json, text);
      } catch {
        // A row that refers to a missing blob reads as it did (readers report it).
      }
      if (marked !== null) update.run(marked, row.rowid);
    }
    after = rows[rows.length - 1]!.rowid;
  }
}

/**
 * Every migration in order: MIGRATIONS[n - 1] brings user_version n - 1 to n.
 * Append only; an edited migration would leave existing files with a different schema than new ones.
 */
export const MIGRATIONS: readonly Migration[] = [V1, v2, v3];

/** The schema version this code writes and understands. */
export const CURRENT_SCHEMA_VERSION: number = MIGRATIONS.length;

/** Reads `PRAGMA user_version`, the schema version stored in the file header. */
export function schemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function refuseNewer(file: string, found: number, latest: number): StoreError {
  return new StoreError(
    "E_SCHEMA_NEWER",
    `${file} has schema version ${found}, but this reachprobe only knows versions up to ${latest}; ` +
      `upgrade reachprobe to use this database (the file was not changed).`,
    { file },
  );
}

/** Returns the file's schema version, refusing (E_SCHEMA_NEWER) one written by a newer reachprobe. */
export function knownSchemaVersion(db: Database.Database, file: string, latest: number = CURRENT_SCHEMA_VERSION): number {
  const found = schemaVersion(db);
  if (found > latest) throw refuseNewer(file, found, latest);
  return found;
}

/**
 * Brings the database up to the last migration, one transaction per migration, and refuses
 * (E_SCHEMA_NEWER) a file written by a newer reachprobe; `migrations` is replaceable for tests.
 */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.length;
  const found = knownSchemaVersion(db, file, latest);
  for (let target = found + 1; target <= latest; target++) {
    const step = migrations[target - 1];
    if (step === undefined) throw new Error(`missing migration ${target}`);
    const apply = db.transaction(() => {
      // Re-read under the write lock: another process may have migrated while we waited for it.
      const now = knownSchemaVersion(db, file, latest);
      if (now >= target) return;
      if (typeof step === "string") db.exec(step);
      else step(db);
      // user_version lives in the file header, which SQLite writes inside this transaction,
      // so a crash leaves either the old schema with the old number or the new with the new.
      db.pragma(`user_version = ${target}`);
    });
    try {
      // IMMEDIATE takes the write lock before reading user_version, so two processes opening
      // a new file at once cannot both run the same migration.
      apply.immediate();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        "E_MIGRATION",
        `could not upgrade ${file} from schema version ${target - 1} to ${target}: ${(err as Error).message}; ` +
          `the file was left at version ${target - 1}.`,
        { cause: err, file },
      );
    }
  }
}
