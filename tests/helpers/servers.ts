/**
 * Loopback fake servers for integration tests, in undici's style: plain net/tls/dgram servers
 * on port 0 writing scripted bytes, every socket tracked and closed by `closeAll()`.
 */
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import * as packet from "dns-packet";
import type { Pem } from "./certs.js";

const cleanups: Array<() => Promise<void>> = [];

/** Closes every server and socket the helpers made. */
export async function closeAll(): Promise<void> {
  const all = cleanups.splice(0);
  await Promise.all(all.map((c) => c().catch(() => {})));
}

function track(server: net.Server | tls.Server | http.Server): void {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
}

async function listen(server: net.Server, host = "127.0.0.1"): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

// Low ports that nothing on a test machine listens on. Below 1024 and outside the kernel's
// ephemeral range, so no listener on port 0 (every test server here) can be handed one of them:
// a free ephemeral port, closed and returned, was once taken by a test file running in parallel
// before the test that wanted it refused connected to it.
const REFUSING_PORTS = [1, 9, 17, 19, 39, 47, 51, 61, 71, 73, 91, 97];
let refusing: number | undefined;

/** A port on which nothing listens (connects are refused), and that no test server can take. */
export async function closedPort(): Promise<number> {
  if (refusing !== undefined) return refusing;
  for (const port of REFUSING_PORTS) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => (s.destroy(), resolve(false)));
      s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
    });
    if (refused) return (refusing = port);
  }
  throw new Error(`closedPort: every one of ports ${REFUSING_PORTS.join(", ")} on 127.0.0.1 accepts connections`);
}

/** A TCP server that runs `onSocket` for every connection. */
export async function tcpServer(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  track(server);
  return listen(server);
}

/** Accepts, then sends a RST as soon as the first bytes arrive (or at once with `immediately`). */
export function resetServer(immediately = false): Promise<number> {
  return tcpServer((s) => {
    if (immediately) s.resetAndDestroy();
    else s.once("data", () => s.resetAndDestroy());
  });
}

/** Accepts and never says anything. */
export function stallServer(): Promise<number> {
  return tcpServer(() => {});
}

/** Accepts, reads the first bytes (a ClientHello), then closes cleanly with a FIN. */
export function eofServer(): Promise<number> {
  return tcpServer((s) => s.once("data", () => s.end()));
}

/** An HTTPS (or plain HTTP with no `pem`) server with a request handler. */
export async function webServer(handler: http.RequestListener, pem?: Pem): Promise<number> {
  const server = pem ? (await import("node:https")).createServer({ key: pem.key, cert: pem.cert }, handler) : http.createServer(handler);
  server.on("secureConnection", (s: tls.TLSSocket) => s.on("error", () => {}));
  track(server);
  return listen(server);
}

/** A TLS server that completes the handshake with `pem`, then serves a tiny HTTP response. */
export async function tlsServer(pem: Pem): Promise<number> {
  return webServer((_req, res) => res.end("hello"), pem);
}

/** How the fake DNS server answers one name. */
export type DnsBehaviour =
  | { a: string[] }
  | { rcode: "NXDOMAIN" | "SERVFAIL" | "REFUSED" }
  | { noAnswer: true }
  | { drop: true }
  | { garbage: true }
  | { inject: string; then: string[]; delayMs: number };

/** A UDP DNS server answering from `zone` (names lower-case, no trailing dot); unknown names get NXDOMAIN. */
export async function dnsServer(zone: Record<string, DnsBehaviour>): Promise<{ port: number; queries: string[] }> {
  const sock = dgram.createSocket("udp4");
  const queries: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  sock.on("message", (msg, rinfo) => {
    let q: packet.Packet;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    queries.push(name);
    const b = zone[name] ?? { rcode: "NXDOMAIN" as const };
    const reply = (answers: string[], rcode = "NOERROR") =>
      packet.encode({
        type: "response",
        id: q.id,
        flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | rcodeBits(rcode),
        questions: [question],
        answers: question.type === "A" ? answers.map((data) => ({ type: "A" as const, name: question.name, ttl: 60, data })) : [],
      });
    const send = (buf: Buffer) => sock.send(buf, rinfo.port, rinfo.address);
    if ("drop" in b) return;
    if ("garbage" in b) return send(Buffer.from("this is not a DNS packet"));
    if ("rcode" in b) return send(reply([], b.rcode));
    if ("noAnswer" in b) return send(reply([]));
    if ("inject" in b) {
      send(reply([b.inject]));
      const t = setTimeout(() => {
        timers.delete(t);
        send(reply(b.then));
      }, b.delayMs);
      timers.add(t);
      return;
    }
    send(reply(b.a));
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        timers.forEach(clearTimeout);
        sock.close(() => resolve());
      }),
  );
  return { port: sock.address().port, queries };
}

