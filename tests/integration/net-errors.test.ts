/**
 * The real errors that loopback servers make Node, OpenSSL and undici produce, checked as the
 * failure strings a user would see. Every server listens on 127.0.0.1; nothing here may
 * touch another address.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, closedPort, dnsServer, eofServer, resetServer, stallServer, tcpServer, tlsServer, webServer } from "../helpers/servers.js";
import { startStepTimer } from "../../src/net/deadline.js";
import { udpDnsQuery, type UdpDnsResult } from "../../src/net/dns-udp.js";
import { systemLookup } from "../../src/net/dns-system.js";
import { boundedRequest, type BoundedRequestOptions, type BoundedResponse } from "../../src/net/bounded-request.js";
import { tcpConnect } from "../../src/net/tcp.js";
import { tlsHandshake, type TlsHandshakeResult } from "../../src/net/tls.js";
import { X509Certificate } from "node:crypto";
import { DEFAULT_PROBE_CONFIG, type ProbeConfig } from "../../src/probes/config.js";
import type { HttpObservation, Observation } from "../../src/probes/observation.js";
import { probeTarget } from "../../src/probes/pipeline.js";
import { parseTarget } from "../../src/targets/parse.js";

const LOOPBACK = "127.0.0.1";
/** Step timeout for cases that are meant to time out: small, so the suite stays fast. */
const SHORT = 400;
/** Step timeout for cases that must succeed: roomy, so a busy machine does not flake them. */
const ROOMY = 5_000;

let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa();
});
afterEach(closeAll);

// ---------------------------------------------------------------------------------------------
// Helpers

async function connect(port: number, timeoutMs = ROOMY): Promise<{ socket: net.Socket | null; failure: string | null; ms: number }> {
  const timer = startStepTimer(timeoutMs);
  const t0 = performance.now();
  try {
    const r = await tcpConnect(LOOPBACK, port, timer.signal);
    return { ...r, ms: performance.now() - t0 };
  } finally {
    timer.dispose();
  }
}

/** TCP connect (its own roomy timer), then the TLS handshake under `timeoutMs`, as the probe does. */
async function handshake(port: number, opts: { serverName: string; timeoutMs?: number; ca?: string }): Promise<TlsHandshakeResult & { ms: number }> {
  const tcp = await connect(port);
  if (!tcp.socket) throw new Error(`TCP connect to the test server failed before TLS: ${tcp.failure}`);
  const timer = startStepTimer(opts.timeoutMs ?? ROOMY);
  const t0 = performance.now();
  try {
    const r = await tlsHandshake(tcp.socket, { serverName: opts.serverName, signal: timer.signal, ...(opts.ca ? { ca: opts.ca } : {}) });
    return { ...r, ms: performance.now() - t0 };
  } finally {
    timer.dispose();
  }
}

const opened: net.Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy();
});
/** Remembers a socket a result handed back, so it is closed after the test. */
function keep<T extends { socket: net.Socket | null }>(r: T): T {
  if (r.socket) opened.push(r.socket);
  return r;
}

async function query(port: number, name: string, opts: { timeoutMs?: number; windowMs?: number } = {}): Promise<UdpDnsResult & { ms: number }> {
  const t0 = performance.now();
  const r = await udpDnsQuery({
    server: { host: LOOPBACK, port },
    name,
    qtype: "A",
    timeoutMs: opts.timeoutMs ?? SHORT,
    windowMs: opts.windowMs ?? 50,
    now: () => performance.now() - t0,
  });
  return { ...r, ms: performance.now() - t0 };
}

/**
 * Probes `url` as a run does (no system resolver: site.test is answered by a loopback DNS
 * server) and returns its observations, the HTTP step's first hop, and the first failure in
 * TCP -> TLS -> HTTP order: what the user reads for the address.
 */
