/**
 * Names typed after `--service` and `--network`, matched as people type them: exactly, else
 * ignoring case; a name that matches nothing is a usage error that suggests the closest ones.
 */
import { UsageError } from "../base/errors.js";

// Damerau-free edit distance, two rows: names are short.
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known names closest to `typed` (case ignored): within a third of its length in edits, or containing it. */
export function closestNames(typed: string, known: readonly string[]): string[] {
  const t = typed.toLowerCase();
  const scored = known
    .map((k) => ({ k, d: k.toLowerCase().includes(t) || t.includes(k.toLowerCase()) ? 0 : distance(t, k.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(t.length / 3)));
  return scored.sort((a, b) => a.d - b.d || a.k.localeCompare(b.k)).slice(0, 3).map((x) => x.k);
}

/**
 * The name in `known` that `typed` means: itself, else the one equal to it ignoring case.
 * Throws a UsageError naming `flag`, with did-you-mean suggestions and the known names, when
 * there is none or more than one (`show` says how `known` is shown, e.g. "(unlabelled)" for "").
 */
export function matchName(flag: string, typed: string, known: readonly string[], what: string, show: (k: string) => string = (k) => k): string {
  if (known.includes(typed)) return typed;
  const same = known.filter((k) => k.toLowerCase() === typed.toLowerCase());
  if (same.length === 1) return same[0]!;
  if (same.length > 1) throw new UsageError(`${flag} "${typed}" matches ${same.map((k) => `"${show(k)}"`).join(" and ")} but for case: write it exactly`);
  const near = closestNames(typed, known);
  const hint = near.length ? `; did you mean ${near.map((k) => `"${show(k)}"`).join(" or ")}?` : "";
  const all = known.length === 0 ? " (the database has none yet)" : known.length <= 12 ? ` (known: ${known.map(show).join(", ")})` : "";
  throw new UsageError(`${flag}: no ${what} "${typed}" in the database${hint}${hint ? "" : all}`);
}
