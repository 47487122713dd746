/**
 * What reachprobe's HTTP exchange puts on the wire and what it makes of hostile answers:
 * loopback servers record the raw request bytes, which must equal the browser fixtures in
 * tests/fixtures/http-request/ byte for byte; then decoding, caps, hostile servers and
 * keep-alive. Every server listens on 127.0.0.1; the URLs' names are only written in headers.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import zlib from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeTestCa, type Pem, type TestCa } from "../helpers/certs.js";
import { closeAll, tcpServer } from "../helpers/servers.js";
import { startStepTimer } from "../../src/net/deadline.js";
import { httpExchange, type HttpExchangeOptions, type HttpExchangeResult } from "../../src/net/http-exchange.js";
import { BROWSER_ALPN, browserRequestHeaders, type Navigation } from "../../src/probes/browser.js";

const LOOPBACK = "127.0.0.1";
const FIXTURES = new URL("../fixtures/http-request/", import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));
/** The User-Agent the fixtures were written with (fixed here, whatever the default becomes). */
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/159.0.0.0 Safari/537.36";
/** Step timeout for cases that must succeed: roomy, so a busy machine does not flake them. */
const ROOMY = 5_000;
/** Step timeout for cases meant to time out. */
const SHORT = 500;

let ca: TestCa;
let pem: Pem;
const servers: Array<net.Server | http2.Http2SecureServer> = [];
beforeAll(() => {
  ca = makeTestCa();
  pem = ca.issue(["www.example.com", "example.org", "login.example.com"]);
});
afterEach(async () => {
  await closeAll();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});
afterAll(closeAll);

// ---------------------------------------------------------------------------------------------
// Helpers

/** Raw bytes each connection received, per connection, in arrival order. */
interface Capture {
  port: number;
  connections: Buffer[][];
}

/**
 * A server that answers each request head (up to a blank line) with `respond(n)` for the
 * n-th request on that connection, recording every byte it receives. With `pem`, TLS with
 * ALPN http/1.1 only.
 */
async function captureServer(respond: (n: number, s: net.Socket) => Buffer | string | null, opts: { pem?: Pem } = {}): Promise<Capture> {
  const cap: Capture = { port: 0, connections: [] };
  const onSocket = (s: net.Socket) => {
    const got: Buffer[] = [];
    cap.connections.push(got);
    let pending = Buffer.alloc(0);
    let n = 0;
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      got.push(d);
      pending = Buffer.concat([pending, d]);
      for (let i = pending.indexOf("\r\n\r\n"); i >= 0; i = pending.indexOf("\r\n\r\n")) {
        pending = pending.subarray(i + 4);
        const answer = respond(n++, s);
        if (answer !== null && !s.destroyed) s.write(answer);
      }
    });
  };
  if (opts.pem) {
    const server = tls.createServer({ key: opts.pem.key, cert: opts.pem.cert, ALPNProtocols: ["http/1.1"] }, onSocket);
    server.on("tlsClientError", () => {});
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    cap.port = (server.address() as net.AddressInfo).port;
  } else {
    cap.port = await tcpServer(onSocket);
  }
  return cap;
}

async function plainSocket(port: number): Promise<net.Socket> {
  const s = net.connect(port, LOOPBACK);
  await new Promise<void>((resolve, reject) => s.once("connect", resolve).once("error", reject));
  return s;
}

async function tlsSocket(port: number, servername: string): Promise<tls.TLSSocket> {
  const s = tls.connect({ host: LOOPBACK, port, servername, ca: ca.cert, ALPNProtocols: BROWSER_ALPN });
  await new Promise<void>((resolve, reject) => s.once("secureConnect", resolve).once("error", reject));
  return s;
}

