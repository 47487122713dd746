/**
 * The decision table of src/analysis/classify.ts: every fact the comparison can establish is
 * decided by exactly one rule (or is a note), the docs list every fact, and the order of the
 * rules is the one docs/verdicts.md promises (proof of blocking before the site's own faults,
 * those before the local network, those before what nothing confirms).
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FACT_KEYS, fact, type FactKey } from "../../src/analysis/facts.js";
import { NOTES, RULES, classify, notMeasured, runOutcome, serviceStatus } from "../../src/analysis/classify.js";
import { explainTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import type { Observation } from "../../src/probes/observation.js";

const DOC = readFileSync(fileURLToPath(new URL("../../docs/verdicts.md", import.meta.url)), "utf8");

describe("the rule table", () => {
  test("every fact has one rule, except the notes", () => {
    const ruled = RULES.map((r) => r.fact);
    expect(new Set(ruled).size, "a fact with two rules").toBe(ruled.length);
    expect(FACT_KEYS.filter((k) => !ruled.includes(k))).toEqual(["dns_probe_only_addresses_site_answered", "helper_unusable"]);
    expect([...NOTES].sort()).toEqual(["dns_probe_only_addresses_site_answered", "helper_unusable"]);
  });

  test("docs/verdicts.md names every fact", () => {
    expect(FACT_KEYS.filter((k) => !DOC.includes(`\`${k}\``))).toEqual([]);
  });

  test("blocked rules come first, then down, then inconclusive (the local network), then anomaly", () => {
    const rank = { blocked: 0, down: 1, inconclusive: 2, anomaly: 3, ok: 4 } as const;
    // not_measured (first), nothing_ran and http_page_uncompared (last) stand apart: a target
    // that was not probed, not at all, or whose page nothing could compare (every anomaly says more).
    const apart = ["not_measured", "nothing_ran", "http_page_uncompared"];
    const order = RULES.filter((r) => !apart.includes(r.fact)).map((r) => rank[r.status as keyof typeof rank]);
    expect(RULES.slice(-3).map((r) => r.fact)).toEqual(["nothing_ran", "http_page_uncompared", "http_differs_over_validated_tls"]);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  test("the first rule wins whatever order the facts come in, and evidence starts with the deciding fact", () => {
    const tcp = fact("tcp_failed_unconfirmed", "tcp", "generic_timeout_error", ["conn#1"], { tries: "192.0.2.1:443|generic_timeout_error" });
    const dns = fact("dns_probe_only_addresses", "dns", null, ["dns#1"], { resolver: "the system resolver", addresses: "192.0.2.1", name: "x.example", controls: "DoH u", controlAddrs: "198.51.100.1" });
    for (const facts of [
      [tcp, dns],
      [dns, tcp],
    ]) {
      const { verdict, decidedBy } = classify(facts);
      expect(decidedBy).toBe("dns_probe_only_addresses");
      expect({ status: verdict.status, layer: verdict.layer, failure: verdict.failure }).toEqual({ status: "blocked", layer: "dns", failure: null });
      expect(verdict.evidence[0]).toMatch(/^the system resolver returned 192\.0\.2\.1, which no control returned/);
      expect(verdict.evidence[1]).toMatch(/^TCP connect to 192\.0\.2\.1:443 timed out/);
    }
  });

  test("no fact is ok, with no evidence; a note alone does not change that", () => {
    expect(classify([])).toEqual({ verdict: { status: "ok", layer: null, failure: null, evidence: [] }, decidedBy: null });
    const alone = classify([fact("helper_unusable", null, "generic_timeout_error", [], { helper: "http://h/" })]).verdict;
    expect(alone.status).toBe("ok");
    // The user is told the page was not compared with a control.
    expect(alone.evidence).toEqual(["the control helper http://h/ could not be used (generic_timeout_error)"]);
    // The resolver's unexplained address where the site answered is a note too: reached, and recorded.
    const proxy = fact("dns_probe_only_addresses_site_answered", "dns", null, ["dns#1"], { resolver: "the system resolver", addresses: "192.0.2.90", name: "x.example", controls: "the control helper", controlAddrs: "198.51.100.1", via: "192.0.2.90", how: "192.0.2.90 served the page the control saw" });
    const reached = classify([proxy]);
    expect(reached.decidedBy).toBeNull();
    expect(reached.verdict.status).toBe("ok");
    expect(reached.verdict.evidence).toEqual([
      "note: the system resolver returned 192.0.2.90, which no control returned for x.example (the control helper resolved it to 198.51.100.1); 192.0.2.90 served the page the control saw, so the site was reached, through 192.0.2.90: a transparent proxy of this network (which sees every request) or a server of the site the controls were not sent to",
    ]);
    // Under any deciding fact the note follows its evidence.
    const tcp = fact("tcp_failed_unconfirmed", "tcp", "generic_timeout_error", ["conn#1"], { tries: "192.0.2.1:443|generic_timeout_error" });
    const both = classify([proxy, tcp]).verdict;
    expect(both.status).toBe("anomaly");
    expect(both.evidence[0]).toMatch(/^TCP connect/);
    expect(both.evidence[1]).toMatch(/^note: /);
  });

  test("the run's other decisions: not measured, the exit outcome, a service's status", () => {
    expect(notMeasured("https://canary.example/", "network_unreachable")).toEqual({
      status: "inconclusive",
      layer: null,
      failure: null,
      evidence: ["not measured: this machine's network seems down (the canary https://canary.example/ failed: network_unreachable)"],
    });
    expect(runOutcome(["ok", "anomaly", "blocked"])).toBe("blocked");
    expect(runOutcome(["ok", "anomaly", "down"])).toBe("anomaly");
    expect(runOutcome(["inconclusive", "inconclusive"])).toBe("inconclusive");
    expect(runOutcome(["inconclusive", "ok"])).toBe("ok");
    expect(runOutcome([])).toBe("ok");
    const counts = (c: Partial<Record<"ok" | "blocked" | "anomaly" | "down" | "inconclusive", number>>) => ({ ok: 0, blocked: 0, anomaly: 0, down: 0, inconclusive: 0, ...c });
    expect(serviceStatus(counts({ blocked: 2 }), 2)).toBe("blocked");
    expect(serviceStatus(counts({ blocked: 1, ok: 1 }), 2)).toBe("partly blocked");
    expect(serviceStatus(counts({ down: 1, inconclusive: 1 }), 2)).toBe("down");
  });
});

describe("the flattened table joins by ids", () => {
  const target = parseTarget("https://site.example/");
  const obs: Observation[] = [
    { step: "dns", engine: "system", resolver: "system", hostname: "site.example", qtype: "ANY", addresses: ["192.0.2.7", "2001:db8::7"], failure: null, t0: 0, t: 1 },
    { step: "tcp", address: "192.0.2.7:443", failure: null, t0: 1, t: 2 },
    { step: "tcp", address: "[2001:db8::7]:443", failure: "connection_refused", t0: 1, t: 2 },
    { step: "tls", address: "192.0.2.7:443", serverName: "site.example", certificates: [], verified: true, failure: null, t0: 2, t: 3 },
    { step: "http", address: "192.0.2.7:443", url: "https://site.example/", hop: 0, requestHeaders: {}, status: 200, failure: null, t0: 3, t: 4 },
  ];
  const control = {
    helper: "http://helper/",
    t0: 0,
    t: 1,
    failure: null,
    response: {
      dns: { failure: null, addrs: ["192.0.2.7"] },
      tcp_connect: { "192.0.2.7:443": { status: true, failure: null }, "[2001:DB8::7]:443": { status: false, failure: "connection_refused" as const } },
      tls_handshake: {},
      http_request: { failure: null, status_code: 200, body_length: 0, title: "", headers: {} },
      ip_info: {},
    },
  };

  test("each connection carries its handshake, the helper's attempt on the same endpoint (IPv6 written either way), and the HTTP row names its connection", () => {
    const { table, verdict } = explainTarget(target, obs, { publicRanges: [], fingerprints: [], networkDown: null }, control);
    expect(table.conns.map((c) => [c.id, c.ip, c.port, c.tcpFailure, c.tls?.serverName ?? null, c.control?.tcp?.ok ?? null])).toEqual([
      ["conn#1", "192.0.2.7", 443, null, "site.example", true],
      ["conn#2", "2001:db8::7", 443, "connection_refused", null, false],
    ]);
    expect(table.http.map((h) => [h.id, h.conn])).toEqual([["http#1", "conn#1"]]);
    expect(table.dns.map((d) => [d.id, d.role, d.engine])).toEqual([
      ["dns#1", "probe", "system"],
      ["dns#2", "control", "helper"],
    ]);
    expect(verdict.status).not.toBe("blocked");
  });
});

/** Keys used above, checked to exist so that a rename breaks this file at compile time. */
const _keys: FactKey[] = ["dns_probe_only_addresses", "tcp_failed_unconfirmed", "helper_unusable"];
void _keys;

describe("an OONI helper's answer", () => {
  test("its dns_name_error counts as NXDOMAIN: a name no resolver knows is down", () => {
    const target = parseTarget("https://gone.example/");
    const obs: Observation[] = [{ step: "dns", engine: "system", resolver: "system", hostname: "gone.example", qtype: "ANY", addresses: [], failure: "dns_nxdomain_error", t0: 0, t: 1 }];
    const control = {
      helper: "https://oohelper.example/",
      t0: 0,
      t: 1,
      failure: null,
      response: {
        dns: { failure: "dns_name_error" as never, addrs: [] },
        tcp_connect: {},
        tls_handshake: {},
        http_request: { failure: "dns_lookup_error" as never, status_code: -1, body_length: -1, title: "", headers: {} },
        ip_info: {},
      },
    };
    const { verdict, table } = explainTarget(target, obs, { publicRanges: [], fingerprints: [], networkDown: null }, control);
    expect(table.dns.find((d) => d.engine === "helper")?.failure).toBe("dns_nxdomain_error");
    expect({ status: verdict.status, failure: verdict.failure }).toEqual({ status: "down", failure: "dns_nxdomain_error" });
  });
});
