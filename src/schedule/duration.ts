/** Durations of scheduling flags (`90s`, `15m`, `1h`, `6h`, `1d`, `1h30m`), in whole seconds, through the one parser (src/base/duration.ts). */
import { UsageError } from "../base/errors.js";
import { durationMs, formatMs } from "../base/duration.js";

/** Bounds of one duration flag; `min` 0 allows `0` (no jitter). */
export interface DurationBounds {
  min: number;
  max: number;
}

/** Parses `value` of `flag` into whole seconds, throwing a usage error that names the flag. */
export function parseDuration(flag: string, value: string, bounds: DurationBounds): number {
  const v = value.trim().toLowerCase();
  const hint = `${flag} takes a duration such as 90s, 15m, 1h, 6h, 1d or 1h30m`;
  if (bounds.min === 0 && /^0+$/.test(v)) return 0;
  const ms = durationMs(v, null);
  if (ms === null || ms % 1000 !== 0) {
    throw new UsageError(`${hint}, got "${value}"${/^\d+$/.test(v) ? " (a unit is needed: s, m, h, d or w)" : ""}`);
  }
  const seconds = ms / 1000;
  if (!Number.isSafeInteger(seconds) || seconds < bounds.min || seconds > bounds.max) {
    throw new UsageError(`${flag} must be from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}, got "${value}"`);
  }
  return seconds;
}

/** A commander argument parser for a duration flag. */
export function durationFlag(flag: string, bounds: DurationBounds): (v: string) => number {
  return (v) => parseDuration(flag, v, bounds);
}

/** Writes whole seconds compactly, largest units first: 5400 -> `1h30m`, 0 -> `0s`. */
export function formatDuration(seconds: number): string {
  return formatMs(seconds * 1000);
}
