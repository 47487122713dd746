#!/usr/bin/env node
/**
 * Slowloris against the real control helper, on loopback only: starts `reachprobe control`
 * (the built CLI), holds N clients that trickle their headers a byte at a time (each one
 * reconnecting as soon as the helper cuts it, so N stay open throughout), and asks `GET /` on a
 * new connection every 100 ms. Prints one JSON line:
 *   {"clients":500,"health_checks":N,"health_failures":F,"health_max_ms":M}
 * and exits 1 if any health check failed or took over 1 s (2 if it could not run).
 *
 *   node tests/chaos/slowloris.mjs [--clients 500] [--seconds 20]
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { clients: { type: "string", default: "500" }, seconds: { type: "string", default: "20" } } });
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const CLI = fileURLToPath(new URL("../../bin/reachprobe.cjs", import.meta.url));
const HEALTH_LIMIT_MS = 1000;

function fail(message) {
  process.stderr.write(`slowloris: ${message}\n`);
  process.exit(2);
}

if (!Number.isInteger(CLIENTS) || CLIENTS < 1 || !(SECONDS > 0)) fail("--clients must be a whole number and --seconds a positive number");
if (!existsSync(CLI)) fail(`${CLI} is missing: run "npm run build" first`);

// Each client holds a socket here and one in the helper, plus the health checks' own.
const needFds = 2 * CLIENTS + 256;
let softFds = Infinity;
try {
  softFds = Number(/^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1]?.replace("unlimited", "1e9") ?? Infinity);
} catch {
  /* no /proc: the run itself will say if descriptors run out */
}
if (softFds < needFds) fail(`the open-file limit is ${softFds}, below the ${needFds} this run needs: raise it (ulimit -n ${needFds})`);

// The helper: loopback only, no resolver it could ask (it measures nothing here), a connection
// cap above the clients (each slow client takes a connection until the helper cuts it).
const helper = spawn(
  process.execPath,
  [CLI, "control", "--listen", "127.0.0.1:0", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--max-connections", String(Math.max(1024, CLIENTS * 2)), "--log-level", "warn"],
  { stdio: ["ignore", "pipe", "pipe"], env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REACHPROBE_"))) },
);
let helperErr = "";
helper.stderr.on("data", (d) => (helperErr = (helperErr + d).slice(-4000)));
const port = await new Promise((resolve) => {
  let out = "";
  const early = (code) => fail(`the helper exited (${code}) before listening: ${helperErr.trim()}`);
  helper.once("exit", early);
  helper.stdout.on("data", (d) => {
    out += d;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
    if (m) {
      helper.off("exit", early);
      resolve(Number(m[1]));
    }
  });
});

let stopping = false;
const stats = { connects: 0, cutByHelper: 0, errors: 0 };

/** One trickling client: the start of a request, then one header byte a second; reconnects when cut. */
function trickler() {
  if (stopping) return;
  const s = net.connect(port, "127.0.0.1");
  stats.connects++;
  let timer = null;
  s.on("connect", () => {
    s.write("GET / HTTP/1.1\r\nHost: chaos\r\n");
    const header = "X-Slowloris: a\r\n";
    let i = 0;
    timer = setInterval(() => s.writable && s.write(header[i++ % header.length]), 800 + Math.floor(Math.random() * 400));
  });
  s.resume();
  s.on("end", () => stats.cutByHelper++);
  s.on("error", () => stats.errors++);
  s.on("close", () => {
    clearInterval(timer);
    if (!stopping) setImmediate(trickler);
  });
  return s;
}

const health = { checks: 0, failures: 0, maxMs: 0, reasons: new Map() };
function healthCheck() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    const done = (ok, reason) => {
      if (settled) return;
      settled = true;
      const ms = performance.now() - t0;
      health.checks++;
      health.maxMs = Math.max(health.maxMs, ms);
      if (!ok || ms > HEALTH_LIMIT_MS) {
        health.failures++;
        const why = ok ? "slower than 1 s" : reason;
        health.reasons.set(why, (health.reasons.get(why) ?? 0) + 1);
      }
      resolve();
    };
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: HEALTH_LIMIT_MS }, (res) => {
      res.resume();
      res.on("end", () => done(res.statusCode === 200, `status ${res.statusCode}`));
      res.on("error", (e) => done(false, e.code ?? e.message));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("no answer within 1 s"), { code: "timeout" })));
    req.on("error", (e) => done(false, e.code ?? e.message));
  });
}

// Open the clients in batches of 50, so that the helper sees them all before the clock starts.
const sockets = [];
for (let i = 0; i < CLIENTS; i++) {
  sockets.push(trickler());
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 500));

const end = performance.now() + SECONDS * 1000;
while (performance.now() < end) {
  const next = new Promise((r) => setTimeout(r, 100));
  await healthCheck();
  await next;
}

stopping = true;
helper.kill("SIGTERM");
const exited = await Promise.race([new Promise((r) => helper.once("exit", () => r(true))), new Promise((r) => setTimeout(() => r(false), 5000))]);
if (!exited) helper.kill("SIGKILL");

const line = { clients: CLIENTS, health_checks: health.checks, health_failures: health.failures, health_max_ms: Math.round(health.maxMs) };
process.stdout.write(`${JSON.stringify(line)}\n`);
process.stderr.write(
  `slowloris: ${stats.connects} connections opened in all, ${stats.cutByHelper} cut by the helper, ${stats.errors} errors` +
    (health.failures ? `; health failures: ${JSON.stringify(Object.fromEntries(health.reasons))}` : "") +
    "\n",
);
process.exit(health.failures === 0 && health.maxMs <= HEALTH_LIMIT_MS ? 0 : 1);
