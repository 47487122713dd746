/**
 * One HTTP request/response over a socket the caller already connected (and, for https:,
 * handshaked), so the GET travels on the very connection the TCP and TLS steps measured.
 *
 * HTTP/1.1 (http1.ts): the request line and the given header list are written byte for byte
 * (names, case and order untouched; nothing added), and llhttp, node:http's parser, reads the
 * response strictly. HTTP/2 (ALPN "h2")
 * goes through node:http2 on the same socket, one stream. The body is capped on the wire and
 * after decoding (body-decode.ts), hashed and sampled; the step's signal bounds everything.
 * docs/browser-request.md describes what is sent and why.
 */
import { Buffer } from "node:buffer";
import { hash } from "node:crypto";
import type http2 from "node:http2";
import { createRequire } from "node:module";
import type net from "node:net";
import type { Failure } from "./failures.js";
import { classifyHttpError } from "./classify.js";
import { abortReason, type StepSignal } from "./deadline.js";
import { decodeBody } from "./body-decode.js";
import { requestHead, ResponseReader } from "./http1.js";

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
    // A socket already closed (a keep-alive connection the server ended while it idled)
    // carries no request, and may emit nothing more: node:http, which the exchange used before,
    // waited out the step's timer on one (2.9 s against a 3 s signal). A browser reconnects and
    // retries here; the caller sees eof_error at once and may do the same.
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
    result.bodySha256 = hash("sha256", body, "hex");
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

function exchangeH1(o: HttpExchangeOptions): Promise<RawResponse> {
  const socket = o.socket;
  return new Promise<RawResponse>((resolve) => {
    let reader: ResponseReader | null = null;
    const onData = (chunk: Buffer) => {
      const err = reader?.execute(chunk);
      if (err) settle(pending.failureOf(err));
    };
    // The peer's FIN: the end of a body read until close, else a response cut short.
    const onEnd = () => {
      reader?.finish();
      settle(pending.closedWith("eof_error"));
    };
    const onError = (err: Error) => settle(pending.failureOf(err));
    // Backstop: every path above settles before 'close'; a close that beats them is an EOF.
    const onClose = () => settle(pending.closedWith("eof_error"));
    const finish = (out: RawResponse) => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.off("close", onClose);
      reader?.close();
      if (out.failure || out.wireTruncated || !out.complete || !out.keepAlive) {
        // The exchange is over early, or the connection is done: nothing more may be read from it.
        socket.destroy();
      } else {
        // The caller gets the socket as it gave it, paused; a reset while it idles in the
        // caller's hands must not crash the process.
        socket.pause();
        if (socket.listenerCount("error") === 0) socket.on("error", () => {});
      }
    };
    const pending = new PendingResponse(o.signal, o.maxBodyBytes, finish, resolve);
    const { out } = pending;
    const settle = (failure: Failure | null) => pending.settle(failure);

    let head: Buffer;
    try {
      head = requestHead(o.url.pathname + o.url.search, o.headers);
    } catch (err) {
      // A header our side refuses to write: nothing is sent.
      settle(classifyHttpError(err));
      return;
    }
    const keepAliveAsked = o.headers.some(([k, v]) => k.toLowerCase() === "connection" && /\bkeep-alive\b/i.test(v));
    let keepAlive = false;
    reader = new ResponseReader(
      {
        head: (h) => {
          out.status = h.status;
          out.headersList = h.headers;
          keepAlive = keepAliveAsked && h.keepAlive;
          // A 101 to a request that asked for no upgrade: not HTTP we can read.
          if (h.status === 101) settle("http_request_failed");
        },
        body: (chunk) => pending.take(chunk),
        complete: () => {
          out.complete = true;
          out.keepAlive = keepAlive && !reader!.trailing;
          settle(null);
        },
      },
      o.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    );
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    // A kept socket was paused by the exchange before it.
    socket.resume();
    socket.write(head);
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
