/**
 * Observations made fit to leave the machine (docs/fleet.md, "Scrubbing"): every IPv4 and IPv6
 * address in an HTTP response's header values, title and body sample becomes [scrubbed]
 * (net/scrub.ts), as the OONI export writes them. An observation with nothing to scrub is
 * returned as it is, so that scrubbing twice, or scrubbing a row that quotes no address, gives
 * the same JSON. A scrubbed observation says so (`scrubbed: true`) and loses its bodySha256: the
 * hash of a page with one unknown address in it gives the address back to anyone who tries the
 * four billion candidates.
 */
import { scrubAddresses, scrubBytes } from "../net/scrub.js";
import { bodySampleBytes, bodySampleIsWhole, encodeBodySample } from "./body-sample.js";
import type { HttpObservation, Observation } from "./observation.js";

function scrubMap(h: Record<string, string> | undefined): Record<string, string> | undefined {
  if (h === undefined) return undefined;
  let out: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(h)) {
    const clean = scrubAddresses(value);
    if (clean !== value) (out ??= { ...h })[name] = clean;
  }
  return out ?? h;
}

function scrubRepeats(r: Record<string, string[]> | undefined): Record<string, string[]> | undefined {
  if (r === undefined) return undefined;
  let out: Record<string, string[]> | undefined;
  for (const [name, values] of Object.entries(r)) {
    const clean = values.map(scrubAddresses);
    if (clean.some((v, i) => v !== values[i])) (out ??= { ...r })[name] = clean;
  }
  return out ?? r;
}

/** An HTTP observation with every address in its response headers, title and body sample scrubbed; `o` itself when none had any. */
export function scrubHttpObservation(o: HttpObservation): HttpObservation {
  const headers = scrubMap(o.headers);
  const headerRepeats = scrubRepeats(o.headerRepeats);
  const title = typeof o.title === "string" ? scrubAddresses(o.title) : o.title;
  const location = typeof o.location === "string" ? scrubAddresses(o.location) : o.location;
  const bytes = o.bodySample === undefined ? undefined : bodySampleBytes(o);
  const body = bytes === undefined ? undefined : scrubBytes(bytes);
  const bodyChanged = body !== bytes;
  if (headers === o.headers && headerRepeats === o.headerRepeats && title === o.title && location === o.location && !bodyChanged) return o;
  const out: HttpObservation = { ...o, scrubbed: true };
  if (headers !== undefined) out.headers = headers;
  if (headerRepeats !== undefined) out.headerRepeats = headerRepeats;
  if (title !== undefined) out.title = title;
  if (location !== undefined) out.location = location;
  if (bytes !== undefined) out.bodySampleWhole = bodySampleIsWhole(o);
  if (bodyChanged && body !== undefined) {
    delete out.bodySampleEncoding;
    Object.assign(out, encodeBodySample(body));
  }
  // The hash goes whatever was scrubbed: a header's address is often the body's too.
  delete out.bodySha256;
  return out;
}

/** Observations with every HTTP response scrubbed of addresses (scrubHttpObservation); the same array when nothing changed. */
export function scrubObservations(list: readonly Observation[]): readonly Observation[] {
  let out: Observation[] | undefined;
  list.forEach((o, i) => {
    if (o.step !== "http") return;
    const clean = scrubHttpObservation(o);
    if (clean !== o) (out ??= [...list])[i] = clean;
  });
  return out ?? list;
}

/**
 * Evidence sentences with every title they quote scrubbed as the observation's title is (a
 * verdict quotes the response's title: "HTTP 403, 512 bytes, "Blocked for 203.0.113.7""); the
 * same array when no title had an address. The rest of a sentence (DNS answers, the addresses
 * connected to) is what the measurement is about and stays.
 */
export function scrubQuotedTitles(evidence: readonly string[], observations: readonly Observation[]): readonly string[] {
  const titles = new Map<string, string>();
  for (const o of observations) {
    if (o.step !== "http" || typeof o.title !== "string" || o.title === "") continue;
    const clean = scrubAddresses(o.title);
    if (clean !== o.title) titles.set(o.title, clean);
  }
  if (titles.size === 0) return evidence;
  // Longest first, so that a title containing another is replaced whole.
  const order = [...titles.keys()].sort((a, b) => b.length - a.length);
  let changed = false;
  const out = evidence.map((line) => {
    let next = line;
    for (const t of order) next = next.split(t).join(titles.get(t)!);
    if (next !== line) changed = true;
    return next;
  });
  return changed ? out : evidence;
}
