import { describe, expect, it } from "vitest";
import { BROWSER_ALPN, CHROME_USER_AGENT, browserRequestHeaders, chromeMajorOf, secChUa, type Navigation } from "../../src/probes/browser.js";

const UA = CHROME_USER_AGENT;
const names = (nav: Navigation) => browserRequestHeaders(nav).map(([k]) => k);
const value = (nav: Navigation, name: string) => browserRequestHeaders(nav).find(([k]) => k === name)?.[1];
const nav = (url: string, extra: Partial<Navigation> = {}): Navigation => ({ url: new URL(url), hop: 0, userAgent: UA, protocol: "http/1.1", ...extra });
const hop = (from: string, to: string, extra: Partial<Navigation> = {}): Navigation => nav(to, { hop: 1, from: new URL(from), ...extra });

const HINTS = ["sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform"];
const FETCH = ["Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User", "Sec-Fetch-Dest"];

describe("browserRequestHeaders: the first request", () => {
  it("https over HTTP/1.1: Chrome's names, case and order, Host first", () => {
    expect(names(nav("https://www.example.com/"))).toEqual([
      "Host",
      "Connection",
      ...HINTS,
      "Upgrade-Insecure-Requests",
      "User-Agent",
      "Accept",
      ...FETCH,
      "Accept-Encoding",
      "Accept-Language",
    ]);
    const h = Object.fromEntries(browserRequestHeaders(nav("https://www.example.com:8443/a?b=1")));
    expect(h).toMatchObject({
      Host: "www.example.com:8443",
      Connection: "keep-alive",
      "sec-ch-ua-mobile": "?0",
      "sec-ch-ua-platform": '"Windows"',
      "Upgrade-Insecure-Requests": "1",
      "User-Agent": UA,
      "Sec-Fetch-Site": "none",
      "Sec-Fetch-Mode": "navigate",
      "Sec-Fetch-User": "?1",
      "Sec-Fetch-Dest": "document",
      "Accept-Encoding": "gzip, deflate, br, zstd",
      "Accept-Language": "en-US,en;q=0.9",
    });
  });

  it("plain http: no client hints, no fetch metadata, gzip and deflate only", () => {
    expect(browserRequestHeaders(nav("http://www.example.com/"))).toEqual([
      ["Host", "www.example.com"],
      ["Connection", "keep-alive"],
      ["Upgrade-Insecure-Requests", "1"],
      ["User-Agent", UA],
      ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"],
      ["Accept-Encoding", "gzip, deflate"],
      ["Accept-Language", "en-US,en;q=0.9"],
    ]);
  });

  it("http to localhost is potentially trustworthy, as in Chrome: the secure set", () => {
    expect(names(nav("http://localhost:8080/"))).toContain("Sec-Fetch-Site");
    expect(value(nav("http://127.0.0.1/"), "Accept-Encoding")).toBe("gzip, deflate, br, zstd");
  });

  it("HTTP/2: pseudo-headers m,a,s,p first, every name lower case, priority last, no Host or Connection", () => {
    const h = browserRequestHeaders(nav("https://www.example.com/p?q=1", { protocol: "h2" }));
    expect(h.slice(0, 4)).toEqual([
      [":method", "GET"],
      [":authority", "www.example.com"],
      [":scheme", "https"],
      [":path", "/p?q=1"],
    ]);
    expect(h.map(([k]) => k).slice(4)).toEqual([
      ...HINTS,
      "upgrade-insecure-requests",
      "user-agent",
      "accept",
      ...FETCH.map((n) => n.toLowerCase()),
      "accept-encoding",
      "accept-language",
      "priority",
    ]);
    expect(h.at(-1)).toEqual(["priority", "u=0, i"]);
  });

  it("no Referer and no Cookie on a typed navigation", () => {
    for (const n of [nav("https://a.example/"), hop("https://a.example/", "https://b.example/")]) {
      expect(names(n).map((x) => x.toLowerCase())).not.toContain("referer");
      expect(names(n).map((x) => x.toLowerCase())).not.toContain("cookie");
    }
  });
});

