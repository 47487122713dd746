/**
 * What every doctor check produces: one line with a status, what was found and, when something
 * is not right, what to do. Pure data, so that rendering and `--json` share one model.
 */

/** How a check came out: fine, worth knowing, must be fixed, or not checked (nothing configured). */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** One check's outcome. */
export interface Check {
  /** A stable name scripts can match on: `database`, `database.schema`, `lock`, `control`, ... */
  id: string;
  status: CheckStatus;
  /** One line: what was found, in plain words. */
  message: string;
  /** What to do about it; set when status is warn or fail. */
  fix?: string;
  /** Facts behind the message, for `--json`. */
  details?: Record<string, unknown>;
}

/** The symbol printed in front of each line. */
export const SYMBOL: Record<CheckStatus, string> = { ok: "✓", warn: "!", fail: "✗", skip: "-" };

/** Counts of each status. */
export function tally(checks: readonly Check[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return counts;
}

/** The doctor's exit code: 0 when nothing must be fixed (warnings allowed), 1 otherwise. */
export function doctorExitCode(checks: readonly Check[]): 0 | 1 {
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

/** Builds a check, leaving out empty optional fields so `--json` stays small. */
export function check(id: string, status: CheckStatus, message: string, fix?: string, details?: Record<string, unknown>): Check {
  return { id, status, message, ...(fix ? { fix } : {}), ...(details ? { details } : {}) };
}

/** "3 h ago", "2 days ago": how long ago `then` was, seen from `now`; "in the future" when it is later. */
export function ago(then: Date, now: Date): string {
  const s = Math.round((now.getTime() - then.getTime()) / 1000);
  if (s < -60) return "in the future";
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400 * 2) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** A time as `2026-11-29 22:00 UTC`, readable and unambiguous. */
export function showTime(d: Date): string {
  return Number.isNaN(d.getTime()) ? "an invalid time" : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

