/**
 * The control helper in-process against loopback servers the test starts: what it measures
 * (same failure strings as the probe), every refusal and limit a helper on the open internet
 * needs, and its one-line-per-request log. Names resolve only through the test's DNS server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { parseCidr } from "../../src/net/bogons.js";
import { startControlServer, type ControlServer, type ControlServerOptions } from "../../src/control/server.js";
import { IP_FLAGS, invalidResponse, type ControlResponse } from "../../src/probes/control-wire.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, closedPort, countingWebServer, dnsServer, resetServer, stallServer, webServer } from "../helpers/servers.js";

let ca: TestCa;
let dnsPort: number;
const ports: Record<string, number> = {};
const userAgents: string[] = [];
const PAGE = "<html><head><title>Control test page</title></head><body>hello from the control test</body></html>";

/** A server on 127.0.0.2 that counts every connection and request: a private host the helper must never reach. */
const privateHost = { connections: 0, requests: 0, port: 0, server: null as http.Server | null };

beforeAll(async () => {
  ca = makeTestCa();
  const pem = ca.issue(["web.test", "127.0.0.1"]);
  privateHost.server = http.createServer((_req, res) => {
    privateHost.requests++;
    res.end("private");
  });
  privateHost.server.on("connection", (s: net.Socket) => {
    privateHost.connections++;
    s.on("error", () => {});
  });

  ports.https = await webServer((req, res) => {
    userAgents.push(String(req.headers["user-agent"]));
    if (req.url === "/to-private") {
      res.writeHead(302, { location: `http://127.0.0.2:${privateHost.port}/` });
      return res.end();
    }
    if (req.url === "/to-private-name") {
      res.writeHead(302, { location: `http://private.test:${privateHost.port}/` });
      return res.end();
    }
    if (req.url === "/to-plain") {
      res.writeHead(301, { location: `http://web.test:${ports.http}/landing` });
      return res.end();
    }
    if (req.url === "/endless") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 97);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      return pump();
    }
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(PAGE);
  }, pem);
  // The private host listens on 127.0.0.2 at the https site's port: the helper only connects
  // to endpoints on the URL's port, so a private endpoint must share it to be tempting.
  await new Promise<void>((r) => privateHost.server!.listen(ports.https, "127.0.0.2", r));
  privateHost.port = (privateHost.server.address() as net.AddressInfo).port;
  ports.http = await webServer((_req, res) => res.end("<title>landing</title>"));
  ports.wrongName = await webServer((_q, r) => r.end("x"), ca.issue(["other.test"]));
  ports.reset = await resetServer();
  ports.stall = await stallServer();
  ports.closed = await closedPort();
  const dns = await dnsServer({
    "web.test": { a: ["127.0.0.1"] },
    "private.test": { a: ["127.0.0.2"] },
  });
  dnsPort = dns.port;
});

afterAll(async () => {
  await closeAll();
  await new Promise<void>((r) => (privateHost.server ? privateHost.server.close(() => r()) : r()));
});

const helpers: ControlServer[] = [];
afterEach(async () => {
  await Promise.all(helpers.splice(0).map((h) => h.close()));
});

/** Starts a helper that resolves only through the test's DNS server; loopback 127.0.0.1 counts as public. */
async function helper(extra: ControlServerOptions = {}): Promise<ControlServer> {
  const h = await startControlServer({
    systemResolver: false,
    resolvers: [{ host: "127.0.0.1", port: dnsPort }],
    publicRanges: [parseCidr("127.0.0.1/32")],
    ca: ca.cert,
    stepTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    // The test's servers listen on ephemeral ports; the port policy has tests of its own.
    allowPorts: "any",
    ...extra,
  });
  helpers.push(h);
  return h;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  ms: number;
}

async function post(h: ControlServer, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(h.url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, unknown>, ms: performance.now() - t0 };
}

const asResponse = (a: Answer) => a.body as unknown as ControlResponse;