/** Runs one exchange under its own step timer. */
async function exchange(o: Omit<HttpExchangeOptions, "signal" | "maxBodyBytes"> & { maxBodyBytes?: number }, timeoutMs = ROOMY): Promise<HttpExchangeResult> {
  const timer = startStepTimer(timeoutMs);
  try {
    return await httpExchange({ maxBodyBytes: 1 << 20, ...o, signal: timer.signal });
  } finally {
    timer.dispose();
  }
}

const navigation = (url: string, extra: Partial<Navigation> = {}): Navigation => ({ url: new URL(url), hop: 0, userAgent: UA, protocol: "http/1.1", ...extra });
const OK = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 33\r\n\r\n<title>fixture page</title>hello!";

/** Sends `nav` through httpExchange to a capture server and returns the bytes it received. */
async function bytesSentFor(nav: Navigation, tlsName?: string): Promise<{ bytes: Buffer; result: HttpExchangeResult; alpn: string | false | null }> {
  const cap = await captureServer(() => OK, tlsName ? { pem } : {});
  const socket = tlsName ? await tlsSocket(cap.port, tlsName) : await plainSocket(cap.port);
  const alpn = socket instanceof tls.TLSSocket ? socket.alpnProtocol : null;
  const result = await exchange({ url: nav.url, socket, alpn: alpn || null, headers: browserRequestHeaders(nav) });
  socket.destroy();
  return { bytes: Buffer.concat(cap.connections[0] ?? []), result, alpn };
}

/** Serves one canned response (head + body bytes) and returns the exchange's result. */
async function fetchCanned(response: Buffer | string, opts: { maxBodyBytes?: number; maxHeaderBytes?: number; timeoutMs?: number } = {}): Promise<HttpExchangeResult> {
  const cap = await captureServer(() => response);
  const socket = await plainSocket(cap.port);
  const nav = navigation("http://www.example.com/");
  return exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav), ...opts }, opts.timeoutMs);
}

