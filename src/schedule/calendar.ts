/**
 * When scheduled runs happen: an interval turned into calendar forms (systemd's OnCalendar, a
 * crontab time, a seconds-precise pattern for the daemon), with a per-machine offset so that
 * machines with the same schedule do not all start at minute 0; and cron expressions read
 * with croner, for their shortest gap and their systemd equivalent.
 */
import { createHash } from "node:crypto";
import { Cron, CronPattern } from "croner";
import { UsageError } from "../base/errors.js";

/** One interval in the forms each scheduler understands; null where a form cannot say it. */
export interface Calendar {
  /** systemd OnCalendar= (same on every machine: RandomizedDelaySec= spreads the runs). */
  onCalendar: string | null;
  /** A crontab time (five fields), offset by the host name. */
  cron5: string | null;
  /** A croner pattern with seconds (six fields), offset by the host name. */
  cron6: string;
}

/** A stable number from a host name (48 bits of its SHA-256), the source of per-machine offsets. */
export function hostHash(hostname: string): number {
  return createHash("sha256").update(hostname.toLowerCase()).digest().readUIntBE(0, 6);
}

/** The minute past the hour a machine's hourly (or longer) runs start at: 0-59, stable per host name. */
export function minuteOffset(hostname: string): number {
  return hostHash(hostname) % 60;
}

/** `off, off+step, ...` below `size`; `*` when every value is in; a range with a step when the list is long. */
function steps(off: number, step: number, size: number): string {
  if (step === 1) return "*";
  const values: number[] = [];
  for (let v = off; v < size; v += step) values.push(v);
  return values.length > 12 ? `${off}-${size - 1}/${step}` : values.join(",");
}

/** The calendar forms of "every `intervalS` seconds", or null when it does not divide the clock evenly. */
export function calendarForInterval(intervalS: number, hostname: string): Calendar | null {
  const h = hostHash(hostname);
  const minute = h % 60;
  const hour = Math.floor(h / 60) % 24;
  if (intervalS < 60) {
    if (60 % intervalS !== 0) return null;
    return { onCalendar: null, cron5: null, cron6: `${steps(h % intervalS, intervalS, 60)} * * * * *` };
  }
  if (intervalS < 3600) {
    const m = intervalS / 60;
    if (!Number.isInteger(m) || 60 % m !== 0) return null;
    const list = steps(h % m, m, 60);
    return { onCalendar: m === 1 ? "minutely" : `*-*-* *:00/${m}:00`, cron5: `${list} * * * *`, cron6: `0 ${list} * * * *` };
  }
  if (intervalS < 86_400) {
    const hh = intervalS / 3600;
    if (!Number.isInteger(hh) || 24 % hh !== 0) return null;
    const list = steps(Math.floor(h / 60) % hh, hh, 24);
    return { onCalendar: hh === 1 ? "hourly" : `*-*-* 00/${hh}:00:00`, cron5: `${minute} ${list} * * *`, cron6: `0 ${minute} ${list} * * *` };
  }
  if (intervalS === 86_400) return { onCalendar: "daily", cron5: `${minute} ${hour} * * *`, cron6: `0 ${minute} ${hour} * * *` };
  if (intervalS === 604_800) {
    const dow = Math.floor(h / 1440) % 7;
    return { onCalendar: "weekly", cron5: `${minute} ${hour} * * ${dow}`, cron6: `0 ${minute} ${hour} * * ${dow}` };
  }
  return null;
}

/** Parses a cron expression (5 fields, or 6 with seconds when `withSeconds`), naming the flag when it is invalid. */
export function parseCronExpr(flag: string, expr: string, withSeconds: boolean): Cron {
  try {
    return new Cron(expr.trim(), { paused: true, mode: withSeconds ? "5-or-6-parts" : "5-part" });
  } catch (err) {
    const fields = withSeconds ? "5 fields (minute hour day month weekday) or 6 (seconds first)" : "5 fields: minute hour day month weekday";
    throw new UsageError(`${flag} must be a cron expression of ${fields}, such as "*/15 * * * *"; "${expr}": ${(err as Error).message}`);
  }
}

/** The shortest gap, in seconds, between the next runs of a cron expression (from `from`). */
export function shortestGap(flag: string, cron: Cron, from: Date): number {
  const runs = cron.nextRuns(60, from);
  if (runs.length === 0) throw new UsageError(`${flag} "${cron.getPattern()}" never runs`);
  if (runs.length === 1) return 365 * 86_400;
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, ((runs[i] as Date).getTime() - (runs[i - 1] as Date).getTime()) / 1000);
  return gap;
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** The values a parsed field matches (`first` is the value of index 0), as a list, or `*` for all. */
function field(flags: number[], first: number, names?: string[]): string {
  const on = flags.flatMap((f, i) => (f ? [i] : []));
  if (on.length === flags.length) return "*";
  return on.map((i) => names?.[i] ?? String(i + first)).join(",");
}

/**
 * The systemd OnCalendar= equivalent of a five-field cron expression. Throws a usage error for
 * what systemd cannot say the same way: cron's L, W and # extensions, and a day of the month
 * together with a weekday (cron runs on either, systemd only on both).
 */
export function cronToOnCalendar(flag: string, expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) throw new UsageError(`${flag} must have 5 fields (minute hour day month weekday) for a systemd timer, got "${expr}"`);
  let p: CronPattern;
  try {
    p = new CronPattern(expr.trim(), undefined, { mode: "5-part" });
  } catch (err) {
    throw new UsageError(`${flag} "${expr}" is not a valid cron expression: ${(err as Error).message}`);
  }
  const all = 63; // QUIRK: croner marks a matching weekday with 63 (every "nth" bit); "#2" or "5L" leave other values.
  if (p.lastDayOfMonth || p.lastWeekday || p.nearestWeekdays.some(Boolean) || p.dayOfWeek.some((d) => d !== 0 && d !== all)) {
    throw new UsageError(`${flag} "${expr}" uses L, W or # which a systemd timer cannot express: use --format cron, or the daemon`);
  }
  if (!p.starDOM && !p.starDOW) {
    throw new UsageError(`${flag} "${expr}" names both a day of the month and a weekday (cron runs on either, systemd only on both): use one, or --format cron`);
  }
  const dow = p.starDOW ? "" : `${field(p.dayOfWeek, 0, DAY_NAMES)} `;
  return `${dow}*-${field(p.month, 1)}-${field(p.day, 1)} ${field(p.hour, 0)}:${field(p.minute, 0)}:00`;
}
