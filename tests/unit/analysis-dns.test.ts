/**
 * The DNS layer of the verdict, without a control: bogons, block-page addresses, two answers
 * to one query, NXDOMAIN and failures. Every case goes through `analyzeTarget`, because the
 * verdict (status, layer, failure, evidence) is what a user sees.
 */
import { describe, expect, test } from "vitest";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import { parseFingerprints } from "../../src/analysis/fingerprints.js";
import { analyzeTarget, explainTarget } from "../../src/analysis/target.js";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import { failureOfResponse } from "../../src/net/dns-udp.js";
import type { Failure } from "../../src/net/failures.js";
import type { DnsObservation, DnsResponse, Observation } from "../../src/probes/observation.js";
import { parseTarget } from "../../src/targets/parse.js";
import { dnsObs } from "../helpers/observations.js";

const HOST = "web.example";
const TARGET = parseTarget(`https://${HOST}/`, "Example");
const REAL = "93.184.216.34";
const UDP = "8.8.4.4:53";
const LAB_RANGES = parsePublicRanges("192.0.2.0/24,198.51.100.0/24,203.0.113.0/24");

const FINGERPRINTS = parseFingerprints(
  [
    "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes",
    "ru.dns,nat,,dns,full,95.213.158.61,10,RU,test,,Roskomnadzor block page",
    "lab.dns,isp,,dns,full,198.51.100.99,10,,test,,",
  ].join("\n"),
  "inline.csv",
);

function ctx(over: Partial<AnalysisContext> = {}): AnalysisContext {
  return { publicRanges: [], fingerprints: FINGERPRINTS, networkDown: null, ...over };
}

interface DnsSpec {
  engine?: DnsObservation["engine"];
  resolver?: string;
  hostname?: string;
  addresses?: string[];
  failure?: Failure | null;
  responses?: DnsResponse[];
}

/** A lookup; the system resolver answering REAL unless told otherwise. */
function dns(s: DnsSpec = {}): DnsObservation {
  const engine = s.engine ?? "system";
  const failure = s.failure ?? null;
  return dnsObs(s.hostname ?? HOST, s.addresses ?? (failure === null ? [REAL] : []), {
    engine,
    resolver: s.resolver ?? (engine === "system" ? "system" : UDP),
    t: 20,
    failure,
    responses: s.responses,
  });
}

/** A raw UDP lookup: its `addresses` and `failure` follow the first valid response, as the probe does. */
function udp(responses: DnsResponse[], resolver = UDP): DnsObservation {
  const first = responses.find((r) => !r.malformed);
  const failure: Failure | null = !first ? "generic_timeout_error" : failureOfResponse(first.rcode, first.addresses);
  return dns({ engine: "udp", resolver, failure, addresses: first?.addresses ?? [], responses });
}

const answer = (t: number, ...addresses: string[]): DnsResponse => ({ t, rcode: "NOERROR", addresses });
const rcode = (t: number, code: string): DnsResponse => ({ t, rcode: code, addresses: [] });
const garbage = (t: number): DnsResponse => ({ t, rcode: "", addresses: [], malformed: "question mismatch" });

interface Case {
  name: string;
  obs: Observation[];
  ctx?: AnalysisContext;
  status: Status;
  layer: Layer | null;
  failure: Failure | null;
  /** Each must match one evidence line. */
  evidence?: RegExp[];
}

function check(c: Case): void {
  const v = analyzeTarget(TARGET, c.obs, c.ctx ?? ctx());
  const why = `evidence: ${JSON.stringify(v.evidence)}`;
  expect({ status: v.status, layer: v.layer, failure: v.failure }, why).toEqual({ status: c.status, layer: c.layer, failure: c.failure });
  for (const re of c.evidence ?? []) {
    expect(v.evidence.some((e) => re.test(e)), `no evidence line matches ${re}; ${why}`).toBe(true);
  }
  if (c.status === "ok") expect(v.evidence, why).toEqual([]);
}

