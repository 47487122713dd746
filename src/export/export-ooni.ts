/**
 * The OONI export: each stored measurement as a web_connectivity measurement in OONI's data
 * format (data_format_version 0.2.0, one JSON object a line), a tcp:// target as a tcp_connect
 * one, so that OONI's tooling can read reachprobe's data. Pure: records in, objects out. docs/commands.md's "reachprobe export"
 * section documents the mapping, above all how a verdict becomes `blocking` and `accessible`.
 *
 * What reachprobe does not store is left empty rather than invented: no TTLs, no raw DNS
 * responses, no certificates or cipher suite for handshakes recorded before they were kept, and
 * `probe_ip` is always OONI's placeholder 127.0.0.1. Bodies and header values are scrubbed of
 * every address (scrub.ts), as OONI's serializer does.
 */
import { createHash } from "node:crypto";
import { Buffer, isUtf8 } from "node:buffer";
import { isIP } from "node:net";
import type { Verdict } from "../analysis/verdict.js";
import { stoppedHopFailure } from "../analysis/target.js";
import { splitHostPort } from "../net/addr.js";
import { classifyDnsRcode } from "../net/classify.js";
import { canonicalHeaderName } from "../net/http-exchange.js";
import { KNOWN_FAILURES, type Failure } from "../net/failures.js";
import { helperDnsFailure, type ControlResponse } from "../probes/control-wire.js";
import type { ControlObservation, DnsObservation, DnsResponse, HttpObservation, Observation, TcpObservation, TlsObservation } from "../probes/observation.js";
import type { MeasurementWithRun, RunRecord } from "../store/store.js";
import { bodySampleBytes, bodySampleIsWhole } from "../probes/body-sample.js";
import { scrubAddresses, scrubBytes } from "../net/scrub.js";
import { scrubQuotedTitles } from "../probes/scrub-observations.js";

const KNOWN_FAILURES_SET: ReadonlySet<string> = new Set(KNOWN_FAILURES);

/** The version of OONI's base data format written. */
export const OONI_DATA_FORMAT_VERSION = "0.2.0";

/**
 * The tcp_connect test version claimed: Measurement Kit's last (0.1.0), whose only key is
 * `connection`; OONI Probe's Go engine has no tcp_connect of its own.
 */
export const OONI_TCP_CONNECT_VERSION = "0.1.0";

/**
 * The web_connectivity test version claimed: the 0.4 series is the "classic" algorithm, whose
 * keys (queries, tcp_connect, tls_handshakes, requests, control, blocking, accessible) are the
 * ones filled here; 0.5 readers would look for analysis flags reachprobe does not compute.
 */
export const OONI_TEST_VERSION = "0.4.3";

/** OONI's value for an address the probe does not share. */
export const OONI_PROBE_IP = "127.0.0.1";

/** OONI probe-cli's value for a resolver address it could not find out. */
export const OONI_UNKNOWN_RESOLVER_IP = "127.0.0.2";

/**
 * control_failure when the helper was asked but gave no usable answer. A measurement made
 * without a helper has control_failure null and control null, as ooni/data reads "no control":
 * OONI's fastpath flags any `*_failure` starting with unknown_failure as a failed measurement
 * (docs/ooni-pipeline.md).
 */
export const NO_ANSWER_FAILURE: Failure = "unknown_failure: the control helper gave no answer";

/** df-001-httpt's MaybeBinaryData: a string when the bytes are UTF-8, else their base64. */
export type OoniMaybeBinary = string | { format: "base64"; data: string };

/** OONI's `blocking` values. */
export type OoniBlocking = false | null | "dns" | "tcp_ip" | "http-failure" | "http-diff";

/** One DNS answer (df-002-dnst). */
export interface OoniAnswer {
  answer_type: "A" | "AAAA" | "CNAME";
  ipv4?: string;
  ipv6?: string;
  hostname?: string;
  ttl: null;
}

/** One DNS query (df-002-dnst). */
export interface OoniQuery {
  engine: "getaddrinfo" | "udp" | "doh";
  resolver_address: string;
  hostname: string;
  query_type: string;
  answers: OoniAnswer[];
  failure: string | null;
  rcode?: number;
  t0: number;
  t: number;
  /** `depth=N` (the redirect hop), plus `classic` on the lookup web_connectivity's verdict reads. */
  tags: string[];
  transaction_id: number;
}

