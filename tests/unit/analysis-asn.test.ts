/** With an ASN database, a DNS answer in the control's network is consistent (CDNs), without it it is not. */
import { describe, expect, it } from "vitest";
import { analyzeTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import type { ControlObservation, Observation } from "../../src/probes/observation.js";
import { controlObs, dnsObs, tcpObs, tlsObs } from "../helpers/observations.js";

const target = parseTarget("https://cdn.example/");
const observations: Observation[] = [
  dnsObs("cdn.example", ["203.0.113.77"]),
  tcpObs("203.0.113.77:443"),
  tlsObs("203.0.113.77:443", "cdn.example", { failure: "connection_reset" }),
];
const control: ControlObservation = controlObs({
  dns: { failure: null, addrs: ["203.0.113.10"] },
  tcp_connect: { "203.0.113.10:443": { status: true, failure: null } },
  tls_handshake: { "203.0.113.10:443": { server_name: "cdn.example", status: true, failure: null } },
  http_request: { failure: null, status_code: 200, body_length: 100, title: "CDN", headers: {} },
  ip_info: {},
});
// The documentation range stands for public addresses here, as in the lab.
const base: AnalysisContext = { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: [], networkDown: null };

describe("DNS consistency by ASN", () => {
  it("without an ASN database, an answer no control saw is blamed on DNS", () => {
    const v = analyzeTarget(target, observations, base, control);
    expect({ status: v.status, layer: v.layer }).toEqual({ status: "blocked", layer: "dns" });
    expect(v.evidence[0]).toMatch(/returned 203\.0\.113\.77, which no control returned/);
  });

  it("with one, an answer in the control's ASN is consistent, and the failure is decided where it happened", () => {
    const asnOf = (ip: string) => (ip.startsWith("203.0.113.") ? 45090 : null);
    const v = analyzeTarget(target, observations, { ...base, asnOf }, control);
    expect({ status: v.status, layer: v.layer }, v.evidence.join("; ")).toEqual({ status: "anomaly", layer: "tls" });
  });
});
