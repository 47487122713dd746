// STAND-IN: replaced by the h-http-net branch at merge
/**
 * One HTTP request/response over a socket the caller already connected (and handshaked), so
 * that the request goes over the connection the TCP and TLS steps measured. A small stand-in
 * with the agreed interface: HTTP/1.1 through node:http, HTTP/2 through node:http2.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { Failure } from "./failures.js";
import { classifyHttpError } from "./classify.js";
import { abortReason } from "./deadline.js";
import { titleOf } from "./http.js";

/** What one exchange needs. */
export interface HttpExchangeOptions {
  url: URL;
  /** A connected socket: net.Socket for http:, an already handshaked tls.TLSSocket for https:. */
  socket: net.Socket;
  /** The ALPN the TLS handshake negotiated ("h2" -> HTTP/2 framing), null/undefined -> HTTP/1.1. */
  alpn?: string | null;
  /** Exact header list to send (from browserRequestHeaders). */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Aborts the exchange, headers and body (the step's timer). */
  signal: AbortSignal;
  maxBodyBytes: number;
  /** Bytes of the (decoded) body kept as a sample for fingerprints and the title. Default 8192. */
  sampleBytes?: number;
  maxHeaderBytes?: number;
}

/** What one exchange produced; fields after `failure` are set when headers arrived. */
export interface HttpExchangeResult {
  failure: Failure | null;
  status?: number;
  /** Lower-case names, repeated values joined with ", " (as today's HttpObservation.headers). */
  headers?: Record<string, string>;
  /** Every header as received, in order, repeats kept: [name, value]. */
  headersList?: Array<[string, string]>;
  bodyLength?: number;
  bodyTruncated?: boolean;
  bodySha256?: string;
  bodySample?: string;
  title?: string | null;
  /** Content-Encoding that was decoded (gzip, br, ...), or the raw one if it could not be. */
  contentEncoding?: string;
  /** True when the connection may carry another request (keep-alive, body fully read). */
  reusable: boolean;
}

/** Reads a body into the result: hashed, capped, a sample kept. */
class BodyReader {
  private hash = createHash("sha256");
  private sample: Buffer[] = [];
  private sampled = 0;
  length = 0;
  truncated = false;
  constructor(
    private readonly max: number,
    private readonly sampleBytes: number,
  ) {}
  /** Takes a chunk; false once the cap is reached (stop reading). */
  push(chunk: Buffer): boolean {
    let part = chunk;
    if (this.length + part.length > this.max) {
      part = part.subarray(0, this.max - this.length);
      this.truncated = true;
    }
    this.length += part.length;
    this.hash.update(part);
    if (this.sampled < this.sampleBytes) {
      const s = part.subarray(0, this.sampleBytes - this.sampled);
      this.sample.push(s);
      this.sampled += s.length;
    }
    return !this.truncated;
  }
  into(r: HttpExchangeResult): void {
    const text = Buffer.concat(this.sample).toString("utf8");
    r.bodyLength = this.length;
    r.bodyTruncated = this.truncated;
    r.bodySha256 = this.hash.digest("hex");
    r.bodySample = text;
    r.title = titleOf(text);
  }
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function flatten(list: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of list) {
    const name = k.toLowerCase();
    out[name] = (out[name] === undefined ? v : `${out[name]}, ${v}`).slice(0, 2048);
  }
  return out;
}

/** One request/response over `socket`; never throws for network failures; never destroys a reusable socket (the caller owns it). */
export function httpExchange(o: HttpExchangeOptions): Promise<HttpExchangeResult> {
  if (o.signal.aborted) return Promise.resolve({ failure: classifyHttpError(abortReason(o.signal)), reusable: false });
  return o.alpn === "h2" ? exchange2(o) : exchange1(o);
}

function exchange1(o: HttpExchangeOptions): Promise<HttpExchangeResult> {
  return new Promise((resolve) => {
    const result: HttpExchangeResult = { failure: null, reusable: false };
    const body = new BodyReader(o.maxBodyBytes, o.sampleBytes ?? 8192);
    let done = false;
    const finish = (failure: Failure | null, reusable: boolean) => {
      if (done) return;
      done = true;
      o.signal.removeEventListener("abort", onAbort);
      result.failure = failure;
      result.reusable = reusable && failure === null;
      if (result.status !== undefined) body.into(result);
      resolve(result);
    };
    const req = http.request({
      method: "GET",
      path: o.url.pathname + o.url.search,
      headers: o.headers.map(([k, v]) => [k, v]) as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      maxHeaderSize: o.maxHeaderBytes ?? 64 * 1024,
      createConnection: () => o.socket,
    });
    // QUIRK: a ClientRequest without an agent always ends its connection after the response
    // (seen on Node 20: the socket was destroyed although both sides said keep-alive); this
    // is what a keep-alive agent does instead.
    req.shouldKeepAlive = true;
    const onAbort = () => {
      req.destroy(abortReason(o.signal));
      finish(classifyHttpError(abortReason(o.signal)), false);
    };
    o.signal.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err) => finish(o.signal.aborted ? classifyHttpError(abortReason(o.signal)) : classifyHttpError(err), false));
    req.on("response", (res) => {
      result.status = res.statusCode ?? 0;
      result.headersList = pairs(res.rawHeaders);
      result.headers = flatten(result.headersList);
      const enc = result.headers["content-encoding"];
      if (enc) result.contentEncoding = enc;
      res.on("data", (chunk: Buffer) => {
        if (!body.push(chunk)) {
          req.destroy();
          finish(null, false);
        }
      });
      res.on("error", (err) => finish(classifyHttpError(err), false));
      res.on("aborted", () => finish("eof_error", false));
      // The socket is handed back to us (not destroyed) only when both sides keep it alive.
      res.on("end", () => setImmediate(() => finish(res.complete ? null : "eof_error", !o.socket.destroyed && req.shouldKeepAlive)));
    });
    req.end();
  });
}