/** One TCP connect (df-005-tcpconnect), with web_connectivity's `blocked`. */
export interface OoniTcpConnect {
  ip: string;
  port: number;
  status: { success: boolean; failure: string | null; blocked: boolean | null };
  t0: number;
  t: number;
  /** `depth=N`, and `sni_swap`, `host_swap` or `address_swap` on a swap's connect (in x_swaps only). */
  tags: string[];
  /** Shared by the connect and the handshake and requests made over its connection. */
  transaction_id: number;
}

/** One TLS handshake (df-006-tlshandshake). */
export interface OoniTlsHandshake {
  network: "tcp";
  address: string;
  server_name: string;
  tls_version: string;
  negotiated_protocol: string;
  cipher_suite: string;
  /** true on an SNI swap's handshake, whose certificate is recorded, not required. */
  no_tls_verify: boolean;
  /** The chain as received, leaf first, DER in base64 (empty for records made before DER was kept). */
  peer_certificates: Array<{ format: "base64"; data: string }>;
  failure: string | null;
  t0: number;
  t: number;
  /** What each certificate says (subject, issuer, names, validity, fingerprint), without its DER. */
  x_certificates: Array<Omit<TlsObservation["certificates"][number], "der">>;
  /** `depth=N`, and `sni_swap` on a swap's handshake (in x_swaps only). */
  tags: string[];
  transaction_id: number;
}

/** Headers as df-001-httpt has them: a map (first value) and a list (every value, sorted by name). */
interface OoniHeaders {
  headers: Record<string, string>;
  headers_list: Array<[string, string]>;
}

/** One HTTP transaction (df-001-httpt). */
export interface OoniRequest {
  network: "tcp";
  address: string;
  failure: string | null;
  request: OoniHeaders & {
    url: string;
    method: "GET";
    body: string;
    body_is_truncated: boolean;
    tor: { exit_ip: null; exit_name: null; is_tor: false };
    x_transport: "tcp";
  };
  response: OoniHeaders & { code: number; body: OoniMaybeBinary; body_is_truncated: boolean };
  t0: number;
  t: number;
  tags: string[];
  transaction_id: number;
  /** Bytes of the body read (up to the read cap, 1 MiB by default); `body` holds the first 512 KiB of them. */
  x_body_length?: number;
  /** SHA-256 of every byte read; left out when the sample had an address to scrub, which the hash would give back. */
  x_body_sha256?: string;
  /** The sample was stored as text before samples were kept as bytes, and bytes that were not UTF-8 read as U+FFFD in it (docs/database.md). */
  x_body_sample_lossy?: true;
}

/** The test_keys of the exported measurement. */
export interface OoniTestKeys {
  agent: "redirect";
  client_resolver: null;
  socksproxy: null;
  queries: OoniQuery[];
  x_dns_duplicate_responses: OoniQuery[];
  tcp_connect: OoniTcpConnect[];
  tls_handshakes: OoniTlsHandshake[];
  requests: OoniRequest[];
  control: ControlObservation["response"];
  control_failure: string | null;
  dns_experiment_failure: string | null;
  http_experiment_failure: string | null;
  blocking: OoniBlocking;
  accessible: boolean | null;
  /**
   * The swaps (docs/verdicts.md, "Proof without a helper"): the steps repeated with an innocuous
   * SNI or Host, or at a witness resolver's address, each tagged `sni_swap`, `host_swap` or
   * `address_swap`. Kept out of tcp_connect, tls_handshakes and requests, which hold only the
   * target's own steps as OONI's tools read them.
   */
  x_swaps: { tcp_connect: OoniTcpConnect[]; tls_handshakes: OoniTlsHandshake[]; requests: OoniRequest[] };
  /** reachprobe's own verdict, which the OONI keys above only approximate. */
  x_reachprobe: { status: string; layer: string | null; failure: string | null; evidence: string[] };
}

/**
 * The test_keys of a `tcp://` target, exported as OONI's `tcp_connect` test (ts-008, as
 * Measurement Kit wrote it and OONI's fastpath scores it): `connection` is "success" or the
 * failure; the steps that led to it follow in OONI's df-002 and df-005 templates, declared in
 * `extensions`, and reachprobe's own verdict in x_reachprobe.
 */
