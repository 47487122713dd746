/**
 * Observations for tests: one builder a step, with the fields a probe always writes filled in
 * and anything else given as overrides. Default times follow one target's steps in order
 * (DNS 0-5 ms, TCP 5-9, TLS 9-20, HTTP 20-30); an override given as undefined is ignored.
 */
import type { ControlResponse } from "../../src/probes/control-wire.js";
import type {
  CertificateInfo,
  ControlObservation,
  DnsObservation,
  HttpObservation,
  TcpObservation,
  TlsObservation,
} from "../../src/probes/observation.js";

/** The overrides without the keys given as undefined, so that they do not replace a default. */
function defined<T extends object>(over: T): T {
  return Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) as T;
}

/** A lookup of `hostname` that answered `addresses`: the system resolver unless `engine` says otherwise. */
export function dnsObs(hostname: string, addresses: string[], over: Partial<DnsObservation> = {}): DnsObservation {
  const engine = over.engine ?? "system";
  const system = engine === "system";
  return { step: "dns", engine, resolver: system ? "system" : "192.0.2.53:53", hostname, qtype: system ? "ANY" : "A", t0: 0, t: 5, failure: null, addresses, ...defined(over) };
}

/** A TCP connect to `address` ("ip:port") that worked unless `failure` is given. */
export function tcpObs(address: string, over: Partial<TcpObservation> = {}): TcpObservation {
  return { step: "tcp", address, t0: 5, t: 9, failure: null, ...defined(over) };
}

/** A TLS handshake with `serverName` over `address`; verified exactly when it has no failure. */
export function tlsObs(address: string, serverName: string, over: Partial<TlsObservation> = {}): TlsObservation {
  const verified = (over.failure ?? null) === null;
  return { step: "tls", address, serverName, t0: 9, t: 20, failure: null, certificates: [], verified, verifyFailure: null, ...defined(over) };
}

/** An HTTP exchange for `url` pinned to `address`, hop 0, with no response fields unless given. */
export function httpObs(address: string, url: string, over: Partial<HttpObservation> = {}): HttpObservation {
  return { step: "http", address, url, hop: 0, t0: 20, t: 30, failure: null, requestHeaders: {}, ...defined(over) };
}

/** A certificate as the handshake describes it, valid 2024-2034. */
export function certInfo(subject: string, issuer: string, over: Partial<CertificateInfo> = {}): CertificateInfo {
  return { subject, issuer, sans: [], validFrom: "2024-01-01T00:00:00.000Z", validTo: "2034-01-01T00:00:00.000Z", fingerprint256: "AA:BB", ...defined(over) };
}

/** What the control helper at http://control.example/ answered (`response`), 0-30 ms. */
export function controlObs(response: ControlResponse | null, over: Partial<ControlObservation> = {}): ControlObservation {
  return { helper: "http://control.example/", t0: 0, t: 30, failure: null, response, ...defined(over) };
}
