/**
 * Block-page fingerprints in OONI's blocking-fingerprints CSV format, and pure matching of
 * HTTP responses and DNS answers against them. Reading the files is `fingerprints/load.ts`'s job.
 *
 * Columns: `name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,
 * expected_countries,source,exp_url,notes`.
 *
 * Semantics follow OONI's own matcher (oonidata `fingerprintdb.py`): `full` is equality,
 * `prefix` is starts-with, `contains` is substring, `regexp` is a search with `.` matching line
 * breaks (OONI compiles with `re.DOTALL`); a header fingerprint looks at that header's value,
 * a body fingerprint at the body, a DNS fingerprint at an answer address.
 */
import { UsageError } from "../base/errors.js";
import { Buffer, isUtf8 } from "node:buffer";
import { isIP } from "node:net";
import { CsvError, parseCsv, type CsvRow } from "../base/csv.js";

/** Fingerprint scopes: OONI's `nat isp prod inst vbw fp`, plus `injb` and `prov` that its HTTP file also uses. */
export const FINGERPRINT_SCOPES = ["nat", "isp", "prod", "inst", "vbw", "fp", "injb", "prov"] as const;

/** Where a fingerprint applies: national (`nat`), ISP (`isp`), middlebox product (`prod`), institution (`inst`), vague blocking word (`vbw`), known false positive (`fp`), benign injection (`injb`), or the service's own legal geoblock (`prov`). */
export type FingerprintScope = (typeof FINGERPRINT_SCOPES)[number];

/** How a pattern is compared with the text it is matched against. */
export const PATTERN_TYPES = ["full", "prefix", "contains", "regexp"] as const;

/** One of `full` (equal), `prefix` (starts with), `contains` (substring), `regexp` (search). */
export type PatternType = (typeof PATTERN_TYPES)[number];

/** What a fingerprint is matched against: the body, a DNS answer address, or one response header (lower-case name). */
export type FingerprintLocation = "body" | "dns" | { header: string };

/** One validated fingerprint row. */
export interface Fingerprint {
  name: string;
  scope: FingerprintScope;
  location: FingerprintLocation;
  patternType: PatternType;
  pattern: string;
  /** `confidence_no_fp`: how unlikely a false positive is, 0 (guess) to 10 (certain). */
  confidence: number;
  /** Upper-case country codes where the fingerprint is expected; empty when unknown. */
  countries: string[];
  source: string;
  notes: string;
  /** Where the row came from, `file:line`, for messages. */
  origin: string;
}

/** One fingerprint that matched, with the text it matched and a sentence for verdict evidence. */
export interface FingerprintMatch {
  fingerprint: Fingerprint;
  /** `body`, `dns`, or `header.<name>`. */
  where: string;
  /** The matched text, or the start of it, at most 120 characters. */
  matched: string;
  /**
   * True for scope `fp`: the response is a known false positive (a CDN error page, a parked
   * domain...) and is NOT a block page. A caller that sees any such match ignores every other
   * match on the same response; `blockPageMatch` does exactly that.
   */
  falsePositive: boolean;
  /** Plain words for a verdict's evidence. */
  evidence: string;
}

/** An HTTP response as the matcher sees it. */
export interface HttpResponseSample {
  status: number;
  /** Header values by name; names are compared case-insensitively. */
  headers: Record<string, string>;
  /** The start of the decoded body, if it was read: its bytes, or text (matched as its UTF-8 bytes). */
  bodySample?: string | Uint8Array;
}

/** Options for `parseFingerprints`. */
export interface ParseFingerprintsOptions {
  /**
   * When given, a row whose regexp JavaScript cannot compile is skipped and described here
   * (`file:line: ...`) instead of failing the whole file. Third-party files are written for
   * Go/Python engines; one exotic pattern should not cost the other 1,700 rows.
   */
  warnings?: string[];
}

const COLUMNS = [
  "name",
  "scope",
  "other_names",
  "location_found",
  "pattern_type",
  "pattern",
  "confidence_no_fp",
  "expected_countries",
  "source",
  "exp_url",
  "notes",
] as const;

const scopes: ReadonlySet<string> = new Set(FINGERPRINT_SCOPES);
const patternTypes: ReadonlySet<string> = new Set(PATTERN_TYPES);