export interface OoniTcpConnectTestKeys {
  connection: string;
  queries: OoniQuery[];
  tcp_connect: OoniTcpConnect[];
  /** What the control helper answered for this endpoint, as in web_connectivity's `control`, or null. */
  x_control: ControlObservation["response"];
  x_control_failure: string | null;
  x_reachprobe: OoniTestKeys["x_reachprobe"];
}

/** One exported `tcp://` target (df-000-base plus tcp_connect's test_keys). */
export interface OoniTcpConnectMeasurement extends Omit<OoniMeasurement, "test_name" | "test_keys"> {
  test_name: "tcp_connect";
  test_keys: OoniTcpConnectTestKeys;
}

/** One exported measurement (df-000-base plus web_connectivity's test_keys). */
export interface OoniMeasurement {
  annotations: Record<string, string>;
  data_format_version: string;
  extensions: Record<string, number>;
  input: string;
  measurement_start_time: string;
  probe_asn: string;
  probe_cc: string;
  probe_ip: string;
  probe_network_name: string;
  report_id: string;
  resolver_asn: string;
  resolver_ip: string;
  resolver_network_name: string;
  software_name: "reachprobe";
  software_version: string;
  test_helpers: Record<string, { address: string; type: string }>;
  test_keys: OoniTestKeys;
  test_name: "web_connectivity";
  test_runtime: number;
  test_start_time: string;
  test_version: string;
}

/** What the export needs besides the rows. */
export interface OoniOptions {
  /** Written as software_version when a run does not say which reachprobe made it. */
  softwareVersion: string;
  /** Writes the run's network label as probe_network_name (export --network-label); otherwise nothing says where the probe was. */
  networkLabel?: boolean;
}

/** An OS as OONI's annotations name it: linux, macos, windows, android, ios, or "unknown". */
export function ooniPlatform(platform: string): string {
  const names: Record<string, string> = { linux: "linux", darwin: "macos", win32: "windows", android: "android", freebsd: "freebsd", openbsd: "openbsd" };
  return names[platform] ?? "unknown";
}

/** A CPU as OONI's annotations name it (Go's GOARCH): amd64, arm64, 386, arm, or Node's name. */
export function ooniArchitecture(arch: string): string {
  const names: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm" };
  return names[arch] ?? arch;
}

/** An ISO time as OONI writes times: "YYYY-MM-DD HH:MM:SS", UTC. */
export function ooniTime(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace("T", " ");
}

/** A probe ASN as OONI writes it: "AS1234", or "AS0" when unknown. */
export function ooniAsn(asn: number | null): string {
  return `AS${asn !== null && Number.isSafeInteger(asn) && asn > 0 ? asn : 0}`;
}

/** A country code as OONI writes it: two upper-case letters, or "ZZ" when unknown. */
export function ooniCc(cc: string | null): string {
  const up = (cc ?? "").trim().toUpperCase();
  return /^[A-Z]{2}$/.test(up) ? up : "ZZ";
}

/**
 * A report id for a run, shaped like OONI's (`TIME_TESTNAME_CC_ASN_COLLECTOR_RANDOM`, six parts
 * split on "_") so that tools splitting it find each part, with "reachprobe" as the collector and
 * a stable suffix derived from the run id: every export of a run gives the same id.
 */
export function ooniReportId(run: RunRecord, testName: "web_connectivity" | "tcp_connect" = "web_connectivity"): string {
  const time = new Date(run.startedAt).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  // One report per test, as OONI's probes open one per test: a run's tcp:// targets get their own.
  const suffix = createHash("sha256").update(testName === "web_connectivity" ? run.id : `${run.id}\n${testName}`).digest("hex").slice(0, 16);
  return `${time}_${testName.replace("_", "")}_${ooniCc(run.probeCc)}_${ooniAsn(run.probeAsn).slice(2)}_reachprobe_${suffix}`;
}

/**
 * A verdict as OONI's `blocking` and `accessible` (the mapping table is in docs/commands.md):
 * ok -> false/true; down -> false/false (expected failure); inconclusive -> null/null; blocked or
 * anomaly -> the layer's value, accessible false: dns -> "dns", tcp -> "tcp_ip", tls ->
 * "http-failure" (OONI files TLS interference there), http -> "http-diff" when a response came
 * back and was judged (block page, 451, redirect to a warning page), "http-failure" when the
 * exchange itself failed. OONI's strings mean "seems blocked", so anomalies get them too;
 * x_reachprobe.status keeps the difference.
 */
