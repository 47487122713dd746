/**
 * One HTTP request/response over a socket the caller already connected (and, for https:,
 * handshaked), so the GET travels on the very connection the TCP and TLS steps measured.
 *
 * HTTP/1.1 goes through node:http with the socket handed over by `createConnection`: the
 * request line and the given header list are written byte for byte (names, case and order
 * untouched; nothing added), and llhttp parses the response strictly. HTTP/2 (ALPN "h2")
 * goes through node:http2 on the same socket, one stream. The body is capped on the wire and
 * after decoding (body-decode.ts), hashed and sampled; the step's signal bounds everything.
 * docs/browser-request.md describes what is sent and why.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import http from "node:http";
import type http2 from "node:http2";
import { createRequire } from "node:module";
import type net from "node:net";
import type { Failure } from "./failures.js";
import { classifyHttpError } from "./classify.js";
import { abortReason, type StepSignal } from "./deadline.js";
import { decodeBody } from "./body-decode.js";

/** What httpExchange needs: the URL, the connected socket, the exact headers, the bounds. */
export interface HttpExchangeOptions {
  url: URL;
  /** A connected socket: net.Socket for http:, an already handshaked tls.TLSSocket for https:. */
  socket: net.Socket;
  /** The ALPN the TLS handshake negotiated ("h2" -> HTTP/2 framing), null/undefined -> HTTP/1.1. */
  alpn?: string | null;
  /** Exact header list to send (from browserRequestHeaders). */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Aborts the exchange, headers and body (the step's timer). */
  signal: StepSignal;
  maxBodyBytes: number;
  /** Bytes of the (decoded) body kept as a sample (fingerprints, the title, the OONI export). Default DEFAULT_SAMPLE_BYTES. */
  sampleBytes?: number;
  /** Bound on the response's header bytes (status line and headers). Default 64 KiB. */
  maxHeaderBytes?: number;
}

/** What one exchange produced; fields after `failure` are set once a response head arrived. */
export interface HttpExchangeResult {
  failure: Failure | null;
  status?: number;
  /** Lower-case names, repeated values joined with ", " (as today's HttpObservation.headers), each cut at MAX_HEADER_VALUE characters. */
  headers?: Record<string, string>;
  /** Every header as received, in order, repeats kept: [name, value]. */
  headersList?: Array<[string, string]>;
  /** Decoded bytes read (up to the cap). */
  bodyLength?: number;
  bodyTruncated?: boolean;
  /** SHA-256 of the decoded bytes read. */
  bodySha256?: string;
  /** The first decoded bytes of the body, exactly as read (up to sampleBytes). */
  bodySample?: Buffer;
  title?: string | null;
  /** Content-Encoding that was decoded (gzip, br, ...), or the raw one if it could not be. */
  contentEncoding?: string;
  /** Body bytes as they came off the wire (before decoding), up to the cap. Added field. */
  wireBodyLength?: number;
  /** "http/1.1" or "h2": the framing the exchange used. Added field. */
  protocol?: "http/1.1" | "h2";
  /** True when the connection may carry another request (keep-alive, body fully read). */
  reusable: boolean;
}

const TITLE = /<title[^>]*>([\s\S]*?)<\/title>/i;

/** Extracts the HTML title from the start of a body, trimmed and bounded. */
export function titleOf(sample: string): string | null {
  const m = TITLE.exec(sample);
  return m?.[1] ? m[1].replace(/\s+/g, " ").trim().slice(0, 200) : null;
}

/** What the wire gave, before decoding. */
interface RawResponse {
  failure: Failure | null;
  status?: number;
  headersList?: Array<[string, string]>;
  wire?: Buffer;
  /** The body ended where the framing said (not cut by the cap, no error). */
  complete?: boolean;
  wireTruncated?: boolean;
  keepAlive?: boolean;
}

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

/** The default sample kept of a body: 512 KiB, what OONI's probes keep (docs/commands.md, "reachprobe export"). */
export const DEFAULT_SAMPLE_BYTES = 512 * 1024;

/**
 * A header value (repeats joined) is cut at this many characters; the whole header section is
 * bounded by maxHeaderBytes anyway, so this only bounds what one joined value can hold.
 */
export const MAX_HEADER_VALUE = 16 * 1024;

/** Body bytes off the wire, kept up to a cap: what passes the cap is dropped. */
class CappedBytes {
  private readonly parts: Buffer[] = [];
  private length = 0;
  constructor(private readonly cap: number) {}
  /** Keeps what fits of `chunk`; true when the cap is reached (nothing more will be kept). */
  take(chunk: Buffer): boolean {
    const room = this.cap - this.length;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.parts.push(part);
    this.length += part.length;
    return chunk.length > room;
  }
  /** The bytes kept, in one buffer. */
  bytes(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

/**
 * What the HTTP/1.1 and HTTP/2 exchanges share: the response as it is filled in, its body bytes
 * under the cap, the step's timer, and one settlement however many events race to it.
 */
class PendingResponse {
  readonly out: RawResponse = { failure: null };
  private readonly wire: CappedBytes;
  private done = false;
  private readonly onAbort = () => this.settle(classifyHttpError(abortReason(this.signal)));

  /** `finish` runs once, at settlement, before `resolve` (what each protocol must release). */
  constructor(
    private readonly signal: StepSignal,
    cap: number,
    private readonly finish: (out: RawResponse) => void,
    private readonly resolve: (out: RawResponse) => void,
  ) {
    this.wire = new CappedBytes(cap);
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Ends the exchange with `failure` (null: it went well) unless a failure was set before. */
  settle(failure: Failure | null): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener("abort", this.onAbort);
    this.out.failure ??= failure;
    this.out.wire = this.wire.bytes();
    this.finish(this.out);
    this.resolve(this.out);
  }

  /** Keeps a body chunk; the cap reached ends the exchange, the body marked cut. */
  take(chunk: Buffer): void {
    if (this.done) return;
    if (this.wire.take(chunk)) {
      this.out.wireTruncated = true;
      this.settle(null);
    }
  }

  /** An error's failure: the step's timeout when the timer fired (the error is its echo), else the error classified. */
  failureOf(err: unknown): Failure {
    return classifyHttpError(this.signal.aborted ? abortReason(this.signal) : err);
  }

  /** A close before the response ended: the step's timeout when the timer fired, else `failure`. */
  closedWith(failure: Failure): Failure {
    return this.signal.aborted ? classifyHttpError(abortReason(this.signal)) : failure;
  }
}

/** One request/response over `socket`; never throws for network failures; never destroys a reusable socket (the caller owns it). */
export async function httpExchange(o: HttpExchangeOptions): Promise<HttpExchangeResult> {
  const protocol = o.alpn === "h2" ? "h2" : "http/1.1";
  if (o.signal.aborted) {
    o.socket.destroy();
    return { failure: classifyHttpError(abortReason(o.signal)), protocol, reusable: false };
  }
  if (o.socket.destroyed || !o.socket.writable) {
    // QUIRK: node:http given a socket that is already closed (a keep-alive connection the
    // server ended while it idled) emits nothing at all: the exchange would wait for the
    // step's timer (seen: 2.9 s against a 3 s signal). A browser reconnects and retries here;
    // the caller sees eof_error at once and may do the same.
    o.socket.destroy();
    return { failure: "eof_error", protocol, reusable: false };
  }
  const raw = protocol === "h2" ? await exchangeH2(o) : await exchangeH1(o);
  const result: HttpExchangeResult = { failure: raw.failure, protocol, reusable: false };
  if (raw.status !== undefined && raw.headersList) {
    result.status = raw.status;
    result.headersList = raw.headersList;
    result.headers = flatten(raw.headersList);
    const wire = raw.wire ?? Buffer.alloc(0);
    result.wireBodyLength = wire.length;
    let body = wire.subarray(0, 0);
    let truncated = raw.wireTruncated ?? false;
    const encoding = result.headers["content-encoding"];
    try {
      const d = await decodeBody(wire, encoding, o.maxBodyBytes, raw.complete ?? false);
      body = d.body;
      truncated ||= d.truncated;
      if (d.contentEncoding !== undefined) result.contentEncoding = d.contentEncoding;
    } catch (err) {
      result.failure ??= classifyHttpError(err);
      if (encoding) result.contentEncoding = encoding;
    }
    if (o.signal.aborted && !result.failure) result.failure = classifyHttpError(abortReason(o.signal));
    const sample = Buffer.from(body.subarray(0, o.sampleBytes ?? DEFAULT_SAMPLE_BYTES));
    result.bodyLength = body.length;
    result.bodyTruncated = truncated;
    result.bodySha256 = createHash("sha256").update(body).digest("hex");
    result.bodySample = sample;
    // The title is near the top: decoding the first 64 KiB finds it without copying a large sample.
    result.title = titleOf(sample.subarray(0, 65536).toString("utf8"));
    result.reusable = protocol === "http/1.1" && !result.failure && !truncated && raw.complete === true && raw.keepAlive === true;
  }
  if (!result.reusable) o.socket.destroy();
  return result;
}

/** A header name as Go (and OONI's probes and helper) write it: "content-type" -> "Content-Type". */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function flatten(list: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of list) {
    const key = k.toLowerCase();
    out[key] = (out[key] === undefined ? v : `${out[key]}, ${v}`).slice(0, MAX_HEADER_VALUE);
  }
  return out;
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** The socket's listeners per event, to put back what node:http added once the exchange is over. */
function snapshotListeners(socket: net.Socket): Map<string | symbol, Set<unknown>> {
  const m = new Map<string | symbol, Set<unknown>>();
  for (const name of socket.eventNames()) m.set(name, new Set(socket.rawListeners(name)));
  return m;
}

function restoreListeners(socket: net.Socket, before: Map<string | symbol, Set<unknown>>): void {
  for (const name of socket.eventNames()) {
    const keep = before.get(name);
    for (const l of socket.rawListeners(name)) {
      if (!keep?.has(l)) socket.removeListener(name, l as (...args: unknown[]) => void);
    }
  }
}

function exchangeH1(o: HttpExchangeOptions): Promise<RawResponse> {
  const socket = o.socket;
  const before = snapshotListeners(socket);
  return new Promise<RawResponse>((resolve) => {
    let req: http.ClientRequest | undefined;
    const finish = (out: RawResponse) => {
      if (out.failure || out.wireTruncated || !out.complete) {
        // The exchange is over early: nothing more may be read from this connection.
        socket.destroy();
        req?.destroy();
      } else if (out.keepAlive) {
        // node:http has already detached its listeners for keep-alive (responseKeepAlive)
        // and emits 'free' on the next tick; drop whatever it left so the caller gets the
        // socket as it gave it.
        process.nextTick(() => {
          restoreListeners(socket, before);
          // A reset while the socket idles in the caller's hands must not crash the process.
          if (socket.listenerCount("error") === 0) socket.on("error", () => {});
          const s = socket as net.Socket & { parser?: unknown; _httpMessage?: unknown };
          s.parser = null;
          s._httpMessage = null;
        });
      }
    };
    const pending = new PendingResponse(o.signal, o.maxBodyBytes, finish, resolve);
    const { out } = pending;
    const settle = (failure: Failure | null) => pending.settle(failure);

    const keepAliveAsked = o.headers.some(([k, v]) => k.toLowerCase() === "connection" && /\bkeep-alive\b/i.test(v));
    try {
      req = http.request({
        method: "GET",
        path: o.url.pathname + o.url.search,
        // An array is written as given: no Host is added (setHost only applies to objects),
        // names keep their case, and a Connection header of ours suppresses Node's own.
        headers: o.headers.flatMap(([k, v]) => [k, v]),
        setHost: false,
        createConnection: () => socket,
        maxHeaderSize: o.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
        insecureHTTPParser: false,
      });
    } catch (err) {
      settle(classifyHttpError(err));
      return;
    }
    // QUIRK: with createConnection and no agent, node:http marks the request "not keep-alive"
    // after storing our headers (Node 20 _http_client.js), and then destroySoon()s the socket
    // when the response ends even though we sent `Connection: keep-alive` (seen on Node
    // 20.20: shouldKeepAlive false right after request(), the socket destroyed once the
    // response ended). Reset the flag the headers had set; the
    // parser still clears it when the server answers `Connection: close` or HTTP/1.0.
    req.shouldKeepAlive = keepAliveAsked;
    req.on("error", (err) => settle(pending.failureOf(err)));
    // A 101 to a request that asked for no upgrade: not HTTP we can read (without this
    // listener node:http destroys the socket and emits no 'response' and no error).
    req.on("upgrade", (res: http.IncomingMessage) => {
      out.status = res.statusCode ?? 0;
      out.headersList = pairs(res.rawHeaders);
      settle("http_request_failed");
    });
    // Backstop: every path above settles before 'close'; a close that beats them is an EOF.
    req.on("close", () => settle(pending.closedWith("eof_error")));
    req.on("response", (res) => {
      out.status = res.statusCode ?? 0;
      out.headersList = pairs(res.rawHeaders);
      res.on("data", (chunk: Buffer) => pending.take(chunk));
      res.on("end", () => {
        out.complete = res.complete;
        out.keepAlive = req?.shouldKeepAlive === true;
        settle(res.complete ? null : "eof_error");
      });
      res.on("error", (err) => settle(pending.failureOf(err)));
      res.on("aborted", () => settle("eof_error"));
    });
    req.end();
  });
}

let http2Module: typeof http2 | null = null;

/**
 * node:http2, loaded (synchronously) at the first HTTP/2 exchange: a run of plain-HTTP or
 * HTTP/1.1 targets never needs it, and loading it cost every start about 5 ms (issue 9).
 */
function loadHttp2(): typeof http2 {
  http2Module ??= createRequire(import.meta.url)("node:http2") as typeof http2;
  return http2Module;
}

function exchangeH2(o: HttpExchangeOptions): Promise<RawResponse> {
  const maxHeaderBytes = o.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  return new Promise<RawResponse>((resolve) => {
    let session: http2.ClientHttp2Session | undefined;
    // One stream per connection here: the session (and the socket under it) ends with it.
    const pending = new PendingResponse(o.signal, o.maxBodyBytes, () => session?.destroy(), resolve);
    const { out } = pending;
    const settle = (failure: Failure | null) => pending.settle(failure);
    try {
      session = loadHttp2().connect(o.url.origin, {
        createConnection: () => o.socket,
        // Chrome's SETTINGS values (header table, no push, stream window); the header list
        // bound is ours.
        settings: { headerTableSize: 65536, enablePush: false, initialWindowSize: 6291456, maxHeaderListSize: maxHeaderBytes },
        maxSessionMemory: 4,
      });
      session.on("error", (err) => settle(classifyHttpError(err)));
      session.on("goaway", () => {
        if (out.status === undefined) settle("http_request_failed");
      });
      const headers: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of o.headers) headers[k] = v;
      const stream = session.request(headers, { endStream: true });
      stream.on("response", (h) => {
        out.status = Number(h[":status"]);
        const list: Array<[string, string]> = [];
        let bytes = 0;
        for (const [k, v] of Object.entries(h)) {
          if (k.startsWith(":") || v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [String(v)]) {
            list.push([k, one]);
            bytes += k.length + one.length + 32;
          }
        }
        out.headersList = list;
        if (bytes > maxHeaderBytes) {
          out.status = undefined;
          out.headersList = undefined;
          settle("http_request_failed");
        }
      });
      stream.on("data", (chunk: Buffer) => pending.take(chunk));
      stream.on("end", () => {
        out.complete = out.status !== undefined;
        settle(out.status !== undefined ? null : "http_request_failed");
      });
      stream.on("error", (err) => settle(pending.failureOf(err)));
      stream.on("close", () => {
        if (out.status === undefined) settle(pending.closedWith("http_request_failed"));
        else if (!out.complete) settle("eof_error");
      });
    } catch (err) {
      settle(classifyHttpError(err));
    }
  });
}
