/**
 * Two rules of docs/verdicts.md "Comparing a page with the control's" (issue 16):
 * - the browser's resolver sent the client to an address no witness gave, and the site itself
 *   answered there (its certificate validated, or the control's own page came back): `ok`, with a
 *   note naming the address (a transparent proxy, a CDN node); every other way such an answer
 *   ends (a different page, nothing listening, a failed handshake, no control page to compare)
 *   stays `blocked` or `anomaly`;
 * - a configured helper that could not be used leaves a plain-HTTP page `inconclusive`; with no
 *   helper configured it is `ok`; over HTTPS that validated it is `ok` either way.
 */
import { describe, expect, it } from "vitest";
import { explainTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import type { ControlObservation, Observation } from "../../src/probes/observation.js";
import { controlObs, dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";

const ctx: AnalysisContext = { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: [], networkDown: null };
const plain = parseTarget("http://site.example/");
const https = parseTarget("https://site.example/");
const SITE = "203.0.113.10";
const PROXY = "203.0.113.90";
const page = { status: 200, headers: { "x-site": "1" }, title: "Welcome to the site", bodyLength: 2000 };
const helperAnswer = (port: number): ControlObservation =>
  controlObs({
    dns: { failure: null, addrs: [SITE] },
    tcp_connect: { [`${SITE}:${port}`]: { status: true, failure: null } },
    tls_handshake: port === 443 ? { [`${SITE}:443`]: { server_name: "site.example", status: true, failure: null } } : {},
    http_request: { failure: null, status_code: 200, body_length: 2000, title: "Welcome to the site", headers: { "X-Site": "1" } },
    ip_info: {},
  });
const deadHelper = controlObs(null, { failure: "generic_timeout_error" });
// The ISP's resolver answers the proxy; the outside resolver (a witness) the site.
const lookups = (answer: string): Observation[] => [
  dnsObs("site.example", [answer]),
  dnsObs("site.example", [SITE], { engine: "udp", resolver: "198.51.100.53:53", qtype: "A" }),
];
const verdictOf = (target: typeof plain, obs: Observation[], control: ControlObservation | null) => {
  const a = explainTarget(target, obs, ctx, control);
  return { ...a.verdict, facts: a.facts.map((f) => f.key), decidedBy: a.decidedBy };
};
const short = (v: { status: string; layer: string | null }) => `${v.status}${v.layer ? ` ${v.layer}` : ""}`;

describe("a resolver that sends the client where no witness was sent (OONI's dnsHijackingToProxy*)", () => {
  it("plain HTTP, the proxy served the control's page: ok, with a note naming the proxy that stays in the evidence", () => {
    const v = verdictOf(plain, [...lookups(PROXY), tcpObs(`${PROXY}:80`), httpObs(`${PROXY}:80`, "http://site.example/", page)], helperAnswer(80));
    expect(short(v), v.evidence.join(" | ")).toBe("ok");
    expect(v.decidedBy).toBeNull();
    expect(v.facts).toContain("dns_probe_only_addresses_site_answered");
    expect(v.evidence).toEqual([
      `note: the system resolver returned ${PROXY}, which no control returned for site.example (the control helper resolved it to ${SITE}); ${PROXY} served the page the control saw, so the site was reached, through ${PROXY}: a transparent proxy of this network (which sees every request) or a server of the site the controls were not sent to`,
    ]);
  });

  it("HTTPS, the handshake through the proxy validated for the site: ok with the note, with the helper, without one, and with the helper failing", () => {
    const obs = [...lookups(PROXY), tcpObs(`${PROXY}:443`), tlsObs(`${PROXY}:443`, "site.example"), httpObs(`${PROXY}:443`, "https://site.example/", page)];
    for (const control of [helperAnswer(443), null, deadHelper]) {
      const v = verdictOf(https, obs, control);
      expect(short(v), v.evidence.join(" | ")).toBe("ok");
      expect(v.evidence[0]).toMatch(new RegExp(`^note: .*a TLS handshake with ${PROXY.replace(/\./g, "\\.")} validated for site\\.example, so the site was reached, through ${PROXY.replace(/\./g, "\\.")}`));
    }
  });

  it("stays blocked at DNS when the proxy serves another page than the control's", () => {
    const blockPage = { status: 200, headers: {}, title: "Access denied", bodyLength: 188 };
    const v = verdictOf(plain, [...lookups(PROXY), tcpObs(`${PROXY}:80`), httpObs(`${PROXY}:80`, "http://site.example/", blockPage)], helperAnswer(80));
    expect(short(v), v.evidence.join(" | ")).toBe("blocked dns");
    expect(v.facts).not.toContain("dns_probe_only_addresses_site_answered");
  });

  it("stays blocked at DNS when nothing answers at the address, or its handshake fails", () => {
    const refused = verdictOf(plain, [...lookups(PROXY), tcpObs(`${PROXY}:80`, { failure: "connection_refused" })], helperAnswer(80));
    expect(short(refused), refused.evidence.join(" | ")).toBe("blocked dns");
    const badCert = verdictOf(https, [...lookups(PROXY), tcpObs(`${PROXY}:443`), tlsObs(`${PROXY}:443`, "site.example", { failure: "ssl_unknown_authority", verified: false })], helperAnswer(443));
    expect(short(badCert), badCert.evidence.join(" | ")).toBe("blocked dns");
  });

  it("stays blocked at DNS for a bogon answer", () => {
    const v = verdictOf(plain, [...lookups("10.10.34.35"), tcpObs("10.10.34.35:80", { failure: "connection_refused" })], helperAnswer(80));
    expect(short(v), v.evidence.join(" | ")).toBe("blocked dns");
  });

  it("stays an anomaly at DNS over plain HTTP when no control fetched the page (no helper, or the helper failing)", () => {
    const obs = [...lookups(PROXY), tcpObs(`${PROXY}:80`), httpObs(`${PROXY}:80`, "http://site.example/", page)];
    for (const control of [null, deadHelper]) {
      const v = verdictOf(plain, obs, control);
      expect(short(v), v.evidence.join(" | ")).toBe("anomaly dns");
      expect(v.evidence[0]).toMatch(new RegExp(`${PROXY.replace(/\./g, "\\.")} answered, but no control fetched the page`));
    }
  });
});

describe("a page that loaded when the helper could not be used (OONI's controlFailureWithSuccessful*)", () => {
  const plainObs = [...lookups(SITE), tcpObs(`${SITE}:80`), httpObs(`${SITE}:80`, "http://site.example/", page)];
  const httpsObs = [...lookups(SITE), tcpObs(`${SITE}:443`), tlsObs(`${SITE}:443`, "site.example"), httpObs(`${SITE}:443`, "https://site.example/", page)];

  it("plain HTTP with a configured helper that failed: inconclusive, saying the page loaded and the helper failed", () => {
    const v = verdictOf(plain, plainObs, deadHelper);
    expect({ status: v.status, layer: v.layer, failure: v.failure }).toEqual({ status: "inconclusive", layer: null, failure: null });
    expect(v.decidedBy).toBe("http_page_uncompared");
    expect(v.evidence).toEqual([
      `http://site.example/ answered HTTP 200, 2000 bytes, "Welcome to the site" over plain HTTP with no sign of a block, but the control helper this run was given could not be used to compare it with the site's page: a middlebox could have written it`,
      "the control helper http://control.example/ could not be used (generic_timeout_error)",
    ]);
  });

  it("plain HTTP with no helper configured: ok, as before (only a signature proves a block)", () => {
    const v = verdictOf(plain, plainObs, null);
    expect(short(v)).toBe("ok");
    expect(v.evidence).toEqual([]);
  });

  it("HTTPS that validated: ok with the helper failing or absent; the evidence says the helper failed", () => {
    expect(short(verdictOf(https, httpsObs, null))).toBe("ok");
    const v = verdictOf(https, httpsObs, deadHelper);
    expect(short(v)).toBe("ok");
    expect(v.evidence).toEqual(["the control helper http://control.example/ could not be used (generic_timeout_error)"]);
  });

  it("HTTPS whose handshake did not validate stays what it was (an anomaly at TLS), not inconclusive", () => {
    const obs = [...lookups(SITE), tcpObs(`${SITE}:443`), tlsObs(`${SITE}:443`, "site.example", { failure: "ssl_unknown_authority", verified: false })];
    expect(short(verdictOf(https, obs, deadHelper))).toBe("anomaly tls");
  });

  it("a signature still decides over plain HTTP with the helper failing: a 451 is blocked", () => {
    const v = verdictOf(plain, [...lookups(SITE), tcpObs(`${SITE}:80`), httpObs(`${SITE}:80`, "http://site.example/", { status: 451, headers: {}, title: "Unavailable", bodyLength: 100 })], deadHelper);
    expect(short(v)).toBe("blocked http");
  });
});
