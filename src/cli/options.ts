/** Parsing and checking of command-line values; each error names the flag. */
import { UsageError } from "../base/errors.js";
import { durationIn, durationMs } from "../base/duration.js";
import { parseCategoryCodes } from "../targets/citizenlab.js";
import { splitHostPort } from "../net/addr.js";
import { isIP } from "node:net";
import { redactControlUrl } from "../control/redact.js";
import { swapNameProblem } from "../probes/config.js";


/** Parses a `--resolver IP[:PORT]` value (port 53 by default). */
export function parseResolver(v: string): { host: string; port: number } {
  const r = splitHostPort(v, 53);
  if (!r) throw new UsageError(`--resolver must be IP or IP:PORT (IPv6 as [addr]:port), got "${v}"`);
  return r;
}

/** Collects a repeatable flag into an array. */
export function collect<T>(parse: (v: string) => T): (v: string, prev: T[] | undefined) => T[] {
  return (v, prev) => [...(prev ?? []), parse(v)];
}

/** True for a loopback IP literal (127.0.0.0/8, ::1), as a URL's hostname spells it. */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return (isIP(h) === 4 && h.startsWith("127.")) || h === "::1";
}

/** Parses a `--doh URL` value: an https URL (http only for labs and tests on loopback). */
export function parseDohUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--doh must be a URL such as https://doh.example/dns-query, got "${v}"`);
  }
  if (u.protocol === "http:" && !isLoopbackHost(u.hostname)) {
    throw new UsageError(`--doh must be an https URL: DNS over plain http can be read and forged on the path (http is accepted only for a loopback address, for tests), got "${v}"`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`--doh must be an https URL, got "${v}"`);
  return u.href;
}

/** Parses a `--control URL` value: the helper's http(s) URL. */
export function parseControlUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--control must be a URL such as https://control.example/, got "${v.replace(/\/\/[^/@]*@/, "//***@")}"`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`--control must be an http(s) URL, got "${redactControlUrl(v)}"`);
  return u.href;
}

/** Parses a `--network-label` value: free text, one line, at most 100 characters. */
export function parseLabel(v: string): string {
  const t = v.trim();
  if (!t || t.length > 100 || /[\u0000-\u001f]/.test(t)) throw new UsageError(`--network-label must be 1 to 100 printable characters, got ${JSON.stringify(v)}`);
  return t;
}

/**
 * Commander parser for a repeatable `--category CODE[,CODE...]` flag: codes upper-cased and
 * merged with the earlier ones; a malformed value is a UsageError (exit 2).
 */
export function parseCategoryFlag(value: string, previous: string[] | undefined): string[] {
  return [...new Set([...(previous ?? []), ...parseCategoryCodes(value)])];
}

/** The parser of `--sni-swap` / `--host-swap`: a host name, lower-cased, without a final dot. */
export function parseSwapName(flag: string): (v: string) => string {
  return (v) => {
    const problem = swapNameProblem(v);
    if (problem) throw new UsageError(`${flag} ${problem}, got ${JSON.stringify(v)}`);
    return v.toLowerCase().replace(/\.$/, "");
  };
}

/**
 * The parser of an optional `--wait [DURATION]` (a bare number is seconds, at most a day): a
 * duration gives seconds; anything else was not meant for it (commander hands an optional
 * option the next word, so `--wait tcp://host:1` would swallow the target) and comes back as
 * a string, which the command puts back among its arguments with `takeBackWait`.
 */
export function parseWaitFlag(flag: string): (v: string) => number | string {
  const seconds = durationIn(flag, "s", 1, 86_400);
  return (v) => (durationMs(v, "s") === null ? v : seconds(v));
}

/** Puts back a word `--wait` swallowed (see parseWaitFlag) in front of `args`; `--wait` then waits the default time. */
export function takeBackWait(flags: { wait?: number | true | string }, args: string[]): string[] {
  if (typeof flags.wait !== "string") return args;
  const word = flags.wait;
  flags.wait = true;
  return [word, ...args];
}
