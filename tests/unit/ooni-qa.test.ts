/**
 * The OONI QA catalogue of the lab (tests/lab/ooni-qa.mjs, docs/ooni-qa.md) is well formed:
 * OONI's keys map to verdicts as issue 16 says, every scenario rebuilt has its expectations and
 * lab pieces, every deliberate difference really differs and is listed in the docs, and nothing
 * OONI calls unblocked is expected blocked. The lab runs them (tests/lab/lab.test.ts).
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OONI_QA, QA_CASES, agreesWithOoni, ooniMapped, qaScore } from "../lab/ooni-qa.mjs";

interface Verdict {
  status: string;
  layer: string | null;
}
interface QaCase {
  ooni: string;
  ooniKeys: { blocking: string | false | null; accessible: boolean | null };
  ooniLayer?: string;
  target?: string;
  withControl: Verdict;
  expect: Verdict;
  differs?: string;
  notRebuilt?: string;
  notBlocked?: boolean;
  lab?: object;
}
const all = OONI_QA as QaCase[];
const rebuilt = QA_CASES as QaCase[];
const DOC = readFileSync(fileURLToPath(new URL("../../docs/ooni-qa.md", import.meta.url)), "utf8");

describe("OONI's QA catalogue in the lab", () => {
  it("names 50 scenarios once each, and rebuilds all but the ones that say why", () => {
    expect(new Set(all.map((c) => c.ooni)).size).toBe(50);
    expect(all.filter((c) => c.notRebuilt).map((c) => c.ooni)).toEqual(["dnsBlockingAndroidDNSCacheNoData"]);
    for (const c of rebuilt) expect([c.target, c.withControl, c.expect, c.lab].every(Boolean), c.ooni).toBe(true);
  });

  it("maps OONI's keys as issue 16 says", () => {
    const m = (blocking: string | false | null, accessible: boolean | null, ooniLayer?: string) => ooniMapped({ ooniKeys: { blocking, accessible }, ooniLayer });
    expect(m(false, true)).toEqual({ status: ["ok"], layer: null });
    expect(m(false, false)).toEqual({ status: ["down"], layer: null });
    expect(m("dns", false)).toEqual({ status: ["blocked"], layer: "dns" });
    expect(m("tcp_ip", false)).toEqual({ status: ["blocked"], layer: "tcp" });
    expect(m("http-failure", false, "tls")).toEqual({ status: ["blocked"], layer: "tls" });
    expect(m("http-diff", false)).toEqual({ status: ["blocked"], layer: "http" });
    expect(m(null, null)).toEqual({ status: ["anomaly", "inconclusive"], layer: undefined });
  });

  it("records every http-failure scenario's failed step", () => {
    for (const c of rebuilt.filter((x) => x.ooniKeys.blocking === "http-failure")) expect(["tcp", "tls", "http"], c.ooni).toContain(c.ooniLayer);
  });

  it("marks as deliberate exactly the scenarios whose expected verdict with the helper differs from OONI's, and lists each in docs/ooni-qa.md", () => {
    const differing = rebuilt.filter((c) => !agreesWithOoni(c, c.withControl)).map((c) => c.ooni);
    expect(rebuilt.filter((c) => c.differs).map((c) => c.ooni)).toEqual(differing);
    for (const name of differing) expect(DOC, name).toContain(`| \`${name}\` |`);
  });

  it("expects nothing OONI calls unblocked to be blocked, with or without the helper", () => {
    for (const c of rebuilt.filter((x) => x.ooniKeys.blocking === false)) {
      expect(c.notBlocked, c.ooni).toBe(true);
      expect([c.withControl.status, c.expect.status], c.ooni).not.toContain("blocked");
    }
  });

  it("meets issue 16's bar with the helper: 47 of 49 agree, the site's own broken redirects the only deliberate differences, and the docs list no other", () => {
    expect(qaScore((c: QaCase) => c.withControl, { withHelper: true }).agree).toBe(47);
    const deliberate = rebuilt.filter((c) => c.differs).map((c) => c.ooni);
    expect(deliberate).toEqual(["redirectWithBrokenLocationForHTTP", "redirectWithBrokenLocationForHTTPS"]);
    const section = DOC.slice(DOC.indexOf("## Deliberate differences"));
    const listed = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(deliberate);
  });

  it("expects every DNS, SNI and Host scenario blocked at its layer without a helper", () => {
    const sni = /^tlsBlockingConnectionReset|^redirectWithConsistentDNSAndThen(ConnectionReset|Timeout)ForHTTPS$/;
    const hostFilter = /^httpBlockingConnectionReset$|^redirectWithConsistentDNSAndThen(ConnectionReset|Timeout)ForHTTP$/;
    for (const c of rebuilt) {
      const m = ooniMapped(c) as { status: string[]; layer: string | null | undefined };
      // httpDiffWithInconsistentDNS included: the address swap compares the ISP's page with the witness's address's.
      if (c.ooniKeys.blocking === "dns") expect(c.expect, c.ooni).toMatchObject({ status: "blocked", layer: "dns" });
      if (sni.test(c.ooni) || hostFilter.test(c.ooni)) expect(c.expect, c.ooni).toMatchObject({ status: "blocked", layer: m.layer });
    }
  });

  it("expects the ISP's transparent proxy reached without a helper, over HTTP (the address swap got the same page) and HTTPS (the handshake validated)", () => {
    for (const name of ["dnsHijackingToProxyWithHTTPURL", "dnsHijackingToProxyWithHTTPSURL"]) expect(rebuilt.find((c) => c.ooni === name)?.expect, name).toMatchObject({ status: "ok", layer: null });
  });

  it("scores without the helper: 31 of 49 agree, the same two deliberate differences", () => {
    const score = qaScore((c: QaCase) => c.expect, { withHelper: false });
    expect([score.agree, score.deliberate]).toEqual([31, 2]);
  });

  it("scores the expected verdicts: every scenario agrees or differs deliberately with the helper", () => {
    const score = qaScore((c: QaCase) => c.withControl, { withHelper: true });
    expect(score.agree + score.deliberate).toBe(rebuilt.length);
    expect(score.line).toBe(`OONI QA: ${score.agree} of 49 agree (${score.deliberate} deliberate differences) with the helper`);
  });
});
