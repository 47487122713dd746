/** The control helper's pure parts, table-driven: request checks, the address policy, --listen. */
import { describe, expect, it } from "vitest";
import { parseCidr } from "../../src/net/bogons.js";
import { readFileSync, readdirSync } from "node:fs";
import { DEFAULT_ALLOW_PORTS, WEB_PORTS, addressPolicy, ownAddressesOnly, parseAllowPorts, redirectRefusal, urlRefusal } from "../../src/control/policy.js";
import { parseControlRequest } from "../../src/control/request.js";
import { invalidResponse } from "../../src/probes/control-wire.js";
import { parseListen } from "../../src/cli/control.js";

describe("parseControlRequest", () => {
  const ok: Array<{ name: string; body: unknown; expect: { host: string; port: number; endpoints: string[]; userAgent: string | null } }> = [
    {
      name: "an OONI request",
      body: { http_request: "https://www.example.org/", http_request_headers: { "User-Agent": ["ua/1"], Accept: ["*/*"] }, tcp_connect: ["93.184.216.34:443", "[2606:2800:220:1::248]:443"] },
      expect: { host: "www.example.org", port: 443, endpoints: ["93.184.216.34:443", "[2606:2800:220:1::248]:443"], userAgent: "ua/1" },
    },
    { name: "no headers, no endpoints", body: { http_request: "http://example.org:8080/x" }, expect: { host: "example.org", port: 8080, endpoints: [], userAgent: null } },
    { name: "null fields", body: { http_request: "http://example.org/", http_request_headers: null, tcp_connect: null }, expect: { host: "example.org", port: 80, endpoints: [], userAgent: null } },
    { name: "duplicate endpoints", body: { http_request: "http://example.org/", tcp_connect: ["1.2.3.4:80", "1.2.3.4:80"] }, expect: { host: "example.org", port: 80, endpoints: ["1.2.3.4:80"], userAgent: null } },
    { name: "an IPv6 host", body: { http_request: "http://[2001:4860::1]/" }, expect: { host: "2001:4860::1", port: 80, endpoints: [], userAgent: null } },
    { name: "a header value as a plain string", body: { http_request: "http://example.org/", http_request_headers: { "user-agent": "plain" } }, expect: { host: "example.org", port: 80, endpoints: [], userAgent: "plain" } },
    { name: "a user agent with a newline is not passed on", body: { http_request: "http://example.org/", http_request_headers: { "User-Agent": ["a\r\nX-Evil: 1"] } }, expect: { host: "example.org", port: 80, endpoints: [], userAgent: null } },
  ];
  for (const c of ok) {
    it(`accepts ${c.name}`, () => {
      const r = parseControlRequest(c.body, 8);
      if (!("request" in r)) throw new Error(`rejected: ${r.rejected.error}`);
      expect({ host: r.request.host, port: r.request.port, endpoints: r.request.endpoints.map((e) => e.key), userAgent: r.request.userAgent }).toEqual(c.expect);
    });
  }

  const bad: Array<{ name: string; body: unknown; reason: string; error: RegExp }> = [
    { name: "a list", body: [], reason: "invalid_request", error: /JSON object/ },
    { name: "no URL", body: { tcp_connect: [] }, reason: "invalid_request", error: /"http_request" must be a URL/ },
    { name: "a file URL", body: { http_request: "file:///etc/passwd" }, reason: "invalid_request", error: /http or https/ },
    { name: "a huge URL", body: { http_request: `http://example.org/${"a".repeat(5000)}` }, reason: "invalid_request", error: /longer than 4096/ },
    { name: "an endpoint without a port", body: { http_request: "http://example.org/", tcp_connect: ["1.2.3.4"] }, reason: "invalid_request", error: /"tcp_connect"\[0\]/ },
    { name: "an unbracketed IPv6 endpoint", body: { http_request: "http://example.org/", tcp_connect: ["::1:80"] }, reason: "invalid_request", error: /\[addr\]:port/ },
    { name: "a name as an endpoint", body: { http_request: "http://example.org/", tcp_connect: ["example.org:80"] }, reason: "invalid_request", error: /not "ip:port"/ },
    { name: "port 0", body: { http_request: "http://example.org/", tcp_connect: ["1.2.3.4:0"] }, reason: "invalid_request", error: /not "ip:port"/ },
    { name: "tcp_connect not a list", body: { http_request: "http://example.org/", tcp_connect: "1.2.3.4:80" }, reason: "invalid_request", error: /must be a list/ },
    { name: "headers not lists of strings", body: { http_request: "http://example.org/", http_request_headers: { A: [1] } }, reason: "invalid_request", error: /list of strings/ },
    { name: "too many endpoints", body: { http_request: "http://example.org/", tcp_connect: Array.from({ length: 9 }, (_, i) => `1.2.3.${i}:80`) }, reason: "too_many_endpoints", error: /lists 9 endpoints.*at most 8/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const r = parseControlRequest(c.body, 8);
      if (!("rejected" in r)) throw new Error("accepted");
      expect(r.rejected.status).toBe(400);
      expect(r.rejected.reason).toBe(c.reason);
      expect(r.rejected.error).toMatch(c.error);
    });
  }
});

