/**
 * Slow clients against the control helper, on loopback: trickled headers, idle connections,
 * half-closed ones, slow and stalled bodies, and more connections than the cap. Throughout, a
 * health request on a new connection every 100 ms must answer 200 within 1 s, and each slow
 * connection must be gone (destroyed by the helper, not left half-closed) within its bound.
 */
import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { startControlServer, type ControlServer, type ControlServerOptions } from "../../src/control/server.js";

const HEADERS_MS = 800;
const READ_MS = 1600;
/** The helper's linger before destroy, plus room for a loaded machine. */
const SLACK_MS = 1000 + 1500;

const helpers: ControlServer[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(helpers.splice(0).map((h) => h.close()));
});

async function helper(extra: ControlServerOptions = {}): Promise<ControlServer> {
  const h = await startControlServer({ systemResolver: false, resolvers: [], headersTimeoutMs: HEADERS_MS, readTimeoutMs: READ_MS, maxConnections: 64, ...extra });
  helpers.push(h);
  return h;
}

/** A slow client's fate: what it was sent, when the helper ended it and when the connection was gone. */
interface SlowClient {
  received(): string;
  /** Milliseconds from connect to the helper's FIN (or reset), null while open. */
  endedAfter(): number | null;
  /** Resolves with milliseconds from connect until the connection is closed for good on both sides. */
  gone: Promise<number>;
}

/**
 * Opens a connection that writes `first`, then `trickle` one byte every `everyMs` (cycling), and
 * optionally half-closes after `first`. It never closes by itself: once the helper has ended
 * it, it keeps writing a byte now and then, so a helper that only half-closed would keep the
 * connection forever, while one that destroyed it answers with a reset.
 */
function slowClient(port: number, o: { first?: string; trickle?: string; everyMs?: number; halfClose?: boolean } = {}): SlowClient {
  const t0 = performance.now();
  const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  sockets.push(s);
  let got = "";
  let ended: number | null = null;
  let i = 0;
  const every = o.everyMs ?? 200;
  const tick = setInterval(() => {
    if (!s.writable || s.destroyed) return;
    if (ended !== null || (o.trickle && !o.halfClose)) {
      const t = o.trickle ?? "x";
      s.write(t[i++ % t.length]!);
    }
  }, every);
  s.on("connect", () => {
    if (o.first) s.write(o.first);
    if (o.halfClose) s.end();
  });
  s.on("data", (d: Buffer) => {
    if (got.length < 4096) got += d.toString("latin1");
  });
  s.on("end", () => (ended ??= performance.now() - t0));
  s.on("error", () => {});
  const gone = new Promise<number>((resolve) =>
    s.on("close", () => {
      clearInterval(tick);
      ended ??= performance.now() - t0;
      resolve(performance.now() - t0);
    }),
  );
  return { received: () => got, endedAfter: () => ended, gone };
}

/** Asks GET / on a new connection every 100 ms until stopped; counts failures and the slowest answer. */
function healthPoller(port: number) {
  const stats = { checks: 0, failures: [] as string[], maxMs: 0 };
  let stopped = false;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 1000 }, (res) => {
        res.resume();
        res.on("end", () => {
          const ms = performance.now() - t0;
          stats.maxMs = Math.max(stats.maxMs, ms);
          if (res.statusCode !== 200 || ms > 1000) stats.failures.push(`status ${res.statusCode} after ${Math.round(ms)} ms`);
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("no answer within 1 s")));
      req.on("error", (err) => {
        stats.failures.push(err.message);
        resolve();
      });
    });
  const loop = (async () => {
    while (!stopped) {
      const next = new Promise((r) => setTimeout(r, 100));
      await one();
      stats.checks++;
      await next;
    }
  })();
  return {
    stats,
    stop: async () => {
      stopped = true;
      await loop;
      return stats;
    },
  };
}