describe("DNS: answers that prove interference on their own (bogons only with a control: docs/verdicts.md)", () => {
  const cases: Case[] = [
    {
      name: "a loopback answer from the system resolver",
      obs: [dns({ addresses: ["127.0.0.2"] })],
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/^the system resolver returned 127\.0\.0\.2, a loopback address; no control .* answered/],
    },
    {
      name: "a private answer from a UDP resolver while the system resolver is honest",
      obs: [dns(), udp([answer(12, "10.10.34.35")])],
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/^resolver 8\.8\.4\.4:53 returned 10\.10\.34\.35, a private address \(RFC 1918\);/],
    },
    {
      name: "a link-local answer",
      obs: [dns({ addresses: ["169.254.10.1"] })],
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/169\.254\.10\.1, a link-local address/],
    },
    {
      name: "an IPv6 loopback answer among real ones",
      obs: [dns({ addresses: [REAL, "::1"] })],
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/returned ::1, a loopback address/],
    },
    {
      name: "a documentation address without --public-ranges",
      obs: [dns({ addresses: ["203.0.113.21"] })],
      status: "anomaly",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/203\.0\.113\.21, a documentation address/],
    },
    {
      name: "a loopback answer where DoH resolves the name to a public address",
      obs: [dns({ addresses: ["127.0.0.2"] }), dns({ engine: "doh", resolver: "https://doh.example/dns-query", addresses: [REAL] })],
      status: "blocked",
      layer: "dns",
      failure: "dns_bogon_error",
      evidence: [/^the system resolver returned 127\.0\.0\.2, a loopback address, but DoH https:\/\/doh\.example\/dns-query resolved the name to 93\.184\.216\.34$/],
    },
    {
      // OONI's localhostWithHTTP: a name that points to 127.0.0.1 for everyone is the site's own setting.
      name: "a loopback answer that DoH gives too",
      obs: [dns({ addresses: ["127.0.0.1"] }), dns({ engine: "doh", resolver: "https://doh.example/dns-query", addresses: ["127.0.0.1"] })],
      status: "down",
      layer: null,
      failure: "dns_bogon_error",
      evidence: [/for everyone/],
    },
    {
      name: "a bogon that only a later UDP response carried",
      obs: [udp([answer(5, REAL), answer(30, "127.0.0.1")])],
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [/resolver 8\.8\.4\.4:53 returned 127\.0\.0\.1, a loopback address/],
    },
    {
      name: "a known blocking address (DNS fingerprint)",
      obs: [dns({ addresses: ["95.213.158.61"] })],
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [/^the system resolver: DNS answer 95\.213\.158\.61 is a known blocking address, fingerprint ru\.dns \(Roskomnadzor block page\)$/],
    },
    {
      name: "a DNS fingerprint inside --public-ranges (the lab) is still a block-page address",
      obs: [dns({ addresses: ["198.51.100.99"] })],
      ctx: ctx({ publicRanges: LAB_RANGES }),
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [/198\.51\.100\.99 is a known blocking address, fingerprint lab\.dns/],
    },
    {
      name: "two different answers to one UDP query: the first is the injector's",
      obs: [udp([answer(5, "93.184.216.99"), answer(41, REAL)])],
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [
        /^resolver 8\.8\.4\.4:53 sent 2 different answers to one query: 93\.184\.216\.99 at 5 ms, then 93\.184\.216\.34 at 41 ms; .*93\.184\.216\.99 is likely forged$/,
      ],
    },
    {
      name: "an injected NXDOMAIN before the real answer",
      obs: [udp([rcode(4, "NXDOMAIN"), answer(38, REAL)])],
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [/sent 2 different answers to one query: NXDOMAIN at 4 ms, then 93\.184\.216\.34 at 38 ms/],
    },
    {
      name: "a retransmitted answer, then a different one: counts distinct answers",
      obs: [udp([answer(5, "93.184.216.99"), answer(6, "93.184.216.99"), answer(40, REAL)])],
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [/sent 2 different answers to one query: 93\.184\.216\.99 at 5 ms, then 93\.184\.216\.34 at 40 ms/],
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("DNS: answers that are not interference", () => {
  const cases: Case[] = [
    { name: "a public answer from every resolver", obs: [dns(), udp([answer(9, REAL)])], status: "ok", layer: null, failure: null },
    {
      name: "a documentation address inside --public-ranges",
      obs: [dns({ addresses: ["203.0.113.21"] }), udp([answer(9, "203.0.113.21")])],
      ctx: ctx({ publicRanges: LAB_RANGES }),
      status: "ok",
      layer: null,
      failure: null,
    },
    { name: "the same answer twice to one query", obs: [udp([answer(5, REAL), answer(7, REAL)])], status: "ok", layer: null, failure: null },
    {
      name: "the same addresses twice in another order",
      obs: [udp([answer(5, REAL, "93.184.216.35"), answer(7, "93.184.216.35", REAL)])],
      status: "ok",
      layer: null,
      failure: null,
    },
    {
      name: "an unparsable packet before the real answer",
      obs: [udp([garbage(3), answer(9, REAL)])],
      status: "ok",
      layer: null,
      failure: null,
    },
    {
      name: "a UDP resolver timing out while the system resolver answers",
      obs: [dns(), dns({ engine: "udp", failure: "generic_timeout_error" })],
      status: "ok",
      layer: null,
      failure: null,
    },
    {
      name: "a UDP resolver answering SERVFAIL while the system resolver answers",
      obs: [dns(), udp([rcode(8, "SERVFAIL")])],
      status: "ok",
      layer: null,
      failure: null,
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("DNS: failures", () => {
  const cases: Case[] = [
    {
      name: "NXDOMAIN from the system resolver and an outside resolver",
      obs: [dns({ failure: "dns_nxdomain_error" }), udp([rcode(9, "NXDOMAIN")])],
      status: "down",
      layer: null,
      failure: "dns_nxdomain_error",
      evidence: [/every resolver asked says web\.example does not exist \(NXDOMAIN\)/],
    },
    {
      name: "NXDOMAIN from the system resolver alone (no outside resolver to confirm it)",
      obs: [dns({ failure: "dns_nxdomain_error" })],
      status: "anomaly",
      layer: "dns",
      failure: "dns_nxdomain_error",
      evidence: [/the system resolver says web\.example does not exist \(NXDOMAIN\).*no outside resolver/],
    },
    {
      // The outside resolver is a witness of the browser's resolver (docs/verdicts.md).
      name: "NXDOMAIN from the system resolver, an address from an outside UDP resolver",
      obs: [dns({ failure: "dns_nxdomain_error" }), udp([answer(9, REAL)])],
      status: "blocked",
      layer: "dns",
      failure: "dns_nxdomain_error",
      evidence: [/^the system resolver said the name does not exist \(NXDOMAIN\) \(dns_nxdomain_error\), but resolver 8\.8\.4\.4:53 resolved web\.example to 93\.184\.216\.34$/],
    },
    {
      // No address from any resolver asked, outside included, whatever the rcode: the site's DNS is broken.
      name: "SERVFAIL everywhere",
      obs: [dns({ failure: "dns_servfail_error" }), udp([rcode(9, "SERVFAIL")])],
      status: "down",
      layer: null,
      failure: "dns_servfail_error",
      evidence: [/^no resolver asked has an address for web\.example: the system resolver failed to answer \(SERVFAIL\) \(dns_servfail_error\); resolver 8\.8\.4\.4:53 failed to answer \(SERVFAIL\)/],
    },
    {
      name: "a timeout everywhere",
      obs: [dns({ failure: "generic_timeout_error" }), dns({ engine: "udp", failure: "generic_timeout_error" })],
      status: "anomaly",
      layer: "dns",
      failure: "generic_timeout_error",
      evidence: [/^the system resolver timed out \(generic_timeout_error\)$/, /^resolver 8\.8\.4\.4:53 timed out/],
    },
    {
      name: "the system resolver timing out while a UDP resolver answers NXDOMAIN: no address anywhere",
      obs: [dns({ failure: "generic_timeout_error" }), udp([rcode(9, "NXDOMAIN")])],
      status: "down",
      layer: null,
      failure: "dns_nxdomain_error",
    },
    {
      name: "dns_server_misbehaving (glibc's EAI_AGAIN) from the system resolver alone proves nothing",
      obs: [dns({ failure: "dns_server_misbehaving" })],
      status: "anomaly",
      layer: "dns",
      failure: "dns_server_misbehaving",
      evidence: [/^the system resolver could not resolve the name \(glibc's EAI_AGAIN, .*no network\) \(dns_server_misbehaving\)$/],
    },
    {
      name: "dns_server_misbehaving while a UDP resolver answers SERVFAIL: reached, so not the local network; no address anywhere",
      obs: [dns({ failure: "dns_server_misbehaving" }), udp([rcode(9, "SERVFAIL")])],
      status: "down",
      layer: null,
      failure: "dns_servfail_error",
    },
    {
      name: "dns_server_misbehaving while an outside UDP resolver answers an address",
      obs: [dns({ failure: "dns_server_misbehaving" }), udp([answer(9, REAL)])],
      status: "blocked",
      layer: "dns",
      failure: "dns_server_misbehaving",
      evidence: [/, but resolver 8\.8\.4\.4:53 resolved web\.example to 93\.184\.216\.34$/],
    },
    {
      // With --no-system-resolver the first --resolver is the browser's: alone, it has no witness.
      name: "NXDOMAIN from the only resolver, a UDP one",
      obs: [udp([rcode(9, "NXDOMAIN")])],
      status: "anomaly",
      layer: "dns",
      failure: "dns_nxdomain_error",
    },
    {
      name: "dns_server_misbehaving with every outside resolver unreachable: the local network",
      obs: [
        dns({ failure: "dns_server_misbehaving" }),
        dns({ engine: "udp", failure: "generic_timeout_error" }),
        dns({ engine: "doh", resolver: "https://doh.example/dns-query", failure: "network_unreachable" }),
      ],
      status: "inconclusive",
      layer: null,
      failure: "dns_server_misbehaving",
      evidence: [/^the system resolver could not resolve .*no outside resolver could be reached either: resolver 8\.8\.4\.4:53 timed out .*DoH resolver https:\/\/doh\.example\/dns-query found the network unreachable .*the local network seems down/],
    },
    {
      name: "dns_server_misbehaving while a DoH control resolved the name: blocked",
      obs: [dns({ failure: "dns_server_misbehaving" }), dns({ engine: "doh", resolver: "https://doh.example/dns-query", addresses: [REAL] })],
      status: "blocked",
      layer: "dns",
      failure: "dns_server_misbehaving",
      evidence: [/^the system resolver could not resolve the name .*, but DoH https:\/\/doh\.example\/dns-query resolved web\.example to 93\.184\.216\.34$/],
    },
    {
      name: "a timeout from the system resolver with every outside resolver unreachable stays an anomaly (only EAI_AGAIN is ambiguous)",
      obs: [dns({ failure: "generic_timeout_error" }), dns({ engine: "udp", failure: "generic_timeout_error" })],
      status: "anomaly",
      layer: "dns",
      failure: "generic_timeout_error",
    },
    {
      name: "REFUSED from the only resolver",
      obs: [udp([rcode(9, "REFUSED")])],
      status: "anomaly",
      layer: "dns",
      failure: "dns_refused_error",
      evidence: [/refused to answer \(REFUSED\)/],
    },
  ];
  test.each(cases)("$name is $status", check);
});

describe("DNS: lookups made for a redirect's host", () => {
  const redirectHost = "warning.example";
  const hops: Observation[] = [
    dns(),
    dns({ hostname: redirectHost, addresses: ["127.0.0.1"] }),
    dns({ hostname: redirectHost, engine: "udp", failure: "dns_nxdomain_error" }),
  ];

  test("are left out of the DNS layer (a bogon or NXDOMAIN for another host does not decide)", () => {
    const { facts } = explainTarget(TARGET, hops, ctx());
    expect(facts.filter((f) => f.layer === "dns")).toEqual([]);
    check({ name: "redirect host", obs: hops, status: "ok", layer: null, failure: null });
  });

  test("the comparison finds no DNS fact when every lookup succeeded, or none ran", () => {
    expect(explainTarget(TARGET, [], ctx()).facts.filter((f) => f.layer === "dns")).toEqual([]);
    expect(explainTarget(TARGET, [dns(), udp([answer(3, REAL)])], ctx()).facts.filter((f) => f.layer === "dns")).toEqual([]);
  });
});
