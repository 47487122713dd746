/**
 * The database schema as forward-only migrations keyed by `PRAGMA user_version`.
 * The schema is a public interface (docs/schema.md): analysts open the file with `sqlite3`,
 * so a migration may add but never drop or rename what people query, and never loses data.
 */
import type Database from "better-sqlite3";
import { StoreError } from "./errors.js";

/** One migration: SQL to execute, or a function for steps SQL alone cannot express. */
export type Migration = string | ((db: Database.Database) => void);

const V1 = `
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
  target            TEXT NOT NULL,
  service           TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('ok', 'blocked', 'anomaly', 'down', 'inconclusive')),
  layer             TEXT CHECK (layer IS NULL OR layer IN ('dns', 'tcp', 'tls', 'http')),
  failure           TEXT,
  evidence_json     TEXT NOT NULL,
  observations_json TEXT NOT NULL,
  control_json      TEXT,
  started_at        TEXT NOT NULL,
  finished_at       TEXT NOT NULL,
  duration_ms       INTEGER NOT NULL
);
CREATE INDEX measurements_target_started_at ON measurements (target, started_at);
CREATE INDEX measurements_service_started_at ON measurements (service, started_at);
CREATE INDEX measurements_run_id ON measurements (run_id);
`;

/**
 * Every migration in order: MIGRATIONS[n - 1] brings user_version n - 1 to n.
 * Append only; an edited migration would leave existing files with a different schema than new ones.
 */
export const MIGRATIONS: readonly Migration[] = [V1];

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
