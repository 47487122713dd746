/**
 * Judges the results database from facts gathered elsewhere (inspect-database.ts): whether it
 * exists or can be created, opens, has a schema this reachprobe knows, passes SQLite's own
 * check, is in WAL mode, and what its runs say. Pure: no file is touched here.
 */
import { dirname } from "node:path";
import { ago, check, showTime, type Check } from "./check.js";
import { plural } from "../base/plural.js";
import type { Ownership } from "../store/application-id.js";

/** A run row as the doctor needs it. */
export interface RunFact {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  state: string;
}

/** A run still marked 'running', with whether its process is alive (null: another machine's, or no pid). */
export interface RunningFact extends RunFact {
  pid: number | null;
  alive: boolean | null;
}

/** An error as the doctor keeps it: SQLite's or the system's code, and the message. */
export interface ErrorFact {
  code: string | undefined;
  message: string;
}

/** What inspecting the database found; later fields are absent when an earlier step failed. */
export interface DatabaseFacts {
  /** The path as configured. */
  path: string;
  /** The same, absolute. */
  absolutePath: string;
  kind: "absent" | "file" | "not-a-file";
  /** For an absent file: the nearest directory that exists, and whether this user may create files in it. */
  createIn?: { dir: string; isDir: boolean; writable: boolean };
  /** True for the default database, whose missing directory a run creates; any other needs --create-dirs. */
  isDefault?: boolean;
  sizeBytes?: number;
  /** Whether this user may write the file, and its directory (SQLite puts -wal and -shm beside it). */
  writable?: { file: boolean; dir: boolean };
  openError?: ErrorFact;
  userVersion?: number;
  tables?: string[];
  /** Whose file it is, as a run judges it before writing (store/application-id.ts); `message` says why not ours. */
  ownership?: { is: Ownership } | { is: "foreign"; message: string };
  integrity?: { pragma: "quick_check" | "integrity_check"; problems: string[] } | { pragma: "quick_check" | "integrity_check"; error: ErrorFact };
  /** `wal`, or `rollback` (any of the rollback-journal modes), from the file header. */
  journalMode?: string;
  runs?: { total: number; last: RunFact | null; running: RunningFact[] } | { error: ErrorFact };
}

/** What the judgement compares with. */
export interface DatabaseContext {
  /** The schema version this reachprobe writes. */
  currentVersion: number;
  now: Date;
}

const REACHPROBE_TABLES = ["runs", "measurements"];

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Advice for a file SQLite cannot read at all. */
function damagedFix(path: string): string {
  return `check that --db names the reachprobe database; if it does, the file is damaged: move it aside (mv ${path} ${path}.broken) so that the next run starts a new one, and restore a backup if you have one`;
}

function recoverFix(path: string): string {
  return `stop runs that use it, then save what can be read into a new file (sqlite3 ${path} .recover | sqlite3 ${path}.recovered) and put that in its place, or restore a backup`;
}

