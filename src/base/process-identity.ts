/**
 * Who a process is, on this machine: the one place that hashes the host name, tells whether a
 * pid is alive and reads a process's start time. The store (runs.pid, runs.hostname_hash) and
 * the run lock (docs/commands.md, "Exit codes": two runs never write one database at once) both judge with these.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

/**
 * A short salted hash of a host name, so that runs from different machines sharing one file
 * can be told apart without the file revealing the name.
 */
export function hashHostname(name: string): string {
  return createHash("sha256").update(`reachprobe-host:${name.toLowerCase()}`).digest("hex").slice(0, 12);
}

/**
 * True when a process with this pid exists on this host and has not exited: a zombie (exited,
 * not yet reaped by its parent) is not alive. Where there is no /proc, existence alone counts.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // kill(pid, 0) succeeds on a zombie: a run whose parent was killed with -9 stays one until
  // init reaps it, seconds on some machines, and looked alive all that time.
  const state = processState(pid);
  return state !== "Z" && state !== "X";
}

/**
 * A process's state letter from /proc/PID/stat (field 3: "R", "S", "Z" for a zombie...), or
 * null where /proc is missing or the process is gone.
 */
export function processState(pid: number): string | null {
  const fields = statFields(pid);
  return fields?.[0] ?? null;
}

/** The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null where /proc is missing. */
export function processStartTime(pid: number): number | null {
  const v = Number(statFields(pid)?.[19]);
  return Number.isFinite(v) ? v : null;
}

/** The fields of /proc/PID/stat from field 3 (the state) on; null when it cannot be read. */
function statFields(pid: number): string[] | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  let stat: string;
  try {
    stat = readSmallFile(`/proc/${pid}/stat`, 4096);
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields count from its last ')'.
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  return stat.slice(close + 2).split(" ");
}

/** The first `max` bytes of a file (a /proc file reports size 0, so it is read to its end). */
function readSmallFile(path: string, max: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    while (n < max) {
      const got = readSync(fd, buf, n, max - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
