/**
 * When the probe makes a swap (docs/verdicts.md, "Proof without a helper"), what it sends, and
 * which names --sni-swap / --host-swap take: the pure parts of sni-swap.ts, host-swap.ts,
 * address-swap.ts and the swap name check.
 */
import { describe, expect, it } from "vitest";
import { analyzeTarget } from "../../src/analysis/target.js";
import { parseTarget } from "../../src/targets/parse.js";
import { parseSwapName } from "../../src/cli/options.js";
import { swapNameProblem } from "../../src/probes/config.js";
import { hostSwapName, needsHostSwap, swappedHeaders } from "../../src/probes/host-swap.js";
import { sniSwapName } from "../../src/probes/sni-swap.js";
import { addressSwapAddress } from "../../src/probes/address-swap.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import { dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";

const live = new AbortController().signal;
const spent = AbortSignal.abort();

describe("which requests get a Host swap", () => {
  const url = "http://site.example/";
  const cases: Array<[string, Parameters<typeof httpObs>[2], boolean]> = [
    ["reset before any response", { failure: "connection_reset" }, true],
    ["timed out before any response", { failure: "generic_timeout_error" }, true],
    ["closed before any response", { failure: "eof_error" }, true],
    ["HTTP 403", { status: 403 }, true],
    ["HTTP 451", { status: 451 }, true],
    ["HTTP 502", { status: 502 }, true],
    ["HTTP 200 whose body was reset", { status: 200, failure: "connection_reset" }, true],
    ["HTTP 200", { status: 200 }, false],
    ["a short HTTP 200 (the probe does not judge pages)", { status: 200, bodyLength: 120 }, false],
    ["HTTP 302", { status: 302, location: "http://elsewhere.example/" }, false],
    ["a redirect loop (the server answered)", { status: 302, failure: "http_request_failed", note: "redirect loop" }, false],
    ["a swap itself", { failure: "connection_reset", purpose: "host_swap" }, false],
  ];
  for (const [what, over, want] of cases) {
    it(`${what}: ${want ? "swap" : "no swap"}`, () => {
      expect(needsHostSwap(httpObs("192.0.2.1:80", url, over))).toBe(want);
    });
  }

  it("never for https: the Host travels encrypted", () => {
    expect(needsHostSwap(httpObs("192.0.2.1:443", "https://site.example/", { failure: "connection_reset" }))).toBe(false);
  });

  it("takes the configured name, unless none is set, the budget is spent, or the URL's host is that name or an IP literal", () => {
    const reset = httpObs("192.0.2.1:80", url, { failure: "connection_reset" });
    expect(hostSwapName(reset, { hostSwap: "example.com" }, live)).toBe("example.com");
    expect(hostSwapName(reset, { hostSwap: null }, live)).toBeNull();
    expect(hostSwapName(reset, {}, live)).toBeNull();
    expect(hostSwapName(reset, { hostSwap: "example.com" }, spent)).toBeNull();
    expect(hostSwapName(httpObs("192.0.2.1:80", "http://EXAMPLE.com/", { failure: "connection_reset" }), { hostSwap: "example.com" }, live)).toBeNull();
    expect(hostSwapName(httpObs("192.0.2.1:80", "http://192.0.2.1/", { failure: "connection_reset" }), { hostSwap: "example.com" }, live)).toBeNull();
    expect(hostSwapName(httpObs("[2001:db8::1]:80", "http://[2001:db8::1]/", { failure: "connection_reset" }), { hostSwap: "example.com" }, live)).toBeNull();
  });
});

describe("the swapped request's headers", () => {
  it("replace only the Host value, in its place, keeping an explicit port", () => {
    const sent = { Host: "blocked.example:8080", Connection: "keep-alive", "User-Agent": "UA", Accept: "*/*" };
    expect(swappedHeaders(sent, "example.com")).toEqual([
      ["Host", "example.com:8080"],
      ["Connection", "keep-alive"],
      ["User-Agent", "UA"],
      ["Accept", "*/*"],
    ]);
    expect(swappedHeaders({ Host: "blocked.example", Accept: "*/*" }, "example.com")).toEqual([
      ["Host", "example.com"],
      ["Accept", "*/*"],
    ]);
  });
});