describe("browserRequestHeaders: redirect hops", () => {
  it("Sec-Fetch-Site stays none for a typed navigation, whatever the redirect crossed; Sec-Fetch-User stays ?1", () => {
    for (const [from, to] of [
      ["https://www.example.com/", "https://www.example.com/home"], // same-origin
      ["https://www.example.com/", "https://login.example.com/"], // same-site
      ["https://www.example.com/", "https://example.org/"], // cross-site
      ["http://www.example.com/", "https://www.example.com/"], // scheme upgrade
    ] as const) {
      expect(value(hop(from, to), "Sec-Fetch-Site"), `${from} -> ${to}`).toBe("none");
      expect(value(hop(from, to), "Sec-Fetch-User"), `${from} -> ${to}`).toBe("?1");
    }
  });

  it("a same-origin hop keeps the client hints before Upgrade-Insecure-Requests", () => {
    expect(names(hop("https://www.example.com/", "https://www.example.com/home")).slice(2, 5)).toEqual(HINTS);
  });

  it("a hop that changed origin carries the client hints behind the fetch metadata", () => {
    for (const from of ["https://example.org/", "http://www.example.com/", "https://login.example.com/", "https://www.example.com:8443/"]) {
      const n = names(hop(from, "https://www.example.com/"));
      expect(n.slice(2, 5), from).toEqual(["Upgrade-Insecure-Requests", "User-Agent", "Accept"]);
      expect(n.slice(n.indexOf("Sec-Fetch-Dest") + 1, -2), from).toEqual(HINTS);
    }
  });

  it("once any hop changed origin, later same-origin hops keep the late position (chain)", () => {
    const chain = [new URL("https://a.example/"), new URL("https://b.example/")];
    const n = names(nav("https://b.example/next", { hop: 2, from: chain[1]!, chain }));
    expect(n.indexOf("sec-ch-ua")).toBeGreaterThan(n.indexOf("Sec-Fetch-Dest"));
    // Without the chain only `from` is known: same origin, early position.
    const m = names(nav("https://b.example/next", { hop: 2, from: chain[1]! }));
    expect(m.indexOf("sec-ch-ua")).toBeLessThan(m.indexOf("Upgrade-Insecure-Requests"));
  });

  it("a redirect from https to http drops every sec-ch-* and sec-fetch-* header and br/zstd", () => {
    const h = browserRequestHeaders(hop("https://www.example.com/", "http://www.example.com/"));
    expect(h.filter(([k]) => /^sec-/i.test(k))).toEqual([]);
    expect(Object.fromEntries(h)["Accept-Encoding"]).toBe("gzip, deflate");
  });
});

describe("client hints follow the User-Agent", () => {
  it("sec-ch-ua is Chromium's GREASEd list for the major version (checked against captured Chrome 146-151)", () => {
    expect(secChUa(146)).toBe('"Chromium";v="146", "Not-A.Brand";v="24", "Google Chrome";v="146"');
    expect(secChUa(147)).toBe('"Google Chrome";v="147", "Not.A/Brand";v="8", "Chromium";v="147"');
    expect(secChUa(148)).toContain('"Not/A)Brand"');
    expect(secChUa(150)).toBe('"Not;A=Brand";v="8", "Chromium";v="150", "Google Chrome";v="150"');
    expect(secChUa(151)).toBe('"Not=A?Brand";v="99", "Google Chrome";v="151", "Chromium";v="151"');
    expect(secChUa(159)).toBe('"Google Chrome";v="159", "Not/A)Brand";v="8", "Chromium";v="159"');
  });

  it("the default User-Agent is a reduced Windows Chrome 159 string", () => {
    expect(CHROME_USER_AGENT).toBe("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/159.0.0.0 Safari/537.36");
    expect(chromeMajorOf(CHROME_USER_AGENT)).toBe(159);
    expect(BROWSER_ALPN).toEqual(["h2", "http/1.1"]);
  });

  it("an overridden Chrome UA brings its own version and platform into the hints", () => {
    const mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36";
    const n = nav("https://x.example/", { userAgent: mac });
    expect(value(n, "sec-ch-ua")).toBe(secChUa(150));
    expect(value(n, "sec-ch-ua-platform")).toBe('"macOS"');
    expect(value(n, "User-Agent")).toBe(mac);
  });

  it("a User-Agent that names no Chrome gets no client hints (only Chromium sends them)", () => {
    const n = nav("https://x.example/", { userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0" });
    expect(names(n).filter((k) => k.startsWith("sec-ch-"))).toEqual([]);
    expect(names(n)).toContain("Sec-Fetch-Site");
  });
});
