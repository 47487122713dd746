/**
 * Gathers the facts about the database that database.ts judges. It opens the file read-only and
 * writes nothing: no directory is created, no migration runs, the journal mode is left alone.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { ownership } from "../store/application-id.js";
import { withAddon } from "../store/sqlite-addon.js";
import type { DatabaseFacts, ErrorFact, RunFact, RunningFact } from "./database.js";

/** What inspecting needs besides the path. */
export interface InspectOptions {
  /** integrity_check instead of the faster quick_check. */
  full: boolean;
  /** hashHostname() of this machine: runs from other machines are not checked for a live pid. */
  hostHash: string;
  isAlive: (pid: number) => boolean;
  /** The path is the default database (src/store/db-path.ts), whose directory a run creates. */
  isDefault?: boolean;
}

/** Problems a check reports at most: the first few say enough. */
const MAX_PROBLEMS = 20;

function errorFact(err: unknown): ErrorFact {
  const code = (err as { code?: unknown } | null)?.code;
  return { code: typeof code === "string" ? code : undefined, message: err instanceof Error ? err.message : String(err) };
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nearest existing ancestor of `path`: where the first run's mkdir -p starts. */
function nearestExisting(path: string): { dir: string; isDir: boolean } {
  let dir = dirname(path);
  for (;;) {
    try {
      return { dir, isDir: statSync(dir).isDirectory() };
    } catch {
      const up = dirname(dir);
      if (up === dir) return { dir, isDir: false };
      dir = up;
    }
  }
}

/** The first bytes of the file: SQLite's header says "SQLite format 3" and, at offset 18, 2 for WAL. */
function readHeader(path: string): Buffer {
  const buf = Buffer.alloc(100);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    return buf.subarray(0, readSync(fd, buf, 0, 100, 0));
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/**
 * Opens the file read-only. QUIRK: a read-only connection to a WAL database creates its -wal
 * and -shm files when they are missing and leaves them behind; run as root (`sudo reachprobe
 * doctor`), that leaves root-owned files the cron user's next run cannot open. With no -wal
 * file, everything is in the main file, so it is opened `immutable` (no side files, no locks).
 * URI names are off in better-sqlite3's build unless SQLITE_USE_URI=1 is set before its
 * addon loads (on the first open in the process); when that is too late the name does not
 * open, and the plain read-only open is used instead.
 */
function openReadOnly(path: string, immutable: boolean): Database.Database {
  if (immutable) {
    process.env.SQLITE_USE_URI ??= "1";
    try {
      return new Database(`${pathToFileURL(path).href}?immutable=1`, withAddon({ readonly: true, fileMustExist: true, timeout: 2000 }));
    } catch {
      // URI names not enabled in this process: fall through.
    }
  }
  return new Database(path, withAddon({ readonly: true, fileMustExist: true, timeout: 2000 }));
}

/** Looks at the database file without changing it. */
export function inspectDatabase(path: string, options: InspectOptions): DatabaseFacts {
  const absolutePath = resolve(path);
  const facts: DatabaseFacts = { path, absolutePath, kind: "absent", isDefault: options.isDefault === true };
  let st;
  try {
    st = statSync(absolutePath);
  } catch {
    const near = nearestExisting(absolutePath);
    facts.createIn = { ...near, writable: near.isDir && canWrite(near.dir) };
    return facts;
  }
  if (!st.isFile()) {
    facts.kind = "not-a-file";
    return facts;
  }
  facts.kind = "file";
  facts.sizeBytes = st.size;
  facts.writable = { file: canWrite(absolutePath), dir: canWrite(dirname(absolutePath)) };

  const header = readHeader(absolutePath);
  const isSqlite = header.subarray(0, 16).equals(SQLITE_MAGIC);
  const wal = isSqlite && header[18] === 2;
  if (isSqlite) facts.journalMode = wal ? "wal" : "rollback";
  const sideFiles = existsSync(`${absolutePath}-wal`) || existsSync(`${absolutePath}-shm`);

  let db: Database.Database | undefined;
  try {
    db = openReadOnly(absolutePath, wal && !sideFiles);
    // The first read of the header is where a file that is not a database shows itself.
    facts.userVersion = db.pragma("user_version", { simple: true }) as number;
    facts.tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    // The same test a run makes before it writes (store/application-id.ts), so that the two agree.
    try {
      facts.ownership = { is: ownership(db, path) };
    } catch (err) {
      facts.ownership = { is: "foreign", message: errorFact(err).message };
    }
  } catch (err) {
    db?.close();
    facts.openError = errorFact(err);
    return facts;
  }
  try {
    const pragma = options.full ? "integrity_check" : "quick_check";
    try {
      const rows = db.pragma(`${pragma}(${MAX_PROBLEMS})`) as Array<Record<string, string>>;
      facts.integrity = { pragma, problems: rows.map((r) => Object.values(r)[0] ?? "") };
    } catch (err) {
      facts.integrity = { pragma, error: errorFact(err) };
    }
    if (facts.tables.includes("runs")) facts.runs = readRuns(db, options);
  } finally {
    db.close();
  }
  return facts;
}

function readRuns(db: Database.Database, options: InspectOptions): DatabaseFacts["runs"] {
  try {
    const total = (db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n;
    const lastRow = db.prepare("SELECT id, started_at, finished_at, state FROM runs ORDER BY started_at DESC LIMIT 1").get() as
      | { id: string; started_at: string; finished_at: string | null; state: string }
      | undefined;
    const last: RunFact | null = lastRow ? { id: lastRow.id, startedAt: lastRow.started_at, finishedAt: lastRow.finished_at, state: lastRow.state } : null;
    const rows = db.prepare("SELECT id, started_at, finished_at, state, pid, hostname_hash FROM runs WHERE state = 'running' ORDER BY started_at").all() as Array<{
      id: string;
      started_at: string;
      finished_at: string | null;
      state: string;
      pid: number | null;
      hostname_hash: string | null;
    }>;
    const running: RunningFact[] = rows.map((r) => ({
      id: r.id,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      state: r.state,
      pid: r.pid,
      // Only this machine's pids mean anything here, as in Store.markStaleRuns.
      alive: r.pid !== null && r.hostname_hash === options.hostHash ? options.isAlive(r.pid) : null,
    }));
    return { total, last, running };
  } catch (err) {
    return { error: errorFact(err) };
  }
}
