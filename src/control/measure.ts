/**
 * What the control helper measures for one request, with reachprobe's own probe steps: its own
 * lookup of the URL's host, a TCP connect (and TLS handshake, for https) to the probe's
 * endpoints and to its own addresses, and a GET of the URL with redirects followed by hand.
 * Addresses the policy refuses are never connected to. Never throws for network failures.
 */
import { isIP } from "node:net";
import type { Failure } from "../net/failures.js";
import { joinHostPort } from "../net/addr.js";
import { startStepTimer } from "../net/deadline.js";
import { tlsHandshake } from "../net/tls.js";
import type { ProbeConfig } from "../probes/config.js";
import { addressesToTry, dnsStep } from "../probes/dns.js";
import { tcpStep } from "../probes/tcp.js";
import { httpStep } from "../probes/http.js";
import type { AddressPolicy } from "./policy.js";
import type { ParsedRequest } from "./request.js";
import { IP_FLAGS, type ControlDns, type ControlHttp, type ControlResponse, type ControlTcp, type ControlTls } from "./wire.js";

/** How the helper measures; `cfg.allowAddress` should be the policy's, so redirects obey it too. */
export interface MeasureSettings {
  cfg: ProbeConfig;
  policy: AddressPolicy;
  /** Bound on the helper's own addresses connected to (the probe's are bounded by the request check). */
  maxOwnAddresses: number;
  /** Bound on the addresses listed in `dns.addrs`. */
  maxListedAddresses?: number;
}

interface EndpointResult {
  tcp: ControlTcp;
  tls?: ControlTls;
}

/** Measures `req` within `budget` (the request's time limit) and builds the response. */
export async function measureControl(req: ParsedRequest, s: MeasureSettings, budget: AbortSignal): Promise<ControlResponse> {
  const { cfg, policy } = s;
  const https = req.url.protocol === "https:";

  // DNS: the helper's own lookup; an IP-literal host is not looked up (as OONI's helper does).
  let dns: ControlDns = { failure: null, addrs: [] };
  let own: string[];
  if (isIP(req.host)) {
    own = [req.host];
  } else {
    const lookups = await dnsStep(req.host, cfg, budget);
    const addrs = addressesToTry(lookups, s.maxListedAddresses ?? 32);
    const failure: Failure | null = addrs.length > 0 ? null : (lookups.find((l) => l.failure)?.failure ?? "dns_no_answer");
    dns = { failure, addrs };
    own = addrs;
  }

  const ipInfo: ControlResponse["ip_info"] = {};
  const flag = (ip: string, bit: number) => {
    const info = (ipInfo[ip] ??= { asn: 0, flags: policy.isBogon(ip) ? IP_FLAGS.bogon : 0 });
    info.flags |= bit;
  };
  for (const ep of req.endpoints) flag(ep.ip, IP_FLAGS.resolvedByProbe);
  for (const ip of dns.addrs) flag(ip, IP_FLAGS.resolvedByHelper);
  for (const ip of own) flag(ip, 0);

  // The plan: the probe's endpoints, then the helper's own addresses on the URL's port; a
  // refused address is left out (its bogon flag in ip_info says why).
  const plan = new Map<string, { ip: string; port: number }>();
  for (const ep of req.endpoints) if (policy.allows(ep.ip)) plan.set(ep.key, { ip: ep.ip, port: ep.port });
  const ownAllowed = own.filter((ip) => policy.allows(ip)).slice(0, s.maxOwnAddresses);
  for (const ip of ownAllowed) plan.set(joinHostPort(ip, req.port), { ip, port: req.port });

  const results = new Map<string, EndpointResult>();
  await Promise.all(
    [...plan].map(async ([key, ep]) => {
      const r = await connectOne(ep.ip, ep.port, https ? req.host : null, cfg, budget);
      results.set(key, r);
      if (r.tls?.status) flag(ep.ip, IP_FLAGS.validForDomain);
    }),
  );

  const tcp_connect: Record<string, ControlTcp> = {};
  const tls_handshake: Record<string, ControlTls> = {};
  for (const key of plan.keys()) {
    const r = results.get(key);
    if (!r) continue;
    tcp_connect[key] = r.tcp;
    if (r.tls) tls_handshake[key] = r.tls;
  }

  const http = await fetchUrl(req, own, ownAllowed, results, dns, s, budget);
  return { tcp_connect, tls_handshake, http_request: http, dns, ip_info: ipInfo };
}

/** TCP connect, then (when `serverName` is set) a TLS handshake over the same socket. */
async function connectOne(ip: string, port: number, serverName: string | null, cfg: ProbeConfig, budget: AbortSignal): Promise<EndpointResult> {
  const { obs, socket } = await tcpStep(ip, port, cfg, budget);
  const tcp: ControlTcp = { status: obs.failure === null, failure: obs.failure };
  if (!socket) return { tcp };
  if (serverName === null) {
    socket.destroy();
    return { tcp };
  }
  // The TLS primitive is called directly (not probes/tls.ts) so that an explicit CA reaches it.
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await tlsHandshake(socket, { serverName, signal: timer.signal, ...(cfg.ca ? { ca: cfg.ca } : {}) });
    r.socket?.destroy();
    return { tcp, tls: { server_name: serverName, status: r.failure === null, failure: r.failure } };
  } finally {
    timer.dispose();
    socket.destroy();
  }
}

/** The failed http_request: numbers are -1, as OONI's helper sends. */
function failedHttp(failure: Failure, note?: string, urls?: string[]): ControlHttp {
  return { failure, status_code: -1, body_length: -1, title: "", headers: {}, ...(urls ? { x_urls: urls } : {}), ...(note ? { x_note: note } : {}) };
}

/** GETs the URL at the first of the helper's own addresses that connected (and completed TLS). */
async function fetchUrl(
  req: ParsedRequest,
  own: string[],
  ownAllowed: string[],
  results: Map<string, EndpointResult>,
  dns: ControlDns,
  s: MeasureSettings,
  budget: AbortSignal,
): Promise<ControlHttp> {
  if (own.length === 0) return failedHttp(dns.failure ?? "dns_no_answer");
  if (ownAllowed.length === 0) return failedHttp("dns_bogon_error", `${req.host} resolves only to addresses this helper refuses`);
  const steps = ownAllowed.map((ip) => results.get(joinHostPort(ip, req.port)));
  const index = steps.findIndex((r) => r !== undefined && r.tcp.status && (r.tls === undefined || r.tls.status));
  if (index < 0) {
    const first = steps[0];
    return failedHttp(first?.tls?.failure ?? first?.tcp.failure ?? "generic_timeout_error", "no address of the host could be connected to");
  }
  const ip = ownAllowed[index] as string;
  const { hops } = await httpStep(req.url, ip, s.cfg, budget);
  const last = hops[hops.length - 1];
  const urls = hops.map((h) => h.url);
  if (!last) return failedHttp("generic_timeout_error");
  if (last.failure !== null || last.status === undefined) return failedHttp(last.failure ?? "http_request_failed", last.note, urls);
  return {
    failure: null,
    status_code: last.status,
    body_length: last.bodyLength ?? 0,
    title: last.title ?? "",
    headers: last.headers ?? {},
    x_urls: urls,
    ...(last.note ? { x_note: last.note } : {}),
  };
}
