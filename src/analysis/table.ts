/**
 * Stage 1 of the analysis (docs/verdicts.md "How a verdict is decided"): the observations of one
 * target and its controls flattened into one table keyed by transaction. Every DNS lookup, every
 * connection (its TCP connect, TLS handshake and the HTTP exchange it carried) and the control's
 * answers get a row with an id; joins are made here, once, on parsed addresses, so that the
 * later stages follow ids and never match on `ip:port` strings. Pure: no I/O.
 */
import type { CertificateInfo, ControlObservation, DnsObservation, DnsResponse, HttpObservation, Observation, TcpObservation, TlsObservation } from "../probes/observation.js";
import type { Failure } from "../net/failures.js";
import type { Target } from "../targets/target.js";
import { analysisBodySample } from "../probes/body-sample.js";
import { dnsFailureFromHelper } from "../probes/control-wire.js";

/** Who asked: the probe as a browser would (system resolver, --resolver), or a control (DoH, the helper). */
export type DnsRole = "probe" | "control";

/** One DNS lookup of one name. */
export interface DnsRow {
  id: string;
  /** 0 for the target's own name, n for the n-th redirect followed. */
  hop: number;
  host: string;
  role: DnsRole;
  engine: DnsObservation["engine"] | "helper";
  /** `system`, `ip:port`, the DoH URL, or the helper's URL. */
  resolver: string;
  failure: Failure | null;
  addresses: string[];
  /** Every response that arrived (raw UDP only), in order. */
  responses: DnsResponse[];
}

/** Why a connection was made: the target's own steps, or a swap that proves a filter without a helper. */
export type ConnPurpose = "measure" | "sni_swap" | "host_swap" | "address_swap";

/** The TLS handshake of one connection. */
export interface TlsCell {
  serverName: string;
  failure: Failure | null;
  verified: boolean;
  verifyFailure: Failure | null;
  certificates: CertificateInfo[];
}

/** The control helper's attempts on the same endpoint, when it made any. */
export interface ControlCell {
  tcp: { ok: boolean; failure: Failure | null } | null;
  tls: { ok: boolean; failure: Failure | null; serverName: string | null } | null;
}

/** One connection: its TCP connect, the TLS handshake over it, and what the helper saw on the same endpoint. */
export interface ConnRow {
  id: string;
  hop: number;
  purpose: ConnPurpose;
  ip: string;
  port: number;
  /** How the endpoint is written in evidence: `ip:port`, `[v6]:port`. */
  endpoint: string;
  tcpFailure: Failure | null;
  tls: TlsCell | null;
  control: ControlCell | null;
}

/** One HTTP exchange (one hop of the redirect chain, or a Host or address swap's request). */
export interface HttpRow {
  id: string;
  hop: number;
  purpose: ConnPurpose;
  /** The connection that carried it, when it was recorded. */
  conn: string | null;
  url: string;
  endpoint: string;
  /** The Host sent, when it was not the URL's (a Host swap). */
  swappedHost: string | null;
  failure: Failure | null;
  status: number | null;
  headers: Record<string, string>;
  title: string | null;
  bodyLength: number | null;
  bodyTruncated: boolean;
  /** The sample's exact bytes (JSON writes their UTF-8 text); fingerprints match them (analysis/fingerprints.ts). */
  bodySample: Buffer;
  note: string | null;
  location: string | null;
}

/** The helper's fetch, as the comparison reads it. */
export interface ControlHttpRow {
  failure: Failure | null;
  status: number | null;
  bodyLength: number | null;
  title: string;
  headers: Record<string, string>;
  /** The redirect chain it followed, first to last (empty when the helper does not say). */
  urls: string[];
  note: string | null;
}

/** The table of one target. */
export interface Table {
  target: { input: string; host: string; isIp: boolean; scheme: Target["scheme"] };
  dns: DnsRow[];
  conns: ConnRow[];
  http: HttpRow[];
  /** The control helper: null when none was asked; `failure` set when it could not be used. */
  helper: { url: string; failure: Failure | null } | null;
  controlHttp: ControlHttpRow | null;
}

/** Parses `ip:port` or `[v6]:port`; null when it is neither. */
export function parseEndpoint(endpoint: string): { ip: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(endpoint) ?? /^([^:]+):(\d+)$/.exec(endpoint);
  return m ? { ip: m[1]!.toLowerCase(), port: Number(m[2]) } : null;
}

const key = (ip: string, port: number) => `${ip}|${port}`;

/** What the helper's answer says about each endpoint it tried, by parsed address. */
function controlCells(control: ControlObservation | null | undefined): Map<string, ControlCell> {
  const cells = new Map<string, ControlCell>();
  const r = control && control.failure === null ? control.response : null;
  if (!r) return cells;
  const cell = (endpoint: string): ControlCell | null => {
    const p = parseEndpoint(endpoint);
    if (!p) return null;
    const k = key(p.ip, p.port);
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { tcp: null, tls: null }));
    return c;
  };
  for (const [endpoint, v] of Object.entries(r.tcp_connect ?? {})) {
    const c = cell(endpoint);
    if (c) c.tcp = { ok: Boolean(v.status), failure: v.failure ?? null };
  }
  for (const [endpoint, v] of Object.entries(r.tls_handshake ?? {})) {
    const c = cell(endpoint);
    if (c) c.tls = { ok: Boolean(v.status), failure: v.failure ?? null, serverName: v.server_name ?? null };
  }
  return cells;
}