async function probe(url: string, over: Partial<ProbeConfig> = {}): Promise<{ obs: Observation[]; http: HttpObservation | undefined; failure: string | null; ms: number }> {
  const dns = await dnsServer({ "site.test": { a: [LOOPBACK] } });
  const t0 = performance.now();
  const { observations } = await probeTarget(parseTarget(url), {
    ...DEFAULT_PROBE_CONFIG,
    stepTimeoutMs: ROOMY,
    targetBudgetMs: 3 * ROOMY,
    systemResolver: false,
    resolvers: [{ host: LOOPBACK, port: dns.port }],
    dnsWindowMs: 0,
    maxBodyBytes: 1_000_000,
    ca: ca.cert,
    now: () => Math.round(performance.now() - t0),
    ...over,
  });
  const ms = performance.now() - t0;
  const steps = observations.filter((o) => o.step !== "dns");
  const http = observations.find((o): o is HttpObservation => o.step === "http" && o.hop === 0);
  return { obs: observations, http, failure: steps.find((o) => o.failure)?.failure ?? null, ms };
}

/** One boundedRequest under its own step timer. */
async function bounded(url: string, opts: Partial<BoundedRequestOptions> & { timeoutMs?: number } = {}): Promise<BoundedResponse & { ms: number }> {
  const { timeoutMs = ROOMY, ...rest } = opts;
  const timer = startStepTimer(timeoutMs);
  const t0 = performance.now();
  try {
    const r = await boundedRequest({ method: "GET", url, signal: timer.signal, maxBodyBytes: 1_000_000, ...rest });
    return { ...r, ms: performance.now() - t0 };
  } finally {
    timer.dispose();
  }
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** A TCP server that reads and discards, and tells when the client's connection is gone. */
async function watchedStallServer(): Promise<{ port: number; closed: () => Promise<void> }> {
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const port = await tcpServer((s) => {
    s.resume(); // read (and drop) the ClientHello so the FIN is seen
    s.once("close", () => resolveClosed());
  });
  return { port, closed: () => closed };
}

/**
 * A loopback listener whose SYNs go unanswered. Linux drops a SYN when the listener's accept
 * queue is full, so a child process listens with backlog 1 and blocks its event loop: it never
 * accepts, the first connects fill the queue, and the next one waits like a blackholed host.
 * (QUIRK: Node turns `backlog: 0` into its default of 511, hence 1.)
 */
async function synDropListener(): Promise<{ port: number; child: ChildProcess }> {
  const script = `
    const s = require("node:net").createServer().listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
      process.stdout.write(s.address().port + "\\n");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`listener child exited early (${code})`)));
  });
  return { port, child };
}

// ---------------------------------------------------------------------------------------------

describe("tcpConnect", () => {
  it("a closed port is connection_refused", async () => {
    const r = keep(await connect(await closedPort()));
    expect(r.failure).toBe("connection_refused");
    expect(r.socket).toBeNull();
  });

  it("a listening port connects", async () => {
    const r = keep(await connect(await stallServer()));
    expect(r.failure).toBeNull();
    expect(r.socket?.remotePort).toBeGreaterThan(0);
  });

  describe.skipIf(process.platform !== "linux")("a SYN nobody answers (full accept queue on loopback)", () => {
    let listener: { port: number; child: ChildProcess };
    const filling: net.Socket[] = [];
    let firstFailure: { failure: string | null; ms: number; attempts: number } | null = null;

    beforeAll(async () => {
      listener = await synDropListener();
      // Connect until one attempt fails: the ones before it fill the accept queue and are kept
      // open, so the queue stays full for the tests below.
      for (let i = 1; i <= 8 && !firstFailure; i++) {
        const r = await connect(listener.port, 300);
        if (r.socket) {
          r.socket.on("error", () => {});
          filling.push(r.socket);
        } else firstFailure = { failure: r.failure, ms: r.ms, attempts: i };
      }
    });
    afterAll(() => {
      for (const s of filling) s.destroy();
      listener?.child.kill();
    });

    it("is generic_timeout_error, returned at the step's deadline", () => {
      expect(firstFailure, "every connect succeeded: the kernel did not drop SYNs on a full queue").not.toBeNull();
      expect(firstFailure?.failure).toBe("generic_timeout_error");
      expect(firstFailure?.ms).toBeLessThan(3 * 300);
    });

    it("boundedRequest to it also stops at its deadline (undici's connect phase)", async () => {
      const r = await bounded(`http://${LOOPBACK}:${listener.port}/`, { timeoutMs: SHORT });
      expect(r.failure).toBe("generic_timeout_error");
      expect(r.status).toBeUndefined();
      expect(r.ms).toBeLessThan(3 * SHORT);
    }, 10_000);
  });
});