export function ooniBlocking(v: Pick<Verdict, "status" | "layer" | "failure">): { blocking: OoniBlocking; accessible: boolean | null } {
  switch (v.status) {
    case "ok":
      return { blocking: false, accessible: true };
    case "down":
      return { blocking: false, accessible: false };
    case "inconclusive":
      return { blocking: null, accessible: null };
    case "blocked":
    case "anomaly": {
      const byLayer: Record<string, OoniBlocking> = { dns: "dns", tcp: "tcp_ip", tls: "http-failure", http: v.failure === null ? "http-diff" : "http-failure" };
      return { blocking: v.layer ? (byLayer[v.layer] ?? null) : null, accessible: false };
    }
  }
}

const RCODES: Record<string, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

const ENGINES: Record<DnsObservation["engine"], OoniQuery["engine"]> = { system: "getaddrinfo", udp: "udp", doh: "doh" };

function answersFor(addresses: readonly string[], cnames: readonly string[] = []): OoniAnswer[] {
  const out: OoniAnswer[] = addresses.map((a) => (isIP(a) === 6 ? { answer_type: "AAAA", ipv6: a, ttl: null } : { answer_type: "A", ipv4: a, ttl: null }));
  for (const c of cnames) out.push({ answer_type: "CNAME", hostname: c, ttl: null });
  return out;
}

// The failure a single raw response stands for, as the UDP step would have classified it.
function responseFailure(r: DnsResponse): Failure | null {
  if (r.malformed) return `unknown_failure: malformed DNS response: ${r.malformed}`;
  if (r.rcode === "NOERROR") return r.addresses.length ? null : "dns_no_answer";
  return classifyDnsRcode(r.rcode);
}

/** Seconds since the measurement started, from ms since the run started (µs precision). */
type Clock = (ms: number) => number;

/**
 * OONI's transaction ids (1, 2, ...) in the order the steps were made: each lookup has its own;
 * a TCP connect opens one, which its TLS handshake and the requests sent over its connection
 * share (a request on a connection kept alive from an earlier hop gets that hop's id), so that
 * OONI's tools join steps by transaction, not by address.
 */
export function transactionIds(obs: readonly Observation[]): Map<Observation, number> {
  const ids = new Map<Observation, number>();
  let next = 1;
  const conns: Array<{ o: TcpObservation; id: number; tls: boolean }> = [];
  const same = (c: { o: TcpObservation }, o: { address: string; purpose?: string | undefined }) => c.o.address === o.address && (c.o.purpose ?? null) === (o.purpose ?? null);
  for (const o of obs) {
    if (o.step === "dns") ids.set(o, next++);
    else if (o.step === "tcp") {
      const id = next++;
      ids.set(o, id);
      conns.push({ o, id, tls: false });
    } else if (o.step === "tls") {
      const c = conns.findLast((c) => !c.tls && same(c, o) && (c.o.hop ?? 0) === (o.hop ?? 0));
      if (c) c.tls = true;
      ids.set(o, c?.id ?? next++);
    } else {
      const open = conns.filter((c) => c.o.failure === null && same(c, o) && (c.o.hop ?? 0) <= o.hop);
      const c = open.findLast((c) => (c.o.hop ?? 0) === o.hop) ?? open[open.length - 1];
      ids.set(o, c?.id ?? next++);
    }
  }
  return ids;
}

/** An observation's transaction id (0 only for an observation not in the map, never in practice). */
type Tx = (o: Observation) => number;

// The lookups whose outcome is the measurement's dns_experiment_failure: the system resolver's
// for the target's own name, as in OONI; without one, those of the resolver asked first.
function classicLookups(dns: readonly DnsObservation[]): Set<DnsObservation> {
  const own = dns.filter((o) => (o.hop ?? 0) === 0);
  const first = own.find((o) => o.engine === "system") ?? own[0];
  return new Set(first ? own.filter((o) => o.engine === first.engine && o.resolver === first.resolver) : []);
}

