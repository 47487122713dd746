/**
 * What the controls saw for one target, gathered in one place: the control helper's answer and
 * the DoH lookups. Pure: built from records, no I/O.
 */
import type { ControlObservation, DnsObservation, TlsObservation } from "../probes/observation.js";
import type { ControlHttp } from "../probes/control-wire.js";
import type { Failure } from "../net/failures.js";

/** The controls' view of one target; a part is null when no control covered it. */
export interface ControlView {
  /** Addresses the controls resolved (helper and DoH), with who said so; null when no control looked the name up. */
  dns: { addrs: string[]; failure: Failure | null; by: string[] } | null;
  /** The helper's connects by `ip:port`. */
  tcp: Map<string, { status: boolean; failure: Failure | null }>;
  /** The helper's handshakes by `ip:port`. */
  tls: Map<string, { status: boolean; failure: Failure | null }>;
  /** The helper's fetch, when it made one. */
  http: ControlHttp | null;
  /** Why the helper could not be used, when it was asked and failed. */
  helperFailure: string | null;
}

/** Builds the view from the helper's observation (if any) and the target's DoH lookups. */
export function controlView(control: ControlObservation | null | undefined, doh: readonly DnsObservation[]): ControlView {
  const r = control && control.failure === null ? control.response : null;
  const addrs = new Set<string>();
  const by: string[] = [];
  const failures: Failure[] = [];
  if (r) {
    (r.dns.addrs ?? []).forEach((a) => addrs.add(a));
    if (r.dns.failure) failures.push(r.dns.failure);
    by.push("the control helper");
  }
  for (const d of doh) {
    d.addresses.forEach((a) => addrs.add(a));
    if (d.failure) failures.push(d.failure);
    by.push(`DoH ${d.resolver}`);
  }
  const dns = by.length === 0 ? null : { addrs: [...addrs], failure: addrs.size > 0 ? null : (failures[0] ?? "dns_no_answer"), by };
  const tcp = new Map(Object.entries(r?.tcp_connect ?? {}).map(([k, v]) => [k, { status: Boolean(v.status), failure: v.failure ?? null }]));
  const tls = new Map(Object.entries(r?.tls_handshake ?? {}).map(([k, v]) => [k, { status: Boolean(v.status), failure: v.failure ?? null }]));
  return {
    dns,
    tcp,
    tls,
    http: r?.http_request ?? null,
    helperFailure: control && control.failure !== null ? `the control helper ${control.helper} could not be used (${control.failure})` : null,
  };
}

/** Addresses a TLS handshake validated for the name, seen by the probe or the helper. */
export function validatedAddresses(tls: readonly TlsObservation[], view: ControlView): Set<string> {
  const out = new Set<string>();
  for (const t of tls) if (t.failure === null && t.verified) out.add(ipOf(t.address));
  for (const [ep, v] of view.tls) if (v.status) out.add(ipOf(ep));
  return out;
}

/** The address part of an `ip:port` or `[v6]:port` endpoint. */
export function ipOf(endpoint: string): string {
  if (endpoint.startsWith("[")) return endpoint.slice(1, endpoint.indexOf("]"));
  const i = endpoint.lastIndexOf(":");
  return i > 0 && endpoint.indexOf(":") === i ? endpoint.slice(0, i) : endpoint;
}
