/**
 * The swaps of docs/verdicts.md ("Proof without a helper") in-process, behind a loopback
 * middlebox that resets what names a blocked host (its SNI, or its `Host:` line) and relays
 * everything else to the real server: the target's own step fails, the swap to the same address
 * with an innocuous name succeeds, both are recorded, and today's verdict does not change; and
 * the built command's flags that name the swaps or turn them off. And the address swap: a page
 * at an address only the browser's resolver gave, asked for again at a witness's address.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type http from "node:http";
import { parsePublicRanges } from "../../src/net/bogons.js";
import { analyzeTarget } from "../../src/analysis/target.js";
import { CHROME_USER_AGENT, NAVIGATION_ACCEPT } from "../../src/probes/browser.js";
import type { ProbeConfig } from "../../src/probes/config.js";
import { probeTarget } from "../../src/probes/pipeline.js";
import type { HttpObservation, Observation, TcpObservation, TlsObservation } from "../../src/probes/observation.js";
import { parseTarget } from "../../src/targets/parse.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { runCli } from "../helpers/cli.js";
import { closeAll, closedPort, countingWebServer, dnsServer, filteringProxy, type CountingServer, type Middlebox } from "../helpers/servers.js";
import { loopbackProbeConfig } from "../helpers/probe-config.js";

let ca: TestCa;
let resolverPort: number;
let tlsBackend: CountingServer;
let httpBackend: CountingServer;
let tlsBox: Middlebox;
let httpBox: Middlebox;

const handler: http.RequestListener = (req, res) => {
  if (req.url === "/to-blocked") {
    res.writeHead(302, { location: `https://blocked.test:${tlsBox.port}/` });
    return res.end();
  }
  if (req.url === "/404") {
    res.writeHead(404, { "content-type": "text/html" });
    return res.end("<title>not here</title>");
  }
  if (req.url === "/eof") return req.socket.destroy();
  res.setHeader("content-type", "text/html");
  res.end(`<title>page for ${req.headers.host}</title>`);
};

beforeAll(async () => {
  ca = makeTestCa();
  const pem = ca.issue(["blocked.test", "ok.test"]);
  tlsBackend = await countingWebServer(handler, pem);
  httpBackend = await countingWebServer(handler);
  tlsBox = await filteringProxy(tlsBackend.port, "blocked.test");
  httpBox = await filteringProxy(httpBackend.port, "Host: blocked.test");
  const dns = await dnsServer({ "blocked.test": { a: ["127.0.0.1"] }, "ok.test": { a: ["127.0.0.1"] }, "refused.test": { a: ["127.0.0.1"] } });
  resolverPort = dns.port;
});

afterAll(closeAll);

function config(over: Partial<ProbeConfig> = {}): ProbeConfig {
  return loopbackProbeConfig(resolverPort, ca.cert, { stepTimeoutMs: 3000, targetBudgetMs: 10_000, sniSwap: "example.com", hostSwap: "example.com", ...over });
}

// The loopback servers stand for public addresses here, as the lab's documentation ranges do.
const ctx = { publicRanges: parsePublicRanges("127.0.0.0/8"), fingerprints: [], networkDown: null };
const own = (obs: Observation[]) => obs.filter((o) => o.step === "dns" || !o.purpose);
const swaps = (obs: Observation[]) => obs.filter((o) => o.step !== "dns" && o.purpose);
/** The steps after DNS, as [step, purpose, failure] rows. */
const steps = (obs: Observation[]) => obs.filter((o) => o.step !== "dns").map((o) => [o.step, o.purpose ?? null, o.failure]);
const verdictOf = (input: string, obs: Observation[]) => {
  const { status, layer, failure } = analyzeTarget(parseTarget(input), obs, ctx);
  return { status, layer, failure };
};

