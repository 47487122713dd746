/** The daemon's ticks: the next time a run is due, from a cron pattern (croner) or a fixed interval. */
import type { Cron } from "croner";

/** A source of tick times, in ms since the epoch. */
export interface Ticker {
  /** The first tick strictly after `after`, or null when there is none. */
  next(after: number): number | null;
}

/** Ticks at the times a cron pattern matches (local time, as cron). */
export function cronTicker(cron: Cron): Ticker {
  return {
    next: (after) => cron.nextRun(new Date(after))?.getTime() ?? null,
  };
}

/** Ticks every `intervalMs` counted from `origin`, skipping those already past. */
export function intervalTicker(intervalMs: number, origin: number): Ticker {
  return {
    next: (after) => origin + (Math.floor((after - origin) / intervalMs) + 1) * intervalMs,
  };
}