function encoded(encoding: string, body: Buffer, extra = ""): Buffer {
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\n${extra}\r\n`), body]);
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A zstd frame header (no checksum, no dictionary) with the given window descriptor byte. */
function zstdHeader(windowDescriptor: number): Buffer {
  return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor]);
}
/** A zstd block header: last flag, type (0 raw, 1 RLE), size. */
function zstdBlock(last: boolean, type: 0 | 1, size: number, content: Buffer): Buffer {
  const h = (last ? 1 : 0) | (type << 1) | (size << 3);
  return Buffer.concat([Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), content]);
}

// ---------------------------------------------------------------------------------------------

describe("the bytes on the wire are Chrome's (tests/fixtures/http-request)", () => {
  it("http://, hop 0: request line and header list exactly as in http-hop0.bin", async () => {
    const { bytes, result } = await bytesSentFor(navigation("http://www.example.com/"));
    expect(bytes.toString("latin1")).toBe(fixture("http-hop0.bin").toString("latin1"));
    expect(result).toMatchObject({ failure: null, status: 200, title: "fixture page", protocol: "http/1.1" });
  });

  it("https://, hop 0 over HTTP/1.1 (server offers only http/1.1): https-hop0.bin", async () => {
    const { bytes, result, alpn } = await bytesSentFor(navigation("https://www.example.com/"), "www.example.com");
    expect(alpn).toBe("http/1.1");
    expect(bytes.toString("latin1")).toBe(fixture("https-hop0.bin").toString("latin1"));
    expect(result.status).toBe(200);
  });

  it("a same-origin redirect hop: https-redirect-same-origin.bin", async () => {
    const nav = navigation("https://www.example.com/home?lang=en", { hop: 1, from: new URL("https://www.example.com/") });
    const { bytes } = await bytesSentFor(nav, "www.example.com");
    expect(bytes.toString("latin1")).toBe(fixture("https-redirect-same-origin.bin").toString("latin1"));
  });

  it("a cross-site redirect hop: https-redirect-cross-site.bin", async () => {
    const nav = navigation("https://example.org/landing", { hop: 1, from: new URL("https://www.example.com/") });
    const { bytes } = await bytesSentFor(nav, "example.org");
    expect(bytes.toString("latin1")).toBe(fixture("https-redirect-cross-site.bin").toString("latin1"));
  });

  it("an http -> https redirect hop: https-redirect-from-http.bin", async () => {
    const nav = navigation("https://www.example.com/", { hop: 1, from: new URL("http://www.example.com/") });
    const { bytes } = await bytesSentFor(nav, "www.example.com");
    expect(bytes.toString("latin1")).toBe(fixture("https-redirect-from-http.bin").toString("latin1"));
  });

  it("HTTP/2 when ALPN says h2: the server decodes h2-hop0.txt, pseudo-headers first, in order", async () => {
    const server = http2.createSecureServer({ key: pem.key, cert: pem.cert });
    servers.push(server);
    let received: string[] = [];
    server.on("stream", (stream: http2.ServerHttp2Stream, _headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      received = rawHeaders;
      stream.respond({ ":status": 200, "content-type": "text/html", "content-encoding": "gzip" });
      stream.end(zlib.gzipSync("<title>over h2</title>"));
    });
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    const socket = await tlsSocket((server.address() as net.AddressInfo).port, "www.example.com");
    expect(socket.alpnProtocol).toBe("h2");
    const nav = navigation("https://www.example.com/", { protocol: "h2" });
    const r = await exchange({ url: nav.url, socket, alpn: "h2", headers: browserRequestHeaders(nav) });
    const lines: string[] = [];
    for (let i = 0; i + 1 < received.length; i += 2) lines.push(`${received[i]}: ${received[i + 1]}\n`);
    expect(lines.join("")).toBe(fixture("h2-hop0.txt").toString("utf8"));
    expect(r).toMatchObject({ failure: null, status: 200, title: "over h2", contentEncoding: "gzip", protocol: "h2", reusable: false });
    expect(socket.destroyed).toBe(true);
  });
});

describe("bodies are decoded, hashed over the decoded bytes, and capped", () => {
  const page = fixture("page.html");

  it.each([
    ["gzip", zlib.gzipSync(page)],
    ["deflate", zlib.deflateSync(page)],
    ["deflate", zlib.deflateRawSync(page)], // raw deflate, which Chrome accepts too
    ["br", zlib.brotliCompressSync(page)],
    ["zstd", fixture("page.html.zst")],
  ])("%s", async (encoding, body) => {
    const r = await fetchCanned(encoded(encoding, body));
    expect(r).toMatchObject({ failure: null, status: 200, contentEncoding: encoding, bodyLength: page.length, bodyTruncated: false, wireBodyLength: body.length });
    expect(r.bodySha256).toBe(sha256(page));
    expect(r.title).toBe("Zstandard works");
  });

  it("zstd raw and RLE blocks (hand-made frame) decode", async () => {
    const body = Buffer.concat([zstdHeader(0x00), zstdBlock(false, 0, 7, Buffer.from("<title>")), zstdBlock(false, 1, 5, Buffer.from("z")), zstdBlock(true, 0, 8, Buffer.from("</title>"))]);
    const r = await fetchCanned(encoded("zstd", body));
    expect(r).toMatchObject({ failure: null, title: "zzzzz", bodyLength: 20, contentEncoding: "zstd" });
  });

  it.each([
    ["gzip", () => zlib.gzipSync(Buffer.alloc(64 << 20))],
    ["br", () => zlib.brotliCompressSync(Buffer.alloc(64 << 20), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })],
    // 600 RLE blocks of 128 KiB from 4 bytes each: 75 MiB from 2.4 kB
    ["zstd", () => Buffer.concat([zstdHeader(0x38), ...Array.from({ length: 600 }, (_, i) => zstdBlock(i === 599, 1, 128 * 1024, Buffer.from("A")))])],
  ])("a %s bomb stops at the cap: bodyTruncated, no failure, the wire body far smaller", async (encoding, make) => {
    const body = make();
    const r = await fetchCanned(encoded(encoding, body), { maxBodyBytes: 256 * 1024 });
    expect(r).toMatchObject({ failure: null, status: 200, bodyLength: 256 * 1024, bodyTruncated: true, contentEncoding: encoding, reusable: false });
    expect(r.wireBodyLength).toBe(body.length);
    expect(body.length).toBeLessThan(256 * 1024);
  });

  it("the cap also applies to the bytes read off the wire (identity body longer than the cap)", async () => {
    const r = await fetchCanned(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"), Buffer.alloc(100000, 0x61)]), { maxBodyBytes: 1000 });
    expect(r).toMatchObject({ failure: null, bodyLength: 1000, bodyTruncated: true, wireBodyLength: 1000, reusable: false });
  });

  it("a gzip body cut by the wire cap is decoded as far as it goes, not failed", async () => {
    const page2 = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}\n`).join(""));
    const gz = zlib.gzipSync(page2);
    const cap = Math.floor(gz.length / 2);
    const r = await fetchCanned(encoded("gzip", gz), { maxBodyBytes: cap });
    expect(r).toMatchObject({ failure: null, bodyTruncated: true, wireBodyLength: cap });
    expect(r.bodyLength).toBeGreaterThan(0);
    expect(r.bodySha256).toBe(sha256(page2.subarray(0, r.bodyLength)));
  });

  it("a zstd frame asking for a window over 8 MB is refused (RFC 9659), not allocated", async () => {
    // window descriptor 0x70: 2^(10+14) = 16 MiB
    const body = Buffer.concat([zstdHeader(0x70), zstdBlock(true, 0, 2, Buffer.from("hi"))]);
    const r = await fetchCanned(encoded("zstd", body));
    expect(r).toMatchObject({ failure: "http_request_failed", status: 200, contentEncoding: "zstd" });
  });

  it.each([
    ["gzip", Buffer.from("this is not gzip at all")],
    ["br", Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01])],
    ["zstd", Buffer.from("not zstd either")],
    ["gzip", zlib.gzipSync(Buffer.from("x".repeat(1000))).subarray(0, 15)], // truncated by the server
  ])("a bad %s body is http_request_failed, with the status and headers kept", async (encoding, body) => {
    const r = await fetchCanned(encoded(encoding, body));
    expect(r.failure).toBe("http_request_failed");
    expect(r.status).toBe(200);
    expect(r.headers?.["content-encoding"]).toBe(encoding);
  });

  it("an unknown or stacked coding is kept as received and says so", async () => {
    const r = await fetchCanned(encoded("gzip, br", Buffer.from("<title>as is</title>")));
    expect(r).toMatchObject({ failure: null, contentEncoding: "gzip, br", title: "as is" });
  });
});

