/**
 * The control helper's HTTP server: `POST /` with a ControlRequest, answered with a
 * ControlResponse (OONI web-connectivity test helper compatible). It runs on the open internet
 * and fetches URLs for strangers, so every request is bounded (body bytes, endpoints, time,
 * requests worked on at once), destinations are checked against the address and port policy,
 * a bearer token may be required, and each request is logged as one line without the client's
 * address. Its connections are served through connections.ts, which slow clients cannot pin.
 */
import type http from "node:http";
import type net from "node:net";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Log } from "../base/log.js";
import type { Cidr } from "../net/bogons.js";
import { joinHostPort } from "../net/addr.js";
import { startStepTimer } from "../net/deadline.js";
import { DEFAULT_PROBE_CONFIG, type ProbeConfig } from "../probes/config.js";
import { VERSION } from "../base/package-info.js";
import { DEFAULT_ALLOW_PORTS, addressPolicy, ownAddressesOnly, redirectRefusal, urlRefusal, type UrlPolicyOptions } from "./policy.js";
import { gateConnections } from "./connections.js";
import { parseControlRequest, type RequestError } from "./request.js";
import { measureControl } from "./measure.js";
import type { ControlError, ControlResponse } from "../probes/control-wire.js";

/** Everything the helper can be told; each limit has a default (CONTROL_DEFAULTS). */
export interface ControlServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 picks a free one (default 0). */
  port?: number;
  /** Require `Authorization: Bearer <token>` on POST when set. */
  token?: string | null;
  /** Connect to private, loopback, link-local and other bogon destinations too. */
  allowPrivate?: boolean;
  /** Addresses in these ranges count as public (the lab's documentation ranges). */
  publicRanges?: readonly Cidr[];
  /** Ask the system resolver (default true). */
  systemResolver?: boolean;
  /** UDP resolvers asked as well (or instead, with systemResolver false). */
  resolvers?: Array<{ host: string; port: number }>;
  /** Largest request body accepted, bytes (larger: 413). */
  maxRequestBytes?: number;
  /** Most endpoints in one request's tcp_connect (more: 400); also bounds the helper's own addresses. */
  maxEndpoints?: number;
  /** Bytes of each HTTP body read. */
  maxBodyBytes?: number;
  /** Time one request may take, all steps together, ms. */
  requestTimeoutMs?: number;
  /** Timeout of each step (lookup, connect, handshake, HTTP hop), ms. */
  stepTimeoutMs?: number;
  /** Requests worked on at once; more get 503 with Retry-After at once. */
  maxConcurrent?: number;
  /** Ports besides 80 and 443 where any endpoint is connected to, or "any" (default: DEFAULT_ALLOW_PORTS, the bundled target lists' ports); other ports: policy.ts. */
  allowPorts?: readonly number[] | "any";
  /** Refuse a URL on a port not listed (80, 443, allowPorts) instead of measuring it on the helper's own addresses (docs/control-helper.md). */
  listedPortsOnly?: boolean;
  /**
   * Connections served at once; past it a connection is answered 503 with Retry-After and
   * closed, up to as many again; past that it is closed at once.
   */
  maxConnections?: number;
  /** Time a client has, from connecting (or from the previous answer), to send a request's headers, ms. */
  headersTimeoutMs?: number;
  /** Time a client has, from the same moment, to send the whole request, headers and body, ms. */
  readTimeoutMs?: number;
  /** Extra trust for TLS and HTTPS (tests); otherwise Node's store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Where the one-line-per-request log goes; default: none. */
  logger?: Log;
}

/** Defaults of the limits, as documented in docs/control-helper.md and `--help`. */
export const CONTROL_DEFAULTS = {
  maxRequestBytes: 16 * 1024,
  maxEndpoints: 8,
  maxBodyBytes: 1 << 20,
  requestTimeoutMs: 15_000,
  stepTimeoutMs: 5_000,
  maxConcurrent: 8,
  maxConnections: 1024,
  headersTimeoutMs: 5_000,
  readTimeoutMs: 10_000,
} as const;

