/**
 * The run lock, `<db path>.lock`: a JSON file `{pid, hostname_hash, started_at, proc_start}` that
 * a run holds while it writes. A lock is stale when its pid is not alive on this host. The file is
 * read defensively: another version may write more fields, a crash may leave it empty.
 * Pure: the caller reads the file and answers "is this pid alive?".
 */
import { ago, check, showTime, type Check } from "./check.js";

/** A lock file's fields, as far as they could be read. */
export interface LockInfo {
  pid: number;
  /** hashHostname() of the machine that took it; null when absent (then taken as this machine). */
  hostnameHash: string | null;
  /** When it was taken, as written. */
  startedAt: string | null;
  /** The owner's start time in clock ticks since boot (Linux /proc/PID/stat field 22), or null. */
  procStart: number | null;
}

/**
 * The lock file parsed: its fields, or why it is not a lock and whether a run takes it over
 * (it does for a file it cannot read as a lock; a numeric but impossible pid it may not).
 */
export type ParsedLock = { ok: true; lock: LockInfo } | { ok: false; reason: string; takenOver: boolean };

/** Parses the lock file's text without trusting it. */
export function parseLock(text: string): ParsedLock {
  if (text.trim() === "") return { ok: false, reason: "the file is empty (a run may have died while taking it)", takenOver: true };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the file is not JSON", takenOver: true };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { ok: false, reason: "the file is not a JSON object", takenOver: true };
  const d = doc as Record<string, unknown>;
  const pid = d.pid;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return { ok: false, reason: "it has no valid pid", takenOver: typeof pid !== "number" };
  return {
    ok: true,
    lock: {
      pid,
      hostnameHash: typeof d.hostname_hash === "string" && d.hostname_hash !== "" ? d.hostname_hash : null,
      startedAt: typeof d.started_at === "string" ? d.started_at : typeof d.started_at === "number" ? new Date(d.started_at).toISOString() : null,
      procStart: typeof d.proc_start === "number" ? d.proc_start : null,
    },
  };
}

/**
 * Who holds a lock: a live process here, a dead one here (stale), a live pid that now belongs
 * to another process (reused: its start time differs from the one written), or a process on
 * another machine, which cannot be checked and which a run presumes alive.
 */
export type LockState = "live" | "stale" | "reused" | "foreign";

/**
 * Classifies a lock the way a run does (src/store/lock.ts): stale when its pid is not alive on
 * this host, or is alive with another start time than the one the lock recorded.
 */
export function classifyLock(lock: LockInfo, hostHash: string, isAlive: (pid: number) => boolean, procStartOf: (pid: number) => number | null = () => null): LockState {
  if (lock.hostnameHash !== null && lock.hostnameHash !== hostHash) return "foreign";
  if (!isAlive(lock.pid)) return "stale";
  if (lock.procStart === null) return "live";
  const now = procStartOf(lock.pid);
  return now === null || now === lock.procStart ? "live" : "reused";
}

/** A lock held longer than this is probably a stuck run. */
const STUCK_AFTER_MS = 24 * 3600_000;

/** Everything the lock judgement needs. */
export interface LockInput {
  /** The lock file's path. */
  path: string;
  /** The file's text; undefined when there is no file; or why it could not be read. */
  file: { text: string } | { code: string | undefined; message: string } | undefined;
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

/** Judges the lock: none, held by a live run (since when), stale (the next run takes it over), or unknown. */
export function judgeLock(input: LockInput): Check {
  const { path, file } = input;
  if (file === undefined) return check("lock", "ok", "no lock: no run is in progress", undefined, { path, state: "none" });
  if (!("text" in file)) {
    return check("lock", "warn", `${path} exists but cannot be read (${file.message})`, `check its permissions (ls -l ${path}); reachprobe must be able to read and remove it`, { path, state: "unreadable" });
  }
  const parsed = parseLock(file.text);
  if (!parsed.ok) {
    return check(
      "lock",
      "warn",
      `${path} is not a lock reachprobe can read: ${parsed.reason}`,
      parsed.takenOver
        ? `nothing to do: the next run replaces it (or remove it now: rm ${path})`
        : `if no reachprobe run is going on (ps aux | grep reachprobe), remove it: rm ${path}`,
      { path, state: "invalid", reason: parsed.reason },
    );
  }
  const lock = parsed.lock;
  const state = classifyLock(lock, input.hostHash, input.isAlive, input.procStartOf);
  const started = lock.startedAt ? new Date(lock.startedAt) : null;
  const when = started && !Number.isNaN(started.getTime()) ? `${showTime(started)} (${ago(started, input.now)})` : null;
  const since = when ? ` since ${when}` : "";
  const details = { path, state, pid: lock.pid, hostname_hash: lock.hostnameHash, started_at: lock.startedAt, proc_start: lock.procStart };
  if (state === "stale") {
    return check(
      "lock",
      "warn",
      `stale lock: pid ${lock.pid}${when ? ` took it ${when} and` : ""} is no longer running (killed, crashed, or the machine restarted)`,
      `nothing to do: the next run takes it over (or remove it now: rm ${path})`,
      details,
    );
  }
  if (state === "reused") {
    return check(
      "lock",
      "warn",
      `stale lock: pid ${lock.pid}${when ? ` took it ${when}, but that pid` : ""} now belongs to another process (its start time differs): the run that took it is gone`,
      `nothing to do: the next run takes it over (or remove it now: rm ${path})`,
      details,
    );
  }
  if (state === "foreign") {
    return check(
      "lock",
      "warn",
      `locked by a run on another machine (host ${lock.hostnameHash}), pid ${lock.pid}${since}: it cannot be checked from here`,
      `if no reachprobe is running on the machine that shares this file, remove the lock: rm ${path}`,
      { ...details },
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
