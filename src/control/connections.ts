/**
 * The control helper's connections: slow clients cannot pin it. Every connection is accepted by
 * a plain TCP server and handed to an HTTP server that never listens itself, so that:
 * - each connection must deliver a request's headers, then the whole request, within wall-time
 *   bounds counted from connecting (or from the previous answer), however slowly it trickles;
 * - a connection that misses a bound, or sends what is not HTTP, gets a short answer (408, 400,
 *   431) and is destroyed after a short linger, never left half-closed (a half-closed socket
 *   still held a slot, in FIN-WAIT-2, for as long as the client liked);
 * - past the connection cap a new connection is answered 503 with Retry-After without being
 *   parsed, up to a hard ceiling of twice the cap; past that it is closed at once.
 */
import http from "node:http";
import net from "node:net";
import type { ControlError } from "../probes/control-wire.js";

/** The bounds, all in milliseconds but the counts. */
export interface ConnectionLimits {
  /** Connections served at once; past it 503, past twice it closed at once. */
  maxConnections: number;
  /** From connecting (or the previous answer) to the end of a request's headers. */
  headersTimeoutMs: number;
  /** From the same moment to the end of the request's body. */
  readTimeoutMs: number;
  /** From the end of the request to the end of its answer (the measurement's own limit, plus slack). */
  answerTimeoutMs: number;
  /** Seconds a client past the cap is told to wait. */
  retryAfterSeconds: number;
  /** Called for each connection cut, with why (`headers_timeout`, `body_timeout`, `answer_timeout`, `bad_request`). */
  onCut?: (outcome: string) => void;
}

/** The HTTP server behind the gate, and the gate's controls. */
export interface ConnectionGate {
  /** The TCP server to listen on. */
  front: net.Server;
  /** Tells the gate the request on `socket` is fully read; false when the connection is being cut (do not answer). */
  requestRead(socket: net.Socket): boolean;
  /** Closes every connection: at once the ones not being answered, after `graceMs` the rest. */
  closeAll(graceMs: number): void;
}

/**
 * How long a connection that is being closed keeps reading (and dropping) what the client
 * sends, so that the answer written before is not lost to a reset; then it is destroyed.
 */
export const LINGER_MS = 1_000;

const CLOSING_ANSWERS = {
  408: "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
  400: "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
  431: "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
} as const;

