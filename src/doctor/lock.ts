/**
 * The run lock as the doctor shows it. The file is read and judged by src/store/lock.ts, the
 * one reader every run uses; this file only says what that judgement means, in plain words.
 */
import { ago, check, showTime, type Check } from "./check.js";
import { canTakeOver, judgeLockFile, type HostView, type LockFile } from "../store/lock.js";

/** A lock held longer than this is probably a stuck run. */
const STUCK_AFTER_MS = 24 * 3600_000;

/** Everything the lock judgement needs. */
export interface LockInput {
  /** The lock file's path. */
  path: string;
  /** The file as read (readLockFile); undefined when there is no file; or why it could not be read. */
  file: Pick<LockFile, "text" | "mtimeMs"> | { code: string | undefined; message: string } | undefined;
  hostHash: string;
  isAlive: (pid: number) => boolean;
  /** A live pid's start time in clock ticks since boot (Linux), to tell a reused pid; null where unknown. */
  procStartOf?: (pid: number) => number | null;
  /** The command of a live pid (e.g. from /proc), shown so a person can tell a reused pid. */
  commandOf?: (pid: number) => string | null;
  now: Date;
}

/** Whether a process's command line could be a reachprobe run (Node running it, under any name). */
export function looksLikeReachprobe(command: string): boolean {
  return /\bnode(js)?\b|reachprobe|main\.js/i.test(command);
}

const minutes = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

/** Judges the lock: none, held by a live run (since when), stale (the next run takes it over), or unknown. */
export function judgeLock(input: LockInput): Check {
  const { path, file } = input;
  if (file === undefined) return check("lock", "ok", "no lock: no run is in progress", undefined, { path, state: "none" });
  if (!("text" in file)) {
    return check("lock", "warn", `${path} exists but cannot be read (${file.message})`, `check its permissions (ls -l ${path}); reachprobe must be able to read and remove it`, { path, state: "unreadable" });
  }
  const host: HostView = { hostHash: input.hostHash, isAlive: input.isAlive, procStartOf: input.procStartOf ?? (() => null), nowMs: input.now.getTime() };
  const j = judgeLockFile(file, host);
  const takeover = `nothing to do: the next run takes it over (or remove it now: rm ${path})`;
  if (j.state === "invalid") {
    return check(
      "lock",
      "warn",
      `${path} is not a lock reachprobe can read: ${j.reason}; changed ${minutes(j.ageS)} ago`,
      j.expired ? takeover : `a run treats it as held until it is unchanged for ${minutes(j.leaseS)}; if no reachprobe run is going on (ps aux | grep reachprobe), remove it: rm ${path}`,
      { path, state: "invalid", reason: j.reason, age_s: Math.round(j.ageS), taken_over: canTakeOver(j) },
    );
  }
  const lock = j.lock;
  const state = j.state;
  const started = lock.started_at ? new Date(lock.started_at) : null;
  const when = started && !Number.isNaN(started.getTime()) ? `${showTime(started)} (${ago(started, input.now)})` : null;
  const since = when ? ` since ${when}` : "";
  const details = { path, state, pid: lock.pid, hostname_hash: lock.hostname_hash, started_at: lock.started_at, proc_start: lock.proc_start };
  if (state === "stale") {
    return check("lock", "warn", `stale lock: pid ${lock.pid}${when ? ` took it ${when} and` : ""} is no longer running (killed, crashed, or the machine restarted)`, takeover, details);
  }
  if (state === "reused") {
    return check(
      "lock",
      "warn",
      `stale lock: pid ${lock.pid}${when ? ` took it ${when}, but that pid` : ""} now belongs to another process (its start time differs): the run that took it is gone`,
      takeover,
      details,
    );
  }
  if (state === "expired") {
    return check(
      "lock",
      "warn",
      `stale lock from another machine (host ${lock.hostname_hash}), pid ${lock.pid}${since}: not renewed for ${minutes(j.ageS)}, longer than its ${minutes(j.leaseS)} lease`,
      takeover,
      { ...details, age_s: Math.round(j.ageS), lease_s: j.leaseS },
    );
  }
  if (state === "foreign") {
    return check(
      "lock",
      "warn",
      `locked by a run on another machine (host ${lock.hostname_hash}), pid ${lock.pid}${since}, renewed ${minutes(j.ageS)} ago: it cannot be checked from here`,
      `if it is not renewed for ${minutes(j.leaseS)} the next run takes it over; if no reachprobe is running on the machine that shares this file, remove it now: rm ${path}`,
      { ...details, age_s: Math.round(j.ageS), lease_s: j.leaseS },
    );
  }
  const command = input.commandOf?.(lock.pid) ?? null;
  const who = command ? `pid ${lock.pid} (${command})` : `pid ${lock.pid}`;
  if (command !== null && !looksLikeReachprobe(command)) {
    return check(
      "lock",
      "warn",
      `held by ${who}${since}, which is not reachprobe: the run that took it probably died and its pid was given to another program`,
      `if no reachprobe run is going on (ps aux | grep reachprobe), remove the lock: rm ${path}`,
      { ...details, command },
    );
  }
  if (started && input.now.getTime() - started.getTime() > STUCK_AFTER_MS) {
    return check(
      "lock",
      "warn",
      `held by ${who}${since}: a run that long is probably stuck`,
      `look at it (ps -o pid,etime,args -p ${lock.pid}); if it is stuck, stop it (kill ${lock.pid}): its finished measurements are kept`,
      { ...details, command },
    );
  }
  return check("lock", "ok", `held by ${who}${since}: a run is in progress`, undefined, { ...details, command });
}