function dnsQueries(o: DnsObservation, classic: boolean, sec: Clock, tx: Tx): { query: OoniQuery; duplicates: OoniQuery[] } {
  const base = { engine: ENGINES[o.engine], resolver_address: o.engine === "system" ? "" : o.resolver, hostname: o.hostname, query_type: o.qtype };
  const tags = [`depth=${o.hop ?? 0}`, ...(classic ? ["classic"] : [])];
  const responses = o.responses ?? [];
  // The response an application would use is the first one that parsed; every other one that
  // arrived in the window is what OONI calls a duplicate response (the sign of injection).
  const used = responses.findIndex((r) => !r.malformed);
  const first = responses[used];
  const query: OoniQuery = {
    ...base,
    answers: answersFor(o.addresses, first?.cnames),
    failure: o.failure,
    ...(first && RCODES[first.rcode] !== undefined ? { rcode: RCODES[first.rcode] } : {}),
    t0: sec(o.t0),
    // When the answer used arrived: the step itself ends only when its listening window closes.
    t: sec(first?.t ?? o.t),
    tags,
    transaction_id: tx(o),
  };
  const duplicates = responses
    .filter((_, i) => i !== used)
    .map((r): OoniQuery => ({
      ...base,
      answers: answersFor(r.addresses, r.cnames),
      failure: responseFailure(r),
      ...(RCODES[r.rcode] !== undefined ? { rcode: RCODES[r.rcode] } : {}),
      t0: sec(o.t0),
      t: sec(r.t),
      tags,
      transaction_id: tx(o),
    }));
  return { query, duplicates };
}

function stepTags(o: { hop?: number | undefined; purpose?: string | undefined }): string[] {
  return [`depth=${o.hop ?? 0}`, ...(o.purpose ? [o.purpose] : [])];
}

function tcpConnect(o: TcpObservation, control: ControlObservation | null, sec: Clock, tx: Tx): OoniTcpConnect {
  const ep = splitHostPort(o.address, 0);
  // web_connectivity's per-endpoint `blocked`: the probe failed where the helper connected.
  const seen = control?.response?.tcp_connect?.[o.address];
  const blocked = o.failure === null ? false : seen && !o.purpose ? seen.status : null;
  return {
    ip: ep?.host ?? o.address,
    port: ep?.port ?? 0,
    status: { success: o.failure === null, failure: o.failure, blocked },
    t0: sec(o.t0),
    t: sec(o.t),
    tags: stepTags(o),
    transaction_id: tx(o),
  };
}

function tlsHandshake(o: TlsObservation, sec: Clock, tx: Tx): OoniTlsHandshake {
  return {
    network: "tcp",
    address: o.address,
    server_name: o.serverName,
    tls_version: o.version ?? "",
    negotiated_protocol: o.alpn ?? "",
    cipher_suite: o.cipherSuite ?? "",
    no_tls_verify: o.purpose === "sni_swap",
    peer_certificates: o.certificates.flatMap((c) => (c.der ? [{ format: "base64" as const, data: c.der }] : [])),
    failure: o.failure,
    t0: sec(o.t0),
    t: sec(o.t),
    x_certificates: o.certificates.map(({ der: _der, ...said }) => said),
    tags: stepTags(o),
    transaction_id: tx(o),
  };
}

export { canonicalHeaderName };

/**
 * Headers as OONI writes them: canonical names, the map with each name's first value, the list
 * with every value (a header received twice is two pairs), sorted by name; with `scrub`, values
 * scrubbed of every address.
 */
export function ooniHeaders(h: Record<string, string> | undefined, repeats: Record<string, string[]> = {}, scrub = true): OoniHeaders {
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(h ?? {})) {
    const key = canonicalHeaderName(name);
    const values = Object.hasOwn(repeats, name.toLowerCase()) ? repeats[name.toLowerCase()]! : [value];
    byName.set(key, [...(byName.get(key) ?? []), ...(scrub ? values.map(scrubAddresses) : values)]);
  }
  const headers: Record<string, string> = {};
  const list: Array<[string, string]> = [];
  for (const key of [...byName.keys()].sort()) {
    const values = byName.get(key)!;
    headers[key] = values[0] ?? "";
    for (const v of values) list.push([key, v]);
  }
  return { headers, headers_list: list };
}

