/** Durations as people write them on a command line (`90s`, `15m`, `1h`, `6h`, `1d`, `1h30m`), in whole seconds. */
import { UsageError } from "../base/errors.js";

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

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
  if (!/^(\d+(s|sec|min|m|h|d|w))+$/.test(v)) {
    throw new UsageError(`${hint}, got "${value}"${/^\d+$/.test(v) ? " (a unit is needed: s, m, h, d or w)" : ""}`);
  }
  let seconds = 0;
  for (const part of v.matchAll(/(\d+)(sec|min|s|m|h|d|w)/g)) seconds += Number(part[1]) * (UNIT_SECONDS[part[2] ?? ""] ?? Number.NaN);
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
  if (seconds === 0) return "0s";
  let rest = seconds;
  let out = "";
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