describe("SNI swap", () => {
  it("a handshake reset for its SNI is repeated to the same address with the innocuous SNI, which completes; its certificate is recorded, not required", async () => {
    const before = tlsBox.first.length;
    const input = `https://blocked.test:${tlsBox.port}/`;
    const { observations } = await probeTarget(parseTarget(input), config());
    expect(steps(observations)).toEqual([
      ["tcp", null, null],
      ["tls", null, "connection_reset"],
      ["tcp", "sni_swap", null],
      ["tls", "sni_swap", null],
    ]);
    const [tcp, tls] = swaps(observations) as [TcpObservation, TlsObservation];
    const address = `127.0.0.1:${tlsBox.port}`;
    expect(tcp).toMatchObject({ address, purpose: "sni_swap" });
    expect(tls).toMatchObject({ address, serverName: "example.com", verified: false, verifyFailure: "ssl_invalid_hostname", purpose: "sni_swap" });
    expect(tls.hop).toBeUndefined();
    expect(tls.certificates[0]?.sans).toEqual(["DNS:blocked.test", "DNS:ok.test"]);
    // On the wire: two ClientHellos, ours (reset) and the swap's, which names only example.com.
    const hellos = tlsBox.first.slice(before);
    expect(hellos.map((h) => [h.includes("blocked.test"), h.includes("example.com")])).toEqual([
      [true, false],
      [false, true],
    ]);
    // Without a helper, the swap is the proof: blocked at TLS; without the swap, only an anomaly.
    expect(verdictOf(input, observations)).toEqual({ status: "blocked", layer: "tls", failure: "connection_reset" });
    expect(verdictOf(input, own(observations))).toEqual({ status: "anomaly", layer: "tls", failure: "connection_reset" });
    await expect.poll(() => tlsBackend.open, { timeout: 2000 }).toBe(0);
  });

  it("a redirect hop's reset handshake is swapped too, the swap tagged with the hop", async () => {
    const input = `https://ok.test:${tlsBox.port}/to-blocked`;
    const { observations } = await probeTarget(parseTarget(input), config());
    const hop1 = observations.filter((o) => o.step !== "dns" && o.hop === 1);
    expect(hop1.map((o) => [o.step, (o.step !== "dns" && o.purpose) || null, o.failure])).toEqual([
      ["tcp", null, null],
      ["tls", null, "connection_reset"],
      ["tcp", "sni_swap", null],
      ["tls", "sni_swap", null],
    ]);
    expect(verdictOf(input, observations)).toEqual({ status: "blocked", layer: "tls", failure: "connection_reset" });
    expect(verdictOf(input, own(observations))).toEqual({ status: "anomaly", layer: "tls", failure: "connection_reset" });
  });

  it("makes no swap when the handshake succeeded, when no SNI swap is configured, or when TCP did not connect", async () => {
    const ok = await probeTarget(parseTarget(`https://ok.test:${tlsBox.port}/`), config());
    expect(swaps(ok.observations)).toEqual([]);
    expect((ok.observations.find((o) => o.step === "http") as HttpObservation).status).toBe(200);
    const off = await probeTarget(parseTarget(`https://blocked.test:${tlsBox.port}/`), config({ sniSwap: null }));
    expect(steps(off.observations)).toEqual([
      ["tcp", null, null],
      ["tls", null, "connection_reset"],
    ]);
    const refused = await probeTarget(parseTarget(`https://refused.test:${await closedPort()}/`), config());
    expect(steps(refused.observations)).toEqual([["tcp", null, "connection_refused"]]);
  });
});

describe("Host swap", () => {
  /** The request head Chrome sends for http://NAME:PORT/page, as browser.ts orders it. */
  const head = (host: string) =>
    [
      "GET /page HTTP/1.1",
      `Host: ${host}`,
      "Connection: keep-alive",
      "Upgrade-Insecure-Requests: 1",
      `User-Agent: ${CHROME_USER_AGENT}`,
      `Accept: ${NAVIGATION_ACCEPT}`,
      "Accept-Encoding: gzip, deflate",
      "Accept-Language: en-US,en;q=0.9",
      "",
      "",
    ].join("\r\n");

  it("a request reset for its Host is sent again on a new connection with Host: example.com and every other header byte for byte the same", async () => {
    const before = httpBox.first.length;
    const input = `http://blocked.test:${httpBox.port}/page`;
    const { observations } = await probeTarget(parseTarget(input), config());
    expect(steps(observations)).toEqual([
      ["tcp", null, null],
      ["http", null, "connection_reset"],
      ["tcp", "host_swap", null],
      ["http", "host_swap", null],
    ]);
    const swap = observations[observations.length - 1] as HttpObservation;
    expect(swap).toMatchObject({ url: input, hop: 0, address: `127.0.0.1:${httpBox.port}`, status: 200, swappedHost: "example.com", title: `page for example.com:${httpBox.port}` });
    expect(Object.entries(swap.requestHeaders)[0]).toEqual(["Host", `example.com:${httpBox.port}`]);
    expect(httpBox.first.slice(before).map((b) => b.toString("latin1"))).toEqual([head(`blocked.test:${httpBox.port}`), head(`example.com:${httpBox.port}`)]);
    expect(verdictOf(input, observations)).toEqual({ status: "blocked", layer: "http", failure: "connection_reset" });
    expect(verdictOf(input, own(observations))).toEqual({ status: "anomaly", layer: "http", failure: "connection_reset" });
    await expect.poll(() => httpBackend.open, { timeout: 2000 }).toBe(0);
  });

  it("an error status and a connection closed before the response are swapped; a 200 is not", async () => {
    const notFound = await probeTarget(parseTarget(`http://ok.test:${httpBox.port}/404`), config());
    expect(notFound.observations.filter((o): o is HttpObservation => o.step === "http").map((o) => [o.purpose ?? null, o.status])).toEqual([
      [null, 404],
      ["host_swap", 404],
    ]);
    const eof = await probeTarget(parseTarget(`http://ok.test:${httpBox.port}/eof`), config());
    expect(steps(eof.observations).filter(([step]) => step === "http")).toEqual([
      ["http", null, "eof_error"],
      ["http", "host_swap", "eof_error"],
    ]);
    const ok = await probeTarget(parseTarget(`http://ok.test:${httpBox.port}/page`), config());
    expect(swaps(ok.observations)).toEqual([]);
  });

  it("makes no swap with no Host swap configured, and none for https (its Host is encrypted)", async () => {
    const off = await probeTarget(parseTarget(`http://blocked.test:${httpBox.port}/page`), config({ hostSwap: null }));
    expect(swaps(off.observations)).toEqual([]);
    const tls = await probeTarget(parseTarget(`https://ok.test:${tlsBox.port}/404`), config());
    expect(swaps(tls.observations)).toEqual([]);
  });
});