/** The file check alone: exists (or can be created), is a file, opens, may be written. */
function judgeFile(f: DatabaseFacts): Check {
  const details: Record<string, unknown> = { path: f.path, absolute_path: f.absolutePath, kind: f.kind };
  if (f.kind === "absent") {
    const c = f.createIn;
    if (c && !c.isDir) {
      return check("database", "fail", `${f.path} cannot be created: ${c.dir} is not a directory`, `choose another place with --db PATH (or REACHPROBE_DB), or move ${c.dir} away`, { ...details, create_in: c.dir });
    }
    if (c && !c.writable) {
      return check("database", "fail", `${f.path} does not exist and cannot be created: ${c.dir} is not writable by this user`, `choose a writable place with --db PATH (or REACHPROBE_DB), or make ${c.dir} writable`, { ...details, create_in: c.dir });
    }
    const dir = dirname(f.absolutePath);
    if (c && c.dir !== dir && !f.isDefault) {
      return check("database", "warn", `no database yet, and its directory ${dir} does not exist: a run refuses it (exit 2) unless told to create it`, `create it (mkdir -p ${dir}), or give run --create-dirs (or "createDirs": true in the config file)`, { ...details, create_in: c.dir });
    }
    return check("database", "ok", `no database yet: it will be created at ${f.absolutePath} by the first run`, undefined, { ...details, create_in: c?.dir ?? null });
  }
  if (f.kind === "not-a-file") {
    return check("database", "fail", `${f.path} is not a file (a directory?)`, "give --db the path of a database file, e.g. data/reachprobe.db", details);
  }
  if (f.openError) {
    const code = f.openError.code ?? "";
    details.error = f.openError;
    if (code === "SQLITE_NOTADB") return check("database", "fail", `${f.path} is not an SQLite database (${f.openError.message})`, damagedFix(f.path), details);
    if (code.startsWith("SQLITE_CORRUPT")) return check("database", "fail", `${f.path} is corrupt (${f.openError.message})`, recoverFix(f.path), details);
    if (code.startsWith("SQLITE_BUSY")) return check("database", "warn", `${f.path} is locked by another process (${f.openError.message})`, "try again when the run or query holding it is done", details);
    return check("database", "fail", `${f.path} cannot be opened (${f.openError.message})`, `check that the file and its directory exist and that this user may read them (ls -l ${f.path})`, details);
  }
  const sizeText = f.sizeBytes !== undefined ? `${size(f.sizeBytes)}, ` : "";
  details.size_bytes = f.sizeBytes ?? null;
  if (f.writable && !(f.writable.file && f.writable.dir)) {
    const what = !f.writable.file ? "the file is not writable by this user" : "its directory is not writable by this user (SQLite keeps -wal and -shm files beside it)";
    return check("database", "fail", `${f.path} (${sizeText}opens read-only) cannot be written: ${what}`, `run reachprobe as the user that owns ${f.path}, or fix the permissions (chown/chmod)`, { ...details, writable: f.writable });
  }
  return check("database", "ok", `${f.path} (${sizeText}opens read-only)`, undefined, details);
}

/** True for a file with no tables at all: new, or created empty; the next run sets it up. */
function isEmpty(f: DatabaseFacts): boolean {
  return (f.userVersion ?? 0) === 0 && (f.tables ?? []).length === 0;
}

function judgeSchema(f: DatabaseFacts, ctx: DatabaseContext): Check {
  const v = f.userVersion ?? 0;
  const tables = f.tables ?? [];
  const details = { user_version: v, current: ctx.currentVersion, tables, ownership: f.ownership?.is ?? null };
  if (v > ctx.currentVersion) {
    return check(
      "database.schema",
      "fail",
      `schema version ${v}: made by a newer reachprobe (this one knows versions up to ${ctx.currentVersion}); runs will refuse it`,
      "upgrade reachprobe (npm install -g reachprobe@latest, or git pull && npm ci in a clone); the file is untouched",
      details,
    );
  }
  if (f.ownership?.is === "foreign") {
    // A run refuses the file (E_FOREIGN_DB) and changes nothing in it.
    return check("database.schema", "fail", f.ownership.message.replace(/\. Name another file with --db\.$/, ""), "name reachprobe's own database with --db (or REACHPROBE_DB); runs refuse this one", details);
  }
  if (isEmpty(f)) return check("database.schema", "ok", "an empty database: the next run creates the tables", undefined, details);
  if (v === 0) {
    return check(
      "database.schema",
      "warn",
      `no reachprobe schema version, but it holds other tables (${tables.slice(0, 5).join(", ")}): this may not be a reachprobe database`,
      "check that --db names the right file",
      details,
    );
  }
  const missing = REACHPROBE_TABLES.filter((t) => !tables.includes(t));
  if (missing.length > 0) {
    return check("database.schema", "fail", `schema version ${v}, but the tables ${missing.join(", ")} are missing`, `this is not a reachprobe database, or it was altered: ${damagedFix(f.path)}`, details);
  }
  if (v < ctx.currentVersion) {
    return check(
      "database.schema",
      "warn",
      `schema version ${v}, older than this reachprobe's ${ctx.currentVersion}: it will be upgraded by the next run (data is kept)`,
      `nothing to do; copy the file first (cp ${f.path} ${f.path}.v${v}) if an older reachprobe must still read it`,
      details,
    );
  }
  return check("database.schema", "ok", `schema version ${v} (current)`, undefined, details);
}

