/**
 * Durations as people write them (`5s`, `1500ms`, `2m`, `1h30m`), the one parser of
 * every duration flag and key (--timeout, --budget, --dns-window, --wait, --every, --jitter,
 * --since, the config file's). A bare number is in the flag's own documented unit.
 */
import { UsageError } from "./errors.js";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Whole numbers only: "1.5h" is written 1h30m.
const PART = /(\d+)(ms|sec|min|s|m|h|d|w)/g;
const WHOLE = /^(\d+(ms|sec|min|s|m|h|d|w))+$/;

/**
 * The milliseconds `text` stands for, or null when it is not a duration: parts with units
 * (`1h30m`), or a bare number taken in `bareUnit` (none: a unit is required). Case and spaces
 * around are ignored.
 */
export function durationMs(text: string, bareUnit: "ms" | "s" | null): number | null {
  const v = text.trim().toLowerCase();
  if (/^\d+$/.test(v)) return bareUnit === null ? null : Number(v) * UNIT_MS[bareUnit]!;
  if (!WHOLE.test(v)) return null;
  let ms = 0;
  for (const m of v.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

/** Writes milliseconds compactly, largest units first: 5400000 -> `1h30m`, 1500 -> `1s500ms`, 0 -> `0s`. */
export function formatMs(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/**
 * A commander parser for a duration flag whose bare numbers are in `unit` (`--timeout 5000` is
 * 5000 ms, `--wait 30` is 30 s), giving a whole number in that unit, from `min` to `max`
 * (in that unit); a UsageError naming the flag otherwise.
 */
export function durationIn(flag: string, unit: "ms" | "s", min: number, max: number): (v: string) => number {
  const size = unit === "ms" ? 1 : 1000;
  return (v: string) => {
    const ms = durationMs(v, unit);
    if (ms !== null && ms % size !== 0) throw new UsageError(`${flag} counts whole seconds, got "${v}"`);
    const n = ms === null ? NaN : ms / size;
    if (ms === null || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = `from ${formatMs(min * size)} to ${formatMs(max * size)}`;
      throw new UsageError(`${flag} must be a duration ${range}, such as ${unit === "ms" ? "5s, 1500ms or 2m (a bare number is milliseconds)" : "30s, 5m or 1h (a bare number is seconds)"}, got "${v}"`);
    }
    return n;
  };
}