/** A running helper. */
export interface ControlServer {
  /** `http://host:port/`, with the port actually bound. */
  url: string;
  port: number;
  /** Stops listening, cuts the measurements in progress short, and closes every connection. */
  close(): Promise<void>;
}

/** Seconds a client is told to wait when every slot is taken. */
const RETRY_AFTER_SECONDS = 2;
/** Beyond the request's time limit, how long an answer may take before its connection is destroyed. */
const ANSWER_SLACK_MS = 5_000;

/** How often the count of connections the helper cut is logged (one line, not one per connection). */
const CUT_LOG_INTERVAL_MS = 10_000;

/** One log line's fields. */
interface LogEntry {
  method: string;
  path: string;
  /** A short salted hash of the client's address: requests from one client can be grouped, the address is not kept. */
  client: string;
  host?: string;
  endpoints?: number;
  status?: number | null;
  duration_ms?: number;
  outcome: string;
}

/** Starts the helper and resolves once it listens. */
export async function startControlServer(options: ControlServerOptions = {}): Promise<ControlServer> {
  const o = { ...CONTROL_DEFAULTS, ...stripUndefined(options) };
  // A short request limit (tests, labs) shortens the read bounds too unless they are given.
  const headersTimeoutMs = options.headersTimeoutMs ?? Math.min(CONTROL_DEFAULTS.headersTimeoutMs, o.requestTimeoutMs);
  const readTimeoutMs = Math.max(headersTimeoutMs, options.readTimeoutMs ?? Math.min(CONTROL_DEFAULTS.readTimeoutMs, o.requestTimeoutMs));
  const allowPorts = o.allowPorts ?? DEFAULT_ALLOW_PORTS;
  const policy = addressPolicy({ allowPrivate: o.allowPrivate ?? false, publicRanges: o.publicRanges ?? [] });
  const salt = randomBytes(16);
  const tokenHash = o.token ? sha256(Buffer.from(o.token)) : null;
  const inFlight = new Set<AbortController>();
  let closing = false;
  /** Marks a connection's request as read; false when the connection is being cut (set once the gate exists). */
  let requestRead: (socket: net.Socket) => boolean = () => true;

  const urlPolicy: UrlPolicyOptions = { refusal: policy.refusal, allowPorts, urlPort: !(o.listedPortsOnly ?? false) };

  const probeBase: Omit<ProbeConfig, "now" | "userAgent"> = {
    ...DEFAULT_PROBE_CONFIG,
    stepTimeoutMs: o.stepTimeoutMs,
    targetBudgetMs: o.requestTimeoutMs,
    systemResolver: o.systemResolver ?? true,
    resolvers: o.resolvers ?? [],
    // The helper stands on an unfiltered network: the first answer is the answer.
    dnsWindowMs: 0,
    maxAddresses: o.maxEndpoints,
    maxBodyBytes: o.maxBodyBytes,
    // The helper answers with the title and the body's length only: it keeps no large sample.
    bodySampleBytes: 64 * 1024,
    allowAddress: policy.allows,
    ...(o.ca ? { ca: o.ca } : {}),
  };

  const clientHash = (socket: net.Socket): string =>
    createHash("sha256")
      .update(salt)
      .update(socket.remoteAddress ?? "")
      .digest("hex")
      .slice(0, 12);

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };
  const refuse = (res: http.ServerResponse, entry: LogEntry, e: RequestError | (ControlError & { status: number }), headers: Record<string, string> = {}) => {
    entry.outcome = e.reason;
    const body: ControlError = { error: e.error, reason: e.reason };
    send(res, e.status, body, headers);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = performance.now();
    const path = pathOf(req.url);
    const entry: LogEntry = { method: (req.method ?? "").slice(0, 16), path: path.slice(0, 100), client: clientHash(req.socket), outcome: "ok" };
    res.on("close", () => {
      entry.status = res.headersSent ? res.statusCode : null;
      if (!res.writableFinished && entry.outcome === "ok") entry.outcome = "client_closed";
      entry.duration_ms = Math.round(performance.now() - started);
      o.logger?.info(entry, "request");
    });

    if (path !== "/") return refuse(res, entry, { status: 404, reason: "not_found", error: "not found: the helper answers POST / (and GET / for health)" });
    if (req.method === "GET" || req.method === "HEAD") {
      entry.outcome = "health";
      // The caller's address as this helper sees it, so a probe can map its public network
      // to an ASN (it stores the ASN, never the address). Behind a reverse proxy this is the
      // proxy's address.
      const seen = (req.socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.)/, "");
      return send(res, 200, { ok: true, version: VERSION, x_client_ip: seen || null });
    }
    // Early refusals close the connection: the request body was not read.
    const close = { connection: "close" };
    if (req.method !== "POST") return refuse(res, entry, { status: 405, reason: "method_not_allowed", error: "method not allowed: use POST / with a control request" }, { allow: "GET, HEAD, POST", ...close });
    if (tokenHash && !authorized(req.headers.authorization, tokenHash)) {
      return refuse(res, entry, { status: 401, reason: "unauthorized", error: "unauthorized: this helper needs Authorization: Bearer <token>" }, { "www-authenticate": 'Bearer realm="reachprobe control"', ...close });
    }
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > o.maxRequestBytes) return refuse(res, entry, tooLarge(o.maxRequestBytes), close);
    // The body is read before a slot is taken: a slow uploader holds a connection (bounded by
    // requestTimeout and maxConnections), never one of the measurement slots.
    const raw = await readBody(req, o.maxRequestBytes).catch(() => undefined);
    if (raw === undefined) {
      entry.outcome = "client_closed";
      return;
    }
    if (raw === null) return refuse(res, entry, tooLarge(o.maxRequestBytes), close);
    // Read in time: from here the answer is bounded by the request's time limit.
    if (!requestRead(req.socket)) {
      entry.outcome = "client_closed";
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return refuse(res, entry, { status: 400, reason: "invalid_json", error: "the body is not valid JSON" });
    }
    const parsed = parseControlRequest(body, o.maxEndpoints);
    if ("rejected" in parsed) return refuse(res, entry, parsed.rejected);
    const r = parsed.request;
    entry.host = r.host.slice(0, 255);
    entry.endpoints = r.endpoints.length;
    const urlRefused = urlRefusal(r.url, urlPolicy);
    if (urlRefused?.startsWith("the host ")) {
      return refuse(res, entry, {
        status: 400,
        reason: "refused_destination",
        error: `refused: the URL's ${urlRefused.slice(4)}; this helper does not connect to private, loopback, link-local or other reserved destinations`,
      });
    }
    if (urlRefused) return refuse(res, entry, { status: 400, reason: "refused_port", error: `refused: ${urlRefused}` });
    // No queue: beyond maxConcurrent the answer is 503 at once.
    if (closing || inFlight.size >= o.maxConcurrent) {
      return refuse(res, entry, { status: 503, reason: "busy", error: `busy: ${o.maxConcurrent} requests are being measured; retry later` }, { "retry-after": String(RETRY_AFTER_SECONDS) });
    }

    const ctl = new AbortController();
    inFlight.add(ctl);
    // A client that goes away stops its measurement.
    const onGone = () => {
      if (!res.writableFinished) ctl.abort();
    };
    res.once("close", onGone);
    const t0 = Date.now();
    const budget = startStepTimer(o.requestTimeoutMs, ctl.signal);
    try {
      // Refusals met on the redirect chain are reported as refusals, not as failures to connect;
      // a redirect is judged against the measured URL (its own host and port stay allowed).
      // Only the redirect step asks these two, and a refusal ends the chain: the last decision
      // made is a refusal exactly when the chain ended on one (an address refused among several
      // a name resolved to is followed by one allowed).
      let refused: string | null = null;
      const cfg: ProbeConfig = {
        ...probeBase,
        userAgent: r.userAgent ?? DEFAULT_PROBE_CONFIG.userAgent,
        now: () => Date.now() - t0,
        allowAddress: (ip) => {
          const why = policy.refusal(ip);
          refused = why && `a redirect to ${why}`;
          return why === null;
        },
        allowRedirect: (url) => {
          const why = redirectRefusal(url, r.url, urlPolicy);
          refused = why && `a redirect to ${url.href.slice(0, 300)}: ${why}`;
          return why;
        },
      };
      const response = await measureControl(r, { cfg, policy, maxOwnAddresses: o.maxEndpoints, ownAddressesOnly: ownAddressesOnly(r.url, urlPolicy) }, budget.signal);
      entry.outcome = budget.signal.aborted ? "measured_timeout" : "measured";
      send(res, 200, answerOf(response, refused));
    } finally {
      budget.dispose();
      res.off("close", onGone);
      inFlight.delete(ctl);
    }
  };

  // Under a slowloris the helper cuts hundreds of connections a second: they are counted and
  // logged as one line every CUT_LOG_INTERVAL_MS, so the log stays readable and bounded.
  const cuts = new Map<string, number>();
  const flushCuts = () => {
    if (cuts.size === 0) return;
    o.logger?.info({ ...Object.fromEntries(cuts), interval_ms: CUT_LOG_INTERVAL_MS }, "connections cut");
    cuts.clear();
  };
  const cutLog = setInterval(flushCuts, CUT_LOG_INTERVAL_MS);
  cutLog.unref();

  const gate = gateConnections(
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        o.logger?.error({ err: (err as Error)?.message }, "control request crashed");
        send(res, 500, { error: "internal error", reason: "internal" });
      });
    },
    {
      maxConnections: o.maxConnections,
      headersTimeoutMs,
      readTimeoutMs,
      answerTimeoutMs: o.requestTimeoutMs + ANSWER_SLACK_MS,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      onCut: (outcome) => cuts.set(outcome, (cuts.get(outcome) ?? 0) + 1),
    },
  );
  requestRead = gate.requestRead;
  const front = gate.front;

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => {
      front.off("error", reject);
      resolve();
    });
  });
  const addr = front.address() as net.AddressInfo;
  return {
    url: `http://${joinHostPort(addr.address, addr.port)}/`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        clearInterval(cutLog);
        flushCuts();
        for (const c of inFlight) c.abort();
        front.close(() => resolve());
        // Measurements cut short answer within a tick or two; then whatever is left goes.
        gate.closeAll(200);
      }),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sha256(b: Buffer): Buffer {
  return createHash("sha256").update(b).digest();
}

