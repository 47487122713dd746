/**
 * The final page against the control helper's (docs/verdicts.md "Comparing a page with the
 * control's"): a block page on consistent DNS is blocked (OONI's httpDiffWithConsistentDNS), near
 * misses (a localised page, a changed ad) are not, and a different page over a handshake that
 * validated for the site is the site's choice (OONI's cloudflareCAPTCHAWithHTTPS).
 */
import { describe, expect, it } from "vitest";
import { analyzeTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import type { Observation } from "../../src/probes/observation.js";
import { controlObs, dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";

const ctx: AnalysisContext = { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: [], networkDown: null };
const IP = "203.0.113.10";
const SITE_HEADERS = { "content-type": "text/html", server: "nginx", "x-request-id": "abc", "x-cache": "HIT" };

interface Page {
  status?: number;
  title?: string;
  length?: number;
  headers?: Record<string, string>;
}

/** The helper saw the site's page: 200, 1500 bytes, "Example News: the latest stories", its own headers. */
function control(page: Page = {}) {
  return controlObs({
    dns: { failure: null, addrs: [IP] },
    tcp_connect: { [`${IP}:80`]: { status: true, failure: null }, [`${IP}:443`]: { status: true, failure: null } },
    tls_handshake: { [`${IP}:443`]: { server_name: "news.example", status: true, failure: null } },
    http_request: { failure: null, status_code: page.status ?? 200, body_length: page.length ?? 1500, title: page.title ?? "Example News: the latest stories", headers: page.headers ?? SITE_HEADERS },
    ip_info: {},
  });
}

/** The probe's fetch of news.example over `scheme` (consistent DNS, connect and handshake fine) that got `page`. */
function probe(scheme: "http" | "https", page: Page): Observation[] {
  const port = scheme === "https" ? 443 : 80;
  const url = `${scheme}://news.example/`;
  const obs: Observation[] = [dnsObs("news.example", [IP]), tcpObs(`${IP}:${port}`)];
  if (scheme === "https") obs.push(tlsObs(`${IP}:443`, "news.example"));
  obs.push(httpObs(`${IP}:${port}`, url, { status: page.status ?? 200, headers: page.headers ?? {}, title: page.title, bodyLength: page.length ?? 0, bodySample: "" }));
  return obs;
}

const verdictOf = (scheme: "http" | "https", page: Page, c = control()) => {
  const v = analyzeTarget(parseTarget(`${scheme}://news.example/`), probe(scheme, page), ctx, c);
  return { status: v.status, layer: v.layer, evidence: v.evidence.join(" | ") };
};

describe("a page against the control's", () => {
  it("calls an injected block page (same status, no headers, no title, 188 bytes) blocked at HTTP, even though neither side's headers are uncommon", () => {
    const v = verdictOf("http", { title: "", length: 188, headers: {} }, control({ headers: { "content-type": "text/html", server: "nginx" } }));
    expect(v.status, v.evidence).toBe("blocked");
    expect(v.layer).toBe("http");
    expect(v.evidence).toMatch(/answered HTTP 200, 188 bytes here, but the control saw HTTP 200, 1500 bytes, "Example News: the latest stories"; they differ in body length \(13%\), title, uncommon headers/);
  });

  it("calls a page with another status blocked at HTTP over plain HTTP", () => {
    expect(verdictOf("http", { status: 403, title: "Forbidden", length: 300, headers: SITE_HEADERS }).status).toBe("blocked");
  });

  it("does not block a localised page: another title, the same length give or take a fifth, the same headers", () => {
    const v = verdictOf("http", { title: "Exemple Nouvelles : les dernières histoires", length: 1700, headers: SITE_HEADERS });
    expect(v.status, v.evidence).toBe("ok");
  });

  it("does not block a localised page that is much longer when it keeps the site's uncommon headers", () => {
    expect(verdictOf("http", { title: "Новости: последние истории", length: 4000, headers: SITE_HEADERS }).status).toBe("ok");
  });

  it("does not block a page whose ads changed: its length moved, its title did not", () => {
    expect(verdictOf("http", { title: "Example News: the latest stories", length: 900, headers: {} }).status).toBe("ok");
  });

  it("takes a title with other punctuation or short words as the same title", () => {
    expect(verdictOf("http", { title: "Example news - the latest stories!", length: 500, headers: {} }).status).toBe("ok");
  });

  it("calls a CAPTCHA over HTTPS that validated for the site ok, and says the site chose it", () => {
    const v = verdictOf("https", { status: 403, title: "Just a moment...", length: 270, headers: { "cf-mitigated": "challenge" } });
    expect(v.status, v.evidence).toBe("ok");
    expect(v.evidence).toMatch(/validated for the site, so the site itself chose to answer this client otherwise \(a CAPTCHA/);
  });

  it("calls the same CAPTCHA over plain HTTP blocked at HTTP (a middlebox could have written it)", () => {
    const v = verdictOf("http", { status: 403, title: "Just a moment...", length: 270, headers: { "cf-mitigated": "challenge" } });
    expect(v.status, v.evidence).toBe("blocked");
  });
});

describe("the Host swap of a request that timed out", () => {
  const swapObs = (ours: { status?: number }) => {
    const obs: Observation[] = [
      dnsObs("news.example", [IP]),
      tcpObs(`${IP}:80`),
      httpObs(`${IP}:80`, "http://news.example/", { failure: "generic_timeout_error", ...(ours.status ? { status: ours.status, headers: {}, bodyLength: 20000 } : {}) }),
      tcpObs(`${IP}:80`, { purpose: "host_swap" }),
      httpObs(`${IP}:80`, "http://news.example/", { purpose: "host_swap", swappedHost: "example.com", failure: "generic_timeout_error", status: 200, headers: {}, bodyLength: 20000 }),
    ];
    const v = analyzeTarget(parseTarget("http://news.example/"), obs, ctx, null);
    return { status: v.status, layer: v.layer, evidence: v.evidence.join(" | ") };
  };

  it("proves a Host filter when our request got no response at all and the swap's did", () => {
    const v = swapObs({});
    expect(v.status, v.evidence).toBe("blocked");
    expect(v.evidence).toMatch(/a filter on the Host header/);
  });

  it("proves nothing when our request's response had begun (a throttled address is slow for every Host: OONI's throttlingWithHTTP)", () => {
    const v = swapObs({ status: 200 });
    expect({ status: v.status, layer: v.layer }, v.evidence).toEqual({ status: "anomaly", layer: "http" });
  });
});
