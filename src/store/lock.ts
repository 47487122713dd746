/**
 * The run lock: two runs never write one database at once. The rules, as docs/commands.md ("Two runs
 * never write one database at once") states them:
 *
 * - The lock is `<real path of the database>.lock`: a symlink to the database shares its lock.
 * - It is created whole: its JSON is written to a temporary file that is then hard-linked to the
 *   lock's name (link() fails when the name exists), so no run ever sees it empty or half written.
 * - A lock taken on this host is stale when its pid is gone, or now belongs to a process with
 *   another start time. A lock taken on another host cannot be checked: its holder renews the
 *   file's modification time every REFRESH_MS, and the lock is stale once not renewed for its
 *   lease (`lease_s`, LEASE_S). A file that is not a lock (empty, cut short, garbage: an older
 *   reachprobe's, or damaged) is held the same way: stale only once unchanged for LEASE_S.
 * - A stale lock is removed by one run only: the one that links a marker named after that lock's
 *   nonce (`<lock>.reap-<id>`) first, and then only if the lock still is that same one.
 */
import { ReachprobeError } from "../base/errors.js";
import { createHash, randomUUID } from "node:crypto";
import { closeSync, fstatSync, linkSync, lstatSync, openSync, readSync, readlinkSync, realpathSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { makeDirs } from "../base/make-dirs.js";
import { hashHostname, isProcessAlive, processStartTime } from "../base/process-identity.js";

/** How long a lock from another host (or a file that is not a lock) is held without being renewed, in seconds. */
export const LEASE_S = 300;
/** How often a holder renews its lock's modification time. */
const REFRESH_MS = 30_000;
/** A lock file is a few hundred bytes; more is not a lock and is not read. */
const MAX_LOCK_BYTES = 16 * 1024;

/** What a lock file holds. Older reachprobes wrote no nonce nor lease_s, and maybe no hostname_hash. */
export interface LockInfo {
  pid: number;
  /** hashHostname() of the machine that took it; null when absent (then taken as this machine). */
  hostname_hash: string | null;
  started_at: string | null;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken for the owner. */
  proc_start: number | null;
  /** Random, one per lock taken: tells this lock from a later one at the same path. */
  nonce: string | null;
  /** The holder's lease in seconds (see LEASE_S). */
  lease_s: number | null;
}

/** A lock file as read: its text (at most MAX_LOCK_BYTES) and what identifies this file. */
export interface LockFile {
  text: string;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/** The lock file parsed: its fields, or why it is not a lock. */
export type ParsedLock = { ok: true; lock: LockInfo } | { ok: false; reason: string };

/** Parses a lock file's text without trusting it: the one reader of lock files (runs and doctor). */
export function parseLock(text: string): ParsedLock {
  if (text.trim() === "") return { ok: false, reason: "the file is empty" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the file is not JSON (cut short or damaged)" };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { ok: false, reason: "the file is not a JSON object" };
  const d = doc as Record<string, unknown>;
  const pid = d.pid;
  // kill(0, 0) would "succeed": pid 0 or below is never a holder.
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return { ok: false, reason: "it has no valid pid" };
  const lease = d.lease_s;
  return {
    ok: true,
    lock: {
      pid,
      hostname_hash: typeof d.hostname_hash === "string" && d.hostname_hash !== "" ? d.hostname_hash : null,
      started_at: typeof d.started_at === "string" ? d.started_at : typeof d.started_at === "number" ? new Date(d.started_at).toISOString() : null,
      proc_start: typeof d.proc_start === "number" ? d.proc_start : null,
      nonce: typeof d.nonce === "string" && /^[\w-]{8,64}$/.test(d.nonce) ? d.nonce : null,
      lease_s: typeof lease === "number" && Number.isFinite(lease) && lease >= 1 && lease <= 86_400 ? lease : null,
    },
  };
}

/** Reads a lock file (its first MAX_LOCK_BYTES); undefined when there is none. Other errors are thrown. */
export function readLockFile(path: string): LockFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(Math.min(MAX_LOCK_BYTES, Math.max(0, st.size)));
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return { text: buf.subarray(0, n).toString("utf8"), mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
  } finally {
    closeSync(fd);
  }
}

/** What a judgement of a lock needs to know about this machine. */
export interface HostView {
  hostHash: string;
  isAlive: (pid: number) => boolean;
  /** A live pid's start time in clock ticks since boot (Linux); null where unknown. */
  procStartOf: (pid: number) => number | null;
  nowMs: number;
}

/** This machine, now. */
export function thisHost(): HostView {
  return { hostHash: hashHostname(hostname()), isAlive: isProcessAlive, procStartOf: processStartTime, nowMs: Date.now() };
}

/**
 * Who holds a lock. Here: `live`, `stale` (its process is gone) or `reused` (its pid belongs to a
 * process started later). Another host: `foreign` (renewed within its lease) or `expired`.
 * Not a lock: `invalid`, held until unchanged for LEASE_S.
 */
export type LockJudgement =
  | { state: "live" | "stale" | "reused"; lock: LockInfo }
  | { state: "foreign" | "expired"; lock: LockInfo; ageS: number; leaseS: number }
  | { state: "invalid"; reason: string; ageS: number; leaseS: number; expired: boolean };

/** Judges a lock file the way every run does. */
export function judgeLockFile(file: Pick<LockFile, "text" | "mtimeMs">, host: HostView): LockJudgement {
  // A modification time ahead of this clock (another host's clock) counts as renewed now.
  const ageS = Math.max(0, (host.nowMs - file.mtimeMs) / 1000);
  const parsed = parseLock(file.text);
  if (!parsed.ok) return { state: "invalid", reason: parsed.reason, ageS, leaseS: LEASE_S, expired: ageS > LEASE_S };
  const lock = parsed.lock;
  if (lock.hostname_hash !== null && lock.hostname_hash !== host.hostHash) {
    const leaseS = lock.lease_s ?? LEASE_S;
    return { state: ageS > leaseS ? "expired" : "foreign", lock, ageS, leaseS };
  }
  if (!host.isAlive(lock.pid)) return { state: "stale", lock };
  if (lock.proc_start === null) return { state: "live", lock };
  const now = host.procStartOf(lock.pid);
  return { state: now === null || now === lock.proc_start ? "live" : "reused", lock };
}

/** True when a run may take the lock over. */
export function canTakeOver(j: LockJudgement): boolean {
  return j.state === "stale" || j.state === "reused" || j.state === "expired" || (j.state === "invalid" && j.expired);
}

/** Says who holds the lock, for "waiting for ..." and exit-6 messages. */
export function describeHolder(j: LockJudgement): string {
  const since = (l: LockInfo) => (l.started_at ? `, since ${l.started_at}` : "");
  switch (j.state) {
    case "invalid":
      return `a lock file that is not readable as a lock (${j.reason}), changed ${Math.round(j.ageS)} s ago`;
    case "foreign":
    case "expired":
      return `a run on another machine (host ${j.lock.hostname_hash}, pid ${j.lock.pid}${since(j.lock)}), renewed ${Math.round(j.ageS)} s ago`;
    default:
      return `pid ${j.lock.pid}${since(j.lock)}`;
  }
}

/** Why a lock could not be taken. */
export class LockHeldError extends ReachprobeError {
  constructor(
    readonly path: string,
    readonly judgement: LockJudgement,
  ) {
    const db = path.replace(/\.lock$/, "");
    const j = judgement;
    super(
      "E_LOCKED",
      "busy",
      j.state === "invalid"
        ? `the lock ${path} is not readable as a lock (${j.reason}) and changed ${Math.round(j.ageS)} s ago: a run may be taking it. It is taken over once unchanged for ${j.leaseS} s; if no reachprobe run is going on, remove it (rm ${path})`
        : j.state === "foreign"
          ? `another reachprobe run is writing ${db} from another machine (host ${j.lock.hostname_hash}, pid ${j.lock.pid}); its lock was renewed ${Math.round(j.ageS)} s ago and is taken over if not renewed for ${j.leaseS} s; wait for it, or pass --wait`
          : `another reachprobe run is writing ${db} (${describeHolder(j)}); wait for it, or pass --wait`,
    );
  }
}

/**
 * The lock file's path for a database: beside the database's real path, so that every path
 * naming the same file (a symlink, a relative path) names the same lock.
 */
export function lockPathFor(dbPath: string): string {
  return `${realDbPath(dbPath)}.lock`;
}

function realDbPath(dbPath: string): string {
  let path = resolve(dbPath);
  // Symlinks are followed by hand, so a link to a database not created yet still names it.
  for (let hop = 0; hop < 32; hop++) {
    let dir = dirname(path);
    try {
      dir = realpathSync(dir);
    } catch {
      return path; // the directory does not exist yet: it has no other name
    }
    path = join(dir, basename(path));
    try {
      if (!lstatSync(path).isSymbolicLink()) return path;
    } catch {
      return path;
    }
    path = resolve(dir, readlinkSync(path));
  }
  return path;
}

/** A held lock; release() removes the file if it is still ours. */
export interface RunLock {
  path: string;
  /** The holder of the stale lock this run took over, when there was one: its run is left `running`. */
  tookOver: LockInfo | null;
  release(): void;
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** What tells one lock file from a later one at the same path: its nonce, or for an older file its inode, time and text. */
function identity(file: LockFile): string {
  const parsed = parseLock(file.text);
  if (parsed.ok && parsed.lock.nonce) return parsed.lock.nonce;
  return createHash("sha256").update(`${file.dev}:${file.ino}:${file.mtimeMs}:${file.text}`).digest("hex").slice(0, 24);
}

/**
 * Removes the stale lock `file` at `path`, if this run is the one to do it: it must link the
 * marker `<path>.reap-<identity>` first (a marker left by a run that died while reaping is itself
 * reaped, the same way), and the lock must still be the same file. True when the caller may try again.
 */
function reap(path: string, file: LockFile, tmp: string, host: HostView, depth = 0): boolean {
  const marker = `${path}.reap-${identity(file)}`;
  if (!tryLink(tmp, marker)) {
    if (depth >= 2) return false;
    const other = readLockFile(marker);
    if (other === undefined) return true; // its reaper is done: look again
    if (!canTakeOver(judgeLockFile(other, host))) return false; // another run is reaping it right now
    if (!reap(marker, other, tmp, host, depth + 1) || !tryLink(tmp, marker)) return false;
  }
  try {
    const now = readLockFile(path);
    if (now !== undefined && identity(now) === identity(file)) unlinkSync(path);
  } finally {
    unlinkQuietly(marker);
  }
  return true;
}

/** Takes the lock for `dbPath`, or throws LockHeldError when a live run (or a fresh lease) holds it. */
export function acquireLock(dbPath: string, host: () => HostView = thisHost): RunLock {
  const path = lockPathFor(dbPath);
  makeDirs(dirname(path));
  const info: LockInfo = {
    pid: process.pid,
    hostname_hash: hashHostname(hostname()),
    started_at: new Date().toISOString(),
    proc_start: processStartTime(process.pid),
    nonce: randomUUID(),
    lease_s: LEASE_S,
  };
  const tmp = `${path}.${info.nonce}.tmp`;
  writeFileSync(tmp, JSON.stringify(info) + "\n", { flag: "wx", mode: 0o644 });
  try {
    let tookOver: LockInfo | null = null;
    let last: LockJudgement | null = null;
    for (let attempt = 0; attempt < 8; attempt++) {
      if (tryLink(tmp, path)) {
        const st = statSync(tmp);
        return holdLock(path, info, st.ino, st.dev, tookOver);
      }
      const file = readLockFile(path);
      if (file === undefined) continue; // released meanwhile
      const h = host();
      last = judgeLockFile(file, h);
      if (!canTakeOver(last)) throw new LockHeldError(path, last);
      if (!reap(path, file, tmp, h)) throw new LockHeldError(path, last);
      if ("lock" in last) tookOver = last.lock;
    }
    throw new LockHeldError(path, last ?? { state: "live", lock: info });
  } finally {
    unlinkQuietly(tmp);
  }
}

function holdLock(path: string, info: LockInfo, ino: number, dev: number, tookOver: LockInfo | null): RunLock {
  const ours = (f: LockFile | undefined): f is LockFile => {
    if (f === undefined || f.ino !== ino || f.dev !== dev) return false;
    const p = parseLock(f.text);
    // Our inode, even if someone truncated it; never a later lock that reuses the inode number.
    return !p.ok || p.lock.nonce === info.nonce;
  };
  const renew = () => {
    try {
      if (ours(readLockFile(path))) {
        const now = new Date();
        utimesSync(path, now, now);
      }
    } catch {
      /* the next renewal tries again */
    }
  };
  const timer = setInterval(renew, REFRESH_MS);
  timer.unref();
  let released = false;
  return {
    path,
    tookOver,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        if (ours(readLockFile(path))) unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

/** Takes the lock, polling every 500 ms up to `waitMs` while a live run holds it; `onWait` hears once who holds it. */
export async function acquireLockWaiting(dbPath: string, waitMs: number, onWait?: (holder: string) => void): Promise<RunLock> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      return acquireLock(dbPath);
    } catch (err) {
      if (!(err instanceof LockHeldError) || Date.now() >= deadline) throw err;
      if (!told) onWait?.(describeHolder(err.judgement));
      told = true;
      // Jittered, so that many waiting runs do not all look at the same instant.
      await new Promise((r) => setTimeout(r, Math.min(300 + Math.random() * 400, Math.max(0, deadline - Date.now()))));
    }
  }
}