/** Compares the bearer token in constant time (hashing first makes the lengths equal). */
function authorized(header: string | undefined, tokenHash: Buffer): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  const given = sha256(Buffer.from(m?.[1] ?? ""));
  return timingSafeEqual(given, tokenHash) && m !== null;
}

function pathOf(url: string | undefined): string {
  const u = url ?? "";
  const q = u.indexOf("?");
  return q >= 0 ? u.slice(0, q) : u;
}

function tooLarge(max: number): ControlError & { status: number } {
  return { status: 413, reason: "request_too_large", error: `the request body is larger than ${max} bytes (--max-request-bytes)` };
}

/**
 * The answer sent for a measurement: a refusal met on the redirect chain is named in
 * `x_refused`, and a failure the closed list has no word for is `http_request_failed` (an
 * endpoint that answers something other than HTTP must not be told apart from one that fails
 * HTTP: the words would tell a stranger that a port is open).
 */
function answerOf(r: ControlResponse, refused: string | null): ControlResponse {
  const h = r.http_request;
  const failure = h.failure?.startsWith("unknown_failure") ? "http_request_failed" : h.failure;
  return { ...r, http_request: { ...h, failure, ...(refused ? { x_refused: refused } : {}) } };
}

/** Reads the body up to `max` bytes; null when it is larger (reading stops there, the socket is left for the 413). */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        done();
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // A client that goes away mid-body (or is cut off by requestTimeout) ends the wait too.
    const onClose = () => onError(new Error("the client closed the connection before the body ended"));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("close", onClose);
  });
}