describe("hostile servers give a classified failure within the step timeout", () => {
  it.each([
    ["a garbage status line", "HELLO THERE\r\n\r\n", "http_request_failed"],
    ["a status line with no headers end, then FIN", "HTTP/1.1 200 OK\r\nX-A: 1\r\n", "eof_error"],
    ["a bare LF header (strict parser)", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", "http_request_failed"],
    ["a space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", "http_request_failed"],
    ["two different Content-Length values", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "http_request_failed"],
    ["bad chunked framing", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", "http_request_failed"],
    ["a 101 Switching Protocols nobody asked for", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "http_request_failed"],
    ["a FIN before any byte of response", "", "eof_error"],
  ])("%s", async (_what, response, failure) => {
    const cap = await captureServer((_n, s) => {
      s.end(response);
      return null;
    });
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) });
    expect(r.failure).toBe(failure);
    expect(r.reusable).toBe(false);
    expect(socket.destroyed).toBe(true);
  });

  it("endless headers stop at maxHeaderBytes: http_request_failed", async () => {
    const cap = await captureServer((_n, s) => {
      s.write("HTTP/1.1 200 OK\r\n");
      // A bounded flood, far past the limit (the client must give up long before the end).
      const line = `X-Flood: ${"a".repeat(1000)}\r\n`;
      for (let i = 0; i < 2000 && !s.destroyed; i++) s.write(line);
      return null;
    });
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav), maxHeaderBytes: 16 * 1024 });
    expect(r.failure).toBe("http_request_failed");
    expect(r.status).toBeUndefined();
  });

  it("a Content-Length that lies (FIN after 10 of 1000 bytes): eof_error, the head and partial body kept", async () => {
    const cap = await captureServer((_n, s) => {
      s.end("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<title>x</title>");
      return null;
    });
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) });
    expect(r).toMatchObject({ failure: "eof_error", status: 200, bodyLength: 16, title: "x", reusable: false });
  });

  it("a reset in the middle of a chunked body: connection_reset", async () => {
    const cap = await captureServer((_n, s) => {
      s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", () => setTimeout(() => s.resetAndDestroy(), 50));
      return null;
    });
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) });
    expect(r.failure).toBe("connection_reset");
    expect(r.status).toBe(200);
  });

  it("no answer at all: generic_timeout_error at the step timer, socket destroyed", async () => {
    const cap = await captureServer(() => null);
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) }, SHORT);
    expect(r).toMatchObject({ failure: "generic_timeout_error", reusable: false });
    expect(r.status).toBeUndefined();
    expect(socket.destroyed).toBe(true);
  });

  it("headers, then a body that never comes: generic_timeout_error with the status kept", async () => {
    const r = await fetchCanned("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n<title>slow</title>", { timeoutMs: SHORT });
    expect(r).toMatchObject({ failure: "generic_timeout_error", status: 200, title: "slow", reusable: false });
  });

  it("an already aborted signal: generic_timeout_error, nothing sent", async () => {
    const cap = await captureServer(() => OK);
    const socket = await plainSocket(cap.port);
    const ac = new AbortController();
    ac.abort();
    const nav = navigation("http://www.example.com/");
    const r = await httpExchange({ url: nav.url, socket, headers: browserRequestHeaders(nav), signal: ac.signal, maxBodyBytes: 1000 });
    expect(r.failure).toBe("generic_timeout_error");
    expect(socket.destroyed).toBe(true);
  });

  it("a header value our side cannot write (CR LF in the User-Agent): http_request_failed, nothing sent", async () => {
    const cap = await captureServer(() => OK);
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/", { userAgent: "evil\r\nX-Injected: 1" });
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) });
    expect(r.failure).toBe("http_request_failed");
    await new Promise((r2) => setTimeout(r2, 50));
    expect(Buffer.concat(cap.connections[0] ?? []).length).toBe(0);
  });

  it("HTTP/2: a stream reset by the server is http_request_failed", async () => {
    const server = http2.createSecureServer({ key: pem.key, cert: pem.cert });
    servers.push(server);
    server.on("stream", (stream) => {
      stream.on("error", () => {}); // the server's side of the reset reports it too
      stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    });
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    const socket = await tlsSocket((server.address() as net.AddressInfo).port, "www.example.com");
    const nav = navigation("https://www.example.com/", { protocol: "h2" });
    const r = await exchange({ url: nav.url, socket, alpn: "h2", headers: browserRequestHeaders(nav) });
    expect(r.failure).toBe("http_request_failed");
  });

  it("HTTP/2: response headers past maxHeaderBytes: http_request_failed", async () => {
    const server = http2.createSecureServer({ key: pem.key, cert: pem.cert });
    servers.push(server);
    server.on("stream", (stream) => {
      stream.on("error", () => {});
      const big: Record<string, string> = { ":status": "200" };
      for (let i = 0; i < 40; i++) big[`x-flood-${i}`] = "a".repeat(1000);
      stream.respond(big);
      stream.end("hi");
    });
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    const socket = await tlsSocket((server.address() as net.AddressInfo).port, "www.example.com");
    const nav = navigation("https://www.example.com/", { protocol: "h2" });
    const r = await exchange({ url: nav.url, socket, alpn: "h2", headers: browserRequestHeaders(nav), maxHeaderBytes: 16 * 1024 });
    expect(r.failure).toBe("http_request_failed");
    expect(r.status).toBeUndefined();
  });

  it("HTTP/2: a server that never answers the stream: generic_timeout_error", async () => {
    const server = http2.createSecureServer({ key: pem.key, cert: pem.cert });
    servers.push(server);
    server.on("stream", () => {});
    await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
    const socket = await tlsSocket((server.address() as net.AddressInfo).port, "www.example.com");
    const nav = navigation("https://www.example.com/", { protocol: "h2" });
    const r = await exchange({ url: nav.url, socket, alpn: "h2", headers: browserRequestHeaders(nav) }, SHORT);
    expect(r.failure).toBe("generic_timeout_error");
    expect(socket.destroyed).toBe(true);
  });
});

