/**
 * The probe pipeline in-process against loopback servers that count connections: one
 * connection per target (the GET goes over the socket TCP and TLS measured), the same socket
 * for a redirect within the origin, and no socket left open on any path (success, the target's
 * budget running out, Ctrl-C, failures, several addresses).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type http from "node:http";
import type { ProbeConfig } from "../../src/probes/config.js";
import { probeTarget } from "../../src/probes/pipeline.js";
import type { HttpObservation, Observation } from "../../src/probes/observation.js";
import { parseTarget } from "../../src/targets/parse.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, countingWebServer, dnsServer, resetServer, type CountingServer } from "../helpers/servers.js";
import { loopbackProbeConfig } from "../helpers/probe-config.js";

let ca: TestCa;
let resolverPort: number;
const s: Record<string, CountingServer> = {};
const resetPort: { port: number } = { port: 0 };

/** Serves a page, a same-origin redirect, a redirect to the reset server, and a body that stalls after the headers. */
const handler: http.RequestListener = (req, res) => {
  if (req.url === "/start") {
    res.writeHead(302, { location: "/end" });
    return res.end("moved");
  }
  if (req.url === "/start-then-close") {
    // Says keep-alive, then closes the connection as soon as the response is out.
    res.writeHead(302, { location: "/end", connection: "keep-alive", "content-length": "5" });
    res.on("finish", () => req.socket.end());
    return res.end("moved");
  }
  if (req.url === "/to-reset") {
    res.writeHead(302, { location: `https://reset.test:${resetPort.port}/` });
    return res.end();
  }
  if (req.url === "/to-ip") {
    res.writeHead(302, { location: `http://127.0.0.1:${s.http!.port}/landing` });
    return res.end();
  }
  if (req.url === "/stall") {
    res.writeHead(200, { "content-type": "text/html" });
    return res.write("<title>partial</title>");
  }
  res.setHeader("content-type", "text/html");
  res.end(`<title>page ${req.url}</title>`);
};

beforeAll(async () => {
  ca = makeTestCa();
  const pem = ca.issue(["web.test", "two.test", "reset.test"]);
  s.https = await countingWebServer(handler, pem);
  s.http = await countingWebServer(handler);
  // Two addresses of one name, on one port.
  s.twoA = await countingWebServer(handler, pem, "127.0.0.1");
  s.twoB = await countingWebServer(handler, pem, "127.0.0.2", s.twoA.port);
  resetPort.port = await resetServer();
  const dns = await dnsServer({ "web.test": { a: ["127.0.0.1"] }, "two.test": { a: ["127.0.0.1", "127.0.0.2"] }, "reset.test": { a: ["127.0.0.1"] } });
  resolverPort = dns.port;
});

afterAll(closeAll);

function config(over: Partial<ProbeConfig> = {}): ProbeConfig {
  return loopbackProbeConfig(resolverPort, ca.cert, over);
}

const httpOf = (obs: Observation[]) => obs.filter((o): o is HttpObservation => o.step === "http");

/** Snapshot of a server's counters, to compare before and after one probe. */
const at = (c: CountingServer) => ({ accepted: c.accepted, requests: c.requests.length });

describe("one connection per target", () => {
  it("https: one TCP connection at the server, and the GET arrives on it", async () => {
    const before = at(s.https!);
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/page`), config());
    expect(httpOf(observations).map((h) => h.status)).toEqual([200]);
    expect(s.https!.accepted - before.accepted).toBe(1);
    const reqs = s.https!.requests.slice(before.requests);
    expect(reqs.map((r) => r.url)).toEqual(["/page"]);
    expect(reqs[0]!.connection).toBe(s.https!.accepted);
    await expect.poll(() => s.https!.open, { timeout: 2000 }).toBe(0);
  });

  it("http: one TCP connection at the server, and the GET arrives on it", async () => {
    const before = at(s.http!);
    const { observations } = await probeTarget(parseTarget(`http://web.test:${s.http!.port}/page`), config());
    expect(httpOf(observations).map((h) => h.status)).toEqual([200]);
    expect(s.http!.accepted - before.accepted).toBe(1);
    expect(s.http!.requests.slice(before.requests).map((r) => r.connection)).toEqual([s.http!.accepted]);
    await expect.poll(() => s.http!.open, { timeout: 2000 }).toBe(0);
  });

  it("a redirect within the origin goes over the same connection: 1 connection, 2 requests", async () => {
    const before = at(s.https!);
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/start`), config());
    expect(httpOf(observations).map((h) => [h.hop, h.status])).toEqual([
      [0, 302],
      [1, 200],
    ]);
    // No DNS, TCP or TLS of their own for a hop that reused the connection.
    expect(observations.filter((o) => o.step !== "http" && "hop" in o && o.hop)).toEqual([]);
    expect(s.https!.accepted - before.accepted).toBe(1);
    const reqs = s.https!.requests.slice(before.requests);
    expect(reqs.map((r) => [r.url, r.connection])).toEqual([
      ["/start", s.https!.accepted],
      ["/end", s.https!.accepted],
    ]);
    await expect.poll(() => s.https!.open, { timeout: 2000 }).toBe(0);
  });

  it("a kept-alive connection the server closed is not a failure: the next request goes on a new connection, as a browser does", async () => {
    const before = at(s.https!);
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/start-then-close`), config());
    const http = httpOf(observations);
    expect(http.map((h) => [h.hop, h.status ?? h.failure])).toEqual([
      [0, 302],
      [1, "eof_error"],
      [1, 200],
    ]);
    expect(http[1]!.note).toMatch(/kept-alive connection was closed/);
    expect(s.https!.accepted - before.accepted).toBe(2);
    // The first /end may reach the server before its FIN reaches us (a race the server loses by
    // not answering); the one answered came over the new connection.
    const reqs = s.https!.requests.slice(before.requests);
    expect(reqs[0]!.url).toBe("/start-then-close");
    expect(reqs.slice(1).map((r) => r.url)).toContain("/end");
    expect(reqs.at(-1)).toEqual(expect.objectContaining({ url: "/end", connection: s.https!.accepted }));
    await expect.poll(() => s.https!.open, { timeout: 2000 }).toBe(0);
  });

  it("two addresses: both measured, the first one carries the GET, the other is closed at once", async () => {
    const a = at(s.twoA!);
    const b = at(s.twoB!);
    const { observations } = await probeTarget(parseTarget(`https://two.test:${s.twoA!.port}/`), config());
    expect(observations.filter((o) => o.step === "tls").map((o) => o.failure)).toEqual([null, null]);
    expect(httpOf(observations).map((h) => h.address)).toEqual([`127.0.0.1:${s.twoA!.port}`]);
    expect([s.twoA!.accepted - a.accepted, s.twoB!.accepted - b.accepted]).toEqual([1, 1]);
    expect([s.twoA!.requests.length - a.requests, s.twoB!.requests.length - b.requests]).toEqual([1, 0]);
    await expect.poll(() => s.twoA!.open + s.twoB!.open, { timeout: 2000 }).toBe(0);
  });
});