describe("tlsHandshake over a connected socket", () => {
  it("a RST after the ClientHello is connection_reset", async () => {
    const r = keep(await handshake(await resetServer(), { serverName: "site.test" }));
    expect(r.failure).toBe("connection_reset");
    expect(r.socket).toBeNull();
  });

  it("a FIN after the ClientHello is eof_error", async () => {
    const r = keep(await handshake(await eofServer(), { serverName: "site.test" }));
    expect(r.failure).toBe("eof_error");
  });

  it("a server that never answers is generic_timeout_error, and the connection is closed", async () => {
    const server = await watchedStallServer();
    const r = keep(await handshake(server.port, { serverName: "site.test", timeoutMs: SHORT }));
    expect(r.failure).toBe("generic_timeout_error");
    expect(r.ms).toBeLessThan(3 * SHORT);
    // A timed-out handshake must not leave its TCP connection open on the server.
    await server.closed();
  });

  it("a certificate for another name completes the handshake but is ssl_invalid_hostname", async () => {
    const port = await tlsServer(ca.issue(["other.test"]));
    const r = keep(await handshake(port, { serverName: "site.test", ca: ca.cert }));
    expect(r.socket).not.toBeNull();
    expect(r.failure).toBe("ssl_invalid_hostname");
    expect(r.verifyFailure).toBe("ssl_invalid_hostname");
    expect(r.verified).toBe(false);
    // The substituted certificate is still recorded: it is the evidence.
    expect(r.certificates[0]?.sans).toContain("DNS:other.test");
  });

  it("a self-signed certificate is ssl_unknown_authority", async () => {
    const port = await tlsServer(ca.selfSigned(["site.test"]));
    const r = keep(await handshake(port, { serverName: "site.test", ca: ca.cert }));
    expect(r.failure).toBe("ssl_unknown_authority");
    expect(r.verified).toBe(false);
    expect(r.certificates[0]?.subject).toContain("CN=site.test");
  });

  it("an expired certificate from a trusted CA is ssl_invalid_certificate", async () => {
    const port = await tlsServer(ca.issue(["site.test"], { days: -1 }));
    const r = keep(await handshake(port, { serverName: "site.test", ca: ca.cert }));
    expect(r.failure).toBe("ssl_invalid_certificate");
    expect(r.verified).toBe(false);
    expect(r.certificates[0]?.validTo).toBe("2024-01-02T00:00:00.000Z");
  });

  it("a valid certificate from a trusted CA verifies", async () => {
    const issued = ca.issue(["site.test"]);
    const port = await tlsServer(issued);
    const r = keep(await handshake(port, { serverName: "site.test", ca: ca.cert }));
    expect(r.failure).toBeNull();
    // The chain as received (DER, base64) and the cipher suite, for OONI's peer_certificates and cipher_suite.
    expect(r.certificates[0]?.der).toBe(new X509Certificate(issued.cert).raw.toString("base64"));
    expect(r.cipherSuite).toMatch(/^TLS_[A-Z0-9_]+$/);
    expect(r.verifyFailure).toBeNull();
    expect(r.verified).toBe(true);
    expect(r.version).toMatch(/^TLSv1\.[23]$/);
    expect(r.alpn).toBe("http/1.1");
    const leaf = r.certificates[0];
    expect(leaf?.sans).toContain("DNS:site.test");
    expect(leaf?.issuer).toContain("CN=reachprobe test CA");
    expect(leaf?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it("the same certificate without the CA is ssl_unknown_authority", async () => {
    const port = await tlsServer(ca.issue(["site.test"]));
    const r = keep(await handshake(port, { serverName: "site.test" }));
    expect(r.failure).toBe("ssl_unknown_authority");
  });
});

describe("udpDnsQuery", () => {
  it("an A answer", async () => {
    const dns = await dnsServer({ "a.test": { a: ["198.51.100.7", "198.51.100.8"] } });
    const r = await query(dns.port, "a.test");
    expect(r.failure).toBeNull();
    expect(r.responses).toHaveLength(1);
    expect(r.responses[0]).toMatchObject({ rcode: "NOERROR", addresses: ["198.51.100.7", "198.51.100.8"] });
  });

  it.each([
    ["NXDOMAIN", "dns_nxdomain_error"],
    ["SERVFAIL", "dns_servfail_error"],
    ["REFUSED", "dns_refused_error"],
  ] as const)("rcode %s is %s", async (rcode, failure) => {
    const dns = await dnsServer({ "a.test": { rcode } });
    const r = await query(dns.port, "a.test");
    expect(r.failure).toBe(failure);
    expect(r.responses[0]?.rcode).toBe(rcode);
  });

  it("NOERROR with no records is dns_no_answer", async () => {
    const dns = await dnsServer({ "a.test": { noAnswer: true } });
    const r = await query(dns.port, "a.test");
    expect(r.failure).toBe("dns_no_answer");
    expect(r.responses).toHaveLength(1);
  });

  it("a resolver that never answers is generic_timeout_error", async () => {
    const dns = await dnsServer({ "a.test": { drop: true } });
    const r = await query(dns.port, "a.test", { timeoutMs: SHORT });
    expect(r.failure).toBe("generic_timeout_error");
    expect(r.responses).toEqual([]);
    expect(dns.queries).toEqual(["a.test"]); // the query did arrive: silence, not a send error
    expect(r.ms).toBeLessThan(3 * SHORT);
  });

  it("garbage back is an unknown_failure that says malformed, and is kept", async () => {
    const dns = await dnsServer({ "a.test": { garbage: true } });
    const r = await query(dns.port, "a.test", { timeoutMs: SHORT });
    expect(r.failure).toMatch(/^unknown_failure: .*malformed/);
    expect(r.responses).toHaveLength(1);
    expect(r.responses[0]?.malformed).toMatch(/undecodable/);
  });

  it("an injected answer and the real one are both kept, the forged one first", async () => {
    const dns = await dnsServer({ "a.test": { inject: "10.10.34.35", then: ["198.51.100.7"], delayMs: 30 } });
    const r = await query(dns.port, "a.test", { windowMs: 300 });
    expect(r.responses.map((x) => x.addresses)).toEqual([["10.10.34.35"], ["198.51.100.7"]]);
    expect(r.failure).toBeNull();
    expect(r.responses[0]!.t).toBeLessThanOrEqual(r.responses[1]!.t);
  });

  it("a closed UDP port (ICMP port unreachable) is connection_refused, at once", async () => {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, LOOPBACK, r));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await query(port, "a.test", { timeoutMs: 2_000 });
    expect(r.failure).toBe("connection_refused");
    expect(r.responses).toEqual([]);
    // It must come from the ICMP error, not from waiting out the timeout.
    expect(r.ms).toBeLessThan(1_000);
  });
});

/** An HTTP server whose body never ends: 16 KiB chunks as fast as the client reads. */
async function endlessServer(): Promise<number> {
  return webServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/octet-stream" });
    const chunk = Buffer.alloc(16 * 1024, "a");
    let open = true;
    res.on("close", () => (open = false));
    const pump = () => {
      while (open && res.write(chunk));
      if (open) res.once("drain", pump);
    };
    pump();
  });
}

