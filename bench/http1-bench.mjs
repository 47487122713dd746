#!/usr/bin/env node
/**
 * What one HTTP/1.1 exchange costs the client in CPU: the build's httpExchange
 * (dist/net/http-exchange.js, llhttp driven directly by src/net/http1.ts) against the same GET
 * through node:http on the same connected socket, which the exchange used before
 * (docs/development.md, "CPU per target"). A loopback server in its own process answers a
 * small page; each variant runs in a child started with the launcher's V8 flags, as `run` is,
 * connecting a fresh socket for each exchange (the connect is counted in both), N exchanges C
 * at once, the variants taking turns. Prints CPU per exchange and the ratio, and counts the
 * exchanges that did not give the page (must be 0).
 *
 *   npm run build && node bench/http1-bench.mjs [--exchanges N] [--concurrency C] [--runs R]
 *
 * Only 127.0.0.1: the server listens there and the URL's name is only written in a header.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import http from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const EXCHANGE = join(REPO, "dist", "net", "http-exchange.js");
const BODY = `<html><head><title>bench page</title></head><body>${"x".repeat(200)}</body></html>`;
const RESPONSE = `HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 11:00:00 GMT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${BODY.length}\r\nConnection: keep-alive\r\n\r\n${BODY}`;
const HEADERS = [
  ["Host", "bench.example"],
  ["Connection", "keep-alive"],
  ["Upgrade-Insecure-Requests", "1"],
  ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"],
  ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"],
  ["Accept-Encoding", "gzip, deflate"],
  ["Accept-Language", "en-US,en;q=0.9"],
];

/** The server: answers every request head with RESPONSE; prints its port. */
function serve() {
  const server = net.createServer((s) => {
    s.on("error", () => {});
    s.on("data", (d) => {
      if (d.includes("\r\n\r\n")) s.write(RESPONSE);
    });
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
}

/** One child: N exchanges, C at once, with `variant`; prints CPU microseconds per exchange and the wrong ones. */
async function child(variant, port, n, concurrency, baseline) {
  const { httpExchange } = await import(pathToFileURL(variant === "baseline" ? join(baseline, "net", "http-exchange.js") : EXCHANGE).href);
  const url = new URL("http://bench.example/");
  const signal = new AbortController().signal;
  const connect = async () => {
    const socket = net.connect(port, "127.0.0.1");
    await once(socket, "connect");
    return socket;
  };
  const viaReader = async () => {
    const socket = await connect();
    const r = await httpExchange({ url, socket, headers: HEADERS, signal, maxBodyBytes: 1 << 20 });
    socket.destroy();
    return r.status === 200 && r.bodyLength === BODY.length;
  };
  // node:http as the exchange drove it before: the connected socket handed over, the header
  // list written as given.
  const viaNodeHttp = async () => {
    const socket = await connect();
    return new Promise((resolve) => {
      const req = http.request({ method: "GET", path: "/", headers: HEADERS.flat(), setHost: false, createConnection: () => socket });
      req.on("error", () => resolve(false));
      req.on("response", (res) => {
        let length = 0;
        res.on("data", (d) => (length += d.length));
        res.on("end", () => {
          socket.destroy();
          resolve(res.statusCode === 200 && length === BODY.length);
        });
      });
      req.end();
    });
  };
  const one = variant === "node:http" ? viaNodeHttp : viaReader;
  // Warm-up: what a run's first targets pay is in the median of a run's targets anyway.
  for (let i = 0; i < 100; i++) await one();
  let next = 0;
  let wrong = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      if (!(await one())) wrong++;
    }
  };
  const u0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const u = process.cpuUsage(u0);
  process.stdout.write(`${(u.user + u.system) / n} ${wrong}\n`);
}

const { values: v } = parseArgs({
  options: {
    child: { type: "string" },
    serve: { type: "boolean" },
    port: { type: "string" },
    exchanges: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "20" },
    runs: { type: "string", default: "5" },
    baseline: { type: "string" },
  },
});
const n = Number(v.exchanges);
const concurrency = Number(v.concurrency);
if (v.serve) {
  serve();
} else if (v.child) {
  await child(v.child, Number(v.port), n, concurrency, v.baseline);
} else {
  if (!(n > 0) || !(concurrency > 0) || !(Number(v.runs) > 0)) {
    process.stderr.write("http1-bench: --exchanges, --concurrency and --runs must be positive numbers\n");
    process.exit(2);
  }
  if (!existsSync(EXCHANGE)) {
    process.stderr.write(`http1-bench: ${EXCHANGE} not found: run "npm run build" first\n`);
    process.exit(2);
  }
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], { stdio: ["ignore", "pipe", "inherit"] });
  const [first] = await once(server.stdout, "data");
  const port = String(first).trim();
  const { v8Flags } = createRequire(import.meta.url)(join(REPO, "bin", "reachprobe.cjs"));
  const flags = v8Flags(["run"], []);
  // With --baseline, another build's whole exchange (its dist/ directory) instead of bare node:http.
  const per = v.baseline ? { baseline: [], http1: [] } : { "node:http": [], http1: [] };
  const other = v.baseline ? "baseline" : "node:http";
  let wrong = 0;
  try {
    for (let r = 0; r < Number(v.runs); r++) {
      // Taking turns, so that both see the same load on a shared machine.
      for (const variant of Object.keys(per)) {
        const out = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), "--child", variant, "--port", port, "--exchanges", String(n), "--concurrency", String(concurrency), ...(v.baseline ? ["--baseline", v.baseline] : [])], { encoding: "utf8" });
        if (out.status !== 0) {
          process.stderr.write(`http1-bench: the ${variant} child failed: ${out.stderr.trim()}\n`);
          process.exitCode = 1;
          break;
        }
        const [us, bad] = out.stdout.trim().split(" ").map(Number);
        per[variant].push(us);
        wrong += bad;
      }
    }
  } finally {
    server.kill();
  }
  if (process.exitCode) process.exit();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  process.stdout.write(`${n} exchanges, ${concurrency} at once, ${v.runs} runs each (V8 flags: ${flags.join(" ") || "none"}); CPU per exchange, connect included:\n`);
  for (const [variant, xs] of Object.entries(per)) {
    process.stdout.write(`  ${variant.padEnd(10)} median ${median(xs).toFixed(1)} us (min ${Math.min(...xs).toFixed(1)})\n`);
  }
  process.stdout.write(`  ratio http1 / ${other}: ${(median(per.http1) / median(per[other])).toFixed(2)}\n`);
  process.stdout.write(`  exchanges without the page: ${wrong} (must be 0)\n`);
  if (wrong > 0) process.exitCode = 1;
}
