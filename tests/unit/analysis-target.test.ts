/**
 * The TCP, TLS and HTTP layers of the verdict, which layer wins when several saw something,
 * and what a down local network does to it. Every case goes through `analyzeTarget`.
 */
import { describe, expect, test } from "vitest";
import type { AnalysisContext } from "../../src/analysis/context.js";
import { parseFingerprints } from "../../src/analysis/fingerprints.js";
import { analyzeTarget } from "../../src/analysis/target.js";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import type { Failure } from "../../src/net/failures.js";
import type { CertificateInfo, DnsObservation, HttpObservation, Observation, TcpObservation, TlsObservation } from "../../src/probes/observation.js";
import { parseTarget } from "../../src/targets/parse.js";
import { certInfo, dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";
import type { Target } from "../../src/targets/target.js";

const HOST = "web.example";
const HTTPS = parseTarget(`https://${HOST}/`, "Example");
const HTTP = parseTarget(`http://${HOST}/`, "Example");
const A1 = "93.184.216.34";
const A2 = "93.184.216.35";

const FINGERPRINTS = parseFingerprints(
  [
    "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes",
    "test.body,nat,,body,contains,REACHPROBE-BLOCKED,10,,test,,Test block page",
    "rt.location,isp,,header.location,prefix,http://warning.rt.ru,10,RU,test,,Rostelecom",
    "vbw.denied,vbw,,body,contains,Access denied,3,,test,,",
    "fp.cloudflare,fp,,body,contains,Attention Required! | Cloudflare,9,,test,,Cloudflare challenge",
  ].join("\n"),
  "inline.csv",
);

function ctx(over: Partial<AnalysisContext> = {}): AnalysisContext {
  return { publicRanges: [], fingerprints: FINGERPRINTS, networkDown: null, ...over };
}

const CANARY_DOWN: AnalysisContext["networkDown"] = { canary: "https://canary.example/", reason: "generic_timeout_error" };

/** A system-resolver lookup of the target's host. */
function dns(addresses: string[] = [A1], failure: Failure | null = null): DnsObservation {
  return dnsObs(HOST, addresses, { t: 10, failure });
}

function tcp(ip: string, failure: Failure | null = null, port = 443): TcpObservation {
  return tcpObs(`${ip}:${port}`, { t0: 10, t: 20, failure });
}

function cert(subject: string, issuer: string): CertificateInfo {
  return certInfo(subject, issuer);
}

/** A handshake; `failure` may be a handshake failure or, with `leaf`, a certificate that did not verify. */
function tls(ip: string, failure: Failure | null = null, leaf?: CertificateInfo): TlsObservation {
  const certificates = leaf ? [leaf] : failure ? [] : [cert(`CN=${HOST}`, "CN=Test CA")];
  return tlsObs(`${ip}:443`, HOST, { t0: 20, t: 40, failure, certificates, verifyFailure: leaf ? failure : null, ...(failure === null || leaf ? { version: "TLSv1.3" } : {}) });
}

interface HopSpec {
  url?: string;
  hop?: number;
  address?: string;
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  title?: string;
  failure?: Failure | null;
  note?: string;
}

function http(s: HopSpec = {}): HttpObservation {
  const location = s.headers?.location ?? null;
  return httpObs(s.address ?? `${A1}:443`, s.url ?? `https://${HOST}/`, {
    hop: s.hop ?? 0,
    t0: 40,
    t: 60,
    failure: s.failure ?? null,
    requestHeaders: { host: HOST },
    ...(s.status !== undefined ? { status: s.status, headers: s.headers ?? {}, bodySample: s.body ?? "", bodyLength: (s.body ?? "").length, location } : {}),
    title: s.title,
    note: s.note,
  });
}

/** DNS, TCP and TLS that all worked, to put an HTTP exchange after. */
const CONNECTED: Observation[] = [dns(), tcp(A1), tls(A1)];

interface Case {
  name: string;
  target?: Target;
  obs: Observation[];
  ctx?: AnalysisContext;
  status: Status;
  layer: Layer | null;
  failure: Failure | null;
  /** Each must match one evidence line. */
  evidence?: RegExp[];
}

function check(c: Case): void {
  const v = analyzeTarget(c.target ?? HTTPS, c.obs, c.ctx ?? ctx());
  const why = `evidence: ${JSON.stringify(v.evidence)}`;
  expect({ status: v.status, layer: v.layer, failure: v.failure }, why).toEqual({ status: c.status, layer: c.layer, failure: c.failure });
  for (const re of c.evidence ?? []) {
    expect(v.evidence.some((e) => re.test(e)), `no evidence line matches ${re}; ${why}`).toBe(true);
  }
}

describe("TCP", () => {
  const cases: Case[] = [
    {
      name: "every connect refused",
      obs: [dns([A1, A2]), tcp(A1, "connection_refused"), tcp(A2, "connection_refused")],
      status: "anomaly",
      layer: "tcp",
      failure: "connection_refused",
      evidence: [
        /^TCP connect to 93\.184\.216\.34:443 was refused \(a RST answered the SYN\) \(connection_refused\)$/,
        /^TCP connect to 93\.184\.216\.35:443 was refused/,
      ],
    },
    {
      name: "every connect timing out (SYNs dropped)",
      obs: [dns(), tcp(A1, "generic_timeout_error")],
      status: "anomaly",
      layer: "tcp",
      failure: "generic_timeout_error",
      evidence: [/^TCP connect to 93\.184\.216\.34:443 timed out \(generic_timeout_error\)$/],
    },
    {
      name: "a tcp:// target at an IP literal, refused",
      target: parseTarget("tcp://93.184.216.34:5222"),
      obs: [tcp(A1, "connection_refused", 5222)],
      status: "anomaly",
      layer: "tcp",
      failure: "connection_refused",
      evidence: [/93\.184\.216\.34:5222 was refused/],
    },
    {
      name: "one of two addresses failing",
      obs: [dns([A1, A2]), tcp(A1, "connection_refused"), tcp(A2), tls(A2), http({ status: 200, address: `${A2}:443` })],
      status: "ok",
      layer: null,
      failure: null,
    },
    {
      name: "every connect network_unreachable (no route out)",
      obs: [dns([A1, A2]), tcp(A1, "network_unreachable"), tcp(A2, "network_unreachable")],
      status: "inconclusive",
      layer: null,
      failure: "network_unreachable",
      evidence: [/no route to any address of the target/],
    },
    {
      name: "every connect network_down or network_unreachable (ENETDOWN: no link)",
      obs: [dns([A1, A2]), tcp(A1, "network_down"), tcp(A2, "network_unreachable")],
      status: "inconclusive",
      layer: null,
      failure: "network_down",
      evidence: [/no route to any address of the target/],
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("TLS", () => {
  const cases: Case[] = [
    {
      name: "every handshake reset after TCP connected (SNI filtering)",
      obs: [dns([A1, A2]), tcp(A1), tls(A1, "connection_reset"), tcp(A2), tls(A2, "connection_reset")],
      status: "anomaly",
      layer: "tls",
      failure: "connection_reset",
      evidence: [/^TCP to 93\.184\.216\.34:443 connected, then the TLS handshake with SNI web\.example was reset \(connection_reset\)$/, /93\.184\.216\.35:443/],
    },
    {
      name: "a certificate for another name",
      obs: [dns(), tcp(A1), tls(A1, "ssl_invalid_hostname", cert("CN=blocked.isp.example", "CN=ISP CA"))],
      status: "anomaly",
      layer: "tls",
      failure: "ssl_invalid_hostname",
      evidence: [/got a certificate for another name \(ssl_invalid_hostname\) \(certificate subject CN=blocked\.isp\.example, issuer CN=ISP CA\)$/],
    },
    {
      name: "a certificate from an unknown authority",
      obs: [dns(), tcp(A1), tls(A1, "ssl_unknown_authority", cert(`CN=${HOST}`, "CN=Interception CA"))],
      status: "anomaly",
      layer: "tls",
      failure: "ssl_unknown_authority",
      evidence: [/unknown authority \(ssl_unknown_authority\) \(certificate subject CN=web\.example, issuer CN=Interception CA\)/],
    },
    {
      name: "one handshake reset, the other good",
      obs: [dns([A1, A2]), tcp(A1), tls(A1, "connection_reset"), tcp(A2), tls(A2), http({ status: 200, address: `${A2}:443` })],
      status: "ok",
      layer: null,
      failure: null,
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("HTTP", () => {
  const cases: Case[] = [
    {
      name: "a block-page body (fingerprint)",
      obs: [...CONNECTED, http({ status: 200, body: "<html><h1>REACHPROBE-BLOCKED</h1></html>" })],
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [/^https:\/\/web\.example\/: HTTP 200 body contains "REACHPROBE-BLOCKED", fingerprint test\.body \(Test block page\)$/],
    },
    {
      name: "a redirect to a block page (Location fingerprint)",
      target: HTTP,
      obs: [
        dns(),
        tcp(A1, null, 80),
        http({ url: `http://${HOST}/`, address: `${A1}:80`, status: 302, headers: { location: "http://warning.rt.ru/?id=17" } }),
        http({ url: "http://warning.rt.ru/?id=17", hop: 1, address: "95.167.13.50:80", status: 200, body: "<html>blocked</html>" }),
      ],
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [/^http:\/\/web\.example\/: HTTP 302 with location: http:\/\/warning\.rt\.ru\/\?id=17, fingerprint rt\.location \(Rostelecom\)$/],
    },
    {
      name: "a redirect to a block page that then fails to load",
      target: HTTP,
      obs: [
        dns(),
        tcp(A1, null, 80),
        http({ url: `http://${HOST}/`, address: `${A1}:80`, status: 302, headers: { location: "http://warning.rt.ru/" } }),
        http({ url: "http://warning.rt.ru/", hop: 1, address: "95.167.13.50:80", failure: "generic_timeout_error" }),
      ],
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [/warning\.rt\.ru/],
    },
    {
      name: "a vague blocking word on a known false positive (fp scope cancels it)",
      obs: [...CONNECTED, http({ status: 403, body: "<title>Attention Required! | Cloudflare</title> Access denied" })],
      status: "ok",
      layer: null,
      failure: null,
    },
    {
      name: "the same vague blocking word alone",
      obs: [...CONNECTED, http({ status: 403, body: "<h1>Access denied</h1>" })],
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [/contains "Access denied", fingerprint vbw\.denied/],
    },
    {
      name: "HTTP 451",
      obs: [...CONNECTED, http({ status: 451, title: "Blocked by order", body: "<title>Blocked by order</title>" })],
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [/^https:\/\/web\.example\/ answered HTTP 451 \(Unavailable For Legal Reasons\), titled "Blocked by order"$/],
    },
    {
      name: "the final hop of a redirect chain reset",
      obs: [
        ...CONNECTED,
        http({ status: 301, headers: { location: `https://${HOST}/home` } }),
        http({ url: `https://${HOST}/home`, hop: 1, failure: "connection_reset" }),
      ],
      status: "anomaly",
      layer: "http",
      failure: "connection_reset",
      evidence: [/^GET https:\/\/web\.example\/home over 93\.184\.216\.34:443 was reset \(connection_reset\)$/],
    },
    {
      name: "a redirect loop",
      obs: [...CONNECTED, http({ status: 302, headers: { location: `https://${HOST}/` }, failure: "http_request_failed", note: `redirect loop: https://${HOST}/ was already visited` })],
      status: "anomaly",
      layer: "http",
      failure: "http_request_failed",
      evidence: [/after HTTP 302, failed \(http_request_failed\): redirect loop/],
    },
    {
      name: "a redirect chain ending in 200",
      obs: [
        ...CONNECTED,
        http({ status: 301, headers: { location: `https://www.${HOST}/` } }),
        http({ url: `https://www.${HOST}/`, hop: 1, address: `${A2}:443`, status: 200, body: "<html>welcome</html>" }),
      ],
      status: "ok",
      layer: null,
      failure: null,
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("the root cause wins", () => {
  const cases: Case[] = [
    {
      name: "a bogon DNS answer that leads to a block page",
      obs: [dns(["10.0.0.1"]), tcp("10.0.0.1"), tls("10.0.0.1"), http({ address: "10.0.0.1:443", status: 200, body: "REACHPROBE-BLOCKED" })],
      status: "blocked",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/^the system resolver returned 10\.0\.0\.1, a private address \(RFC 1918\), where a block page was served$/, /fingerprint test\.body/],
    },
    {
      // Without a control a bogon may be the site's own setting (docs/verdicts.md): unconfirmed.
      name: "a bogon DNS answer whose connect is then refused, no control",
      obs: [dns(["127.0.0.1"]), tcp("127.0.0.1", "connection_refused")],
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
    },
    {
      name: "a DNS anomaly and an HTTP block page: blocked outranks anomaly",
      obs: [dns([], "dns_server_misbehaving"), tcp(A1), tls(A1), http({ status: 200, body: "REACHPROBE-BLOCKED" })],
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [/fingerprint test\.body/, /the system resolver could not resolve the name/],
    },
    {
      name: "NXDOMAIN from the system resolver that an outside resolver contradicts, then a block page: the root cause, DNS, wins",
      obs: [
        dns([], "dns_nxdomain_error"),
        { ...dns(), engine: "udp", resolver: "8.8.4.4:53", qtype: "A" },
        tcp(A1),
        tls(A1),
        http({ status: 200, body: "REACHPROBE-BLOCKED" }),
      ],
      status: "blocked",
      layer: "dns",
      failure: "dns_nxdomain_error",
      evidence: [/the system resolver said the name does not exist .*, but resolver 8\.8\.4\.4:53 resolved/, /fingerprint test\.body/],
    },
    {
      name: "a TLS reset on one address and a block page on the other",
      obs: [dns([A1, A2]), tcp(A1), tls(A1, "connection_reset"), tcp(A2), tls(A2), http({ address: `${A2}:443`, status: 200, body: "REACHPROBE-BLOCKED" })],
      status: "blocked",
      layer: "http",
      failure: null,
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("a down local network", () => {
  const cases: Case[] = [
    {
      name: "the canary failed and every lookup timed out",
      obs: [dns([], "generic_timeout_error")],
      ctx: ctx({ networkDown: CANARY_DOWN }),
      status: "inconclusive",
      layer: null,
      failure: "generic_timeout_error",
      evidence: [/^the canary https:\/\/canary\.example\/ failed too \(generic_timeout_error\): the local network seems down$/, /the system resolver timed out/],
    },
    {
      name: "the canary failed and every connect timed out",
      obs: [dns(), tcp(A1, "generic_timeout_error")],
      ctx: ctx({ networkDown: CANARY_DOWN }),
      status: "inconclusive",
      layer: null,
      failure: "generic_timeout_error",
      evidence: [/canary/],
    },
    {
      name: "the canary failed but the target worked",
      obs: [...CONNECTED, http({ status: 200 })],
      ctx: ctx({ networkDown: CANARY_DOWN }),
      status: "ok",
      layer: null,
      failure: null,
    },
    {
      name: "the canary failed but DNS answered with a bogon (an answer, so not the network; unconfirmed without a control)",
      obs: [dns(["127.0.0.2"])],
      ctx: ctx({ networkDown: CANARY_DOWN }),
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
    },
    {
      name: "the same timeouts with the canary fine",
      obs: [dns([], "generic_timeout_error")],
      status: "anomaly",
      layer: "dns",
      failure: "generic_timeout_error",
    },
    {
      name: "no step ran at all (budget exhausted)",
      obs: [],
      status: "inconclusive",
      layer: null,
      failure: null,
      evidence: [/no step could run/],
    },
  ];
  test.each(cases)("$name is $status", check);
});