function judgeIntegrity(f: DatabaseFacts): Check | null {
  const i = f.integrity;
  if (!i) return null;
  if ("error" in i) {
    return check("database.integrity", "fail", `${i.pragma} could not finish: ${i.error.message}`, recoverFix(f.path), { pragma: i.pragma, error: i.error });
  }
  if (i.problems.length === 1 && i.problems[0] === "ok") {
    const more = i.pragma === "quick_check" ? " (--full runs the slower integrity_check)" : "";
    return check("database.integrity", "ok", `${i.pragma}: ok${more}`, undefined, { pragma: i.pragma });
  }
  return check("database.integrity", "fail", `${i.pragma} found ${plural(i.problems.length, "problem")}: ${i.problems[0] ?? ""}`, recoverFix(f.path), { pragma: i.pragma, problems: i.problems.slice(0, 20) });
}

function judgeJournal(f: DatabaseFacts): Check | null {
  if (f.journalMode === undefined) return null;
  const mode = f.journalMode.toLowerCase();
  if (mode === "wal") return check("database.journal", "ok", "WAL mode: queries never block a run, and a killed run leaves the file whole", undefined, { journal_mode: mode });
  return check(
    "database.journal",
    "warn",
    `${mode === "rollback" ? "a rollback journal" : `journal mode ${mode}`}, not WAL: queries and runs can block each other`,
    "nothing to do: the next run switches it to WAL (which fails only on network filesystems such as NFS: keep the database on a local disk)",
    { journal_mode: mode },
  );
}

function judgeRuns(f: DatabaseFacts, ctx: DatabaseContext): Check | null {
  const r = f.runs;
  if (!r) return null;
  if ("error" in r) return check("database.runs", "warn", `the runs could not be read: ${r.error.message}`, "see the schema and integrity lines above", { error: r.error });
  if (r.total === 0) return check("database.runs", "ok", "no runs yet", undefined, { total: 0 });
  const parts: string[] = [plural(r.total, "run")];
  let status: Check["status"] = "ok";
  const fixes: string[] = [];
  if (r.last) {
    const at = new Date(r.last.startedAt);
    parts.push(`the last started ${showTime(at)} (${ago(at, ctx.now)}) and is ${r.last.state}`);
    if (r.last.state === "failed") {
      status = "warn";
      fixes.push("the last run ended on an error in reachprobe itself: run again with --log-level debug and report what it prints");
    }
  }
  const dead = r.running.filter((x) => x.alive === false);
  const live = r.running.filter((x) => x.alive === true);
  const unknown = r.running.filter((x) => x.alive === null);
  if (live.length > 0) parts.push(`${plural(live.length, "run")} in progress (pid ${live.map((x) => x.pid).join(", ")})`);
  if (dead.length > 0) {
    status = "warn";
    parts.push(`${plural(dead.length, "run")} stuck in 'running' whose process is gone (pid ${dead.map((x) => x.pid).join(", ")})`);
    fixes.push("nothing to do: the next run marks them interrupted (their finished measurements are kept)");
  }
  if (unknown.length > 0) parts.push(`${plural(unknown.length, "run")} 'running' from another machine (not checked from here)`);
  return check("database.runs", status, parts.join("; "), fixes.join("; ") || undefined, {
    total: r.total,
    last: r.last,
    running: r.running.map((x) => ({ id: x.id, pid: x.pid, started_at: x.startedAt, alive: x.alive })),
  });
}

/** Judges everything known about the database, one check per line, stopping where the file cannot be read. */
export function judgeDatabase(f: DatabaseFacts, ctx: DatabaseContext): Check[] {
  const file = judgeFile(f);
  if (f.kind !== "file" || f.openError) return [file];
  const out: Check[] = [file, judgeSchema(f, ctx)];
  for (const c of [judgeIntegrity(f), isEmpty(f) ? null : judgeJournal(f), isEmpty(f) ? null : judgeRuns(f, ctx)]) if (c) out.push(c);
  return out;
}
