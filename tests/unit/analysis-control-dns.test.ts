/** A lying resolver whose answer leads nowhere is blocked at DNS even when another resolver's answer works. */
import { describe, expect, it } from "vitest";
import { analyzeTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import type { ControlObservation, Observation } from "../../src/probes/observation.js";
import { controlObs, dnsObs, httpObs, tcpObs } from "../helpers/observations.js";

const ctx: AnalysisContext = { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: [], networkDown: null };
const target = parseTarget("http://site.example/");
const control: ControlObservation = controlObs({
  dns: { failure: null, addrs: ["203.0.113.10"] },
  tcp_connect: { "203.0.113.10:80": { status: true, failure: null } },
  tls_handshake: {},
  http_request: { failure: null, status_code: 200, body_length: 20, title: "Site", headers: {} },
  ip_info: {},
});
const dns = (engine: "system" | "udp", addresses: string[]): Observation =>
  dnsObs("site.example", addresses, { engine, resolver: engine === "system" ? "system" : "198.51.100.53:53", qtype: "A", t: 3 });
const http: Observation = httpObs("203.0.113.10:80", "http://site.example/", { t0: 10, t: 20, status: 200, headers: {}, title: "Site", bodyLength: 20 });

describe("DNS with a control, when another answer works", () => {
  it("blames DNS when the system resolver's own answer was never reached", () => {
    const obs: Observation[] = [
      dns("system", ["203.0.113.99"]),
      dns("udp", ["203.0.113.10"]),
      tcpObs("203.0.113.99:80", { t0: 3, t: 8, failure: "generic_timeout_error" }),
      tcpObs("203.0.113.10:80", { t0: 3, t: 4 }),
      http,
    ];
    const v = analyzeTarget(target, obs, ctx, control);
    expect({ status: v.status, layer: v.layer }, v.evidence.join("; ")).toEqual({ status: "blocked", layer: "dns" });
    expect(v.evidence[0]).toMatch(/the system resolver returned 203\.0\.113\.99, which no control returned/);
  });

  it("calls an answer no control shares that served the control's page ok, with a note naming the address (a transparent proxy or a CDN node)", () => {
    const obs: Observation[] = [dns("system", ["203.0.113.77"]), tcpObs("203.0.113.77:80", { t0: 3, t: 4 }), { ...http, address: "203.0.113.77:80" }];
    const v = analyzeTarget(target, obs, ctx, control);
    expect({ status: v.status, layer: v.layer, failure: v.failure }, v.evidence.join("; ")).toEqual({ status: "ok", layer: null, failure: null });
    expect(v.evidence[0]).toMatch(/^note: the system resolver returned 203\.0\.113\.77, which no control returned .*203\.0\.113\.77 served the page the control saw, so the site was reached, through 203\.0\.113\.77: a transparent proxy/);
  });

  it("keeps an answer consistent when the control helper's own handshake validated on that address", () => {
    const https = parseTarget("https://site.example/");
    const c = controlObs({
      dns: { failure: null, addrs: ["203.0.113.10"] },
      tcp_connect: { "203.0.113.77:443": { status: true, failure: null } },
      tls_handshake: { "203.0.113.77:443": { server_name: "site.example", status: true, failure: null } },
      http_request: { failure: null, status_code: 200, body_length: 20, title: "Site", headers: {} },
      ip_info: {},
    });
    const obs: Observation[] = [dns("system", ["203.0.113.77"]), tcpObs("203.0.113.77:443", { t0: 3, t: 4 }), httpObs("203.0.113.77:443", "https://site.example/", { t0: 10, t: 20, status: 200, headers: {}, title: "Site", bodyLength: 20 })];
    const v = analyzeTarget(https, obs, ctx, c);
    expect(v.status, v.evidence.join("; ")).toBe("ok");
  });
});

describe("a resolver that answers for a name no control knows (OONI's ghostDNSBlocking)", () => {
  it("is blocked at DNS: the system resolver gave an address, the helper and DoH say the name does not exist", () => {
    const ghost = controlObs({ dns: { failure: "dns_nxdomain_error", addrs: [] }, tcp_connect: {}, tls_handshake: {}, http_request: { failure: "dns_nxdomain_error", status_code: 0, body_length: 0, title: "", headers: {} }, ip_info: {} });
    const obs: Observation[] = [dns("system", ["203.0.113.99"]), tcpObs("203.0.113.99:80", { t0: 3, t: 4 }), { ...http, address: "203.0.113.99:80" }];
    const v = analyzeTarget(target, obs, ctx, ghost);
    expect({ status: v.status, layer: v.layer }, v.evidence.join("; ")).toEqual({ status: "blocked", layer: "dns" });
    expect(v.evidence[0]).toMatch(/the system resolver returned 203\.0\.113\.99, which no control returned .*resolved it to no address \(the name does not exist\)/);
  });
});
