/**
 * Is the system clock believable? Certificate validation compares validity dates with it, so a
 * clock in 1970 (a Raspberry Pi without a battery, before NTP) makes every TLS site look broken.
 * Pure: the caller passes the clock and the dates it knows to be in the past.
 */
import { check, showTime, type Check } from "./check.js";

/**
 * A date this reachprobe was certainly built after (this source's own date). A later build only
 * makes the floor tighter; a stale value is still a true lower bound.
 */
export const BUILD_FLOOR = new Date("2026-11-29T00:00:00Z");

/** More than this after the newest known past date, a clock is called absurd. */
const FUTURE_YEARS = 20;

/** A few minutes' slack before a clock that reads earlier than the last run counts as gone back. */
const BACKWARDS_SLACK_MS = 5 * 60_000;

/** What the clock is compared with. */
export interface ClockEvidence {
  /** The clock's reading. */
  now: Date;
  /** Dates known to be in the past: reachprobe's build floor, the newest `notBefore` of Node's bundled CAs, ... */
  floors: Array<{ what: string; at: Date }>;
  /** When the newest run in the database started, by the clock of the machine that made it. */
  lastRunAt?: Date | null;
}

/** Judges the clock: before a known past date or absurdly far in the future is a warning. */
export function judgeClock(e: ClockEvidence): Check {
  const valid = e.floors.filter((f) => !Number.isNaN(f.at.getTime()));
  const floor = valid.reduce<{ what: string; at: Date } | null>((best, f) => (best === null || f.at > best.at ? f : best), null);
  const details = { now: e.now.toISOString(), floor: floor ? { what: floor.what, at: floor.at.toISOString() } : null, last_run_at: e.lastRunAt?.toISOString() ?? null };
  const fix = "set the clock (timedatectl set-ntp true, or install an NTP client such as chrony or systemd-timesyncd), then run again";
  if (floor && e.now < floor.at) {
    return check(
      "clock",
      "warn",
      `the system clock says ${showTime(e.now)}, before ${floor.what} (${showTime(floor.at)}): certificates will look not yet valid and TLS checks fail`,
      fix,
      details,
    );
  }
  if (floor && e.now.getTime() > floor.at.getTime() + FUTURE_YEARS * 365.25 * 86_400_000) {
    return check("clock", "warn", `the system clock says ${showTime(e.now)}, more than ${FUTURE_YEARS} years after ${floor.what}: certificates will look expired`, fix, details);
  }
  if (e.lastRunAt && !Number.isNaN(e.lastRunAt.getTime()) && e.now.getTime() < e.lastRunAt.getTime() - BACKWARDS_SLACK_MS) {
    return check(
      "clock",
      "warn",
      `the system clock says ${showTime(e.now)}, earlier than the last run in the database (${showTime(e.lastRunAt)}): the clock went back, or the file comes from a machine with another clock`,
      `check the clock (date -u); ${fix}`,
      details,
    );
  }
  return check("clock", "ok", `the system clock (${showTime(e.now)}) looks right`, undefined, details);
}
