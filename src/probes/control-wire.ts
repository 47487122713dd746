/**
 * The control helper's wire format, compatible with OONI's web-connectivity test helper so that
 * either can serve either: `POST /` with a ControlRequest, answered by a ControlResponse.
 * Fields starting with `x_` are reachprobe's additions; OONI's clients ignore them.
 */
import type { Failure } from "../net/failures.js";

/** What a probe sends: the URL, its request headers, and the endpoints it resolved. */
export interface ControlRequest {
  http_request: string;
  http_request_headers: Record<string, string[]>;
  /** `ip:port` endpoints the probe resolved (IPv6 in brackets). */
  tcp_connect: string[];
  /** OONI's field; reachprobe never asks for QUIC. */
  x_quic_enabled?: boolean;
}

/** The helper's TCP connect to one endpoint. */
export interface ControlTcp {
  status: boolean;
  failure: Failure | null;
}

/** The helper's TLS handshake with one endpoint. */
export interface ControlTls {
  server_name: string;
  status: boolean;
  failure: Failure | null;
}

/** The helper's fetch of the URL (redirects followed); -1 for numbers on failure. */
export interface ControlHttp {
  failure: Failure | null;
  status_code: number;
  body_length: number;
  title: string;
  headers: Record<string, string>;
  /** reachprobe: the URLs of the redirect chain, first to last. */
  x_urls?: string[];
  /** reachprobe: why the fetch or its redirect chain stopped where it did, in plain words (e.g. a refused redirect target). */
  x_note?: string;
  /**
   * reachprobe: set when the helper refused to follow the chain (a redirect to a port or an
   * address it does not connect to), with the reason; a refusal, never a connect failure.
   */
  x_refused?: string;
}

/**
 * The helper's own lookup of the URL's host. `failure` is in the words of OONI's helper
 * (docs/control-helper.md): `dns_name_error` for NXDOMAIN, `dns_server_failure` for a resolver
 * that refused or failed, `unknown_error` otherwise, and null with no address for an empty
 * answer; reachprobe's helper adds its own failure string as `x_failure`.
 */
export interface ControlDns {
  failure: string | null;
  addrs: string[];
  /** reachprobe: the lookup's failure from reachprobe's closed list (null when it found addresses). */
  x_failure?: Failure | null;
}

/** A lookup's failure in the words of OONI's helper (see ControlDns). */
export function helperDnsFailure(f: Failure | null): string | null {
  if (f === null || f === "dns_no_answer") return null;
  if (f === "dns_nxdomain_error") return "dns_name_error";
  if (f === "dns_servfail_error" || f === "dns_refused_error" || f === "dns_server_misbehaving") return "dns_server_failure";
  return "unknown_error";
}

/**
 * The failure of the helper's lookup in reachprobe's words: its x_failure when it sent one,
 * else OONI's words mapped back (dns_name_error -> dns_nxdomain_error, dns_server_failure ->
 * dns_servfail_error; a failure already in reachprobe's words, as stored by older versions, is
 * kept); null when it found addresses, dns_no_answer when it found none and said nothing.
 */
export function dnsFailureFromHelper(dns: Partial<ControlDns>): Failure | null {
  if ((dns.addrs ?? []).length > 0) return null;
  if (dns.x_failure) return dns.x_failure;
  const f = dns.failure;
  if (f === "dns_name_error") return "dns_nxdomain_error";
  if (f === "dns_server_failure") return "dns_servfail_error";
  if (f === null || f === undefined) return "dns_no_answer";
  if (f === "unknown_error") return "unknown_failure: the helper's lookup failed";
  return f as Failure;
}

/** OONI's flags for an address in ip_info. */
export const IP_FLAGS = {
  /** The probe resolved it. */
  resolvedByProbe: 1,
  /** The helper resolved it. */
  resolvedByHelper: 2,
  /** It is a bogon. */
  bogon: 4,
  /** A TLS handshake to it validated for the name. */
  validForDomain: 8,
} as const;

/** What the helper saw. */
export interface ControlResponse {
  tcp_connect: Record<string, ControlTcp>;
  tls_handshake: Record<string, ControlTls>;
  http_request: ControlHttp;
  dns: ControlDns;
  ip_info: Record<string, { asn: number; flags: number }>;
}

/** What the helper answers instead of a ControlResponse when it will not measure (any status but 200). */
export interface ControlError {
  /** What was wrong, in plain words. */
  error: string;
  /** A stable code: invalid_json, invalid_request, too_many_endpoints, refused_destination, refused_port, request_too_large, unauthorized, busy, not_found, method_not_allowed. */
  reason: string;
}

/** Checks the shape of a response from a helper (ours or OONI's); returns a reason when it is not one. */
export function invalidResponse(v: unknown): string | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
  const r = v as Record<string, unknown>;
  for (const key of ["tcp_connect", "http_request", "dns"]) {
    if (typeof r[key] !== "object" || r[key] === null) return `missing or invalid "${key}"`;
  }
  const dns = r.dns as Record<string, unknown>;
  if (dns.addrs !== null && dns.addrs !== undefined && !Array.isArray(dns.addrs)) return `"dns.addrs" is not a list`;
  return null;
}
