/**
 * One small HTTP request through undici for the tool's own traffic (DoH, the control helper,
 * the doctor), bounded in time by a step's signal and in memory by a byte cap on the body.
 * Measurements of targets do not come here: they go through tcp.ts, tls.ts and
 * http-exchange.ts, on the connection they measured.
 */
import { Buffer } from "node:buffer";
import type { Dispatcher } from "undici";
import { unknownFailure, type Failure } from "./failures.js";
import { classifyHttpError } from "./classify.js";
import { abortReason, raceAbort, toAbortSignal, type StepSignal } from "./deadline.js";

/** What to send, and the bounds on what comes back. */
export interface BoundedRequestOptions {
  method: "GET" | "POST";
  /** The URL; user name and password in it are not sent (undici drops them), see control/client.ts helperTarget. */
  url: string | URL;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The deadline: aborts the connect, the headers and the body alike. */
  signal: StepSignal;
  /** Largest body kept; past it the body is dropped, `truncated` is set and `failure` is `tooLarge`. */
  maxBodyBytes: number;
  /** The failure past the cap; default `unknown_failure: response larger than <max> bytes`. */
  tooLarge?: Failure;
  /**
   * A pool to use (kept open for the caller), or "shared": the process's pool (undici's global
   * dispatcher, closed by closeSharedPool); default a connection of its own, closed at the end.
   */
  dispatcher?: Dispatcher | "shared";
  /** Extra trust (tests) for a connection of its own; otherwise Node's store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer;
  /** Bound on response header bytes for a connection of its own. Default 64 KiB. */
  maxHeaderBytes?: number;
}

/** What came back: `status` and `headers` once a response head arrived, and the body bytes read up to the cap. */
export interface BoundedResponse {
  failure: Failure | null;
  status?: number;
  /** Lower-case names, repeated values joined with ", ", each value cut at 2048 characters. */
  headers?: Record<string, string>;
  body: Buffer;
  /** The body went past maxBodyBytes and was cut there. */
  truncated: boolean;
}

type Undici = typeof import("undici");
let undici: Undici | null = null;

/**
 * undici, loaded at the first request: a run that only probes targets never needs it, and
 * loading it cost 85-90 ms of CPU at every start (bench/field-bench.mjs --cpu-prof, 1 target).
 */
async function loadUndici(): Promise<Undici> {
  undici ??= await import("undici");
  return undici;
}

/**
 * Closes the process's shared pool (dispatcher "shared"), if a request used it: a request cut
 * short by its deadline may still hold a connect attempt there, which would keep the process
 * alive for seconds after its work is done.
 */
export async function closeSharedPool(): Promise<void> {
  if (undici) await undici.getGlobalDispatcher().destroy().catch(() => {});
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = (Array.isArray(v) ? v.join(", ") : v).slice(0, 2048);
  }
  return out;
}

/** Sends the request and reads the body up to the cap; never throws for network errors. */
export async function boundedRequest(o: BoundedRequestOptions): Promise<BoundedResponse> {
  const result: BoundedResponse = { failure: null, body: Buffer.alloc(0), truncated: false };
  if (o.signal.aborted) return { ...result, failure: classifyHttpError(abortReason(o.signal)) };
  const url = typeof o.url === "string" ? new URL(o.url) : o.url;
  const { Client, request, getGlobalDispatcher } = await loadUndici();
  const given = o.dispatcher === "shared" ? getGlobalDispatcher() : o.dispatcher;
  const own = given
    ? null
    : new Client(url.origin, {
        maxHeaderSize: o.maxHeaderBytes ?? 64 * 1024,
        // The signal is the authority; undici's own timers are set past it.
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(o.ca ? { connect: { ca: o.ca } } : {}),
      });
  let res: Dispatcher.ResponseData | undefined;
  const chunks: Buffer[] = [];
  try {
    // QUIRK: undici only acts on an abort once the request is dispatched on a connected
    // socket; a TCP connect or TLS handshake that stalls kept us waiting past the deadline
    // (seen: a 400 ms step against a server that never answers the ClientHello returned only
    // when the server closed 30 s later). The race returns at the deadline.
    await raceAbort(o.signal, async () => {
      res = await request(url, {
        method: o.method,
        headers: o.headers ?? {},
        ...(o.body !== undefined ? { body: o.body } : {}),
        signal: toAbortSignal(o.signal),
        dispatcher: own ?? given,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      result.status = res.statusCode;
      result.headers = flattenHeaders(res.headers);
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (size + chunk.length > o.maxBodyBytes) {
          chunks.push(chunk.subarray(0, o.maxBodyBytes - size));
          result.truncated = true;
          result.failure = o.tooLarge ?? unknownFailure(`response larger than ${o.maxBodyBytes} bytes`);
          break;
        }
        size += chunk.length;
        chunks.push(chunk);
      }
    });
  } catch (err) {
    result.failure = classifyHttpError(o.signal.aborted ? abortReason(o.signal) : err);
  } finally {
    // What came before a deadline or an error is kept: it is evidence too.
    result.body = Buffer.concat(chunks);
    // Nothing more is read from a body cut at the cap, failed or timed out.
    if (res && (result.truncated || result.failure)) res.body.destroy();
    own?.destroy().catch(() => {});
  }
  // A copy: after a deadline the abandoned read may still run on, and must not change the answer.
  return { ...result };
}

/** The failure of a request that expects 200: the network's, `http_request_failed` for another status, or the body's (cap, cut). */
export function failureUnless200(res: BoundedResponse): Failure | null {
  if (res.status === undefined) return res.failure ?? "http_request_failed";
  return res.status === 200 ? res.failure : "http_request_failed";
}
