/**
 * The swaps of docs/verdicts.md ("Proof without a helper") in-process, behind a loopback
 * middlebox that resets what names a blocked host (its SNI, or its `Host:` line) and relays
 * everything else to the real server: the target's own step fails, the swap to the same address
 * with an innocuous name succeeds, both are recorded, and today's verdict does not change; and
 * the built command's flags that name the swaps or turn them off.
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
    const [tls, http] = named.map((r) => swaps(r.observations).filter((o) => o.step !== "tcp"));
    expect(tls).toMatchObject([{ step: "tls", serverName: "innocuous.test", failure: null }]);
    expect(http).toMatchObject([{ step: "http", swappedHost: "other.test", requestHeaders: { Host: `other.test:${httpBox.port}` }, status: 200 }]);
    const none = await run(["--no-swap"]);
    expect(none.map((r) => swaps(r.observations))).toEqual([[], []]);
  });
});