/** An Error that lists every problem found in a fingerprint file; `code` is `E_FINGERPRINTS`. */
export class FingerprintsError extends UsageError {
  readonly problems: string[];
  /** `message` replaces the summary of `problems` when one sentence says it all (a bad --fingerprints spec). */
  constructor(problems: string[], message?: string, options?: { cause?: unknown }) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : "";
    super(message ?? `invalid fingerprints (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${shown.join("\n  ")}${more}`, "E_FINGERPRINTS", options);
    this.problems = problems;
  }
}

// Compiled regexps, kept beside the plain (JSON-friendly) fingerprint objects.
const compiled = new WeakMap<Fingerprint, RegExp>();

/**
 * Translates the few RE2/Python spellings that JavaScript lacks: leading inline flags
 * (`(?i)`, `(?s)`, `(?m)`), named groups `(?P<name>`, and the `\A`, `\z`, `\Z` anchors.
 */
function toJsRegExp(pattern: string): RegExp {
  let source = pattern;
  // dotAll because OONI compiles with re.DOTALL.
  const flags = new Set(["s"]);
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    for (const f of inline[1] ?? "") if (f !== "U") flags.add(f);
    source = source.slice(inline[0].length);
  }
  source = source
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, "(?<$1>")
    .replace(/(^|[^\\])\\A/g, "$1^")
    .replace(/(^|[^\\])\\[zZ]/g, "$1$");
  return new RegExp(source, [...flags].join(""));
}

// A fingerprint's pattern as UTF-8 bytes, made once: every HTTP body is compared with every body
// fingerprint's bytes.
const patternBytes = new WeakMap<Fingerprint, Buffer>();

function bytesOf(fp: Fingerprint): Buffer {
  let bytes = patternBytes.get(fp);
  if (bytes === undefined) {
    bytes = Buffer.from(fp.pattern, "utf8");
    patternBytes.set(fp, bytes);
  }
  return bytes;
}

function compile(fp: Fingerprint): RegExp {
  let re = compiled.get(fp);
  if (re === undefined) {
    re = toJsRegExp(fp.pattern);
    compiled.set(fp, re);
  }
  return re;
}