/** Bytes as df-001-httpt's MaybeBinaryData: their text when valid UTF-8, else their base64. */
export function maybeBinary(bytes: Buffer): OoniMaybeBinary {
  return isUtf8(bytes) ? bytes.toString("utf8") : { format: "base64", data: bytes.toString("base64") };
}

function httpRequest(o: HttpObservation, sec: Clock, tx: Tx): OoniRequest {
  const sample = bodySampleBytes(o);
  const scrubbed = scrubBytes(sample);
  // Only the start of the body is stored: it is the whole body when reading was not cut short
  // at the cap and the sample's hash is the hash of every byte read (body-sample.ts). A lossy
  // sample (stored as text before samples were kept as bytes) is never the body exactly.
  const whole = bodySampleIsWhole(o);
  return {
    network: "tcp",
    address: o.address,
    failure: o.failure,
    request: {
      url: o.url,
      method: "GET",
      // What reachprobe sent cannot say where it was, and scrubbing would eat the
      // User-Agent's version ("Chrome/130.0.0.0" reads as an address): not scrubbed.
      ...ooniHeaders(o.requestHeaders, {}, false),
      body: "",
      body_is_truncated: false,
      tor: { exit_ip: null, exit_name: null, is_tor: false },
      x_transport: "tcp",
    },
    response: {
      code: o.status ?? 0,
      ...ooniHeaders(o.headers, o.headerRepeats),
      body: maybeBinary(scrubbed),
      body_is_truncated: o.status === undefined ? false : !whole,
    },
    t0: sec(o.t0),
    t: sec(o.t),
    tags: stepTags(o),
    transaction_id: tx(o),
    ...(o.bodyLength !== undefined ? { x_body_length: o.bodyLength } : {}),
    // The hash of a page with an address in it would give the address back (try each one).
    ...(o.bodySha256 && scrubbed === sample ? { x_body_sha256: o.bodySha256 } : {}),
    ...(o.bodySampleLossy === true ? { x_body_sample_lossy: true as const } : {}),
  };
}

/**
 * The control as OONI's helper writes it, whichever version of reachprobe's helper answered:
 * the lookup's failure in the helper's words (dns_name_error, dns_server_failure), response
 * header names in Go's canonical form.
 */
export function ooniControl(r: ControlResponse): ControlResponse {
  const dns = r.dns ? { ...r.dns, failure: KNOWN_FAILURES_SET.has(r.dns.failure ?? "") ? helperDnsFailure(r.dns.failure as Failure) : r.dns.failure } : r.dns;
  const http = r.http_request
    ? { ...r.http_request, headers: Object.fromEntries(Object.entries(r.http_request.headers ?? {}).map(([k, v]) => [canonicalHeaderName(k), v])) }
    : r.http_request;
  return { ...r, dns, http_request: http };
}

// The classic lookup is the system resolver's, as in OONI; without one, the first lookup made.
function dnsExperimentFailure(dns: readonly DnsObservation[]): string | null {
  return (dns.find((o) => o.engine === "system") ?? dns[0])?.failure ?? null;
}

// What stopped the web step: the last hop's failure, or the failed connect of the redirect hop
// after it; with no hop, what kept it from starting.
function httpExperimentFailure(target: string, obs: readonly Observation[], dnsFailure: string | null): string | null {
  if (target.startsWith("tcp://")) return null;
  const hops = obs.filter((o): o is HttpObservation => o.step === "http");
  const last = hops[hops.length - 1];
  if (last) return last.failure ?? stoppedHopFailure(obs);
  const connect = obs.find((o) => (o.step === "tcp" || o.step === "tls") && o.failure !== null);
  return connect?.failure ?? dnsFailure;
}

/** The base keys (df-000) every exported measurement has, for `testName`. */
/** What one test writes into the envelope that every OONI measurement shares. */
interface OoniTest<K, N extends string> {
  name: N;
  version: string;
  extensions: Record<string, number>;
  input: string;
  keys: K;
}

/**
 * One OONI measurement: the keys every test shares (df-000-base: the run, the probe, the
 * software, the helper) around one test's own, in OONI's (alphabetical) order.
 */