describe("which handshakes get an SNI swap", () => {
  const cfg = { sniSwap: "example.com" };
  it("a failed handshake with a name: reset, timeout, or a certificate that did not validate", () => {
    for (const failure of ["connection_reset", "generic_timeout_error", "eof_error", "ssl_unknown_authority"] as const) {
      expect(sniSwapName(tlsObs("192.0.2.1:443", "blocked.example", { failure }), cfg, live), failure).toBe("example.com");
    }
  });

  it("not a handshake that worked, one with no SNI (IP literal), one already with that name, with none configured, or with the budget spent", () => {
    const reset = tlsObs("192.0.2.1:443", "blocked.example", { failure: "connection_reset" });
    expect(sniSwapName(tlsObs("192.0.2.1:443", "blocked.example"), cfg, live)).toBeNull();
    expect(sniSwapName(tlsObs("192.0.2.1:443", "192.0.2.1", { failure: "connection_reset" }), cfg, live)).toBeNull();
    expect(sniSwapName(tlsObs("192.0.2.1:443", "Example.COM", { failure: "connection_reset" }), cfg, live)).toBeNull();
    expect(sniSwapName(reset, { sniSwap: null }, live)).toBeNull();
    expect(sniSwapName(reset, cfg, spent)).toBeNull();
  });
});

describe("swap names (--sni-swap, --host-swap)", () => {
  it("take host names, lower-cased, without a final dot", () => {
    expect(parseSwapName("--sni-swap")("WWW.Example.ORG.")).toBe("www.example.org");
    expect(parseSwapName("--host-swap")("localhost")).toBe("localhost");
    expect(swapNameProblem("xn--e1afmkfd.xn--p1ai")).toBeNull();
  });

  it("refuse IP literals, spaces, underscores, empty labels and overlong names, naming the flag", () => {
    expect(() => parseSwapName("--sni-swap")("192.0.2.1")).toThrow('--sni-swap must be a host name, not an IP address (an SNI cannot carry one), got "192.0.2.1"');
    expect(() => parseSwapName("--host-swap")("a b.example")).toThrow(/^--host-swap must be a host name such as example.com: letters, digits, hyphens and dots only, got "a b.example"$/);
    for (const bad of ["", "a..example", "-a.example", "a_b.example", "[::1]", `${"a".repeat(64)}.example`, `${"a.".repeat(127)}aa`]) {
      expect(swapNameProblem(bad), JSON.stringify(bad)).not.toBeNull();
    }
  });
});