function parseLocation(text: string): FingerprintLocation | null {
  if (text === "body" || text === "dns") return text;
  const m = /^header\.([A-Za-z0-9!#$%&'*+.^_`|~-]+)$/.exec(text);
  return m ? { header: (m[1] ?? "").toLowerCase() } : null;
}

/** Renders a location back in the file's spelling: `body`, `dns`, `header.location`. */
export function locationName(location: FingerprintLocation): string {
  return typeof location === "string" ? location : `header.${location.header}`;
}

/**
 * Parses and validates a fingerprint CSV (header row required). Every bad row is reported as
 * `file:line: field: problem`, all of them in one thrown `FingerprintsError` (code
 * `E_FINGERPRINTS`). See `ParseFingerprintsOptions.warnings` for regexps JavaScript rejects.
 */
export function parseFingerprints(csvText: string, fileName: string, options: ParseFingerprintsOptions = {}): Fingerprint[] {
  let rows: CsvRow[];
  try {
    rows = parseCsv(csvText);
  } catch (err) {
    if (err instanceof CsvError) throw new FingerprintsError([`${fileName}:${err.line}: ${err.reason}`]);
    throw err;
  }
  const header = rows.shift();
  const want = COLUMNS.join(",");
  if (header === undefined) throw new FingerprintsError([`${fileName}: the file is empty; expected a header row: ${want}`]);
  const got = header.fields.map((f) => f.trim()).join(",");
  if (got !== want) {
    throw new FingerprintsError([`${fileName}:${header.line}: the header row is "${got}"; expected "${want}"`]);
  }

  const problems: string[] = [];
  const out: Fingerprint[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const at = `${fileName}:${row.line}`;
    if (row.fields.length !== COLUMNS.length) {
      problems.push(`${at}: expected ${COLUMNS.length} fields, found ${row.fields.length}`);
      continue;
    }
    const [name = "", scope = "", , locationText = "", patternType = "", pattern = "", confidenceText = "", countriesText = "", source = "", , notes = ""] = row.fields;
    const rowProblems: string[] = [];
    const bad = (field: string, problem: string): void => {
      rowProblems.push(`${at}: ${field}: ${problem}`);
    };

    const trimmedName = name.trim();
    if (trimmedName === "") bad("name", "is empty");
    else if (seen.has(trimmedName)) bad("name", `"${trimmedName}" is already used on line ${seen.get(trimmedName)}`);
    else seen.set(trimmedName, row.line);

    if (!scopes.has(scope.trim())) bad("scope", `"${scope}" is not one of ${FINGERPRINT_SCOPES.join(", ")}`);

    const location = parseLocation(locationText.trim());
    if (location === null) bad("location_found", `"${locationText}" is not body, dns or header.<name>`);

    if (!patternTypes.has(patternType.trim())) bad("pattern_type", `"${patternType}" is not one of ${PATTERN_TYPES.join(", ")}`);

    // Patterns are kept byte for byte: leading spaces and line breaks are part of what OONI matches.
    if (pattern === "") bad("pattern", "is empty");

    const confidence = Number(confidenceText.trim());
    if (!/^\d{1,2}$/.test(confidenceText.trim()) || confidence > 10) {
      bad("confidence_no_fp", `"${confidenceText}" is not a whole number from 0 to 10`);
    }

    const countries = countriesText
      .split(",")
      .map((c) => c.trim().toUpperCase())
      .filter((c) => c !== "");
    const badCountry = countries.find((c) => !/^[A-Z]{2}$/.test(c));
    if (badCountry !== undefined) bad("expected_countries", `"${badCountry}" is not a two-letter country code`);

    if (rowProblems.length > 0 || location === null) {
      problems.push(...rowProblems);
      continue;
    }
    const fp: Fingerprint = {
      name: trimmedName,
      scope: scope.trim() as FingerprintScope,
      location,
      patternType: patternType.trim() as PatternType,
      pattern: location === "dns" && patternType.trim() === "full" ? pattern.trim() : pattern,
      confidence,
      countries,
      source: source.trim(),
      notes: notes.trim(),
      origin: at,
    };
    if (fp.patternType === "regexp") {
      try {
        compile(fp);
      } catch (err) {
        const message = `${at}: pattern: invalid regexp ${JSON.stringify(fp.pattern)}: ${(err as Error).message}`;
        if (options.warnings) {
          options.warnings.push(`${message} (fingerprint "${fp.name}" skipped)`);
          continue;
        }
        problems.push(message);
        continue;
      }
    }
    out.push(fp);
  }
  if (problems.length > 0) throw new FingerprintsError(problems);
  return out;
}

function excerpt(text: string, index: number, length: number): string {
  const s = text.slice(index, index + Math.min(length, 120));
  return s.replace(/\s+/g, " ");
}

/** Where in `text` the fingerprint's pattern matches, or null; the returned pair is [index, length]. */
function findPattern(fp: Fingerprint, text: string): [number, number] | null {
  switch (fp.patternType) {
    case "full":
      return text === fp.pattern ? [0, text.length] : null;
    case "prefix":
      return text.startsWith(fp.pattern) ? [0, fp.pattern.length] : null;
    case "contains": {
      const i = text.indexOf(fp.pattern);
      return i >= 0 ? [i, fp.pattern.length] : null;
    }
    case "regexp": {
      const m = compile(fp).exec(text);
      return m ? [m.index, m[0].length] : null;
    }
  }
}

// The maximal runs of a byte string that are valid UTF-8, as text: what a regexp may match.
function utf8Runs(bytes: Buffer): string[] {
  if (isUtf8(bytes)) return [bytes.toString("utf8")];
  const runs: string[] = [];
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (i > start) runs.push(bytes.toString("utf8", start, i));
    start = i = i + 1;
  }
  if (i > start) runs.push(bytes.toString("utf8", start, i));
  return runs;
}

// The length of the well-formed UTF-8 sequence at bytes[i] (RFC 3629), or 0 when there is none.
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Where a body fingerprint matches the body's bytes, as the excerpt of what it matched, or null
 * (docs/verdicts.md, "Block-page fingerprints"). `full`, `prefix` and `contains` compare the
 * pattern's UTF-8 bytes with the body's bytes, as OONI's fastpath matches body_match in a
 * base64 body; a `regexp` searches the text of the body's valid UTF-8 runs, never across or
 * inside bytes that are not UTF-8, so that no U+FFFD of a text view can match (or hide) a pattern.
 */
function findInBytes(fp: Fingerprint, body: Buffer, runs: () => string[]): string | null {
  const pattern = bytesOf(fp);
  const at = (i: number, n: number) => excerpt(body.toString("utf8", i, i + n), 0, n);
  switch (fp.patternType) {
    case "full":
      return body.equals(pattern) ? at(0, pattern.length) : null;
    case "prefix":
      return body.length >= pattern.length && body.subarray(0, pattern.length).equals(pattern) ? at(0, pattern.length) : null;
    case "contains": {
      const i = body.indexOf(pattern);
      return i >= 0 ? at(i, pattern.length) : null;
    }
    case "regexp":
      for (const run of runs()) {
        const hit = findPattern(fp, run);
        if (hit) return excerpt(run, hit[0], hit[1]);
      }
      return null;
  }
}

function describe(fp: Fingerprint): string {
  const note = fp.notes !== "" ? ` (${fp.notes.length > 100 ? `${fp.notes.slice(0, 97)}...` : fp.notes})` : "";
  return `fingerprint ${fp.name}${note}`;
}

function makeMatch(fp: Fingerprint, where: string, matched: string, evidence: string): FingerprintMatch {
  return { fingerprint: fp, where, matched, falsePositive: fp.scope === "fp", evidence };
}

/**
 * Matches an HTTP response against the `body` and `header.*` fingerprints (DNS ones are
 * ignored) and returns every match, false positives included; see `blockPageMatch`.
 */
export function matchHttp(fps: readonly Fingerprint[], response: HttpResponseSample): FingerprintMatch[] {
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(response.headers)) {
    const key = k.toLowerCase();
    // First value wins, as in OONI's get_first_http_header_str.
    if (!headers.has(key)) headers.set(key, v);
  }
  const sample = response.bodySample ?? "";
  const body = typeof sample === "string" ? Buffer.from(sample, "utf8") : Buffer.from(sample.buffer, sample.byteOffset, sample.byteLength);
  const matches: FingerprintMatch[] = [];
  // The body's UTF-8 runs, made once for every regexp fingerprint, and only if one is asked.
  let bodyRuns: string[] | null = null;
  const runs = () => (bodyRuns ??= utf8Runs(body));
  for (const fp of fps) {
    if (fp.location === "dns") continue;
    if (fp.location === "body") {
      if (body.length === 0) continue;
      const text = findInBytes(fp, body, runs);
      if (text !== null) matches.push(makeMatch(fp, "body", text, `HTTP ${response.status} body contains "${text}", ${describe(fp)}`));
      continue;
    }
    const name = fp.location.header;
    const value = headers.get(name);
    if (value === undefined || value === "") continue;
    const hit = findPattern(fp, value);
    if (hit) {
      const text = excerpt(value, 0, value.length);
      matches.push(makeMatch(fp, `header.${name}`, text, `HTTP ${response.status} with ${name}: ${text}, ${describe(fp)}`));
    }
  }
  return matches;
}

