/** Whole-number values of flags and configuration keys, checked with the name in the error. */
import { UsageError } from "./errors.js";

/** Parses a positive integer value, naming the flag (or key) when it is not one. */
export function positiveInt(flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${v}"`);
    }
    return n;
  };
}