/** The observation's transaction fields, when the probe recorded them (older data has none). */
function purposeOf(o: Observation): ConnPurpose {
  const p = (o as { purpose?: string }).purpose;
  return p === "sni_swap" || p === "host_swap" || p === "address_swap" ? p : "measure";
}

/** Flattens one target's observations and its controls into the table. */
export function flatten(target: Pick<Target, "input" | "host" | "isIp" | "scheme">, obs: readonly Observation[], control?: ControlObservation | null): Table {
  const dns: DnsRow[] = [];
  for (const o of obs) {
    if (o.step !== "dns") continue;
    const d = o as DnsObservation;
    dns.push({
      id: `dns#${dns.length + 1}`,
      hop: d.hop ?? 0,
      host: d.hostname.toLowerCase(),
      role: d.engine === "doh" ? "control" : "probe",
      engine: d.engine,
      resolver: d.resolver,
      failure: d.failure,
      addresses: [...d.addresses],
      responses: d.responses ? [...d.responses] : [],
    });
  }
  const r = control && control.failure === null ? control.response : null;
  if (r) {
    // The helper's own lookup of the target's name.
    const addrs = r.dns.addrs ?? [];
    dns.push({
      id: `dns#${dns.length + 1}`,
      hop: 0,
      host: target.host.toLowerCase(),
      role: "control",
      engine: "helper",
      resolver: control!.helper,
      failure: dnsFailureFromHelper(r.dns),
      addresses: [...addrs],
      responses: [],
    });
  }

  const cells = controlCells(control);
  const conns: ConnRow[] = [];
  // A connection is opened by its TCP connect; the handshake that follows on the same hop,
  // purpose and address belongs to the latest connection to that address without one.
  const open = new Map<string, ConnRow>();
  for (const o of obs) {
    if (o.step === "tcp") {
      const t = o as TcpObservation;
      const p = parseEndpoint(t.address);
      if (!p) continue;
      const hop = t.hop ?? 0;
      const purpose = purposeOf(t);
      const row: ConnRow = {
        id: `conn#${conns.length + 1}`,
        hop,
        purpose,
        ip: p.ip,
        port: p.port,
        endpoint: t.address,
        tcpFailure: t.failure,
        tls: null,
        // Only the target's own connections are the helper's to compare (it measures hop 0's endpoints).
        control: hop === 0 && purpose === "measure" ? (cells.get(key(p.ip, p.port)) ?? null) : null,
      };
      conns.push(row);
      open.set(`${hop}|${purpose}|${key(p.ip, p.port)}`, row);
    } else if (o.step === "tls") {
      const t = o as TlsObservation;
      const p = parseEndpoint(t.address);
      if (!p) continue;
      const row = open.get(`${t.hop ?? 0}|${purposeOf(t)}|${key(p.ip, p.port)}`);
      if (!row || row.tls) continue;
      row.tls = { serverName: t.serverName, failure: t.failure, verified: t.verified, verifyFailure: t.verifyFailure ?? null, certificates: t.certificates };
    }
  }

  const http: HttpRow[] = [];
  for (const o of obs) {
    if (o.step !== "http") continue;
    const h = o as HttpObservation;
    const p = parseEndpoint(h.address);
    const purpose = purposeOf(h);
    const conn = p ? [...conns].reverse().find((c) => c.hop === h.hop && c.purpose === purpose && c.ip === p.ip && c.port === p.port && c.tcpFailure === null) : undefined;
    http.push({
      id: `http#${http.length + 1}`,
      hop: h.hop,
      purpose,
      conn: conn?.id ?? null,
      url: h.url,
      endpoint: h.address,
      swappedHost: (h as { swappedHost?: string }).swappedHost ?? null,
      failure: h.failure,
      status: h.status ?? null,
      headers: h.headers ?? {},
      title: h.title ?? null,
      bodyLength: h.bodyLength ?? null,
      bodyTruncated: h.bodyTruncated ?? false,
      bodySample: analysisBodySample(h),
      note: h.note ?? null,
      location: h.location ?? null,
    });
  }

  const c = r?.http_request;
  return {
    target: { input: target.input, host: target.host.toLowerCase(), isIp: target.isIp, scheme: target.scheme },
    dns,
    conns,
    http,
    helper: control ? { url: control.helper, failure: control.failure } : null,
    controlHttp: c
      ? {
          failure: c.failure,
          status: c.failure === null ? c.status_code : null,
          bodyLength: c.failure === null ? c.body_length : null,
          title: c.title ?? "",
          // Lower-case names, as the probe's: OONI's helper (and reachprobe's since it speaks its format) writes "Content-Type".
          headers: Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
          urls: c.x_urls ?? [],
          note: c.x_note ?? null,
        }
      : null,
  };
}