describe("a full measurement", () => {
  it("answers dns, tcp_connect, tls_handshake, http_request and ip_info with the probe's failure strings", async () => {
    const h = await helper();
    const ep = (name: string) => `127.0.0.1:${ports[name]}`;
    const a = await post(h, {
      http_request: `https://web.test:${ports.https}/`,
      http_request_headers: { "User-Agent": ["reachprobe-test/1"] },
      tcp_connect: [ep("https")],
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const r = asResponse(a);
    expect(invalidResponse(r)).toBeNull();
    expect(r.dns).toEqual({ failure: null, addrs: ["127.0.0.1"] });
    expect(r.tcp_connect).toEqual({ [ep("https")]: { status: true, failure: null } });
    expect(r.tls_handshake).toEqual({ [ep("https")]: { server_name: "web.test", status: true, failure: null } });
    expect(r.http_request).toMatchObject({
      failure: null,
      status_code: 200,
      body_length: Buffer.byteLength(PAGE),
      title: "Control test page",
      x_urls: [`https://web.test:${ports.https}/`],
    });
    // Header names as OONI's helper writes them (Go's canonical form).
    expect(r.http_request.headers["Content-Type"]).toBe("text/html; charset=utf-8");
    expect(r.ip_info["127.0.0.1"]).toEqual({ asn: 0, flags: IP_FLAGS.resolvedByProbe | IP_FLAGS.resolvedByHelper | IP_FLAGS.validForDomain });
    expect(userAgents).toContain("reachprobe-test/1");
  });

  it.each([
    ["closed", { status: false, failure: "connection_refused" }, undefined],
    ["reset", { status: true, failure: null }, "connection_reset"],
    ["stall", { status: true, failure: null }, "generic_timeout_error"],
    ["wrongName", { status: true, failure: null }, "ssl_invalid_hostname"],
  ] as const)("classifies the %s endpoint as the probe would", async (name, tcp, tls) => {
    const h = await helper();
    const ep = `127.0.0.1:${ports[name]}`;
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports[name]}/`, http_request_headers: {}, tcp_connect: [ep] }));
    expect(r.tcp_connect[ep]).toEqual(tcp);
    if (tls) expect(r.tls_handshake[ep]).toEqual({ server_name: "web.test", status: false, failure: tls });
    else expect(r.tls_handshake[ep]).toBeUndefined();
  });

  it("refuses endpoints on another port than the URL's (no port scanning through the helper)", async () => {
    const h = await helper();
    const a = await post(h, { http_request: `https://web.test:${ports.https}/`, http_request_headers: {}, tcp_connect: [`127.0.0.1:${ports.closed}`] });
    expect(a.status).toBe(400);
    expect(String(a.body.error)).toMatch(/not on the URL's port/);
  });

  it("reports a name that does not exist as OONI's helper does (dns_name_error, reachprobe's word in x_failure) and -1 numbers", async () => {
    const h = await helper();
    const r = asResponse(await post(h, { http_request: "https://nx.test/", http_request_headers: {}, tcp_connect: [] }));
    expect(r.dns).toEqual({ failure: "dns_name_error", addrs: [], x_failure: "dns_nxdomain_error" });
    expect(r.http_request).toMatchObject({ failure: "dns_nxdomain_error", status_code: -1, body_length: -1, title: "", headers: {} });
    expect(r.tcp_connect).toEqual({});
  });

  it("follows a redirect to an allowed host and lists the chain", async () => {
    const h = await helper();
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/to-plain`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.http_request).toMatchObject({ failure: null, status_code: 200, title: "landing" });
    expect(r.http_request.x_urls).toEqual([`https://web.test:${ports.https}/to-plain`, `http://web.test:${ports.http}/landing`]);
  });

  it("answers an OONI-style request with an OONI-shaped response", async () => {
    const h = await helper();
    const a = await post(h, {
      http_request: `http://web.test:${ports.http}/`,
      http_request_headers: { Accept: ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"], "Accept-Language": ["en-US;q=0.8,en;q=0.5"], "User-Agent": ["Mozilla/5.0 ooniprobe"] },
      tcp_connect: [`127.0.0.1:${ports.http}`],
    });
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toBe("application/json");
    const r = a.body as Record<string, Record<string, unknown>>;
    expect(Object.keys(r).sort()).toEqual(["dns", "http_request", "ip_info", "tcp_connect", "tls_handshake"]);
    expect(Object.keys(r.dns!).sort()).toEqual(["addrs", "failure"]);
    for (const k of ["body_length", "failure", "headers", "status_code", "title"]) expect(r.http_request, k).toHaveProperty(k);
    expect(typeof r.http_request!.body_length).toBe("number");
    expect(typeof r.http_request!.status_code).toBe("number");
    for (const v of Object.values(r.http_request!.headers as Record<string, unknown>)) expect(typeof v).toBe("string");
    expect(r.tcp_connect![`127.0.0.1:${ports.http}`]).toEqual({ status: true, failure: null });
    expect(r.tls_handshake).toEqual({});
    for (const v of Object.values(r.ip_info!)) expect(Object.keys(v as object).sort()).toEqual(["asn", "flags"]);
  });
});

describe("refusals", () => {
  const refusedHosts: Array<[string, RegExp]> = [
    ["http://127.0.0.1:8080/", /127\.0\.0\.1 is a loopback address/],
    ["http://10.1.2.3/", /10\.1\.2\.3 is a private address/],
    ["https://169.254.169.254/latest/meta-data/", /a link-local address/],
    ["http://[::1]:8080/", /::1 is a loopback address/],
    ["http://[::ffff:192.168.1.1]/", /a private address/],
    ["http://localhost:8080/", /names this machine/],
    ["http://0x7f000001/", /127\.0\.0\.1 is a loopback address/],
  ];
  for (const [url, why] of refusedHosts) {
    it(`refuses the URL ${url} with 400 and the reason`, async () => {
      const h = await helper({ publicRanges: [] });
      const a = await post(h, { http_request: url, http_request_headers: {}, tcp_connect: [] });
      expect(a.status).toBe(400);
      expect(a.body.reason).toBe("refused_destination");
      expect(a.body.error).toMatch(why);
    });
  }

  it("measures a loopback URL host when --allow-private is given", async () => {
    const h = await helper({ publicRanges: [], allowPrivate: true });
    const a = await post(h, { http_request: `http://127.0.0.1:${ports.http}/`, http_request_headers: {}, tcp_connect: [] });
    expect(a.status).toBe(200);
    expect(asResponse(a).http_request).toMatchObject({ failure: null, status_code: 200 });
  });

  it("never connects to a private endpoint and flags it bogon in ip_info", async () => {
    const before = privateHost.connections;
    const h = await helper();
    const priv = `127.0.0.2:${privateHost.port}`;
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/`, http_request_headers: {}, tcp_connect: [priv, `127.0.0.1:${ports.https}`] }));
    expect(Object.keys(r.tcp_connect)).toEqual([`127.0.0.1:${ports.https}`]);
    expect(Object.keys(r.tls_handshake)).toEqual([`127.0.0.1:${ports.https}`]);
    expect(r.ip_info["127.0.0.2"]).toEqual({ asn: 0, flags: IP_FLAGS.resolvedByProbe | IP_FLAGS.bogon });
    expect(privateHost.connections, "the helper connected to the private endpoint").toBe(before);
  });

  it("connects to a private endpoint with --allow-private (so the test above can see a connection)", async () => {
    const before = privateHost.connections;
    const h = await helper({ allowPrivate: true });
    const priv = `127.0.0.2:${privateHost.port}`;
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/`, http_request_headers: {}, tcp_connect: [priv] }));
    expect(r.tcp_connect[priv]).toEqual({ status: true, failure: null });
    expect(r.ip_info["127.0.0.2"]!.flags & IP_FLAGS.bogon).toBe(IP_FLAGS.bogon);
    await expect.poll(() => privateHost.connections).toBeGreaterThan(before);
  });

  it("does not follow a redirect to a private address", async () => {
    const before = { c: privateHost.connections, r: privateHost.requests };
    const h = await helper();
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/to-private`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.http_request).toMatchObject({ failure: "http_request_failed", status_code: -1, body_length: -1 });
    expect(r.http_request.x_note).toMatch(/not followed/);
    expect(r.http_request.x_urls).toEqual([`https://web.test:${ports.https}/to-private`]);
    expect({ c: privateHost.connections, r: privateHost.requests }, "the private server was reached").toEqual(before);
  });

  it("does not follow a redirect to a name that resolves to a private address", async () => {
    const before = { c: privateHost.connections, r: privateHost.requests };
    const h = await helper();
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/to-private-name`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.http_request).toMatchObject({ failure: "dns_bogon_error", status_code: -1 });
    expect(r.http_request.x_note).toMatch(/private\.test not followed/);
    expect({ c: privateHost.connections, r: privateHost.requests }).toEqual(before);
  });

  it("follows the same redirect with --allow-private (the private server sees the request)", async () => {
    const before = privateHost.requests;
    const h = await helper({ allowPrivate: true });
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/to-private`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.http_request).toMatchObject({ failure: null, status_code: 200, body_length: 7 });
    expect(privateHost.requests).toBe(before + 1);
  });

  it("lists but does not connect to its own addresses when the name resolves only to private ones", async () => {
    const before = privateHost.connections;
    const h = await helper();
    const r = asResponse(await post(h, { http_request: `http://private.test:${privateHost.port}/`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.dns).toEqual({ failure: null, addrs: ["127.0.0.2"] });
    expect(r.tcp_connect).toEqual({});
    expect(r.http_request).toMatchObject({ failure: "dns_bogon_error", status_code: -1 });
    expect(r.ip_info["127.0.0.2"]).toEqual({ asn: 0, flags: IP_FLAGS.resolvedByHelper | IP_FLAGS.bogon });
    expect(privateHost.connections).toBe(before);
  });

  it("needs the bearer token when one is set: missing and wrong are 401, right is 200", async () => {
    const h = await helper({ token: "s3cret-token" });
    const body = { http_request: `http://web.test:${ports.http}/`, http_request_headers: {}, tcp_connect: [] };
    const missing = await post(h, body);
    expect(missing.status).toBe(401);
    expect(missing.body.reason).toBe("unauthorized");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await post(h, body, { authorization: "Bearer s3cret-tokeN" })).status).toBe(401);
    expect((await post(h, body, { authorization: "Bearer s3cret" })).status).toBe(401);
    expect((await post(h, body, { authorization: "Basic s3cret-token" })).status).toBe(401);
    const right = await post(h, body, { authorization: "Bearer s3cret-token" });
    expect(right.status).toBe(200);
    expect(asResponse(right).http_request.status_code).toBe(200);
  });

  it("answers 413 to a body larger than --max-request-bytes, declared or streamed", async () => {
    const h = await helper({ maxRequestBytes: 1024 });
    const big = { http_request: `http://web.test:${ports.http}/`, http_request_headers: { "X-Pad": ["x".repeat(2000)] }, tcp_connect: [] };
    const a = await post(h, big);
    expect(a.status).toBe(413);
    expect(a.body.reason).toBe("request_too_large");
    // Chunked, with no Content-Length: the helper stops reading at the cap.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request(h.url, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write("x".repeat(500));
      req.end();
    });
    expect(streamed).toBe(413);
  });

  it("answers 400 naming the limit to more endpoints than --max-endpoints", async () => {
    const h = await helper({ maxEndpoints: 2 });
    const a = await post(h, { http_request: `http://web.test:${ports.http}/`, http_request_headers: {}, tcp_connect: ["192.0.2.1:80", "192.0.2.2:80", "192.0.2.3:80"] });
    expect(a.status).toBe(400);
    expect(a.body.reason).toBe("too_many_endpoints");
    expect(a.body.error).toMatch(/at most 2/);
  });

  it("answers 503 with Retry-After at once when --max-concurrent requests are in progress", async () => {
    const h = await helper({ maxConcurrent: 2, requestTimeoutMs: 1500, stepTimeoutMs: 5000 });
    const body = { http_request: `http://127.0.0.1:${ports.stall}/`, http_request_headers: {}, tcp_connect: [] };
    const answers = await Promise.all([post(h, body), post(h, body), post(h, body)]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 503]);
    const busy = answers.find((a) => a.status === 503)!;
    expect(busy.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(busy.body.reason).toBe("busy");
    // At once: before either measurement in progress ended (each runs to the 1.5 s request limit).
    const measured = answers.filter((a) => a.status === 200).map((a) => a.ms);
    expect(busy.ms, "the 503 waited for a slot").toBeLessThan(Math.min(...measured));
    // The slots are free again once those finished.
    expect((await post(h, { http_request: `http://web.test:${ports.http}/`, http_request_headers: {}, tcp_connect: [] })).status).toBe(200);
  });

  it("reads at most --max-body bytes of an endless body", async () => {
    const h = await helper({ maxBodyBytes: 10_000 });
    const r = asResponse(await post(h, { http_request: `https://web.test:${ports.https}/endless`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.http_request).toMatchObject({ failure: null, status_code: 200, body_length: 10_000 });
  });

  it("answers within --request-timeout (plus a margin) when the site stalls, with generic_timeout_error", async () => {
    const h = await helper({ requestTimeoutMs: 800, stepTimeoutMs: 5000 });
    const a = await post(h, { http_request: `http://127.0.0.1:${ports.stall}/`, http_request_headers: {}, tcp_connect: [`127.0.0.1:${ports.stall}`] });
    expect(a.status).toBe(200);
    expect(a.ms).toBeGreaterThanOrEqual(750);
    expect(a.ms).toBeLessThan(800 + 700);
    const r = asResponse(a);
    expect(r.tcp_connect[`127.0.0.1:${ports.stall}`]).toEqual({ status: true, failure: null });
    expect(r.http_request).toMatchObject({ failure: "generic_timeout_error", status_code: -1, body_length: -1 });
  });

  it("cuts off a client that sends its headers or body too slowly (slowloris)", async () => {
    const h = await helper({ requestTimeoutMs: 1000, maxConcurrent: 1 });
    const port = Number(new URL(h.url).port);
    const closedAfter = (firstBytes: string) =>
      new Promise<number>((resolve) => {
        const t0 = performance.now();
        const s = net.connect(port, "127.0.0.1", () => s.write(firstBytes));
        s.on("error", () => {});
        s.resume();
        s.on("close", () => resolve(performance.now() - t0));
      });
    const slow = Promise.all([
      closedAfter("POST / HTTP/1.1\r\nHost: x\r\nX-Slow: "),
      closedAfter("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"http_"),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    // A slow uploader holds a connection, not the one measurement slot.
    const meanwhile = await post(h, { http_request: `http://web.test:${ports.http}/`, http_request_headers: {}, tcp_connect: [] });
    expect(meanwhile.status).toBe(200);
    const [headers, body] = await slow;
    expect(headers, "a client that never finished its headers kept its socket").toBeLessThan(3000);
    expect(body, "a client that never finished its body kept its socket").toBeLessThan(3000);
  });

  it("rejects what is not a control request", async () => {
    const h = await helper();
    const cases: Array<[unknown, RegExp]> = [
      ["{not json", /not valid JSON/],
      [[], /JSON object/],
      [{ http_request: "ftp://web.test/", tcp_connect: [] }, /http or https/],
      [{ http_request: "not a url", tcp_connect: [] }, /not a valid URL/],
      [{ http_request: `http://web.test/`, tcp_connect: ["web.test:80"] }, /tcp_connect"\[0\]/],
      [{ http_request: `http://web.test/`, http_request_headers: { Accept: 3 }, tcp_connect: [] }, /list of strings/],
    ];
    for (const [body, why] of cases) {
      const a = await post(h, body);
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.body.error).toMatch(why);
    }
  });

  it("answers GET / with health, 404 elsewhere and 405 to other methods", async () => {
    const h = await helper({ token: "t" });
    const health = await fetch(h.url);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, version: expect.any(String) });
    expect((await fetch(new URL("/other", h.url), { method: "POST", body: "{}" })).status).toBe(404);
    const put = await fetch(h.url, { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toMatch(/POST/);
  });
});

describe("the request log", () => {
  it("writes one JSON line a request with its status and no client address", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split("\n").filter(Boolean));
        cb();
      },
    });
    const h = await helper({ logger: pino({ base: undefined }, sink), token: "tok" });
    const auth = { authorization: "Bearer tok" };
    await post(h, { http_request: `http://web.test:${ports.http}/`, http_request_headers: {}, tcp_connect: [] }, auth);
    await post(h, { http_request: "http://10.9.8.7/", http_request_headers: {}, tcp_connect: [] }, auth);
    await post(h, { http_request: "http://web.test/", tcp_connect: [] });
    await fetch(new URL("/nope", h.url));
    await expect.poll(() => lines.length).toBe(4);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => e.status)).toEqual([200, 400, 401, 404]);
    expect(entries.map((e) => e.outcome)).toEqual(["measured", "refused_destination", "unauthorized", "not_found"]);
    expect(entries[0]).toMatchObject({ method: "POST", path: "/", host: "web.test", endpoints: 0 });
    expect(entries[1]).toMatchObject({ host: "10.9.8.7" });
    for (const e of entries) {
      expect(e.client).toMatch(/^[0-9a-f]{12}$/);
      expect(typeof e.duration_ms).toBe("number");
    }
    expect(new Set(entries.map((e) => e.client)).size, "one client, one hash").toBe(1);
    for (const l of lines) expect(l, "a log line holds the client's address").not.toMatch(/127\.0\.0\.1|::1|::ffff/);
  });
});

