/**
 * `--since` values, shared by the commands that read the database: a duration back from now
 * (`30m`, `24h`, `7d`, `2w`) or a date (`2026-05-04`) or date-time (`2026-05-04T10:00`,
 * `2026-05-04 10:00:30Z`, `2026-05-04T13:00+03:00`). Times without a zone are UTC, as every
 * time reachprobe prints and stores.
 */
import { UsageError } from "../base/errors.js";
import { durationMs } from "../base/duration.js";

/** The accepted forms, for help texts and error messages. */
export const SINCE_FORMS = "a duration such as 30m, 24h, 7d or 2w, or a UTC date such as 2026-05-04 or 2026-05-04T10:00";

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i;

function bad(flag: string, text: string, why: string): UsageError {
  return new UsageError(`${flag} ${why}, got "${text}"`);
}

function parseDate(text: string, flag: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", ms = "0", zone] = m;
  const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), Number(ms.padEnd(3, "0"))] as const;
  const [year, month, day, hour, minute, second, milli] = parts;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, milli);
  // Date.UTC rolls 2026-02-30 over into March: a date that does not round-trip does not exist.
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw bad(flag, text, "is not a real date or time");
  }
  if (zone === undefined || zone.toUpperCase() === "Z") return utc;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!z || Number(z[2]) > 23 || Number(z[3]) > 59) throw bad(flag, text, "has an invalid time zone offset");
  const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  return z[1] === "+" ? utc - offset : utc + offset;
}

/**
 * Parses a `--since` value into an ISO-8601 UTC time (the stored form) relative to `now`.
 * Throws a UsageError naming the flag (`--since` unless told otherwise) when the value is not
 * a duration or a date, is not a real date, is zero, or lies in the future.
 */
export function parseSince(text: string, now: Date | number = Date.now(), flag = "--since"): string {
  const t = text.trim();
  const nowMs = typeof now === "number" ? now : now.getTime();
  let at: number;
  // A bare number is not a duration here: "2026" could be a year.
  const d = durationMs(t.replace(/\s+/g, ""), null);
  if (d !== null) {
    if (d === 0) throw bad(flag, text, "must be a duration longer than zero");
    at = nowMs - d;
  } else {
    const parsed = parseDate(t, flag);
    if (parsed === null) throw bad(flag, text, `must be ${SINCE_FORMS} (m is minutes)`);
    at = parsed;
  }
  if (!Number.isFinite(at) || Math.abs(at) > 8.64e15) throw bad(flag, text, "is too far back");
  if (at > nowMs) throw bad(flag, text, `is in the future (now is ${new Date(nowMs).toISOString()})`);
  return new Date(at).toISOString();
}