describe("which navigations get an address swap, and to which address", () => {
  const cfg = { addressSwap: true, publicRanges: parsePublicRanges("203.0.113.0/24") };
  const ISP = "203.0.113.83";
  const SITE = "203.0.113.10";
  const outside = (addresses: string[], over = {}) => dnsObs("site.example", addresses, { engine: "udp", resolver: "198.51.100.53:53", qtype: "A", ...over });
  const doh = (addresses: string[]) => dnsObs("site.example", addresses, { engine: "doh", resolver: "https://doh.example/dns-query", qtype: "A" });
  const page = (address = `${ISP}:80`, over = {}) => httpObs(address, "http://site.example/", { status: 200, ...over });

  it("a page at the browser's address, which no witness gave: the witness's public address", () => {
    expect(addressSwapAddress([dnsObs("site.example", [ISP]), outside([SITE])], page(), cfg, live)).toBe(SITE);
  });

  it("DoH's address before an outside resolver's, IPv4 before IPv6, bogons never", () => {
    expect(addressSwapAddress([dnsObs("site.example", [ISP]), outside(["203.0.113.20"]), doh(["2001:db8::10", "203.0.113.30"])], page(), cfg, live)).toBe("203.0.113.30");
    expect(addressSwapAddress([dnsObs("site.example", [ISP]), outside(["10.0.0.1", "127.0.0.1"])], page(), cfg, live)).toBeNull();
    // 203.0.113.0/24 is a documentation range: a bogon unless --public-ranges says otherwise.
    expect(addressSwapAddress([dnsObs("site.example", [ISP]), outside([SITE])], page(), { addressSwap: true }, live)).toBeNull();
  });

  it("none when DNS is consistent: the browser's resolver gave an address a witness gave too", () => {
    expect(addressSwapAddress([dnsObs("site.example", [ISP, SITE]), outside([SITE])], page(), cfg, live)).toBeNull();
    expect(addressSwapAddress([dnsObs("site.example", [SITE]), outside([SITE])], page(`${SITE}:80`), cfg, live)).toBeNull();
  });

  it("none without a witness answer, or with no browser answer", () => {
    expect(addressSwapAddress([dnsObs("site.example", [ISP])], page(), cfg, live)).toBeNull();
    expect(addressSwapAddress([dnsObs("site.example", [ISP]), outside([], { failure: "dns_nxdomain_error" })], page(), cfg, live)).toBeNull();
    expect(addressSwapAddress([dnsObs("site.example", [], { failure: "dns_nxdomain_error" }), outside([SITE])], page(`${SITE}:80`), cfg, live)).toBeNull();
  });

  it("none unless a plain-HTTP page came back at the browser's address, for the target's own first request", () => {
    const lookups = [dnsObs("site.example", [ISP]), outside([SITE])];
    expect(addressSwapAddress(lookups, undefined, cfg, live)).toBeNull();
    expect(addressSwapAddress(lookups, page(`${ISP}:80`, { status: undefined, failure: "connection_reset" }), cfg, live)).toBeNull();
    expect(addressSwapAddress(lookups, httpObs(`${ISP}:443`, "https://site.example/", { status: 200 }), cfg, live)).toBeNull();
    expect(addressSwapAddress(lookups, page(`${SITE}:80`), cfg, live)).toBeNull();
    expect(addressSwapAddress(lookups, page(`${ISP}:80`, { purpose: "host_swap" }), cfg, live)).toBeNull();
  });

  it("none when turned off (--no-swap) or once the budget is spent", () => {
    const lookups = [dnsObs("site.example", [ISP]), outside([SITE])];
    expect(addressSwapAddress(lookups, page(), { ...cfg, addressSwap: false }, live)).toBeNull();
    expect(addressSwapAddress(lookups, page(), { publicRanges: cfg.publicRanges }, live)).toBeNull();
    expect(addressSwapAddress(lookups, page(), cfg, spent)).toBeNull();
  });

  it("the browser's resolver is the first --resolver without the system one: the others are its witnesses", () => {
    expect(addressSwapAddress([outside([ISP], { resolver: "192.0.2.53:53" }), outside([SITE])], page(), cfg, live)).toBe(SITE);
  });
});

describe("the analysis reads a completed swap as proof without a helper", () => {
  it("a redirect hop whose handshake was reset while its SNI swap completed is blocked at TLS", () => {
    const obs = [
      tcpObs("192.0.2.1:443"),
      tlsObs("192.0.2.1:443", "site.example"),
      httpObs("192.0.2.1:443", "https://site.example/", { status: 302, location: "https://blocked.example/" }),
      tcpObs("192.0.2.2:443", { hop: 1 }),
      tlsObs("192.0.2.2:443", "blocked.example", { hop: 1, failure: "connection_reset" }),
      tcpObs("192.0.2.2:443", { hop: 1, purpose: "sni_swap" }),
      tlsObs("192.0.2.2:443", "example.com", { hop: 1, purpose: "sni_swap", verified: false, verifyFailure: "ssl_invalid_hostname" }),
    ];
    const ctx = { publicRanges: [], fingerprints: [], networkDown: null };
    const v = analyzeTarget(parseTarget("https://site.example/"), obs, ctx);
    expect({ status: v.status, layer: v.layer, failure: v.failure }).toEqual({ status: "blocked", layer: "tls", failure: "connection_reset" });
    expect(v.evidence[0]).toMatch(/^the redirect to blocked\.example stopped: 192\.0\.2\.2:443: the TLS handshake with SNI blocked\.example was reset .* SNI example\.com/);
    const own = analyzeTarget(parseTarget("https://site.example/"), obs.slice(0, 5), ctx);
    expect({ status: own.status, layer: own.layer }).toEqual({ status: "anomaly", layer: "tls" });
  });
});
