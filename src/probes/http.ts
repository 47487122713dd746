/**
 * The HTTP step and the navigation it starts: the first GET over the connection the TCP and
 * TLS steps measured, then each redirect followed by hand as a browser follows it (at most
 * cfg.maxRedirects, loops detected). A redirect within the origin goes over the same connection
 * when the server kept it open; any other is measured step by step (DNS of the new host, TCP,
 * TLS, HTTP), its observations tagged with the hop.
 */
import { isIP } from "node:net";
import { httpExchange } from "../net/http-exchange.js";
import { setBodySample } from "./body-sample.js";
import { joinHostPort } from "../net/addr.js";
import { startStepTimer, type StepSignal } from "../net/deadline.js";
import type { Failure } from "../net/failures.js";
import type { ProbeConfig } from "./config.js";
import type { HttpObservation, Observation } from "./observation.js";
import { browserAddresses, browserLookup, dnsStep } from "./dns.js";
import { browserRequestHeaders } from "./browser.js";
import { connectFirst, type Connection } from "./connect.js";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Where a navigation stopped short of a response because a redirect hop could not be connected. */
export interface HopStop {
  hop: number;
  url: string;
  step: "dns" | "tcp" | "tls";
  failure: Failure;
}

/** What a navigation produced: the HTTP records, in order, and where it stopped short, if it did. */
export interface NavigationResult {
  hops: HttpObservation[];
  stopped: HopStop | null;
}

/** A hop that could not be opened: refused by a policy (recorded on the redirecting response), or stopped at a step. */
type Opened = { connection: Connection } | { refused: { failure: Failure; note: string } } | { stopped: HopStop; note: string };

/**
 * Fetches `url` over `first` (already connected to one of `addresses`, the target's), then
 * follows redirects. Every observation is appended to `out` as it is made; every connection,
 * `first` included, is closed before this returns.
 */
export async function httpStep(url: URL, first: Connection, addresses: readonly string[], cfg: ProbeConfig, budget: StepSignal, out: Observation[]): Promise<NavigationResult> {
  const hops: HttpObservation[] = [];
  const visited = new Set<string>();
  // A browser resolves a name once: a redirect back to a known host reuses its addresses.
  const resolved = new Map<string, readonly string[]>([[bare(url.hostname), addresses]]);
  let stopped: HopStop | null = null;
  let conn: Connection | null = first;
  // Whether `conn` already carried a request: a server may close a kept-alive connection.
  let reused = false;
  let current = url;
  const chain: URL[] = [];
  try {
    for (let hop = 0; conn; hop++) {
      visited.add(current.href);
      let { obs, reusable } = await fetchOnce(current, conn, hop, chain, cfg, budget);
      if (reused && obs.failure === "eof_error" && obs.status === undefined && !budget.aborted) {
        // As a browser does: a kept-alive connection the server closed while it idled is not a
        // failure of the site; the request is sent again on a new connection (measured as a hop).
        obs.note = "the kept-alive connection was closed before the response; sent again on a new connection";
        out.push(obs);
        conn.socket.destroy();
        conn = null;
        const opened = await openHop(current, hop, resolved, cfg, budget, out);
        if (!("connection" in opened)) {
          hops.push(obs);
          if ("stopped" in opened) stopped = opened.stopped;
          else obs.failure = opened.refused.failure;
          break;
        }
        conn = opened.connection;
        ({ obs, reusable } = await fetchOnce(current, conn, hop, chain, cfg, budget));
      }
      reused = true;
      out.push(obs);
      hops.push(obs);
      if (!reusable) {
        conn.socket.destroy();
        conn = null;
      }
      if (obs.failure || !obs.location) break;
      const next = followable(obs, hop, visited, cfg);
      if (!next) break;
      if (!(conn && sameOrigin(next, current))) {
        conn?.socket.destroy();
        conn = null;
        const opened = await openHop(next, hop + 1, resolved, cfg, budget, out);
        if ("refused" in opened) {
          obs.failure = opened.refused.failure;
          obs.note = opened.refused.note;
          break;
        }
        if ("stopped" in opened) {
          stopped = opened.stopped;
          obs.note = opened.note;
          break;
        }
        conn = opened.connection;
        reused = false;
      }
      chain.push(current);
      current = next;
    }
  } finally {
    conn?.socket.destroy();
  }
  return { hops, stopped };
}

/** The URL to follow from a redirect, or null (with the reason on `obs`) when it is not followed. */
function followable(obs: HttpObservation, hop: number, visited: Set<string>, cfg: ProbeConfig): URL | null {
  let next: URL;
  try {
    next = new URL(obs.location!);
  } catch {
    // A browser shows an error page here (OONI: http_invalid_redirect_location_host); the fetch failed.
    obs.failure = "http_request_failed";
    obs.note = `redirect to an invalid URL: ${obs.location!.slice(0, 200)}`;
    return null;
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    obs.note = `redirect to a ${next.protocol} URL, not followed`;
    return null;
  }
  if (visited.has(next.href)) {
    obs.failure = "http_request_failed";
    obs.note = `redirect loop: ${next.href} was already visited`;
    return null;
  }
  if (hop + 1 > cfg.maxRedirects) {
    obs.failure = "http_request_failed";
    obs.note = `more than ${cfg.maxRedirects} redirects`;
    return null;
  }
  const refusal = cfg.allowRedirect?.(next);
  if (refusal) {
    obs.failure = "http_request_failed";
    obs.note = `redirect to ${next.href} not followed: ${refusal}`;
    return null;
  }
  return next;
}