describe("the probe's HTTP step against hostile servers (probeTarget, loopback resolver)", () => {
  it("plain HTTP: status, lower-case headers, title, body length and hash", async () => {
    const body = "<!doctype html><html><head><title>\n  Привет,   мир </title></head><body>hello</body></html>";
    const port = await webServer((_req, res) => {
      res.writeHead(203, { "Content-Type": "text/html; charset=utf-8", "X-Block-Reason": "None" });
      res.end(body);
    });
    const { http, failure } = await probe(`http://site.test:${port}/`);
    expect(failure).toBeNull();
    expect(http?.status).toBe(203);
    expect(http?.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(http?.headers?.["x-block-reason"]).toBe("None");
    expect(Object.keys(http?.headers ?? {}).every((k) => k === k.toLowerCase())).toBe(true);
    expect(http?.title).toBe("Привет, мир");
    expect(http?.bodyLength).toBe(Buffer.byteLength(body)); // bytes, not characters
    expect(http?.bodySha256).toBe(sha256(body));
    expect(http?.bodyTruncated).toBe(false);
  });

  it("an endless body stops at maxBodyBytes, well before the timer", async () => {
    const { http } = await probe(`http://site.test:${await endlessServer()}/`, { maxBodyBytes: 100_000 });
    // failure null proves it returned before the step's timer fired.
    expect(http?.failure).toBeNull();
    expect(http?.bodyTruncated).toBe(true);
    expect(http?.bodyLength).toBe(100_000);
    expect(http?.bodySha256).toBe(sha256(Buffer.alloc(100_000, "a")));
  });

  it("a stall after the headers is generic_timeout_error, keeping status and the bytes read", async () => {
    const port = await webServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("partial");
    });
    const { http, failure, ms } = await probe(`http://site.test:${port}/`, { stepTimeoutMs: SHORT });
    expect(failure).toBe("generic_timeout_error");
    expect(http?.failure).toBe("generic_timeout_error");
    expect(http?.status).toBe(200);
    expect(http?.headers?.["content-type"]).toBe("text/plain");
    expect(http?.bodyLength).toBe(7);
    // DNS, TCP and the HTTP step each get their own timer; only the last one runs out.
    expect(ms).toBeLessThan(3 * SHORT + 1_000);
  });

  it("huge response headers are http_request_failed", async () => {
    const port = await tcpServer((s) =>
      s.once("data", () => s.write(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(200_000)}\r\nContent-Length: 0\r\n\r\n`)),
    );
    const { http, failure } = await probe(`http://site.test:${port}/`);
    expect(failure).toBe("http_request_failed");
    expect(http?.status).toBeUndefined();
  });

  it("a server closing mid-body is eof_error, keeping what arrived", async () => {
    const port = await tcpServer((s) =>
      s.once("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")),
    );
    const { http, failure } = await probe(`http://site.test:${port}/`);
    expect(failure).toBe("eof_error");
    expect(http?.status).toBe(200);
    expect(http?.bodyLength).toBe(10);
    expect(http?.bodySample).toBe("0123456789");
  });

  it("a server closing before any response is eof_error", async () => {
    const port = await tcpServer((s) => s.once("data", () => s.end()));
    const { http, failure } = await probe(`http://site.test:${port}/`);
    expect(failure).toBe("eof_error");
    expect(http?.failure).toBe("eof_error");
  });

  it("a RST before the response is connection_reset", async () => {
    const { http, failure } = await probe(`http://site.test:${await resetServer()}/`);
    expect(failure).toBe("connection_reset");
    expect(http?.status).toBeUndefined();
  });

  it("a closed port is connection_refused, on the TCP step", async () => {
    const { obs, failure } = await probe(`http://site.test:${await closedPort()}/`);
    expect(failure).toBe("connection_refused");
    expect(obs.find((o) => o.step === "tcp")?.failure).toBe("connection_refused");
  });

  it("HTTPS sends the URL's Host and SNI to the resolved address", async () => {
    let seen: { host?: string; sni?: string | false | null; url?: string } = {};
    const port = await webServer((req, res) => {
      seen = { host: req.headers.host, sni: (req.socket as TLSSocket).servername, url: req.url };
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<title>pinned</title>");
    }, ca.issue(["site.test"]));
    const { http, failure } = await probe(`https://site.test:${port}/path?q=1`);
    expect(failure).toBeNull();
    expect(http?.status).toBe(200);
    expect(http?.address).toBe(`${LOOPBACK}:${port}`);
    expect(http?.title).toBe("pinned");
    expect(seen).toEqual({ host: `site.test:${port}`, sni: "site.test", url: "/path?q=1" });
  });

  it("HTTPS to a server that never finishes the handshake stops at the TLS step's deadline", async () => {
    const { obs, failure, ms } = await probe(`https://site.test:${await stallServer()}/`, { stepTimeoutMs: SHORT });
    expect(failure).toBe("generic_timeout_error");
    expect(obs.find((o) => o.step === "tls")?.failure).toBe("generic_timeout_error");
    expect(ms).toBeLessThan(3 * SHORT + 1_000);
  }, 10_000);

  it("HTTPS to a server that closes after the ClientHello is eof_error", async () => {
    const { failure } = await probe(`https://site.test:${await eofServer()}/`);
    expect(failure).toBe("eof_error");
  });

  it("HTTPS with a RST after the ClientHello is connection_reset", async () => {
    const { failure } = await probe(`https://site.test:${await resetServer()}/`);
    expect(failure).toBe("connection_reset");
  });

  it.each([
    ["a self-signed certificate", () => ca.selfSigned(["site.test"]), "ssl_unknown_authority"],
    ["a certificate for another name", () => ca.issue(["other.test"]), "ssl_invalid_hostname"],
    ["an expired certificate", () => ca.issue(["site.test"], { days: -1 }), "ssl_invalid_certificate"],
  ] as const)("HTTPS with %s is %s, and no response is recorded", async (_what, pem, expected) => {
    const port = await tlsServer(pem());
    const { obs, http, failure } = await probe(`https://site.test:${port}/`);
    expect(failure).toBe(expected);
    expect(obs.find((o) => o.step === "tls")?.failure).toBe(expected);
    expect(http?.status).toBeUndefined();
  });
});