describe("addressPolicy", () => {
  const strict = addressPolicy({ allowPrivate: false, publicRanges: [] });
  const lab = addressPolicy({ allowPrivate: false, publicRanges: [parseCidr("198.51.100.0/24")] });
  const open = addressPolicy({ allowPrivate: true, publicRanges: [] });
  const cases: Array<[string, RegExp | null, boolean]> = [
    ["93.184.216.34", null, false],
    ["2606:2800:220:1::248", null, false],
    ["127.0.0.1", /127\.0\.0\.1 is a loopback address/, true],
    ["10.0.0.1", /a private address/, true],
    ["192.168.1.1", /a private address/, true],
    ["169.254.169.254", /a link-local address/, true],
    ["0.0.0.0", /an unspecified address/, true],
    ["::1", /a loopback address/, true],
    ["fe80::1", /a link-local address/, true],
    ["fd00::1", /unique-local/, true],
    ["::ffff:127.0.0.1", /a loopback address/, true],
    ["198.51.100.7", /a documentation address/, true],
    ["not-an-ip", /not an IP address/, true],
    // Every IANA special-purpose range, and private IPv4 inside the IPv6 forms that carry one.
    ["100.64.0.1", /carrier-grade NAT/, true],
    ["198.18.0.1", /benchmarking/, true],
    ["240.0.0.1", /reserved/, true],
    ["224.0.0.1", /multicast/, true],
    ["ff02::1", /multicast/, true],
    ["::ffff:10.0.0.1", /a private address/, true],
    ["::ffff:a9fe:a9fe", /a link-local address/, true],
    ["64:ff9b::10.0.0.1", /a private address/, true],
    ["64:ff9b::127.0.0.1", /a loopback address/, true],
    ["64:ff9b:1::1", /local-use NAT64/, true],
    ["2002:a00:1::", /a private address/, true],
    ["2002:7f00:1::", /a loopback address/, true],
    ["2002:808:808::", /a 6to4 address/, false],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", /Teredo/, true],
    ["2001:4:112::1", /IETF protocol assignments/, false],
    ["::127.0.0.1", /deprecated IPv4-compatible/, true],
    ["5f00::1", /a reserved address/, true],
  ];
  for (const [ip, why, bogon] of cases) {
    it(`${why ? "refuses" : "allows"} ${ip}`, () => {
      const r = strict.refusal(ip);
      if (why) expect(r).toMatch(why);
      else expect(r).toBeNull();
      expect(strict.allows(ip)).toBe(why === null);
      expect(strict.isBogon(ip)).toBe(bogon);
    });
  }
  it("counts --public-ranges as public", () => {
    expect(lab.allows("198.51.100.7")).toBe(true);
    expect(lab.isBogon("198.51.100.7")).toBe(false);
    expect(lab.allows("127.0.0.1")).toBe(false);
  });
  it("allows bogons with --allow-private but still calls them bogons", () => {
    expect(open.allows("10.0.0.1")).toBe(true);
    expect(open.isBogon("10.0.0.1")).toBe(true);
    expect(open.allows("not-an-ip")).toBe(false);
  });
});