describe("redirect hops", () => {
  it("an IP-literal redirect target is not looked up: its hop has a TCP step and no DNS step", async () => {
    const before = at(s.http!);
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/to-ip`), config());
    expect(observations.filter((o) => o.step !== "http" && o.hop === 1).map((o) => [o.step, o.failure])).toEqual([["tcp", null]]);
    expect(httpOf(observations).map((h) => [h.hop, h.status, h.address])).toEqual([
      [0, 302, `127.0.0.1:${s.https!.port}`],
      [1, 200, `127.0.0.1:${s.http!.port}`],
    ]);
    expect(s.http!.accepted - before.accepted).toBe(1);
  });

  it("a redirect the redirect policy refuses is not followed, and nothing is connected to", async () => {
    const before = at(s.http!);
    const seen: string[] = [];
    const allowRedirect = (url: URL) => {
      seen.push(url.href);
      return url.port === String(s.http!.port) ? `port ${url.port} is not one a browser would use` : null;
    };
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/to-ip`), config({ allowRedirect }));
    expect(seen).toEqual([`http://127.0.0.1:${s.http!.port}/landing`]);
    const [hop0, ...rest] = httpOf(observations);
    expect(rest).toEqual([]);
    expect(hop0).toMatchObject({ status: 302, failure: "http_request_failed" });
    expect(hop0!.note).toMatch(/not followed: port \d+ is not one a browser would use/);
    expect(at(s.http!)).toEqual(before);
  });
});

describe("no socket left open", () => {
  it("when the target's budget runs out in the middle of a body", async () => {
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/stall`), config({ targetBudgetMs: 600 }));
    const [hop] = httpOf(observations);
    expect({ status: hop?.status, failure: hop?.failure }).toEqual({ status: 200, failure: "generic_timeout_error" });
    await expect.poll(() => s.https!.open, { timeout: 2000 }).toBe(0);
  });

  it("when the run is stopped (Ctrl-C) in the middle of a body", async () => {
    const stop = new AbortController();
    const before = s.http!.requests.length;
    const probing = probeTarget(parseTarget(`http://web.test:${s.http!.port}/stall`), config(), stop.signal);
    await expect.poll(() => s.http!.requests.length, { timeout: 2000 }).toBe(before + 1);
    stop.abort();
    await probing;
    await expect.poll(() => s.http!.open, { timeout: 2000 }).toBe(0);
  });

  it("when a redirect goes to a server that resets the handshake: the first connection is closed too", async () => {
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/to-reset`), config());
    const hop1 = observations.filter((o) => o.step !== "http" && o.hop === 1).map((o) => [o.step, o.failure]);
    expect(hop1).toEqual([
      ["dns", null],
      ["tcp", null],
      ["tls", "connection_reset"],
    ]);
    await expect.poll(() => s.https!.open, { timeout: 2000 }).toBe(0);
  });

  it("when the budget is already spent before anything connects", async () => {
    const { observations } = await probeTarget(parseTarget(`https://web.test:${s.https!.port}/`), config({ targetBudgetMs: 0 }));
    expect(httpOf(observations)).toEqual([]);
    await expect.poll(() => s.https!.open, { timeout: 2000 }).toBe(0);
  });
});