describe("reusable: the caller keeps a keep-alive socket", () => {
  it("keep-alive with Content-Length: reusable, the socket left open, a second exchange rides the same connection", async () => {
    const cap = await captureServer((n) => `HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n<title>${n}</title>`);
    const socket = await plainSocket(cap.port);
    const first = navigation("http://www.example.com/");
    const r1 = await exchange({ url: first.url, socket, headers: browserRequestHeaders(first) });
    expect(r1).toMatchObject({ failure: null, title: "0", reusable: true });
    expect(socket.destroyed).toBe(false);
    const second = navigation("http://www.example.com/next", { hop: 1, from: first.url });
    const r2 = await exchange({ url: second.url, socket, headers: browserRequestHeaders(second) });
    expect(r2).toMatchObject({ failure: null, title: "1", reusable: true });
    expect(cap.connections).toHaveLength(1);
    expect(Buffer.concat(cap.connections[0]!).toString("latin1")).toMatch(/^GET \/ HTTP\/1\.1\r\n[\s\S]*\r\n\r\nGET \/next HTTP\/1\.1\r\nHost: www\.example\.com\r\n/);
    // node:http's listeners are gone: the socket is the caller's again.
    expect(socket.listenerCount("data")).toBe(0);
    // ...but one 'error' listener stays, so a reset while it idles cannot crash the process.
    expect(socket.listenerCount("error")).toBe(1);
    socket.destroy();
  });

  it("a kept socket the server closed while it idled: eof_error at once, not a wait for the timer", async () => {
    const cap = await captureServer((_n, s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", () => setTimeout(() => s.end(), 20));
      return null;
    });
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    expect((await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) })).reusable).toBe(true);
    await new Promise<void>((r) => socket.once("close", () => r()));
    // A long step timer: a hang would show as generic_timeout_error after 60 s (past the test's own timeout).
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) }, 60_000);
    expect(r).toMatchObject({ failure: "eof_error", reusable: false });
  });

  it("Connection: close from the server: not reusable, socket destroyed", async () => {
    const r = await fetchCanned("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    expect(r).toMatchObject({ failure: null, status: 200, reusable: false });
  });

  it("HTTP/1.0 and a body read until close: not reusable", async () => {
    const cap = await captureServer((_n, s) => {
      s.end("HTTP/1.0 200 OK\r\n\r\nuntil close");
      return null;
    });
    const socket = await plainSocket(cap.port);
    const nav = navigation("http://www.example.com/");
    const r = await exchange({ url: nav.url, socket, headers: browserRequestHeaders(nav) });
    expect(r).toMatchObject({ failure: null, bodySample: Buffer.from("until close"), reusable: false });
    expect(socket.destroyed).toBe(true);
  });
});
