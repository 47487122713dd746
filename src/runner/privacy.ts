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

/** The two patterns for one list of own addresses: `test` finds a match, `all` replaces every one. */
interface Matcher {
  test: RegExp;
  all: RegExp;
}

// A run scrubs every result with the same addresses: build the pattern once, not per result.
let cached: { key: string; matcher: Matcher | null } | null = null;

function matcherFor(addresses: readonly string[]): Matcher | null {
  const key = addresses.join("\n");
  if (cached?.key === key) return cached.matcher;
  // Longest first, so that 10.0.0.12 is not half-replaced by 10.0.0.1.
  const addrs = [...addresses].filter((a) => a.length >= 3).sort((a, b) => b.length - a.length);
  let matcher: Matcher | null = null;
  if (addrs.length > 0) {
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    // Not inside a longer number: 10.0.0.1 must not match in 110.0.0.12.
    const source = `(?<![0-9a-fA-F.:])(?:${addrs.map(escape).join("|")})(?![0-9a-fA-F]|\\.\\d)`;
    matcher = { test: new RegExp(source, "i"), all: new RegExp(source, "gi") };
  }
  cached = { key, matcher };
  return matcher;
}

/**
 * Replaces every occurrence of `addresses` in every free-text string of `value` (deeply). Returns
 * `value` itself when nothing in it matched; otherwise a copy in which only the objects and
 * arrays on the way to a changed string are new (the rest is shared with `value`).
 */
export function scrubOwnAddresses<T>(value: T, addresses: readonly string[]): T {
  const m = matcherFor(addresses);
  if (m === null) return value;
  // Copy on write: a measurement rarely quotes the probe, so most calls allocate nothing.
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return m.test.test(v) ? v.replace(m.all, "[probe address]") : v;
    if (Array.isArray(v)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const x = walk(v[i]);
        if (x !== v[i]) (out ??= v.slice())[i] = x;
      }
      return out ?? v;
    }
    if (v && typeof v === "object") {
      let out: Record<string, unknown> | null = null;
      for (const k of Object.keys(v)) {
        if (STRUCTURED.has(k)) continue;
        const old = (v as Record<string, unknown>)[k];
        const x = k === "bodySample" && (v as Record<string, unknown>).bodySampleEncoding === "base64" && typeof old === "string" ? walkBase64(old) : walk(old);
        if (x !== old) (out ??= { ...(v as Record<string, unknown>) })[k] = x;
      }
      return out ?? v;
    }
    return v;
  };
  // A body sample that is not UTF-8 is stored as base64 (probes/body-sample.ts): its bytes are
  // scrubbed as latin1 text (one character a byte, so only the ASCII of an address changes).
  const walkBase64 = (b64: string): string => {
    const text = Buffer.from(b64, "base64").toString("latin1");
    return m.test.test(text) ? Buffer.from(text.replace(m.all, "[probe address]"), "latin1").toString("base64") : b64;
  };
  return walk(value) as T;
}
