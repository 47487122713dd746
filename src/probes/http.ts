/**
 * The HTTP step: a GET pinned to an address that connected, with redirects followed by hand
 * so that every hop is measured (at most cfg.maxRedirects, loops detected).
 */
import { isIP } from "node:net";
import { httpFetch } from "../net/http.js";
import { joinHostPort } from "../net/addr.js";
import { startStepTimer } from "../net/deadline.js";
import type { ProbeConfig } from "./config.js";
import type { DnsObservation, HttpObservation } from "./observation.js";
import { dnsStep, addressesToTry } from "./dns.js";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Fetches `url` at `address`, then follows redirects; returns every hop and any DNS lookups made for new hosts. */
export async function httpStep(url: URL, address: string, cfg: ProbeConfig, budget: AbortSignal): Promise<{ hops: HttpObservation[]; dns: DnsObservation[] }> {
  const hops: HttpObservation[] = [];
  const dns: DnsObservation[] = [];
  const visited = new Set<string>();
  let current = url;
  let ip = address;
  for (let hop = 0; ; hop++) {
    visited.add(current.href);
    const obs = await fetchOnce(current, ip, hop, cfg, budget);
    hops.push(obs);
    if (obs.failure || !obs.location) break;
    let next: URL;
    try {
      next = new URL(obs.location);
    } catch {
      obs.note = `redirect to an invalid URL: ${obs.location.slice(0, 200)}`;
      break;
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      obs.note = `redirect to a ${next.protocol} URL, not followed`;
      break;
    }
    if (visited.has(next.href)) {
      obs.failure = "http_request_failed";
      obs.note = `redirect loop: ${next.href} was already visited`;
      break;
    }
    if (hop + 1 > cfg.maxRedirects) {
      obs.failure = "http_request_failed";
      obs.note = `more than ${cfg.maxRedirects} redirects`;
      break;
    }
    const host = next.hostname.replace(/^\[|\]$/g, "");
    const allow = cfg.allowAddress;
    if (isIP(host)) {
      if (allow && !allow(host)) {
        obs.failure = "http_request_failed";
        obs.note = `redirect to ${host} not followed: the address policy refuses it`;
        break;
      }
      ip = host;
    } else if (host !== current.hostname) {
      const lookups = await dnsStep(host, cfg, budget);
      dns.push(...lookups);
      const candidates = addressesToTry(lookups, allow ? 64 : 1);
      const found = allow ? candidates.find((a) => allow(a)) : candidates[0];
      if (!found && candidates.length > 0) {
        obs.failure = "dns_bogon_error";
        obs.note = `redirect to ${host} not followed: the address policy refuses every address it resolved to`;
        break;
      }
      if (!found) {
        // The chain stops short of its destination; that is a failure of this fetch, carried
        // with the lookup's own failure so that a DNS-blocked redirect target is not "ok".
        obs.failure = lookups.find((l) => l.failure)?.failure ?? "dns_no_answer";
        obs.note = `redirect target ${host} did not resolve`;
        break;
      }
      ip = found;
    }
    current = next;
  }
  return { hops, dns };
}

async function fetchOnce(url: URL, ip: string, hop: number, cfg: ProbeConfig, budget: AbortSignal): Promise<HttpObservation> {
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  const requestHeaders = {
    "user-agent": cfg.userAgent,
    accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "accept-language": "en-US;q=0.8,en;q=0.5",
  };
  try {
    const r = await httpFetch({ url, address: ip, headers: requestHeaders, signal: timer.signal, maxBodyBytes: cfg.maxBodyBytes, ...(cfg.ca ? { ca: cfg.ca } : {}) });
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    const obs: HttpObservation = {
      step: "http",
      address: joinHostPort(ip, port),
      url: url.href,
      hop,
      t0,
      t: cfg.now(),
      failure: r.failure,
      requestHeaders,
    };
    if (r.status !== undefined) {
      obs.status = r.status;
      obs.headers = r.headers ?? {};
      obs.title = r.title ?? null;
      obs.bodyLength = r.bodyLength ?? 0;
      obs.bodyTruncated = r.bodyTruncated ?? false;
      obs.bodySha256 = r.bodySha256 ?? "";
      obs.bodySample = r.bodySample ?? "";
      const loc = r.headers?.["location"];
      obs.location = REDIRECTS.has(r.status) && loc ? safeResolve(loc, url) : null;
    }
    return obs;
  } finally {
    timer.dispose();
  }
}

function safeResolve(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}
