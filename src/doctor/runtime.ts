/** Pure judgements about the runtime: Node's version against `engines`, the open-file limit against `--concurrency`. */
import { check, type Check } from "./check.js";

/** Parses `20.18.1` or `v20.18` into numbers; null when it is not a version. */
export function parseVersion(v: string): [number, number, number] | null {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** Compares two versions: negative, zero or positive. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Judges Node's version against package.json's `engines.node`. Only the `>=X.Y[.Z]` form that
 * reachprobe uses is understood; anything else is reported, not judged.
 */
export function judgeNodeVersion(nodeVersion: string, engines: string | undefined): Check {
  const have = parseVersion(nodeVersion);
  const m = /^\s*>=\s*(v?\d+(?:\.\d+){0,2})\s*$/.exec(engines ?? "");
  const need = m?.[1] ? parseVersion(m[1]) : null;
  const details = { node: nodeVersion, engines: engines ?? null };
  if (!have || !need) return check("node", "ok", `Node ${nodeVersion} (reachprobe asks for ${engines ?? "nothing in particular"})`, undefined, details);
  if (compareVersions(have, need) < 0) {
    return check(
      "node",
      "fail",
      `Node ${nodeVersion} is older than reachprobe needs (${engines})`,
      `install Node ${need.join(".")} or newer (https://nodejs.org, or your distribution's nodejs package), then run npm ci again to rebuild better-sqlite3`,
      details,
    );
  }
  return check("node", "ok", `Node ${nodeVersion} (reachprobe needs ${engines})`, undefined, details);
}

/** The soft and hard limits on open files, from Linux's /proc/self/limits; null when the text has none. */
export function parseOpenFilesLimit(procLimits: string): { soft: number; hard: number } | null {
  const line = procLimits.split("\n").find((l) => l.startsWith("Max open files"));
  const m = line ? /^Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
  if (!m) return null;
  const num = (s: string | undefined) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
  const soft = num(m[1]);
  const hard = num(m[2]);
  return Number.isNaN(soft) || Number.isNaN(hard) ? null : { soft, hard };
}

/** Descriptors a run keeps open whatever its size: stdio, the database and its WAL, libuv's own. */
const BASE_FDS = 32;

/**
 * About how many descriptors one target can hold at once: its DNS lookups run together (system,
 * each resolver, each DoH), then every address is connected at once (TCP, then TLS/HTTP, a
 * redirect hop possibly on a new socket), plus the control query.
 */
export function fdsPerTarget(resolvers: number, doh: number, maxAddresses = 4): number {
  return Math.max(1 + resolvers + doh, 2 * maxAddresses) + 1;
}

/** Judges the open-file limit against what `concurrency` targets at once need. */
export function judgeFdLimit(limit: { soft: number; hard: number } | null, concurrency: number, perTarget: number): Check {
  if (!limit) return check("fd-limit", "skip", "the open-file limit cannot be read on this platform (no /proc/self/limits); not checked");
  const need = BASE_FDS + concurrency * perTarget;
  const show = (n: number) => (Number.isFinite(n) ? String(n) : "unlimited");
  const details = { soft: Number.isFinite(limit.soft) ? limit.soft : null, hard: Number.isFinite(limit.hard) ? limit.hard : null, concurrency, estimated_need: need };
  if (limit.soft >= need) {
    return check("fd-limit", "ok", `open-file limit ${show(limit.soft)}, enough for --concurrency ${concurrency} (about ${need} needed)`, undefined, details);
  }
  const fitting = Math.max(1, Math.floor((limit.soft - BASE_FDS) / perTarget));
  const raise = limit.hard >= need ? `raise it for the shell that starts reachprobe (ulimit -n ${need}; the hard limit is ${show(limit.hard)})` : `raise the hard limit (LimitNOFILE= in a systemd unit, or /etc/security/limits.conf) to at least ${need}`;
  return check(
    "fd-limit",
    "warn",
    `open-file limit ${show(limit.soft)} is below the about ${need} that --concurrency ${concurrency} can use: targets past it fail with "too many open files" and look like anomalies`,
    `${raise}, or run with --concurrency ${fitting} or less`,
    details,
  );
}