function ooniEnvelope<K, N extends "web_connectivity" | "tcp_connect">(run: RunRecord, m: MeasurementWithRun["measurement"], options: OoniOptions, test: OoniTest<K, N>) {
  const version = run.version && /^[0-9]+\.[0-9]+(\.[0-9]+(-[A-Za-z0-9._-]+)?)?$/.test(run.version) ? run.version : options.softwareVersion;
  const annotations: Record<string, string> = {
    engine_name: "reachprobe",
    engine_version: version,
    reachprobe_run_id: run.id,
    reachprobe_measurement_id: m.id,
    reachprobe_service: m.service,
  };
  // The machine the run was made on, when the run recorded it (runs before it did say nothing).
  const runOptions = (run.options ?? {}) as Record<string, unknown>;
  for (const key of ["platform", "architecture"] as const) if (typeof runOptions[key] === "string") annotations[key] = runOptions[key];
  const label = options.networkLabel === true ? run.networkLabel : null;
  if (label !== null) annotations.network_label = label;
  const helper = m.control?.helper;
  const testHelpers: OoniMeasurement["test_helpers"] = helper ? { backend: { address: helper, type: helper.startsWith("https:") ? "https" : "http" } } : {};
  return {
    annotations,
    data_format_version: OONI_DATA_FORMAT_VERSION,
    extensions: test.extensions,
    input: test.input,
    measurement_start_time: ooniTime(m.startedAt),
    probe_asn: ooniAsn(run.probeAsn),
    probe_cc: ooniCc(run.probeCc),
    probe_ip: OONI_PROBE_IP,
    probe_network_name: label ?? "",
    report_id: ooniReportId(run, test.name),
    resolver_asn: "AS0",
    resolver_ip: OONI_UNKNOWN_RESOLVER_IP,
    resolver_network_name: "",
    software_name: "reachprobe" as const,
    software_version: version,
    test_helpers: testHelpers,
    test_keys: test.keys,
    test_name: test.name,
    test_runtime: m.durationMs / 1000,
    test_start_time: ooniTime(run.startedAt),
    test_version: test.version,
  };
}

/** Our own verdict, beside OONI's keys (its evidence's quoted titles scrubbed as the bodies are). */
function reachprobeVerdict(m: MeasurementWithRun["measurement"]) {
  return { status: m.verdict.status, layer: m.verdict.layer, failure: m.verdict.failure, evidence: [...scrubQuotedTitles(m.verdict.evidence, m.observations)] };
}

/** OONI's control_failure: null with an answer (or no helper asked), the helper's failure, or a helper that gave no answer. */
function controlFailure(m: MeasurementWithRun["measurement"]): string | null {
  return m.control ? (m.control.failure ?? (m.control.response ? null : NO_ANSWER_FAILURE)) : null;
}

