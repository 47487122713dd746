/**
 * The address swap's rule (docs/verdicts.md "Proof without a helper"): the browser's resolver
 * sent a plain-HTTP navigation to an address no witness gave, a page came back there, and the
 * same request was sent to an address a witness gave. The two pages are compared as a page is
 * compared with the control helper's: pages that differ are `blocked dns` naming both addresses
 * and what differed; the same page (another Date, another ETag, an ad that changed) is `ok` with
 * the proxy/CDN note; a swap that got no page leaves today's `anomaly dns`; a control page, when
 * there is one, decides instead.
 */
import { describe, expect, it } from "vitest";
import { explainTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import type { ControlObservation, HttpObservation, Observation } from "../../src/probes/observation.js";
import { controlObs, dnsObs, httpObs, tcpObs } from "../helpers/observations.js";

const ctx: AnalysisContext = { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: [], networkDown: null };
const target = parseTarget("http://site.example/");
const SITE = "203.0.113.10";
const ISP = "203.0.113.83";
const URL_ = "http://site.example/";
const sitePage: Partial<HttpObservation> = {
  status: 200,
  headers: { "content-type": "text/html", date: "Sun, 06 Dec 2026 06:00:00 GMT", etag: '"abc"' },
  title: "site.example: the news of the day",
  bodyLength: 2300,
};
const blockPage: Partial<HttpObservation> = { status: 200, headers: {}, title: "Access Denied", bodyLength: 135 };

// The ISP's resolver answers ISP; the outside resolver (the only witness) answers SITE.
const lookups: Observation[] = [dnsObs("site.example", [ISP]), dnsObs("site.example", [SITE], { engine: "udp", resolver: "198.51.100.53:53", qtype: "A" })];
const atIsp = (page: Partial<HttpObservation>): Observation[] => [...lookups, tcpObs(`${ISP}:80`), tcpObs(`${SITE}:80`), httpObs(`${ISP}:80`, URL_, page)];
const swapped = (page: Partial<HttpObservation> | null, tcpFailure: "connection_refused" | null = null): Observation[] => [
  tcpObs(`${SITE}:80`, { purpose: "address_swap", failure: tcpFailure }),
  ...(page ? [httpObs(`${SITE}:80`, URL_, { ...page, purpose: "address_swap" })] : []),
];
const verdictOf = (obs: Observation[], control: ControlObservation | null = null) => {
  const a = explainTarget(target, obs, ctx, control);
  return { status: a.verdict.status, layer: a.verdict.layer, evidence: a.verdict.evidence, facts: a.facts.map((f) => f.key) };
};
const short = (v: { status: string; layer: string | null }) => `${v.status}${v.layer ? ` ${v.layer}` : ""}`;

describe("the address swap: the page at the browser's address against the page at a witness's address", () => {
  it("today, with no swap, a page at an address only the ISP gave is an anomaly at DNS", () => {
    const v = verdictOf(atIsp(blockPage));
    expect(short(v)).toBe("anomaly dns");
    expect(v.facts).toContain("dns_probe_only_addresses_worked");
  });

  it("pages that differ: blocked at DNS, the evidence naming both addresses, both pages and what differed", () => {
    const v = verdictOf([...atIsp(blockPage), ...swapped(sitePage)]);
    expect(short(v), v.evidence.join(" | ")).toBe("blocked dns");
    expect(v.facts).toContain("dns_address_swap_differs");
    expect(v.evidence[0]).toBe(
      `the system resolver returned ${ISP}, which no control returned for site.example (resolver 198.51.100.53:53 resolved it to ${SITE}); GET ${URL_} over ${ISP}:80 answered HTTP 200, 135 bytes, "Access Denied", but the same request to ${SITE}:80, an address a witness gave, answered HTTP 200, 2300 bytes, "site.example: the news of the day": they differ in body length (6%), title, uncommon headers, so ${ISP} did not serve the site's page`,
    );
  });

  it("another status alone is a difference (a 403 or a redirect in place of the page)", () => {
    const v = verdictOf([...atIsp({ ...sitePage, status: 403 }), ...swapped(sitePage)]);
    expect(short(v), v.evidence.join(" | ")).toBe("blocked dns");
    expect(v.evidence[0]).toMatch(/answered HTTP 403, .*answered HTTP 200, .*: they differ in status/);
  });

  it("the same page from two nodes of a CDN, with another Date and ETag: ok, with the note naming the address", () => {
    const otherNode = { ...sitePage, headers: { "content-type": "text/html", date: "Sun, 06 Dec 2026 06:00:01 GMT", etag: '"def"', age: "12" } };
    const v = verdictOf([...atIsp(sitePage), ...swapped(otherNode)]);
    expect(short(v), v.evidence.join(" | ")).toBe("ok");
    expect(v.evidence).toEqual([
      `note: the system resolver returned ${ISP}, which no control returned for site.example (resolver 198.51.100.53:53 resolved it to ${SITE}); ${ISP}:80 served the same page as ${SITE}:80, an address a witness gave, for the same request (HTTP 200, 2300 bytes, "site.example: the news of the day"), so the site was reached, through ${ISP}: a transparent proxy of this network (which sees every request) or a server of the site the controls were not sent to`,
    ]);
  });

  it("a page that changed a little between the two fetches (a headline, an ad; no uncommon header): ok by its length, over 0.7 of the other's", () => {
    const front = (title: string, bodyLength: number) => ({ status: 200, headers: { "content-type": "text/html" }, title, bodyLength });
    const v = verdictOf([...atIsp(front("Today: markets rally", 2300)), ...swapped(front("Today: storms ahead", 2050))]);
    expect(short(v), v.evidence.join(" | ")).toBe("ok");
    // 0.7 of the other's length or less, with another title and no uncommon header shared: another page.
    const shorter = verdictOf([...atIsp(front("Today: markets rally", 2300)), ...swapped(front("Today: storms ahead", 1500))]);
    expect(short(shorter), shorter.evidence.join(" | ")).toBe("blocked dns");
    expect(shorter.evidence[0]).toMatch(/they differ in body length \(65%\), title, uncommon headers/);
  });

  it("a swap that got no page keeps today's verdict: refused, reset before a response, or cut mid-body", () => {
    const failures = ["connection_refused", "connection_reset", "generic_timeout_error"];
    for (const [i, swap] of [swapped(null, "connection_refused"), swapped({ failure: "connection_reset" }), swapped({ ...sitePage, failure: "generic_timeout_error" })].entries()) {
      const v = verdictOf([...atIsp(blockPage), ...swap]);
      expect(short(v), v.evidence.join(" | ")).toBe("anomaly dns");
      expect(v.evidence[0]).toContain(`and the same request to ${SITE}:80, an address a witness gave, got no page to compare (${failures[i]})`);
      expect(v.facts).toContain("dns_probe_only_addresses_worked");
      expect(v.facts).not.toContain("dns_address_swap_differs");
    }
  });

  it("a control page decides when there is one: the swap does not override the helper", () => {
    const helper = controlObs({
      dns: { failure: null, addrs: [SITE] },
      tcp_connect: { [`${SITE}:80`]: { status: true, failure: null } },
      tls_handshake: {},
      http_request: { failure: null, status_code: 200, body_length: 135, title: "Access Denied", headers: {} },
      ip_info: {},
    });
    // The helper saw the ISP's page too (a site that serves it to everyone): ok, whatever the swap got.
    const v = verdictOf([...atIsp(blockPage), ...swapped(sitePage)], helper);
    expect(short(v), v.evidence.join(" | ")).toBe("ok");
    expect(v.facts).not.toContain("dns_address_swap_differs");
  });

  it("with a helper that could not be used, pages that differ are still blocked at DNS; the same page is can't tell, as any plain-HTTP page the helper should have compared", () => {
    const dead = controlObs(null, { failure: "generic_timeout_error" });
    const v = verdictOf([...atIsp(blockPage), ...swapped(sitePage)], dead);
    expect(short(v), v.evidence.join(" | ")).toBe("blocked dns");
    // The swap explains the address (the note), not the page: a middlebox could have written both.
    const same = verdictOf([...atIsp(sitePage), ...swapped(sitePage)], dead);
    expect(short(same), same.evidence.join(" | ")).toBe("inconclusive");
    expect(same.facts).toEqual(expect.arrayContaining(["dns_probe_only_addresses_site_answered", "http_page_uncompared"]));
  });

  it("a page at an address a witness also gave is no case for the swap: ok, no note", () => {
    const consistent: Observation[] = [dnsObs("site.example", [SITE]), dnsObs("site.example", [SITE], { engine: "udp", resolver: "198.51.100.53:53", qtype: "A" }), tcpObs(`${SITE}:80`), httpObs(`${SITE}:80`, URL_, sitePage)];
    const v = verdictOf(consistent);
    expect(short(v)).toBe("ok");
    expect(v.evidence).toEqual([]);
  });
});