describe("urlRefusal (the web's ports and the address policy)", () => {
  const strict = addressPolicy({ allowPrivate: false, publicRanges: [] });
  const web = { refusal: strict.refusal, allowPorts: [] as number[] };
  const listed = { refusal: strict.refusal, allowPorts: [8080, 8443] };
  const cases: Array<[string, typeof web, RegExp | null]> = [
    ["http://example.org/", web, null],
    ["https://example.org/", web, null],
    ["http://example.org:80/", web, null],
    ["https://93.184.216.34:443/x", web, null],
    // A tcp:// target reaches the helper as http://host:443/.
    ["http://example.org:443/", web, null],
    ["https://example.org:80/", web, null],
    ["http://example.org:22/", web, /port 22 is not fetched: browsers refuse it, or it is a mail, database or remote-administration port, and --allow-ports does not list it/],
    ["https://example.org:6379/", web, /port 6379 is not fetched/],
    ["http://example.org:25/", web, /port 25 is not fetched/],
    ["http://example.org:3306/", web, /port 3306 is not fetched/],
    // A name on another port: measured on the helper's own addresses for it (ownAddressesOnly).
    ["http://example.org:8080/", web, null],
    ["http://www.example.com:444/", web, null],
    ["http://example.org:8080/", listed, null],
    ["https://example.org:8443/", listed, null],
    ["http://example.org:8081/", listed, null],
    // An IP literal on another port: the probe chose the address, so it is refused.
    ["http://93.184.216.34:444/", web, /port 444 is not fetched for an IP address: this helper fetches URLs on ports 80 and 443 \(--allow-ports\), and on another port only for a host name/],
    ["http://93.184.216.34:8081/", listed, /port 8081 is not fetched for an IP address: this helper fetches URLs on ports 80 and 443 and 8080, 8443 \(--allow-ports\)/],
    ["http://[2606:2800:220:1::248]:444/", web, /port 444 is not fetched for an IP address/],
    ["http://127.0.0.1/", web, /the host 127\.0\.0\.1 is a loopback address/],
    ["http://[2002:a00:1::]/", web, /the host 2002:a00:1:: is a private address/],
    ["http://[2002:808:808::]/", web, /a 6to4 address/],
    ["http://[::ffff:192.168.0.1]/", web, /a private address/],
    ["http://[64:ff9b::a00:1]/", web, /a private address/],
    ["http://app.localhost/", web, /names this machine/],
    ["ftp://example.org/", web, /ftp: URLs are not fetched/],
  ];
  for (const [url, o, why] of cases) {
    it(`${why ? "refuses" : "fetches"} ${url}${o === listed ? " with --allow-ports 8080,8443" : ""}`, () => {
      const r = urlRefusal(new URL(url), o);
      if (why) expect(r).toMatch(why);
      else expect(r).toBeNull();
    });
  }
  it("fetches any port with --allow-ports any, and a service port the operator lists", () => {
    expect(urlRefusal(new URL("http://example.org:22/"), { ...web, allowPorts: "any" })).toBeNull();
    expect(urlRefusal(new URL("http://93.184.216.34:22/"), { ...web, allowPorts: [22] })).toBeNull();
  });

  it("refuses every unlisted port with --listed-ports-only", () => {
    expect(urlRefusal(new URL("http://www.example.com:444/"), { ...web, urlPort: false })).toMatch(/port 444 is not fetched: this helper fetches URLs on ports 80 and 443 only \(--allow-ports, --listed-ports-only\)/);
    expect(urlRefusal(new URL("http://example.org:8080/"), { ...listed, urlPort: false })).toBeNull();
  });

  it("measures a URL on an unlisted port on the helper's own addresses only", () => {
    expect(ownAddressesOnly(new URL("http://www.example.com:444/"), web)).toBe(true);
    expect(ownAddressesOnly(new URL("http://www.example.com/"), web)).toBe(false);
    expect(ownAddressesOnly(new URL("https://www.example.com:8443/"), listed)).toBe(false);
    expect(ownAddressesOnly(new URL("http://www.example.com:444/"), { ...web, allowPorts: "any" })).toBe(false);
  });

  it("follows a redirect on an unlisted port only to the measured URL's own host and port", () => {
    const first = new URL("http://www.example.com:444/a");
    expect(redirectRefusal(new URL("http://WWW.example.com:444/b"), first, web)).toBeNull();
    expect(redirectRefusal(new URL("https://www.example.com/"), first, web)).toBeNull();
    expect(redirectRefusal(new URL("http://other.example.com:444/"), first, web)).toMatch(/port 444 is not fetched: this helper follows redirects on ports 80 and 443 \(--allow-ports\), and on another port only to the measured URL's own host and port/);
    expect(redirectRefusal(new URL("http://www.example.com:445/"), first, web)).toMatch(/port 445 is not fetched/);
    expect(redirectRefusal(new URL("http://93.184.216.34:444/"), first, web)).toMatch(/port 444 is not fetched/);
    expect(redirectRefusal(new URL("http://127.0.0.1/"), first, web)).toMatch(/the host 127\.0\.0\.1 is a loopback address/);
    // A measured URL that is itself refused vouches for nothing.
    expect(redirectRefusal(new URL("http://www.example.com:444/"), first, { ...web, urlPort: false })).toMatch(/port 444 is not fetched/);
  });

  it("allows by default every port the bundled target lists use, and no other", () => {
    const dir = new URL("../../targets/", import.meta.url);
    const ports = new Set<number>();
    for (const f of readdirSync(dir)) {
      for (const m of readFileSync(new URL(f, dir), "utf8").matchAll(/"(?:tcp|https?):\/\/(?:\[[^\]]+\]|[^/":]+):(\d+)/g)) ports.add(Number(m[1]));
    }
    expect(ports.size).toBeGreaterThan(0);
    const beyondWeb = [...ports].filter((p) => !WEB_PORTS.includes(p)).sort((a, b) => a - b);
    expect(beyondWeb).toEqual([...DEFAULT_ALLOW_PORTS]);
  });
});