function exchange2(o: HttpExchangeOptions): Promise<HttpExchangeResult> {
  return new Promise((resolve) => {
    const result: HttpExchangeResult = { failure: null, reusable: false };
    const body = new BodyReader(o.maxBodyBytes, o.sampleBytes ?? 8192);
    const session = http2.connect(o.url.origin, { createConnection: () => o.socket, maxSendHeaderBlockLength: o.maxHeaderBytes ?? 64 * 1024 });
    let done = false;
    const finish = (failure: Failure | null) => {
      if (done) return;
      done = true;
      o.signal.removeEventListener("abort", onAbort);
      result.failure = failure;
      if (result.status !== undefined) body.into(result);
      // An HTTP/2 session cannot be handed back as a bare socket: the connection ends here.
      session.destroy();
      resolve(result);
    };
    const onAbort = () => finish(classifyHttpError(abortReason(o.signal)));
    o.signal.addEventListener("abort", onAbort, { once: true });
    session.on("error", (err) => finish(classifyHttpError(err)));
    const headers: http2.OutgoingHttpHeaders = { ":method": "GET", ":path": o.url.pathname + o.url.search, ":scheme": o.url.protocol.slice(0, -1), ":authority": o.url.host };
    for (const [k, v] of o.headers) headers[k.toLowerCase()] = v;
    const stream = session.request(headers, { endStream: true });
    stream.on("error", (err) => finish(classifyHttpError(err)));
    stream.on("response", (h, flags) => {
      void flags;
      result.status = Number(h[":status"] ?? 0);
      result.headersList = Object.entries(h)
        .filter(([k]) => !k.startsWith(":"))
        .map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]);
      result.headers = flatten(result.headersList);
      const enc = result.headers["content-encoding"];
      if (enc) result.contentEncoding = enc;
    });
    stream.on("data", (chunk: Buffer) => {
      if (!body.push(chunk)) finish(null);
    });
    stream.on("end", () => finish(null));
  });
}
