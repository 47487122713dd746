/**
 * One HTTP GET through undici, pinned to a resolved address with the right Host and SNI.
 * No redirects are followed here (the probe step follows them by hand, measuring each hop).
 * The body is streamed, hashed and capped: never buffered past the cap.
 */
import { createHash } from "node:crypto";
import { Client, buildConnector } from "undici";
import type { Failure } from "./failures.js";
import { classifyHttpError } from "./classify.js";
import { abortReason, raceAbort } from "./deadline.js";
import { titleOf } from "./http-exchange.js";

/** What one exchange produced; fields after `failure` are set when headers arrived. */
export interface HttpFetchResult {
  failure: Failure | null;
  status?: number;
  headers?: Record<string, string>;
  bodyLength?: number;
  bodyTruncated?: boolean;
  bodySha256?: string;
  bodySample?: string;
  title?: string | null;
}

/** Options for one exchange. */
export interface HttpFetchOptions {
  url: URL;
  /** IP literal to connect to instead of resolving url.hostname. */
  address: string;
  headers: Record<string, string>;
  /** Aborts the whole exchange, headers and body (the step's timer). */
  signal: AbortSignal;
  /** Stop reading the body after this many bytes. */
  maxBodyBytes: number;
  /** Bytes of the body kept as text for fingerprints and the title. */
  sampleBytes?: number;
  /** Bound on response header bytes (a hostile server may send megabytes). */
  maxHeaderBytes?: number;
  ca?: string | Buffer | Array<string | Buffer>;
}

/** Extracts the HTML title from the start of a body (it lives with httpExchange now). */
export { titleOf };

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = (Array.isArray(v) ? v.join(", ") : v).slice(0, 2048);
  }
  return out;
}

/** Performs the GET and reads up to maxBodyBytes of the body; never throws for network errors. */
export async function httpFetch(o: HttpFetchOptions): Promise<HttpFetchResult> {
  if (o.signal.aborted) return { failure: classifyHttpError(abortReason(o.signal)) };
  const base = buildConnector({
    rejectUnauthorized: true,
    maxCachedSessions: 0,
    ...(o.ca ? { ca: o.ca } : {}),
    // Our own step timer bounds the connect; this is only a backstop.
    timeout: 5 * 60_000,
  } as buildConnector.BuildOptions);
  const client = new Client(o.url.origin, {
    connect: (opts, cb) => base({ ...opts, hostname: o.address }, cb),
    maxHeaderSize: o.maxHeaderBytes ?? 64 * 1024,
    // The step timer is the authority; undici's own timers are set past it.
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: 0,
  });
  const result: HttpFetchResult = { failure: null };
  const sampleBytes = o.sampleBytes ?? 8192;
  try {
    // QUIRK: undici only acts on an abort once the request is dispatched on a connected
    // socket; a TCP connect or TLS handshake that stalls kept us waiting past the step's
    // timer (seen: a 400 ms step against a server that never answers the ClientHello
    // returned only when the test closed the server 30 s later; undici's backstop is 5 min).
    // The race returns at the deadline; `client.destroy()` below closes the stalled socket.
    const res = await raceAbort(o.signal, () =>
      client.request({
        path: o.url.pathname + o.url.search,
        method: "GET",
        headers: o.headers,
        signal: o.signal,
      }),
    );
    result.status = res.statusCode;
    result.headers = flattenHeaders(res.headers);
    const hash = createHash("sha256");
    const sample: Buffer[] = [];
    let sampled = 0;
    let length = 0;
    let truncated = false;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        let part = chunk;
        if (length + part.length > o.maxBodyBytes) {
          part = part.subarray(0, o.maxBodyBytes - length);
          truncated = true;
        }
        length += part.length;
        hash.update(part);
        if (sampled < sampleBytes) {
          const s = part.subarray(0, sampleBytes - sampled);
          sample.push(s);
          sampled += s.length;
        }
        if (truncated) break;
      }
    } catch (err) {
      result.failure = o.signal.aborted ? classifyHttpError(abortReason(o.signal)) : classifyHttpError(err);
    } finally {
      if (truncated) res.body.destroy();
    }
    const text = Buffer.concat(sample).toString("utf8");
    result.bodyLength = length;
    result.bodyTruncated = truncated;
    result.bodySha256 = hash.digest("hex");
    result.bodySample = text;
    result.title = titleOf(text);
  } catch (err) {
    result.failure = o.signal.aborted ? classifyHttpError(abortReason(o.signal)) : classifyHttpError(err);
  } finally {
    client.destroy().catch(() => {});
  }
  return result;
}