describe("reachprobe run: --sni-swap, --host-swap, --no-swap", () => {
  const run = async (extra: string[]) => {
    const r = await runCli([
      "run",
      "--json",
      "--no-store",
      "--no-config",
      "--no-canary",
      "--no-system-resolver",
      "--resolver",
      `127.0.0.1:${resolverPort}`,
      "--public-ranges",
      "127.0.0.0/8",
      "--timeout",
      "3000",
      ...extra,
      `https://blocked.test:${tlsBox.port}/`,
      `http://blocked.test:${httpBox.port}/page`,
    ]);
    expect(r.stderr).toBe("");
    return (JSON.parse(r.stdout) as { results: Array<{ target: string; observations: Observation[] }> }).results;
  };

  it("sends the names given, and nothing swapped with --no-swap", async () => {
    const named = await run(["--sni-swap", "Innocuous.Test", "--host-swap", "other.test"]);
    // Results come in the order the targets finished, which either may win.
    const of = (scheme: string) => swaps(named.find((r) => r.target.startsWith(scheme))?.observations ?? []).filter((o) => o.step !== "tcp");
    const [tls, http] = [of("https:"), of("http:")];
    expect(tls).toMatchObject([{ step: "tls", serverName: "innocuous.test", failure: null }]);
    expect(http).toMatchObject([{ step: "http", swappedHost: "other.test", requestHeaders: { Host: `other.test:${httpBox.port}` }, status: 200 }]);
    const none = await run(["--no-swap"]);
    expect(none.map((r) => swaps(r.observations))).toEqual([[], []]);
  });
});