describe("the control helper under slow clients (slowloris)", () => {
  it("cuts every kind of slow client within its bound while health keeps answering within 1 s", async () => {
    const h = await helper();
    const health = healthPoller(h.port);
    const headers = Array.from({ length: 10 }, () => slowClient(h.port, { first: "GET / HTTP/1.1\r\nHost: x\r\n", trickle: "X-Slow: aaaaaaaa\r\n", everyMs: 100 }));
    const idle = Array.from({ length: 10 }, () => slowClient(h.port));
    const halfOpen = Array.from({ length: 5 }, () => slowClient(h.port, { first: "GET / HTTP/1.1\r\nHost: x\r\nX-Half: ", halfClose: true }));
    const slowBody = Array.from({ length: 10 }, () =>
      slowClient(h.port, { first: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"http_request":"', trickle: "a", everyMs: 100 }),
    );
    const stalledBody = Array.from({ length: 5 }, () => slowClient(h.port, { first: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"http_re' }));

    const [tHeaders = [], tIdle = [], tHalf = [], tBody = [], tStalled = []] = await Promise.all([headers, idle, halfOpen, slowBody, stalledBody].map((g) => Promise.all(g.map((c) => c.gone))));
    // Keep polling a little after the last cut, then look.
    await new Promise((r) => setTimeout(r, 300));
    const stats = await health.stop();

    expect(stats.failures, "health checks that failed or took over 1 s").toEqual([]);
    expect(stats.checks).toBeGreaterThan(5);
    expect(stats.maxMs).toBeLessThan(1000);
    // Headers (or nothing) never completed: 408 at the header bound; a body never completed: 408 at the read bound.
    for (const c of [...headers, ...idle, ...slowBody, ...stalledBody]) expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    for (const c of [...headers, ...idle]) expect(c.endedAfter()).toBeLessThan(HEADERS_MS + 1500);
    for (const c of [...slowBody, ...stalledBody]) expect(c.endedAfter()).toBeGreaterThan(READ_MS - 100);
    expect(Math.max(...tHeaders, ...tIdle, ...tHalf), "a connection without complete headers outlived its bound").toBeLessThan(HEADERS_MS + SLACK_MS);
    expect(Math.max(...tBody, ...tStalled), "a connection without a complete body outlived its bound").toBeLessThan(READ_MS + SLACK_MS);
  });

  it("frees the slots of clients that trickle a byte now and then and never close (the audit's 45 s outage)", async () => {
    const h = await helper({ maxConnections: 16 });
    const trickling = Array.from({ length: 16 }, () => slowClient(h.port, { first: "GET / HTTP/1.1\r\n", trickle: "X", everyMs: 250 }));
    await new Promise((r) => setTimeout(r, 100));
    // Every slot is taken: a new client is told to come back, not reset.
    const busy = slowClient(h.port, { first: "GET / HTTP/1.1\r\nHost: x\r\n\r\n" });
    await busy.gone;
    expect(busy.received()).toMatch(/^HTTP\/1\.1 503 [^]*\r\nretry-after: \d+\r\n/i);
    // After the header bound and the linger the slots are free again, while the clients still trickle.
    await Promise.all(trickling.map((c) => c.gone));
    const health = healthPoller(h.port);
    await new Promise((r) => setTimeout(r, 500));
    const stats = await health.stop();
    expect(stats.failures).toEqual([]);
    expect(stats.checks).toBeGreaterThan(2);
  });

  it("answers 503 with Retry-After past the connection cap instead of resetting, up to twice the cap", async () => {
    const h = await helper({ maxConnections: 20 });
    const holders = Array.from({ length: 20 }, () => slowClient(h.port));
    await new Promise((r) => setTimeout(r, 100));
    const answers = await Promise.all(
      Array.from(
        { length: 15 },
        () =>
          new Promise<{ status: number | null; retryAfter: string | undefined; error: string | null }>((resolve) => {
            const req = http.get({ host: "127.0.0.1", port: h.port, path: "/", agent: false }, (res) => {
              res.resume();
              res.on("end", () => resolve({ status: res.statusCode ?? null, retryAfter: res.headers["retry-after"], error: null }));
            });
            req.on("error", (err: NodeJS.ErrnoException) => resolve({ status: null, retryAfter: undefined, error: err.code ?? err.message }));
          }),
      ),
    );
    expect(answers.filter((a) => a.error !== null)).toEqual([]);
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.retryAfter).toMatch(/^\d+$/);
    }
    for (const c of holders) expect(c.endedAfter()).toBeNull();
  });

  it("has no resets among 200 concurrent connections against a cap of 128: each is answered 200 or 503", async () => {
    const h = await helper({ maxConnections: 128 });
    // All 200 connect first, then all send their request: they are open at the helper together.
    const conns = Array.from({ length: 200 }, () => {
      const s = net.connect(h.port, "127.0.0.1");
      sockets.push(s);
      let got = "";
      s.on("data", (d: Buffer) => (got += d.toString("latin1")));
      const result = new Promise<string>((resolve) => {
        s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        s.on("close", () => resolve(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? `closed without an answer`));
      });
      return { s, connected: new Promise((r) => s.once("connect", r)), result };
    });
    await Promise.all(conns.map((c) => c.connected));
    // The kernel completes the handshakes before the helper accepts them all: give it time to.
    await new Promise((r) => setTimeout(r, 500));
    for (const c of conns) c.s.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const results = await Promise.all(conns.map((c) => c.result));
    const counts: Record<string, number> = {};
    for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
    expect(Object.keys(counts).filter((k) => k !== "200" && k !== "503"), `answers by status (or error): ${JSON.stringify(counts)}`).toEqual([]);
    expect(counts["200"]).toBeGreaterThan(0);
    expect(counts["503"]).toBeGreaterThan(0);
  });
});