function rcodeBits(rcode: string): number {
  return { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 }[rcode] ?? 0;
}

/** An RFC 8484 DoH server (GET ?dns= and POST) answering A queries from `zone`; unknown names get NXDOMAIN. */
export async function dohServer(zone: Record<string, string[]>, pem: Pem, path = "/dns-query"): Promise<{ port: number; methods: string[] }> {
  const methods: string[] = [];
  const port = await webServer((req, res) => {
    const url = new URL(req.url ?? "/", "https://x");
    if (url.pathname !== path) {
      res.writeHead(404);
      return res.end();
    }
    methods.push(req.method ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const wire = req.method === "GET" ? Buffer.from(url.searchParams.get("dns") ?? "", "base64url") : Buffer.concat(chunks);
      let q: packet.Packet;
      try {
        q = packet.decode(wire);
      } catch {
        res.writeHead(400);
        return res.end();
      }
      const question = q.questions?.[0];
      if (!question) {
        res.writeHead(400);
        return res.end();
      }
      const answers = zone[question.name.toLowerCase()];
      const body = packet.encode({
        type: "response",
        id: q.id,
        flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (answers ? 0 : 3),
        questions: [question],
        answers: (answers ?? []).map((data) => ({ type: "A" as const, name: question.name, ttl: 60, data })),
      });
      res.writeHead(200, { "content-type": "application/dns-message" });
      res.end(body);
    });
  }, pem);
  return { port, methods };
}

/** What a counting web server saw: TCP connections accepted, those still open, and each request with the connection it came on (1-based). */
export interface CountingServer {
  port: number;
  accepted: number;
  open: number;
  requests: Array<{ url: string; connection: number; rawHeaders: string[] }>;
}

/**
 * An HTTPS (or plain HTTP with no `pem`) server like webServer that counts TCP connections
 * (accepted and still open) and records which connection carried each request. `host` picks
 * the loopback address (it may share `port` with another one on a different address).
 */
export async function countingWebServer(handler: http.RequestListener, pem?: Pem, host = "127.0.0.1", port = 0): Promise<CountingServer> {
  const stats: CountingServer = { port: 0, accepted: 0, open: 0, requests: [] };
  // For HTTPS, req.socket is the TLS socket over the accepted one: connections are matched by the peer's port.
  const byPeerPort = new Map<number, number>();
  const server = pem ? (await import("node:https")).createServer({ key: pem.key, cert: pem.cert }) : http.createServer();
  server.on("connection", (s: net.Socket) => {
    stats.accepted++;
    stats.open++;
    byPeerPort.set(s.remotePort ?? 0, stats.accepted);
    s.on("close", () => stats.open--);
  });
  server.on("secureConnection", (s: tls.TLSSocket) => s.on("error", () => {}));
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    stats.requests.push({ url: req.url ?? "", connection: byPeerPort.get(req.socket.remotePort ?? 0) ?? 0, rawHeaders: req.rawHeaders });
    handler(req, res);
  });
  track(server);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  stats.port = (server.address() as net.AddressInfo).port;
  return stats;
}

/** What a filtering middlebox saw: the first bytes of each connection, in order, and how many it reset. */
export interface Middlebox {
  port: number;
  first: Buffer[];
  resets: number;
}

/**
 * A censor in front of a backend on 127.0.0.1:`backend`: the first bytes of each connection (a
 * ClientHello, a request head) that contain `blocked` get a RST and never reach the backend;
 * any other connection is relayed both ways, as a censor's DPI box on the path does.
 */
export async function filteringProxy(backend: number, blocked: string): Promise<Middlebox> {
  const box: Middlebox = { port: 0, first: [], resets: 0 };
  box.port = await tcpServer((s) => {
    s.once("data", (chunk: Buffer) => {
      box.first.push(chunk);
      if (chunk.includes(blocked)) {
        box.resets++;
        s.resetAndDestroy();
        return;
      }
      const up = net.connect({ host: "127.0.0.1", port: backend });
      up.on("error", () => s.destroy());
      up.on("close", () => s.destroy());
      s.on("close", () => up.destroy());
      up.write(chunk);
      s.pipe(up);
      up.pipe(s);
    });
  });
  return box;
}