describe("boundedRequest (the tool's own requests: DoH, control helper, doctor)", () => {
  it("a body past the cap is cut there with the caller's failure, status and bytes kept", async () => {
    const r = await bounded(`http://${LOOPBACK}:${await endlessServer()}/`, { maxBodyBytes: 100_000, tooLarge: "unknown_failure: too big" });
    expect(r.failure).toBe("unknown_failure: too big");
    expect(r.status).toBe(200);
    expect(r.truncated).toBe(true);
    expect(r.body).toEqual(Buffer.alloc(100_000, "a"));
  });

  it("a body exactly at the cap is whole, not cut", async () => {
    const port = await webServer((_req, res) => res.end(Buffer.alloc(1000, "b")));
    const r = await bounded(`http://${LOOPBACK}:${port}/`, { maxBodyBytes: 1000 });
    expect(r).toMatchObject({ failure: null, status: 200, truncated: false });
    expect(r.body.length).toBe(1000);
  });

  it("POST sends the method, headers and body", async () => {
    let seen: { method?: string; type?: string; body?: string } = {};
    const port = await webServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        seen = { method: req.method, type: req.headers["content-type"], body };
        res.writeHead(201, { "Retry-After": "1" });
        res.end("ok");
      });
    });
    const r = await bounded(`http://${LOOPBACK}:${port}/q`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(seen).toEqual({ method: "POST", type: "application/json", body: "{}" });
    expect(r).toMatchObject({ failure: null, status: 201, headers: { "retry-after": "1" } });
    expect(r.body.toString()).toBe("ok");
  });

  it("a stall after the headers is generic_timeout_error, keeping the status and the bytes read", async () => {
    const port = await webServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("partial");
    });
    const r = await bounded(`http://${LOOPBACK}:${port}/`, { timeoutMs: SHORT });
    expect(r.failure).toBe("generic_timeout_error");
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe("partial");
    expect(r.ms).toBeLessThan(3 * SHORT);
  });

  it("HTTPS to a server that never finishes the handshake stops at the deadline (undici's connect phase)", async () => {
    const r = await bounded(`https://${LOOPBACK}:${await stallServer()}/`, { timeoutMs: SHORT });
    expect(r.failure).toBe("generic_timeout_error");
    expect(r.status).toBeUndefined();
    expect(r.ms).toBeLessThan(3 * SHORT);
  }, 10_000);

  it("an untrusted certificate is ssl_unknown_authority, and the extra CA makes it trusted", async () => {
    const port = await webServer((_req, res) => res.end("hi"), ca.issue([LOOPBACK]));
    expect((await bounded(`https://${LOOPBACK}:${port}/`)).failure).toBe("ssl_unknown_authority");
    const r = await bounded(`https://${LOOPBACK}:${port}/`, { ca: ca.cert });
    expect(r).toMatchObject({ failure: null, status: 200 });
  });

  it("a connection of its own is closed when the request ends, though the server offered keep-alive", async () => {
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const port = await tcpServer((s) => {
      s.once("data", () => s.write("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=600\r\nContent-Length: 2\r\n\r\nok"));
      s.once("close", () => resolveClosed());
    });
    const r = await bounded(`http://${LOOPBACK}:${port}/`);
    expect(r).toMatchObject({ failure: null, status: 200 });
    // Without the close this waits for the test's timeout and fails.
    await closed;
  });

  it("a closed port is connection_refused, and an aborted signal sends nothing", async () => {
    expect((await bounded(`http://${LOOPBACK}:${await closedPort()}/`)).failure).toBe("connection_refused");
    const r = await boundedRequest({ method: "GET", url: `http://${LOOPBACK}:1/`, signal: AbortSignal.abort(), maxBodyBytes: 10 });
    expect(r).toEqual({ failure: "generic_timeout_error", body: Buffer.alloc(0), truncated: false });
  });
});

describe("systemLookup", () => {
  // No `.invalid` (NXDOMAIN) case: on these machines /etc/resolv.conf names a non-loopback
  // nameserver, so getaddrinfo would send the query off the machine. `localhost` is answered
  // from /etc/hosts ("hosts: files dns"); strace showed no connect/sendto during the lookup.
  it("localhost resolves to loopback addresses", async () => {
    const timer = startStepTimer(ROOMY);
    const r = await systemLookup("localhost", timer.signal);
    timer.dispose();
    expect(r.failure).toBeNull();
    expect(r.addresses.length).toBeGreaterThan(0);
    for (const a of r.addresses) expect(a === "::1" || a.startsWith("127."), `${a} is not loopback`).toBe(true);
  });

  it("an IP literal comes back as itself", async () => {
    const timer = startStepTimer(ROOMY);
    const r = await systemLookup("127.0.0.1", timer.signal);
    timer.dispose();
    expect(r).toEqual({ addresses: ["127.0.0.1"], failure: null });
  });

  it("a lookup whose time is already up is generic_timeout_error", async () => {
    const r = await systemLookup("localhost", AbortSignal.abort());
    expect(r).toEqual({ addresses: [], failure: "generic_timeout_error" });
  });
});
