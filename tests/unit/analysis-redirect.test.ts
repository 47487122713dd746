/**
 * Redirect hops judged at the layer where they failed (DNS, TCP, TLS of the redirect target),
 * with and without the control helper, while the target's own steps (hop 0) keep their analysis.
 * Every case goes through `analyzeTarget`, as a run does.
 */
import { describe, expect, test } from "vitest";
import type { AnalysisContext } from "../../src/analysis/context.js";
import { parseFingerprints } from "../../src/analysis/fingerprints.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import { analyzeTarget, explainTarget, failedAtNetworkLevel } from "../../src/analysis/target.js";
import { compareHops } from "../../src/analysis/compare-http.js";
import { flatten } from "../../src/analysis/table.js";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import type { ControlHttp } from "../../src/probes/control-wire.js";
import type { Failure } from "../../src/net/failures.js";
import type { ControlObservation, DnsObservation, HttpObservation, Observation, TcpObservation, TlsObservation } from "../../src/probes/observation.js";
import { parseTarget } from "../../src/targets/parse.js";
import { controlObs, dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";

const A = "site.example";
const B = "cdn.example";
const TARGET = parseTarget(`https://${A}/`);
const IP_A = "203.0.113.10";
const IP_B = "203.0.113.20";
const IP_B2 = "203.0.113.21";

const FINGERPRINTS = parseFingerprints(
  ["name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes", "rt.location,isp,,header.location,prefix,http://warning.rt.ru,10,RU,test,,Rostelecom"].join("\n"),
  "inline.csv",
);
const CTX: AnalysisContext = { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: FINGERPRINTS, networkDown: null };

function dns(hostname: string, addresses: string[], o: { failure?: Failure | null; hop?: number; engine?: "system" | "udp"; resolver?: string } = {}): DnsObservation {
  return dnsObs(hostname, addresses, { failure: o.failure, engine: o.engine, resolver: o.resolver, ...(o.hop ? { hop: o.hop } : {}) });
}
function tcp(ip: string, failure: Failure | null = null, hop?: number): TcpObservation {
  return tcpObs(`${ip}:443`, { failure, ...(hop ? { hop } : {}) });
}
function tls(ip: string, serverName: string, failure: Failure | null = null, hop?: number): TlsObservation {
  return tlsObs(`${ip}:443`, serverName, { failure, ...(hop ? { hop } : {}) });
}
function http(url: string, hop: number, status: number, location?: string, failure: Failure | null = null): HttpObservation {
  const headers: Record<string, string> = location ? { location } : {};
  return httpObs(`${hop === 0 ? IP_A : IP_B}:443`, url, { hop, failure, status, headers, title: null, bodyLength: 20, bodySample: "", location: location ?? null });
}

/** Hop 0 worked and answered a redirect to https://cdn.example/. */
const HOP0: Observation[] = [dns(A, [IP_A]), tcp(IP_A), tls(IP_A, A), http(`https://${A}/`, 0, 302, `https://${B}/`)];

function control(httpRequest: Partial<ControlHttp>): ControlObservation {
  return controlObs(
    {
      dns: { failure: null, addrs: [IP_A] },
      tcp_connect: { [`${IP_A}:443`]: { status: true, failure: null } },
      tls_handshake: { [`${IP_A}:443`]: { server_name: A, status: true, failure: null } },
      http_request: { failure: null, status_code: 200, body_length: 20, title: "CDN page", headers: {}, x_urls: [`https://${A}/`, `https://${B}/`], ...httpRequest },
      ip_info: {},
    },
    { t: 40 },
  );
}
const CONTROL_OK = control({});
const CONTROL_FAILED = control({ failure: "connection_reset", status_code: -1, body_length: -1, title: "", x_urls: [`https://${A}/`] });

interface Case {
  name: string;
  obs: Observation[];
  control?: ControlObservation;
  status: Status;
  layer: Layer | null;
  failure: Failure | null;
  evidence?: RegExp;
}

const TLS_RESET_AT_B: Observation[] = [...HOP0, dns(B, [IP_B], { hop: 1 }), tcp(IP_B, null, 1), tls(IP_B, B, "connection_reset", 1)];

const cases: Case[] = [
  {
    name: "a redirect target whose handshake is reset, no control",
    obs: TLS_RESET_AT_B,
    status: "anomaly",
    layer: "tls",
    failure: "connection_reset",
    evidence: /redirect to cdn\.example stopped: the TLS handshake with 203\.0\.113\.20:443 \(SNI cdn\.example\) was reset/,
  },
  {
    name: "the same, where the control followed the redirect and fetched the page",
    obs: TLS_RESET_AT_B,
    control: CONTROL_OK,
    status: "blocked",
    layer: "tls",
    failure: "connection_reset",
    evidence: /but the control followed the redirect and fetched it \(HTTP 200/,
  },
  {
    name: "the same, where the control failed too",
    obs: TLS_RESET_AT_B,
    control: CONTROL_FAILED,
    status: "down",
    layer: null,
    failure: "connection_reset",
  },
  {
    name: "the same, where the control was never redirected there",
    obs: TLS_RESET_AT_B,
    control: control({ x_urls: [`https://${A}/`] }),
    status: "blocked",
    layer: "http",
    failure: null,
    evidence: /redirected to cdn\.example, where the control never went/,
  },
  {
    name: "a redirect target whose connects all time out",
    obs: [...HOP0, dns(B, [IP_B, IP_B2], { hop: 1 }), tcp(IP_B, "generic_timeout_error", 1), tcp(IP_B2, "generic_timeout_error", 1)],
    status: "anomaly",
    layer: "tcp",
    failure: "generic_timeout_error",
    evidence: /TCP connect to 203\.0\.113\.20:443 timed out \(generic_timeout_error\); TCP connect to 203\.0\.113\.21:443 timed out/,
  },
  {
    name: "a redirect target the system resolver does not know, another resolver does (a witness, never a way around): blocked at DNS without a helper",
    obs: [...HOP0, dns(B, [], { hop: 1, failure: "dns_nxdomain_error" }), dns(B, [IP_B], { hop: 1, engine: "udp" })],
    status: "blocked",
    layer: "dns",
    failure: "dns_nxdomain_error",
    evidence: /^the redirect to cdn\.example stopped: the lookup through the system resolver said the name does not exist[^\n]*, but resolver 192\.0\.2\.53:53 resolved it to 203\.0\.113\.20$/m,
  },
  {
    name: "a redirect target the system resolver does not know, another resolver answers only a bogon: no witness, an anomaly",
    obs: [...HOP0, dns(B, [], { hop: 1, failure: "dns_nxdomain_error" }), dns(B, ["10.0.0.1"], { hop: 1, engine: "udp" })],
    status: "anomaly",
    layer: "dns",
    failure: "dns_nxdomain_error",
  },
  {
    name: "a redirect target no resolver knows, without a helper: an anomaly",
    obs: [...HOP0, dns(B, [], { hop: 1, failure: "dns_nxdomain_error" }), dns(B, [], { hop: 1, engine: "udp", failure: "dns_nxdomain_error" })],
    status: "anomaly",
    layer: "dns",
    failure: "dns_nxdomain_error",
  },
  {
    name: "without a system resolver, the first configured one decides",
    obs: [...HOP0, dns(B, [], { hop: 1, engine: "udp", resolver: "192.0.2.53:53", failure: "dns_nxdomain_error" }), dns(B, [IP_B], { hop: 1, engine: "udp", resolver: "192.0.2.54:53" })],
    control: CONTROL_OK,
    status: "blocked",
    layer: "dns",
    failure: "dns_nxdomain_error",
  },
  {
    name: "a redirect to a block-page host (fingerprinted Location) whose server is down: the redirect is the cause",
    obs: [
      dns(A, [IP_A]),
      tcp(IP_A),
      tls(IP_A, A),
      http(`https://${A}/`, 0, 302, "http://warning.rt.ru/?id=1"),
      dns("warning.rt.ru", [IP_B], { hop: 1 }),
      { ...tcp(IP_B, "connection_refused", 1), address: `${IP_B}:80` },
    ],
    status: "blocked",
    layer: "http",
    failure: null,
    evidence: /warning\.rt\.ru/,
  },
  {
    name: "a DNS block of the first host outranks a failed hop",
    obs: [dns(A, ["10.10.34.35"]), tcp("10.10.34.35"), tls("10.10.34.35", A), http(`https://${A}/`, 0, 302, `https://${B}/`), dns(B, [IP_B], { hop: 1 }), tcp(IP_B, null, 1), tls(IP_B, B, "connection_reset", 1)],
    control: CONTROL_OK,
    status: "blocked",
    layer: "dns",
    failure: "dns_bogon_error",
  },
  {
    name: "a hop that connected and was fetched is ok",
    obs: [...HOP0, dns(B, [IP_B], { hop: 1 }), tcp(IP_B, null, 1), tls(IP_B, B, null, 1), http(`https://${B}/`, 1, 200)],
    control: CONTROL_OK,
    status: "ok",
    layer: null,
    failure: null,
  },
  {
    name: "a hop whose request fails is the HTTP layer's, as before",
    obs: [...HOP0, dns(B, [IP_B], { hop: 1 }), tcp(IP_B, null, 1), tls(IP_B, B, null, 1), { ...http(`https://${B}/`, 1, 200), status: undefined, failure: "connection_reset" }],
    control: CONTROL_OK,
    status: "blocked",
    layer: "http",
    failure: "connection_reset",
  },
  {
    name: "data from before per-hop steps (the redirect's lookup failure on the 302) keep their verdict",
    obs: [
      dns(A, [IP_A]),
      tcp(IP_A),
      tls(IP_A, A),
      dns(B, [], { failure: "dns_nxdomain_error" }),
      { ...http(`https://${A}/`, 0, 302, `https://${B}/`), failure: "dns_nxdomain_error", note: `redirect target ${B} did not resolve` },
    ],
    status: "anomaly",
    layer: "http",
    failure: "dns_nxdomain_error",
  },
];

describe("a redirect hop is judged at the layer where it failed", () => {
  test.each(cases)("$name: $status $layer", (c) => {
    const v = analyzeTarget(TARGET, c.obs, CTX, c.control ?? null);
    const why = JSON.stringify(v.evidence);
    expect({ status: v.status, layer: v.layer, failure: v.failure }, why).toEqual({ status: c.status, layer: c.layer, failure: c.failure });
    if (c.evidence) expect(v.evidence.join("\n")).toMatch(c.evidence);
  });
});

describe("hop-0 analysis is kept apart from the hops", () => {
  test("a failed hop's connects are not the target's: not failed at the network level, not compared with the control's endpoints", () => {
    const obs = [...HOP0, dns(B, [IP_A], { hop: 1 }), tcp(IP_A, "connection_refused", 1)];
    expect(failedAtNetworkLevel(TARGET, obs)).toBe(false);
    const { table } = explainTarget(TARGET, obs, CTX);
    const own = table.conns.filter((c) => c.hop === 0);
    expect(own).toHaveLength(1);
    expect(own[0]!.tcpFailure).toBeNull();
    expect(table.dns.filter((d) => d.hop === 0).map((d) => d.host)).toEqual([A]);
    // The control connected to IP_A:443 and followed the redirect to B: the hop is blocked at
    // TCP by the hop analysis, not by the per-address comparison of hop 0 (which saw it connect).
    const v = analyzeTarget(TARGET, obs, CTX, CONTROL_OK);
    expect({ status: v.status, layer: v.layer }).toEqual({ status: "blocked", layer: "tcp" });
    expect(v.evidence[0]).toMatch(/^the redirect to cdn\.example stopped/);
  });

  test("no hop fact while every tried hop got its request sent, nor for a hop cut short after connecting", () => {
    expect(compareHops(flatten(TARGET, HOP0))).toEqual([]);
    expect(compareHops(flatten(TARGET, [...HOP0, dns(B, [IP_B], { hop: 1 }), tcp(IP_B, null, 1), tls(IP_B, B, null, 1)]))).toEqual([]);
  });
});