/** Resolves (unless known or an IP literal) and connects to the redirect target, tagging every step with `hop`. */
async function openHop(next: URL, hop: number, resolved: Map<string, readonly string[]>, cfg: ProbeConfig, budget: StepSignal, out: Observation[]): Promise<Opened> {
  const host = bare(next.hostname);
  const allow = cfg.allowAddress;
  let addresses = resolved.get(host);
  if (isIP(host)) {
    if (allow && !allow(host)) return { refused: { failure: "http_request_failed", note: `redirect to ${host} not followed: the address policy refuses it` } };
    addresses = [host];
  } else if (!addresses) {
    const lookups = await dnsStep(host, cfg, budget);
    for (const l of lookups) l.hop = hop;
    out.push(...lookups);
    // As a browser: only the answer of the resolver it uses (see browserLookup) is connected to.
    const answered = browserAddresses(lookups, 64);
    const allowed = allow ? answered.filter((a) => allow(a)) : answered;
    if (answered.length > 0 && allowed.length === 0) {
      return { refused: { failure: "dns_bogon_error", note: `redirect to ${host} not followed: the address policy refuses every address it resolved to` } };
    }
    if (allowed.length === 0) {
      const lookup = browserLookup(lookups);
      const failure = lookup?.failure ?? "dns_no_answer";
      return { stopped: { hop, url: next.href, step: "dns", failure }, note: `redirect target ${host} did not resolve through ${lookup?.resolver ?? "any resolver"} (${failure})` };
    }
    addresses = allowed;
    resolved.set(host, addresses);
  }
  const capped = addresses.slice(0, cfg.maxAddresses);
  const port = portOf(next);
  const c = await connectFirst({ addresses: capped, port, serverName: next.protocol === "https:" ? host : null, hop }, cfg, budget);
  out.push(...c.observations);
  if (c.connection) return { connection: c.connection };
  const own = c.observations.filter((o) => !o.purpose);
  const tls = own.filter((o) => o.step === "tls");
  const failed = (tls.length > 0 ? tls : own).find((o) => o.failure !== null);
  const step = tls.length > 0 ? "tls" : "tcp";
  const failure = failed?.failure ?? "generic_timeout_error";
  return { stopped: { hop, url: next.href, step, failure }, note: `redirect target ${next.host} could not be connected to: ${step} ${failure}` };
}

/** One request over `conn`; `chain` holds the URLs that redirected here, oldest first (Chrome's headers depend on them). */
async function fetchOnce(url: URL, conn: Connection, hop: number, chain: readonly URL[], cfg: ProbeConfig, budget: StepSignal): Promise<{ obs: HttpObservation; reusable: boolean }> {
  const protocol = conn.alpn === "h2" ? "h2" : "http/1.1";
  const from = chain[chain.length - 1];
  const headers = browserRequestHeaders({ url, hop, ...(from ? { from, chain: [...chain] } : {}), userAgent: cfg.userAgent, protocol });
  return requestOver(url, conn, hop, headers, cfg, budget);
}

/**
 * Sends GET `url` with exactly `headers` over `conn` and records the exchange as hop `hop`; the
 * connection is destroyed unless `reusable` (the Host swap sends its own headers through this).
 */
export async function requestOver(
  url: URL,
  conn: Connection,
  hop: number,
  headers: ReadonlyArray<[string, string]>,
  cfg: ProbeConfig,
  budget: StepSignal,
): Promise<{ obs: HttpObservation; reusable: boolean }> {
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await httpExchange({ url, socket: conn.socket, alpn: conn.alpn, headers, signal: timer.signal, maxBodyBytes: cfg.maxBodyBytes, ...(cfg.bodySampleBytes !== undefined ? { sampleBytes: cfg.bodySampleBytes } : {}) });
    const obs: HttpObservation = {
      step: "http",
      address: joinHostPort(conn.ip, conn.port),
      url: url.href,
      hop,
      t0,
      t: cfg.now(),
      failure: r.failure,
      requestHeaders: Object.fromEntries(headers),
    };
    if (r.status !== undefined) {
      obs.status = r.status;
      obs.headers = r.headers ?? {};
      const repeats = repeatedHeaders(r.headersList ?? []);
      if (repeats) obs.headerRepeats = repeats;
      obs.title = r.title ?? null;
      obs.bodyLength = r.bodyLength ?? 0;
      obs.bodyTruncated = r.bodyTruncated ?? false;
      obs.bodySha256 = r.bodySha256 ?? "";
      setBodySample(obs, r.bodySample ?? Buffer.alloc(0));
      const loc = r.headers?.["location"];
      obs.location = REDIRECTS.has(r.status) && loc ? safeResolve(loc, url) : null;
    }
    return { obs, reusable: r.reusable && r.failure === null && !budget.aborted };
  } finally {
    timer.dispose();
  }
}

/** The values of the headers received more than once, by lower-case name, in order; null when none repeats. */
export function repeatedHeaders(list: ReadonlyArray<readonly [string, string]>): Record<string, string[]> | null {
  const byName = new Map<string, string[]>();
  for (const [k, v] of list) {
    const key = k.toLowerCase();
    const values = byName.get(key);
    if (values) values.push(v);
    else byName.set(key, [v]);
  }
  let out: Record<string, string[]> | null = null;
  for (const [k, values] of byName) if (values.length > 1) (out ??= {})[k] = values;
  return out;
}

/** The URL's port, or the scheme's default. */
export function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === "https:" ? 443 : 80);
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.hostname.toLowerCase() === b.hostname.toLowerCase() && portOf(a) === portOf(b);
}

/** A URL's hostname without IPv6 brackets. */
function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function safeResolve(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}