describe("the address swap: a page at an address only the browser's resolver gave, asked for again at the witness's", () => {
  // The ISP's resolver sends lying.test to a block-page server (127.0.0.2) and cdn.test to
  // another node of the site (127.0.0.4); the outside resolver (the witness) sends both to the
  // site (127.0.0.3). Same port everywhere: the swap changes the address only.
  let site: CountingServer;
  let blockServer: CountingServer;
  let node: CountingServer;
  let isp: number;
  let outside: number;
  const blocking: http.RequestListener = (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html><head><title>Access Denied</title></head><body>Access Denied</body></html>");
  };
  const sitePage = (node: string): http.RequestListener => (req, res) => {
    res.writeHead(200, { "content-type": "text/html", etag: `"${node}"`, "x-served-by": node });
    res.end(`<html><head><title>The news site of ${req.headers.host}</title></head><body>${"news ".repeat(400)}</body></html>`);
  };

  beforeAll(async () => {
    site = await countingWebServer(sitePage("origin"), undefined, "127.0.0.3");
    blockServer = await countingWebServer(blocking, undefined, "127.0.0.2", site.port);
    node = await countingWebServer(sitePage("edge"), undefined, "127.0.0.4", site.port);
    isp = (await dnsServer({ "lying.test": { a: ["127.0.0.2"] }, "cdn.test": { a: ["127.0.0.4"] }, "down.test": { a: ["127.0.0.2"] } })).port;
    outside = (await dnsServer({ "lying.test": { a: ["127.0.0.3"] }, "cdn.test": { a: ["127.0.0.3"] }, "down.test": { a: ["127.0.0.5"] } })).port;
  });

  const swapConfig = (over: Partial<ProbeConfig> = {}) =>
    config({ resolvers: [{ host: "127.0.0.1", port: isp }, { host: "127.0.0.1", port: outside }], addressSwap: true, publicRanges: ctx.publicRanges, ...over });

  it("sends the first request again, byte for byte, to the witness's address; a block page there is blocked at DNS", async () => {
    const input = `http://lying.test:${site.port}/`;
    const before = { site: site.requests.length, block: blockServer.requests.length };
    const { observations } = await probeTarget(parseTarget(input), swapConfig());
    expect(steps(observations).filter(([, purpose]) => purpose === "address_swap")).toEqual([
      ["tcp", "address_swap", null],
      ["http", "address_swap", null],
    ]);
    const [first, swap] = observations.filter((o): o is HttpObservation => o.step === "http");
    expect(first).toMatchObject({ address: `127.0.0.2:${site.port}`, title: "Access Denied" });
    expect(swap).toMatchObject({ address: `127.0.0.3:${site.port}`, url: input, hop: 0, purpose: "address_swap", status: 200, title: `The news site of lying.test:${site.port}` });
    expect(swap!.requestHeaders).toEqual(first!.requestHeaders);
    // On the wire: the same request line and headers, in the same order, at both addresses.
    const atBlock = blockServer.requests.slice(before.block);
    const atSite = site.requests.slice(before.site);
    expect(atBlock).toHaveLength(1);
    expect(atSite).toHaveLength(1);
    expect(atSite[0]!.rawHeaders).toEqual(atBlock[0]!.rawHeaders);
    expect(atSite[0]!.url).toBe(atBlock[0]!.url);
    const v = analyzeTarget(parseTarget(input), observations, ctx);
    expect({ status: v.status, layer: v.layer }).toEqual({ status: "blocked", layer: "dns" });
    expect(v.evidence[0]).toContain(`but the same request to 127.0.0.3:${site.port}, an address a witness gave, answered HTTP 200`);
    // Without the swap's observations: today's anomaly.
    expect(verdictOf(input, own(observations))).toMatchObject({ status: "anomaly", layer: "dns" });
    await expect.poll(() => site.open + blockServer.open, { timeout: 2000 }).toBe(0);
  });

  it("the same page from another node of the site (another ETag, another server header): ok, the node named in a note", async () => {
    const input = `http://cdn.test:${site.port}/`;
    const { observations } = await probeTarget(parseTarget(input), swapConfig());
    expect(swaps(observations).map((o) => [o.step, o.step === "dns" ? null : o.address])).toEqual([
      ["tcp", `127.0.0.3:${site.port}`],
      ["http", `127.0.0.3:${site.port}`],
    ]);
    const v = analyzeTarget(parseTarget(input), observations, ctx);
    expect({ status: v.status, layer: v.layer }).toEqual({ status: "ok", layer: null });
    expect(v.evidence[0]).toMatch(new RegExp(`^note: resolver 127\\.0\\.0\\.1:${isp} returned 127\\.0\\.0\\.4, .*served the same page as 127\\.0\\.0\\.3:${site.port}`));
    expect(node.requests.length).toBeGreaterThan(0);
  });

  it("a witness's address where nothing listens keeps today's anomaly; no swap when turned off or when DNS agrees", async () => {
    const input = `http://down.test:${site.port}/`;
    const { observations } = await probeTarget(parseTarget(input), swapConfig());
    expect(steps(observations).filter(([, purpose]) => purpose === "address_swap")).toEqual([["tcp", "address_swap", "connection_refused"]]);
    expect(verdictOf(input, observations)).toMatchObject({ status: "anomaly", layer: "dns" });
    const off = await probeTarget(parseTarget(`http://lying.test:${site.port}/`), swapConfig({ addressSwap: false }));
    expect(swaps(off.observations)).toEqual([]);
    const agreeing = await probeTarget(parseTarget(`http://lying.test:${site.port}/`), swapConfig({ resolvers: [{ host: "127.0.0.1", port: isp }, { host: "127.0.0.1", port: isp }] }));
    expect(swaps(agreeing.observations)).toEqual([]);
  });

  it("reachprobe run makes it by default, and --no-swap turns it off", async () => {
    const run = async (extra: string[]) => {
      const r = await runCli(["run", "--json", "--no-store", "--no-config", "--no-canary", "--no-system-resolver", "--resolver", `127.0.0.1:${isp}`, "--resolver", `127.0.0.1:${outside}`, "--public-ranges", "127.0.0.0/8", "--timeout", "3000", ...extra, `http://lying.test:${site.port}/`]);
      expect(r.stderr).toBe("");
      return (JSON.parse(r.stdout) as { results: Array<{ status: string; layer: string | null; observations: Observation[] }> }).results[0]!;
    };
    const on = await run([]);
    expect(on).toMatchObject({ status: "blocked", layer: "dns" });
    expect(swaps(on.observations).map((o) => (o.step === "dns" ? null : o.purpose))).toEqual(["address_swap", "address_swap"]);
    const off = await run(["--no-swap"]);
    expect(off).toMatchObject({ status: "anomaly", layer: "dns" });
    expect(swaps(off.observations)).toEqual([]);
  });
});