/** The answer to a connection past the cap, written as soon as it is accepted. */
function busyAnswer(maxConnections: number, retryAfterSeconds: number): string {
  const body = JSON.stringify({ error: `busy: ${maxConnections} connections are open; retry later`, reason: "busy" } satisfies ControlError);
  return [
    "HTTP/1.1 503 Service Unavailable",
    "content-type: application/json",
    "cache-control: no-store",
    `retry-after: ${retryAfterSeconds}`,
    "connection: close",
    `content-length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/** What the gate knows about one connection it serves. */
interface Conn {
  /** The one deadline running: headers, whole request, or the answer. */
  timer: NodeJS.Timeout | null;
  /** When the request being waited for must be complete (headers and body). */
  readBy: number;
  phase: "headers" | "body" | "answer";
  /** Being closed: whatever it still sends is not served. */
  cut: boolean;
  /** Requests answered on it: a kept-alive connection that goes quiet is closed without a 408. */
  served: number;
}

/** Closes `socket` after `ms` unless it closed before. */
function destroyAfter(socket: net.Socket, ms: number): void {
  const t = setTimeout(() => socket.destroy(), ms);
  t.unref();
  socket.once("close", () => clearTimeout(t));
}

/** Builds the gate around an HTTP request handler. */
export function gateConnections(handler: http.RequestListener, limits: ConnectionLimits): ConnectionGate {
  const conns = new Map<net.Socket, Conn>();
  const overflow = new Set<net.Socket>();
  const busy = busyAnswer(limits.maxConnections, limits.retryAfterSeconds);
  let closing = false;

  // QUIRK: an idle kept-alive connection is closed at the headers deadline, so that is also the
  // keep-alive timeout Node advertises (Keep-Alive: timeout=N); advertising longer made clients
  // (undici's pool) send a request on a connection being closed, and get a reset (seen in tests
  // with a 1.5 s request limit: "fetch failed" on a POST right after a 503).
  const server = http.createServer({ keepAliveTimeout: Math.min(5_000, limits.headersTimeoutMs), requestTimeout: 0 }, (req, res) => {
    const c = conns.get(req.socket);
    if (!c || c.cut) {
      req.socket.destroy();
      return;
    }
    // Headers are in; the body must follow by the bound of the whole request.
    c.phase = "body";
    deadline(req.socket, c, c.readBy - Date.now(), 408);
    res.once("finish", () => {
      // Kept alive: the next request starts a new wait, with new bounds.
      c.served++;
      if (!c.cut && !req.socket.destroyed) waitForRequest(req.socket, c);
    });
    handler(req, res);
  });
  // Node's own idle timer is reset by every byte a client trickles; the deadlines replace it.
  server.timeout = 0;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const c = conns.get(socket);
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    if (c) cut(socket, c, status, "bad_request");
    else socket.destroy();
  });

  /** Starts the wait for a request: headers within headersTimeoutMs, all of it within readTimeoutMs. */
  function waitForRequest(socket: net.Socket, c: Conn): void {
    c.phase = "headers";
    c.readBy = Date.now() + limits.readTimeoutMs;
    deadline(socket, c, limits.headersTimeoutMs, 408);
  }

  /** Replaces the connection's deadline: when it passes, the connection is answered `status` (unless an answer is under way) and closed. */
  function deadline(socket: net.Socket, c: Conn, ms: number, status: 408 | null): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => cut(socket, c, status, `${c.phase}_timeout`), Math.max(0, ms));
    c.timer.unref();
  }

  /** Closes a connection for good: the short answer if one is due, then destroy after the linger. */
  function cut(socket: net.Socket, c: Conn, status: keyof typeof CLOSING_ANSWERS | null, outcome: string): void {
    if (c.cut) return;
    c.cut = true;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    limits.onCut?.(outcome);
    if (status === null || c.phase === "answer" || !socket.writable) {
      socket.destroy();
      return;
    }
    // A kept-alive connection that went quiet is closed without a word: an unasked 408 could be
    // read as the answer to a request the client sends at that very moment.
    if (c.phase === "headers" && c.served > 0 && status === 408) socket.end();
    else socket.end(CLOSING_ANSWERS[status]);
    destroyAfter(socket, LINGER_MS);
  }

  const front = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on("error", () => {});
    if (closing) {
      socket.destroy();
      return;
    }
    if (conns.size >= limits.maxConnections) {
      // Answered without being parsed; then read and dropped until the client closes or the
      // linger ends (closing with unread bytes would reset it, and the reset could reach the
      // client before the answer).
      overflow.add(socket);
      socket.once("close", () => overflow.delete(socket));
      socket.on("data", () => {});
      socket.once("end", () => socket.destroy());
      socket.end(busy);
      destroyAfter(socket, LINGER_MS);
      return;
    }
    const c: Conn = { timer: null, readBy: 0, phase: "headers", cut: false, served: 0 };
    conns.set(socket, c);
    socket.once("close", () => {
      if (c.timer) clearTimeout(c.timer);
      conns.delete(socket);
    });
    waitForRequest(socket, c);
    server.emit("connection", socket);
  });
  // The hard ceiling: as many again as the cap are answered 503; past that, closed at once.
  front.maxConnections = limits.maxConnections * 2;

  return {
    front,
    requestRead(socket) {
      const c = conns.get(socket);
      if (!c || c.cut) return false;
      c.phase = "answer";
      deadline(socket, c, limits.answerTimeoutMs, null);
      return true;
    },
    closeAll(graceMs) {
      closing = true;
      for (const s of overflow) s.destroy();
      for (const [s, c] of conns) if (c.phase !== "answer") s.destroy();
      setTimeout(() => {
        for (const s of conns.keys()) s.destroy();
      }, graceMs).unref();
    },
  };
}