/** A `tcp://host:port` target as OONI's tcp_connect input: `host:port` (ts-008). */
export function tcpConnectInput(target: string): string {
  return target.replace(/^tcp:\/\//i, "").replace(/\/+$/, "");
}

/**
 * tcp_connect's `connection`: "success" when a connect to the endpoint worked (as a client's
 * would, whichever address); else the failure of the first connect tried; with none tried, the
 * lookup's failure.
 */
export function tcpConnection(obs: readonly Observation[]): string {
  const connects = obs.filter((o): o is TcpObservation => o.step === "tcp" && !o.purpose);
  if (connects.some((o) => o.failure === null)) return "success";
  const first = connects[0]?.failure ?? dnsExperimentFailure(obs.filter((o): o is DnsObservation => o.step === "dns"));
  return first ?? "unknown_failure: no connect was attempted";
}

/** The OONI tcp_connect measurement of one stored measurement of a `tcp://` target. */
export function toOoniTcpConnect({ run, measurement: m }: MeasurementWithRun, options: OoniOptions): OoniTcpConnectMeasurement {
  const offset = Date.parse(m.startedAt) - Date.parse(run.startedAt);
  const sec: Clock = (ms) => Math.round((ms - offset) * 1000) / 1e6;
  const ids = transactionIds(m.observations);
  const tx: Tx = (o) => ids.get(o) ?? 0;
  const dns = m.observations.filter((o): o is DnsObservation => o.step === "dns");
  const classic = classicLookups(dns);
  return ooniEnvelope(run, m, options, {
    name: "tcp_connect",
    version: OONI_TCP_CONNECT_VERSION,
    extensions: { dnst: 0, tcpconnect: 0 },
    input: tcpConnectInput(m.target),
    keys: {
      connection: tcpConnection(m.observations),
      queries: dns.map((o) => dnsQueries(o, classic.has(o), sec, tx).query),
      tcp_connect: m.observations.filter((o): o is TcpObservation => o.step === "tcp" && !o.purpose).map((o) => tcpConnect(o, m.control, sec, tx)),
      x_control: m.control?.response ? ooniControl(m.control.response) : null,
      x_control_failure: controlFailure(m),
      x_reachprobe: reachprobeVerdict(m),
    },
  });
}

/** The OONI web_connectivity measurement of one stored measurement (tcp:// targets included: toOoniTcpConnect is how the export writes those). */
export function toOoniWebConnectivity({ run, measurement: m }: MeasurementWithRun, options: OoniOptions): OoniMeasurement {
  // Observation times count from the run's start; OONI's count from the measurement's.
  const offset = Date.parse(m.startedAt) - Date.parse(run.startedAt);
  const sec: Clock = (ms) => Math.round((ms - offset) * 1000) / 1e6;
  // The target's own steps fill OONI's keys; the swaps go to x_swaps, tagged.
  const obs = m.observations.filter((o) => o.step === "dns" || !o.purpose);
  const swaps = m.observations.filter((o) => o.step !== "dns" && o.purpose);
  const dns = obs.filter((o): o is DnsObservation => o.step === "dns");
  const ids = transactionIds(m.observations);
  const tx: Tx = (o) => ids.get(o) ?? 0;
  const classic = classicLookups(dns);
  const queries: OoniQuery[] = [];
  const duplicates: OoniQuery[] = [];
  for (const o of dns) {
    const q = dnsQueries(o, classic.has(o), sec, tx);
    queries.push(q.query);
    duplicates.push(...q.duplicates);
  }
  const dnsFailure = dnsExperimentFailure(dns);
  const { blocking, accessible } = ooniBlocking(m.verdict);
  return ooniEnvelope(run, m, options, {
    name: "web_connectivity",
    version: OONI_TEST_VERSION,
    extensions: { dnst: 0, httpt: 0, tcpconnect: 0, tlshandshake: 0 },
    input: m.target,
    keys: {
      agent: "redirect",
      client_resolver: null,
      socksproxy: null,
      queries,
      x_dns_duplicate_responses: duplicates,
      tcp_connect: obs.filter((o): o is TcpObservation => o.step === "tcp").map((o) => tcpConnect(o, m.control, sec, tx)),
      tls_handshakes: obs.filter((o): o is TlsObservation => o.step === "tls").map((o) => tlsHandshake(o, sec, tx)),
      // web_connectivity lists requests last first: the final response leads.
      requests: obs.filter((o): o is HttpObservation => o.step === "http").map((o) => httpRequest(o, sec, tx)).reverse(),
      control: m.control?.response ? ooniControl(m.control.response) : null,
      control_failure: controlFailure(m),
      dns_experiment_failure: dnsFailure,
      http_experiment_failure: httpExperimentFailure(m.target, obs, dnsFailure),
      blocking,
      accessible,
      x_swaps: {
        tcp_connect: swaps.filter((o): o is TcpObservation => o.step === "tcp").map((o) => tcpConnect(o, m.control, sec, tx)),
        tls_handshakes: swaps.filter((o): o is TlsObservation => o.step === "tls").map((o) => tlsHandshake(o, sec, tx)),
        requests: swaps.filter((o): o is HttpObservation => o.step === "http").map((o) => httpRequest(o, sec, tx)),
      },
      x_reachprobe: reachprobeVerdict(m),
    },
  });
}

/**
 * The OONI measurement of one stored measurement: a `tcp://` target as OONI's tcp_connect test,
 * any other as web_connectivity.
 */
export function toOoniMeasurement(row: MeasurementWithRun, options: OoniOptions): OoniMeasurement | OoniTcpConnectMeasurement {
  return /^tcp:\/\//i.test(row.measurement.target) ? toOoniTcpConnect(row, options) : toOoniWebConnectivity(row, options);
}

/** One line (newline included) per measurement, produced as the rows are read. */
export function* ooniLines(rows: Iterable<MeasurementWithRun>, options: OoniOptions): Generator<string> {
  for (const row of rows) yield `${JSON.stringify(toOoniMeasurement(row, options))}\n`;
}
