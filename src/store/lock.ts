/**
 * The run lock: two runs never write one database at once. A lock file beside the database
 * (`<db>.lock`) is created atomically; a lock whose process is gone (kill -9, a reboot) is
 * stale and taken over, so a killed run never blocks the next one.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { hashHostname, isProcessAlive } from "./store.js";

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  hostname_hash: string;
  started_at: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken for the owner. */
  proc_start: number | null;
}

/** Why a lock could not be taken. */
export class LockHeldError extends Error {
  readonly code = "E_LOCKED";
  constructor(
    readonly path: string,
    readonly holder: LockInfo,
  ) {
    super(`another reachprobe run is writing ${path.replace(/\.lock$/, "")} (pid ${holder.pid}, since ${holder.started_at}); wait for it, or pass --wait`);
    this.name = "LockHeldError";
  }
}

/** The start time of a process (field 22 of /proc/PID/stat), or null where /proc is missing. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: fields count from its last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Reads a lock file; null when it is absent or unreadable garbage (treated as stale). */
export function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as Partial<LockInfo>;
    if (typeof v.pid !== "number" || !Number.isInteger(v.pid) || v.pid <= 0) return null; // kill(0, 0) would "succeed": never a live lock
    return { pid: v.pid, hostname_hash: String(v.hostname_hash ?? ""), started_at: String(v.started_at ?? ""), proc_start: typeof v.proc_start === "number" ? v.proc_start : null };
  } catch {
    return null;
  }
}

/** True when the lock's owner still runs on this host; a lock from another host is presumed live. */
export function lockIsLive(info: LockInfo, host = hostname()): boolean {
  if (info.hostname_hash && info.hostname_hash !== hashHostname(host)) return true;
  if (!isProcessAlive(info.pid)) return false;
  if (info.proc_start === null) return true;
  const now = processStartTime(info.pid);
  return now === null || now === info.proc_start;
}

/** A held lock; release() removes the file if it is still ours. */
export interface RunLock {
  path: string;
  release(): void;
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Takes the lock for `dbPath`, or throws LockHeldError when a live run holds it. */
export function acquireLock(dbPath: string): RunLock {
  const path = `${dbPath}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const info: LockInfo = { pid: process.pid, hostname_hash: hashHostname(hostname()), started_at: new Date().toISOString(), proc_start: processStartTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, info)) {
      return {
        path,
        release() {
          const now = readLock(path);
          if (now && now.pid === info.pid && now.started_at === info.started_at) {
            try {
              unlinkSync(path);
            } catch {
              /* already gone */
            }
          }
        },
      };
    }
    const holder = readLock(path);
    if (holder && lockIsLive(holder)) throw new LockHeldError(path, holder);
    // Stale (its process is gone) or unreadable: remove it and race for it again; of two
    // runs doing this at once, only one succeeds with O_EXCL.
    try {
      unlinkSync(path);
    } catch {
      /* another run removed it first */
    }
  }
  const holder = readLock(path);
  throw new LockHeldError(path, holder ?? info);
}

/** Takes the lock, polling every 500 ms up to `waitMs` while a live run holds it. */
export async function acquireLockWaiting(dbPath: string, waitMs: number, onWait?: (holder: LockInfo) => void): Promise<RunLock> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      return acquireLock(dbPath);
    } catch (err) {
      if (!(err instanceof LockHeldError) || Date.now() >= deadline) throw err;
      if (!told) onWait?.(err.holder);
      told = true;
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    }
  }
}