describe("parseAllowPorts", () => {
  it("reads ports, ranges and any", () => {
    expect(parseAllowPorts("8080, 8443,9000-9002")).toEqual([8080, 8443, 9000, 9001, 9002]);
    expect(parseAllowPorts("any")).toBe("any");
    expect(parseAllowPorts("")).toEqual([]);
    expect(parseAllowPorts("none")).toEqual([]);
  });
  for (const bad of ["0", "65536", "http", "9002-9000", "80;443"]) {
    it(`rejects ${bad}`, () => expect(() => parseAllowPorts(bad)).toThrow(/is not a port/));
  }
});

describe("parseListen", () => {
  const good: Array<[string, { host: string; port: number }]> = [
    ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["[::]:8080", { host: "::", port: 8080 }],
    ["localhost:9000", { host: "localhost", port: 9000 }],
  ];
  for (const [v, want] of good) it(`reads ${v}`, () => expect(parseListen(v)).toEqual(want));
  for (const v of ["127.0.0.1", ":8080", "127.0.0.1:70000", "[zz]:80", "::1:80"]) {
    it(`rejects ${v}`, () => expect(() => parseListen(v)).toThrow(/--listen must be HOST:PORT/));
  }
});

describe("invalidResponse", () => {
  it("accepts a minimal OONI response and names what is missing", () => {
    expect(invalidResponse({ tcp_connect: {}, http_request: {}, dns: { addrs: null } })).toBeNull();
    expect(invalidResponse({ tcp_connect: {}, http_request: {} })).toBe('missing or invalid "dns"');
    expect(invalidResponse("x")).toBe("not a JSON object");
  });
});
