/**
 * What the control helper measures for one request, with reachprobe's own probe steps: its own
 * lookup of the URL's host, a TCP connect (and TLS handshake, for https) to the probe's
 * endpoints and to its own addresses, and a GET of the URL over the connection of its first
 * own address that connected, with redirects followed hop by hop (as the probe follows them).
 * Addresses the policy refuses are never connected to. Never throws for network failures.
 */
import { isIP } from "node:net";
import type { Failure } from "../net/failures.js";
import { joinHostPort } from "../net/addr.js";
import { canonicalHeaderName } from "../net/http-exchange.js";
import type { ProbeConfig } from "../probes/config.js";
import { addressesToTry, dnsStep } from "../probes/dns.js";
import { connectFirst, type Connection } from "../probes/connect.js";
import { httpStep } from "../probes/http.js";
import type { TcpObservation, TlsObservation } from "../probes/observation.js";
import type { AddressPolicy } from "./policy.js";
import type { ParsedRequest } from "./request.js";
import { IP_FLAGS, helperDnsFailure, type ControlDns, type ControlHttp, type ControlResponse, type ControlTcp, type ControlTls } from "../probes/control-wire.js";
import type { StepSignal } from "../net/deadline.js";

/** How the helper measures; `cfg.allowAddress` should be the policy's, so redirects obey it too. */
export interface MeasureSettings {
  cfg: ProbeConfig;
  policy: AddressPolicy;
  /** Bound on the helper's own addresses connected to (the probe's are bounded by the request check). */
  maxOwnAddresses: number;
  /** Bound on the addresses listed in `dns.addrs`. */
  maxListedAddresses?: number;
  /**
   * The URL's port is not one the helper connects to for anyone (80, 443, --allow-ports): connect
   * only to the addresses it resolved itself for the URL's host, never to another endpoint the
   * probe sent (docs/control-helper.md "Refusals and limits").
   */
  ownAddressesOnly?: boolean;
}

interface EndpointResult {
  tcp: ControlTcp;
  tls?: ControlTls;
}

/** Measures `req` within `budget` (the request's time limit) and builds the response. */
export async function measureControl(req: ParsedRequest, s: MeasureSettings, budget: StepSignal): Promise<ControlResponse> {
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
    dns = { failure: helperDnsFailure(failure), addrs, ...(failure !== null ? { x_failure: failure } : {}) };
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
  // refused address is left out (its bogon flag in ip_info says why), and so is, on a port the
  // helper does not connect to for anyone, an endpoint it did not resolve itself.
  const plan = new Map<string, { ip: string; port: number }>();
  const mayConnect = (ip: string) => policy.allows(ip) && (!s.ownAddressesOnly || own.includes(ip));
  for (const ep of req.endpoints) if (mayConnect(ep.ip)) plan.set(ep.key, { ip: ep.ip, port: ep.port });
  const ownAllowed = own.filter((ip) => policy.allows(ip)).slice(0, s.maxOwnAddresses);
  for (const ip of ownAllowed) plan.set(joinHostPort(ip, req.port), { ip, port: req.port });

  // Every endpoint is connected to at once; the connection of the first of the helper's own
  // addresses that connected carries the fetch, every other socket is closed.
  const results = new Map<string, EndpointResult>();
  const sockets = new Map<string, Connection>();
  try {
    await Promise.all(
      [...plan].map(async ([key, ep]) => {
        const c = await connectFirst({ addresses: [ep.ip], port: ep.port, serverName: https ? req.host : null, hop: 0 }, cfg, budget);
        const tcp = c.observations.find((o): o is TcpObservation => o.step === "tcp");
        const tls = c.observations.find((o): o is TlsObservation => o.step === "tls");
        const r: EndpointResult = { tcp: tcp ? { status: tcp.failure === null, failure: tcp.failure } : { status: false, failure: "generic_timeout_error" } };
        if (tls) r.tls = { server_name: req.host, status: tls.failure === null, failure: tls.failure };
        results.set(key, r);
        if (c.connection) sockets.set(key, c.connection);
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

    const http = await fetchUrl(req, own, ownAllowed, results, sockets, dns, s, budget);
    return { tcp_connect, tls_handshake, http_request: http, dns, ip_info: ipInfo };
  } finally {
    for (const c of sockets.values()) c.socket.destroy();
  }
}

/** The failed http_request: numbers are -1, as OONI's helper sends. */
function failedHttp(failure: Failure, note?: string, urls?: string[]): ControlHttp {
  return { failure, status_code: -1, body_length: -1, title: "", headers: {}, ...(urls ? { x_urls: urls } : {}), ...(note ? { x_note: note } : {}) };
}

/** GETs the URL over the connection of the first of the helper's own addresses that connected (and completed TLS). */
async function fetchUrl(
  req: ParsedRequest,
  own: string[],
  ownAllowed: string[],
  results: Map<string, EndpointResult>,
  sockets: Map<string, Connection>,
  dns: ControlDns,
  s: MeasureSettings,
  budget: StepSignal,
): Promise<ControlHttp> {
  if (own.length === 0) return failedHttp(dns.x_failure ?? "dns_no_answer");
  if (ownAllowed.length === 0) return failedHttp("dns_bogon_error", `${req.host} resolves only to addresses this helper refuses`);
  const keys = ownAllowed.map((ip) => joinHostPort(ip, req.port));
  const key = keys.find((k) => sockets.has(k));
  if (key === undefined) {
    const first = results.get(keys[0]!);
    return failedHttp(first?.tls?.failure ?? first?.tcp.failure ?? "generic_timeout_error", "no address of the host could be connected to");
  }
  const connection = sockets.get(key)!;
  // The other connections are done with; the navigation owns (and closes) this one from here.
  sockets.delete(key);
  for (const c of sockets.values()) c.socket.destroy();
  sockets.clear();
  const { hops, stopped } = await httpStep(req.url, connection, ownAllowed, s.cfg, budget, []);
  const last = hops[hops.length - 1];
  const urls = hops.map((h) => h.url);
  if (!last) return failedHttp("generic_timeout_error");
  if (stopped) return failedHttp(stopped.failure, last.note, urls);
  if (last.failure !== null || last.status === undefined) return failedHttp(last.failure ?? "http_request_failed", last.note, urls);
  return {
    failure: null,
    status_code: last.status,
    body_length: last.bodyLength ?? 0,
    title: last.title ?? "",
    // Names as OONI's helper writes them (Go's canonical form), first value of each.
    headers: Object.fromEntries(Object.entries(last.headers ?? {}).map(([k, v]) => [canonicalHeaderName(k), last.headerRepeats?.[k]?.[0] ?? v])),
    x_urls: urls,
    ...(last.note ? { x_note: last.note } : {}),
  };
}
