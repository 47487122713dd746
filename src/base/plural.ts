/** Counts for people: thousands separators, and the noun in the singular or plural. */

/** A count with thousands separators, as en-US writes it: "26,280". */
export function thousands(n: number): string {
  // toLocaleString would say the same, but its first call loads locale data: tens of milliseconds.
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** `n` and the noun, singular for 1: plural(3, "run") is "3 runs"; an irregular plural is given. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${thousands(n)} ${n === 1 ? one : many}`;
}