describe("one connection, redirects hop by hop", () => {
  it("fetches over the connection it measured: one TCP connection at the server, the GET on it", async () => {
    const site = await countingWebServer((_req, res) => res.end("<title>counted</title>"), ca.issue(["web.test"]));
    const h = await helper();
    const ep = `127.0.0.1:${site.port}`;
    const r = asResponse(await post(h, { http_request: `https://web.test:${site.port}/`, http_request_headers: {}, tcp_connect: [ep] }));
    expect(r.tls_handshake[ep]).toMatchObject({ status: true });
    expect(r.http_request).toMatchObject({ failure: null, status_code: 200, title: "counted" });
    expect(site.accepted).toBe(1);
    expect(site.requests.map((q) => q.connection)).toEqual([1]);
    await expect.poll(() => site.open).toBe(0);
  });

  it("a redirect to a server that resets the handshake fails the fetch with the hop's TLS failure", async () => {
    const site = await countingWebServer((_req, res) => {
      res.writeHead(302, { location: `https://web.test:${ports.reset}/` });
      res.end();
    }, ca.issue(["web.test"]));
    const h = await helper();
    const r = asResponse(await post(h, { http_request: `https://web.test:${site.port}/`, http_request_headers: {}, tcp_connect: [] }));
    expect(r.http_request).toMatchObject({ failure: "connection_reset", status_code: -1, x_urls: [`https://web.test:${site.port}/`] });
    expect(r.http_request.x_note).toMatch(/could not be connected to: tls connection_reset/);
    await expect.poll(() => site.open).toBe(0);
  });
});
