/** Jitter: a random delay before each scheduled run, so that probes everywhere do not fire at the same second. */
import { UsageError } from "../base/errors.js";
import { formatDuration } from "./duration.js";

/** The largest default jitter: beyond half an hour, spreading runs further buys nothing. */
export const MAX_DEFAULT_JITTER_S = 30 * 60;

/** The default jitter for runs `intervalS` apart: 10% of the interval, at most half an hour. */
export function defaultJitter(intervalS: number): number {
  return Math.min(Math.floor(intervalS / 10), MAX_DEFAULT_JITTER_S);
}

/** Picks the jitter: the one given (checked to leave room before the next run) or the default. */
export function chooseJitter(given: number | undefined, intervalS: number): number {
  if (given === undefined) return defaultJitter(intervalS);
  if (given >= intervalS) {
    throw new UsageError(`--jitter must be shorter than the time between runs (${formatDuration(intervalS)}), got ${formatDuration(given)}`);
  }
  return given;
}

/** A random delay from 0 to `jitterMs` inclusive, from a `random()` in [0, 1). */
export function randomDelayMs(jitterMs: number, random: () => number): number {
  return Math.floor(random() * (jitterMs + 1));
}