/** Canonical text of an answer, so that `2001:DB8::1` equals `2001:db8:0::1` and `Host.Example.` equals `host.example`. */
function canonicalAddress(ip: string): string {
  const s = ip.trim().toLowerCase().replace(/\.$/, "");
  if (isIP(s) !== 6) return s;
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return s;
  }
}

/**
 * Matches one DNS answer against the `dns` fingerprints (HTTP ones are ignored): an address,
 * or a CNAME target, since OONI's DNS file also lists block-page host names.
 */
export function matchDnsAddress(fps: readonly Fingerprint[], ip: string): FingerprintMatch[] {
  const address = canonicalAddress(ip);
  const matches: FingerprintMatch[] = [];
  for (const fp of fps) {
    if (fp.location !== "dns") continue;
    const hit = fp.patternType === "full" ? canonicalAddress(fp.pattern) === address : findPattern(fp, address) !== null;
    if (hit) matches.push(makeMatch(fp, "dns", address, `DNS answer ${address} is a known ${isIP(address) === 0 ? "block-page name" : "blocking address"}, ${describe(fp)}`));
  }
  return matches;
}

/**
 * The match that makes a response a block page, or null: null when any match is a known false
 * positive (scope `fp`) or when only benign injections (`injb`) matched; otherwise the match
 * with the highest confidence (the first one on a tie).
 */
export function blockPageMatch(matches: readonly FingerprintMatch[]): FingerprintMatch | null {
  if (matches.some((m) => m.falsePositive)) return null;
  let best: FingerprintMatch | null = null;
  for (const m of matches) {
    if (m.fingerprint.scope === "injb") continue;
    if (best === null || m.fingerprint.confidence > best.fingerprint.confidence) best = m;
  }
  return best;
}
