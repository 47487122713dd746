/**
 * Privacy: the probe's own addresses never reach the store or the output. A block page may
 * print the visitor's address, an error may name the local end of a socket; every string in a
 * measurement is scrubbed of the machine's own addresses before anything keeps it.
 */
import { networkInterfaces } from "node:os";

/** The machine's own non-loopback interface addresses (those that could identify it). */
export function ownAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.address) out.add(a.address.toLowerCase());
  }
  return [...out];
}

// Fields that hold the addresses a measurement is about (DNS answers, the endpoints connected
// to), which the analysis parses: they are data about the target, never text that quotes the
// probe, and rewriting them would break the analysis.
const STRUCTURED = new Set(["address", "addresses", "addrs", "resolver"]);

/** Replaces every occurrence of `addresses` in every free-text string of `value` (deeply), returning a scrubbed copy. */
export function scrubOwnAddresses<T>(value: T, addresses: readonly string[]): T {
  // Longest first, so that 10.0.0.12 is not half-replaced by 10.0.0.1.
  const addrs = [...addresses].filter((a) => a.length >= 3).sort((a, b) => b.length - a.length);
  if (addrs.length === 0) return value;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // Not inside a longer number: 10.0.0.1 must not match in 110.0.0.12.
  const re = new RegExp(`(?<![0-9a-fA-F.:])(?:${addrs.map(escape).join("|")})(?![0-9a-fA-F]|\\.\\d)`, "gi");
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(re, "[probe address]");
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, STRUCTURED.has(k) ? x : walk(x)]));
    return v;
  };
  return walk(value) as T;
}
