#!/usr/bin/env node
// The chaos suite (`npm run test:chaos`, after a build): what issue 13's audit measured, as one
// table. Every server is on 127.0.0.1 and every target an IP literal or a name asked only of a
// loopback resolver; as root it re-runs itself in a new network namespace with only `lo` up.
//
//   kill -9 loop        10 runs killed at random moments: integrity_check ok, no finished measurement lost
//   overlapping --wait  300 runs on one database: no two ever wrote at once (from the stored time spans)
//   slowloris           tests/chaos/slowloris.mjs, when present (one JSON line)
//   hostile origins     each hostile server: the run finishes, the failure is classified, nothing crashes
//   bad input           huge and endless files, 100k bad lines, huge configs, a flooding resolver,
//                       100k valid targets: peak RSS < 256 MB and <= 100 lines of errors each
//
// Exit code 0 when every row passed. CHAOS_QUICK=1 runs smaller loops (for trying it out).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import * as packet from "dns-packet";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// The command as users start it: the launcher sizes the pool and the run is this very process (its
// pid is the run's pid in the database); dist/cli/main.js would relaunch itself as a child.
const CLI = join(ROOT, "bin/reachprobe.cjs");
const RSS_PROBE = fileURLToPath(new URL("./rss-probe.mjs", import.meta.url));
const QUICK = process.env.CHAOS_QUICK === "1";
const RSS_LIMIT_MB = 256;
const ERROR_LINES_LIMIT = 100;

// --- a loopback-only network namespace, when we can make one --------------------------------
if (process.env.CHAOS_NS === undefined && process.getuid?.() === 0 && spawnSync("unshare", ["--net", "ip", "link", "set", "lo", "up"]).status === 0) {
  const r = spawnSync("unshare", ["--net", "sh", "-c", `ip link set lo up && exec "${process.execPath}" "${fileURLToPath(import.meta.url)}"`], {
    stdio: "inherit",
    env: { ...process.env, CHAOS_NS: "1" },
  });
  process.exit(r.status ?? 1);
}
if (!existsSync(CLI)) {
  console.error(`chaos: ${CLI} is missing: run "npm run build" first (npm run test:chaos does)`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "reachprobe-chaos-"));
const rows = [];
/** Adds a row to the final table. */
function row(check, ok, figure) {
  rows.push({ check, ok, figure });
  console.error(`chaos: ${ok ? "ok  " : "FAIL"} ${check}: ${figure}`);
}

// --- loopback servers -------------------------------------------------------------------------
const servers = [];
function listen(server) {
  servers.push(server);
  server.on("connection", (s) => s.on("error", () => {}));
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}
const tcp = (onSocket) => listen(net.createServer(onSocket));
const web = (handler) => listen(http.createServer(handler));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- running reachprobe ----------------------------------------------------------------------
const ENV = { NO_COLOR: "1", PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: dir };
const COMMON = ["--no-canary", "--no-notice", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--public-ranges", "127.0.0.1/32"];
let rssSeq = 0;

/** Starts `reachprobe run ARGS`; resolves {code, signal, stdout, stderr, ms, rssMb} when it exits. */
function start(args, { killAfterMs = 120_000, stdin = "ignore" } = {}) {
  const rssFile = join(dir, `rss-${++rssSeq}`);
  const t0 = Date.now();
  const child = spawn(process.execPath, ["--import", RSS_PROBE, CLI, "run", ...args], { env: { ...ENV, CHAOS_RSS_FILE: rssFile }, stdio: [stdin, "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let stdoutBytes = 0;
  child.stdout.on("data", (d) => {
    stdoutBytes += d.length;
    if (stdout.length < 64 << 20) stdout += d.toString();
  });
  child.stderr.on("data", (d) => {
    if (stderr.length < 4 << 20) stderr += d.toString();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const exited = new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      let rssMb = null;
      try {
        rssMb = Math.round(Number(readFileSync(rssFile, "utf8")) / 1024);
      } catch {
        /* killed: no figure */
      }
      resolve({ code, signal, stdout, stderr, stdoutBytes, ms: Date.now() - t0, rssMb });
    }),
  );
  return { child, exited };
}
const run = (args, opts) => start(args, opts).exited;
const lines = (text) => (text === "" ? 0 : text.replace(/\n$/, "").split("\n").length);

// --- 1. kill -9 at random moments ------------------------------------------------------------
async function killLoop() {
  const n = QUICK ? 3 : 10;
  const slow = await web((req, res) => setTimeout(() => res.end("<title>ok</title>"), 20 + Math.random() * 150));
  const db = join(dir, "killed.db");
  const targets = Array.from({ length: 300 }, (_, i) => `http://127.0.0.1:${slow}/${i}`);
  let finished = 0;
  let lost = 0;
  let integrityOk = 0;
  let killedMidRun = 0;
  const pids = [];
  for (let i = 0; i < n; i++) {
    const r = start([...COMMON, "--db", db, "--json", "--concurrency", "8", ...targets]);
    await sleep(400 + Math.random() * 2500);
    r.child.kill("SIGKILL");
    const out = await r.exited;
    pids.push(r.child.pid);
    if (out.signal === "SIGKILL") killedMidRun++;
    // A result printed on stdout was stored first (run.ts stores, then prints).
    const printed = out.stdout
      .split("\n")
      .map((l) => l.replace(/,$/, ""))
      .filter((l) => l.startsWith('{"target"'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l).target];
        } catch {
          return []; // the line the kill cut
        }
      });
    finished += printed.length;
    if (!existsSync(db)) {
      lost += printed.length;
      continue;
    }
    const c = new Database(db, { readonly: true, timeout: 5000 });
    const stored = new Set(c.prepare("SELECT m.target FROM measurements m JOIN runs r ON r.id = m.run_id WHERE r.pid = ?").all(r.child.pid).map((x) => x.target));
    const integrity = c.pragma("integrity_check", { simple: true });
    c.close();
    if (integrity === "ok") integrityOk++;
    lost += printed.filter((t) => !stored.has(t)).length;
  }
  // The next run takes the last stale lock over and marks every killed run interrupted.
  const after = await run([...COMMON, "--db", db, `http://127.0.0.1:${slow}/after`]);
  const c = new Database(db, { readonly: true });
  const killedRuns = c.prepare(`SELECT state FROM runs WHERE pid IN (${pids.map(() => "?").join(",")})`).all(...pids);
  const integrity = c.pragma("integrity_check", { simple: true });
  c.close();
  const interrupted = killedRuns.filter((k) => k.state === "interrupted").length;
  const ok = killedMidRun === n && integrityOk === n && integrity === "ok" && lost === 0 && after.code === 0 && interrupted === killedRuns.length;
  row(
    "kill -9 loop",
    ok,
    `${killedMidRun}/${n} runs killed mid-run: integrity ok ${integrityOk}/${n}, ${lost} of ${finished} finished measurements lost; the next run exits ${after.code} and ${interrupted} of the ${killedRuns.length} killed runs that had started are marked interrupted`,
  );
}

/** Runs whose writing spans (first measurement to finished_at) overlap an earlier run's, with the pair named. */
function doubleRuns(db) {
  const c = new Database(db, { readonly: true });
  const spans = c
    .prepare(`SELECT r.id, r.pid, r.state, r.started_at AS t, (SELECT MIN(m.started_at) FROM measurements m WHERE m.run_id = r.id) AS s, r.finished_at AS e FROM runs r ORDER BY s`)
    .all();
  c.close();
  const doubles = [];
  let last = null;
  for (const sp of spans) {
    if (sp.s === null) continue;
    if (last !== null && sp.s < last.e) {
      const ms = Date.parse(last.e) - Date.parse(sp.s);
      doubles.push(`pid ${last.pid} (${last.state}, ${last.s} to ${last.e}) and pid ${sp.pid} (${sp.state}, ${sp.s} to ${sp.e}): ${ms} ms together`);
    }
    if (sp.e !== null && (last === null || sp.e > last.e)) last = sp;
  }
  if (doubles.length) console.error(`chaos: double runs in ${db}:\n  ${doubles.join("\n  ")}`);
  return { spans, doubles: doubles.length };
}

// --- 2. 300 overlapping runs with --wait --------------------------------------------------------
async function overlap() {
  const n = QUICK ? 40 : 300;
  const alive = QUICK ? 8 : 16;
  const port = await tcp((s) => s.end());
  const webPort = await web((req, res) => res.end("<title>ok</title>"));
  const db = join(dir, "overlap.db");
  const t0 = Date.now();
  let next = 0;
  const codes = new Map();
  let busy = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await run([...COMMON, "--db", db, "--wait", "600", "--quiet", `tcp://127.0.0.1:${port}`, `http://127.0.0.1:${webPort}/`], { killAfterMs: 900_000 });
      codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      if (/SQLITE_BUSY|database is locked/i.test(r.stderr)) busy++;
    }
  };
  await Promise.all(Array.from({ length: alive }, worker));
  // A run writes between its first measurement and its end (finished_at): the lock is held then.
  const { spans, doubles } = doubleRuns(db);
  const completed = spans.filter((s) => s.state === "completed").length;
  const exits = [...codes].map(([code, k]) => `${k}x exit ${code}`).join(", ");
  row(`${n} overlapping --wait runs`, doubles === 0 && completed === n && busy === 0, `${completed}/${n} completed (${exits}) in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${alive} at a time; ${doubles} double runs; ${busy} saw SQLITE_BUSY`);
}

// --- 2b. overlapping runs, some killed: stale locks taken over under contention ---------------------
async function overlapWithKills() {
  const n = QUICK ? 20 : 60;
  const alive = 8;
  const slow = await web((req, res) => setTimeout(() => res.end("<title>ok</title>"), 30 + Math.random() * 100));
  const db = join(dir, "overlap-killed.db");
  let next = 0;
  let killed = 0;
  let busy = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = start([...COMMON, "--db", db, "--wait", "600", "--quiet", "--concurrency", "2", ...Array.from({ length: 6 }, (_, k) => `http://127.0.0.1:${slow}/${i}/${k}`)], { killAfterMs: 900_000 });
      // One run in four is killed at a random moment: waiting, holding the lock, or writing.
      if (i % 4 === 1) setTimeout(() => r.child.kill("SIGKILL"), 200 + Math.random() * 1500);
      const out = await r.exited;
      if (out.signal === "SIGKILL") killed++;
      if (/SQLITE_BUSY|database is locked/i.test(out.stderr)) busy++;
    }
  };
  await Promise.all(Array.from({ length: alive }, worker));
  await run([...COMMON, "--db", db, `http://127.0.0.1:${slow}/last`]); // marks the last killed one
  const c = new Database(db, { readonly: true });
  const integrity = c.pragma("integrity_check", { simple: true });
  c.close();
  const { spans, doubles } = doubleRuns(db);
  const running = spans.filter((sp) => sp.state === "running").length;
  const completed = spans.filter((sp) => sp.state === "completed").length;
  // Temporary lock files and reap markers: a kill can leave one only in a window of microseconds.
  const leftovers = readdirSync(dir).filter((f) => f.startsWith("overlap-killed.db.lock.")).length;
  row(
    `${n} overlapping --wait runs, 1 in 4 killed -9`,
    doubles === 0 && running === 0 && busy === 0 && integrity === "ok" && completed + killed >= n,
    `${killed} killed, ${completed} completed, ${running} left running; ${doubles} double runs; integrity ${integrity}; ${busy} saw SQLITE_BUSY; ${leftovers} lock temporaries left`,
  );
}

// --- 3. slowloris (another suite) ----------------------------------------------------------------
async function slowloris() {
  const script = fileURLToPath(new URL("./slowloris.mjs", import.meta.url));
  if (!existsSync(script)) {
    console.error("slowloris: not present");
    row("slowloris", true, "not present (tests/chaos/slowloris.mjs)");
    return;
  }
  const r = spawnSync(process.execPath, [script], { env: { ...process.env }, encoding: "utf8", timeout: 600_000, maxBuffer: 16 << 20 });
  const line = (r.stdout ?? "").trim().split("\n").filter(Boolean).pop() ?? "";
  let doc = null;
  try {
    doc = JSON.parse(line);
  } catch {
    /* not JSON */
  }
  const ok = r.status === 0 && doc !== null && doc.ok !== false;
  const figure = doc ? Object.entries(doc).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ") : `exit ${r.status}, no JSON line (${(r.stderr ?? "").slice(-200)})`;
  row("slowloris", ok, figure);
}

// --- 4. hostile origins --------------------------------------------------------------------------
async function hostileOrigins() {
  const gzipBomb = zlib.gzipSync(Buffer.alloc(64 << 20));
  const endless = (res, chunk) => {
    const push = () => {
      while (res.write(chunk)) if (res.destroyed) return;
      res.once("drain", push);
    };
    push();
  };
  const cases = [
    ["RST at accept", `tcp`, await tcp((s) => s.resetAndDestroy())],
    ["RST after the request", "http", await tcp((s) => s.once("data", () => s.resetAndDestroy()))],
    ["accepts, never answers", "http", await tcp(() => {})],
    ["closes at once", "http", await tcp((s) => s.end())],
    ["garbage instead of HTTP", "http", await tcp((s) => s.once("data", () => s.end("HELLO THERE\r\n\r\n")))],
    ["endless status line", "http", await tcp((s) => s.once("data", () => { s.write("HTTP/1.1 200 "); const t = setInterval(() => s.destroyed ? clearInterval(t) : s.write("x".repeat(4096)), 1); }))],
    ["endless headers", "http", await tcp((s) => s.once("data", () => { s.write("HTTP/1.1 200 OK\r\n"); const t = setInterval(() => s.destroyed ? clearInterval(t) : s.write(`X-A: ${"b".repeat(1000)}\r\n`), 1); }))],
    ["one 1 MB header", "http", await tcp((s) => s.once("data", () => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${"c".repeat(1 << 20)}\r\nContent-Length: 0\r\n\r\n`)))],
    ["trickles headers, a byte a second", "http", await tcp((s) => s.once("data", () => { const msg = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"; let i = 0; const t = setInterval(() => (s.destroyed || i >= msg.length ? clearInterval(t) : s.write(msg[i++])), 1000); }))],
    ["endless body", "http", await web((req, res) => { res.writeHead(200, { "content-type": "text/html" }); endless(res, Buffer.alloc(64 << 10, 120)); })],
    ["trickled body", "http", await web((req, res) => { res.writeHead(200); const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write("x")), 200); })],
    ["short body (Content-Length lies)", "http", await tcp((s) => s.once("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this")))],
    ["gzip bomb (64 MB of zeros)", "http", await web((req, res) => { res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/html" }); res.end(gzipBomb); })],
    ["redirect loop", "http", await web((req, res) => { res.writeHead(302, { location: "/again" }); res.end(); })],
    ["redirect chain of 100", "http", await web((req, res) => { const n = Number(req.url.slice(1)) || 0; res.writeHead(302, { location: `/${n + 1}` }); res.end(); })],
    ["TLS to a plain HTTP server", "https", await web((req, res) => res.end("plain"))],
    ["TLS to random bytes", "https", await tcp((s) => s.once("data", () => s.end(Buffer.from(Array.from({ length: 4096 }, () => (Math.random() * 256) | 0)))))],
    ["TLS, then silence", "https", await tcp(() => {})],
  ];
  let passed = 0;
  const failures = [];
  const problems = [];
  let worstRss = 0;
  let worstMs = 0;
  for (const [name, scheme, port] of cases) {
    const target = scheme === "tcp" ? `tcp://127.0.0.1:${port}` : `${scheme}://127.0.0.1:${port}/`;
    const r = await run([...COMMON, "--no-store", "--json", "--timeout", "3000", "--budget", "8000", target], { killAfterMs: 60_000 });
    worstRss = Math.max(worstRss, r.rssMb ?? 0);
    worstMs = Math.max(worstMs, r.ms);
    let result = null;
    try {
      result = JSON.parse(r.stdout).results[0];
    } catch {
      /* below */
    }
    const crashed = r.signal !== null || ![0, 3, 4, 5].includes(r.code) || /crashed|TypeError|RangeError/.test(r.stderr);
    const classified = result !== null && result !== undefined && (result.failure !== null || result.status === "ok");
    if (!crashed && classified && (r.rssMb ?? 0) < RSS_LIMIT_MB) passed++;
    else problems.push(`${name}: exit ${r.code}${r.signal ? ` (${r.signal})` : ""}, ${r.rssMb} MB, ${r.stderr.trim().split("\n")[0] ?? ""}`);
    failures.push(`${name} -> ${result ? `${result.status}${result.failure ? ` ${result.failure}` : ""}` : "no result"}`);
  }
  console.error(`chaos: hostile origins:\n  ${failures.join("\n  ")}`);
  if (problems.length) console.error(`chaos: hostile origin problems:\n  ${problems.join("\n  ")}`);
  const unknown = failures.filter((f) => f.includes("unknown_failure")).length;
  row(
    `hostile origins (${cases.length})`,
    passed === cases.length,
    `${passed}/${cases.length} finished with a classified failure and no crash (${unknown} of them unknown_failure: ...); slowest ${(worstMs / 1000).toFixed(1)} s, peak RSS ${worstRss} MB`,
  );
}

// --- 5. bad input --------------------------------------------------------------------------------
/** A resolver that answers every query with `copies` datagrams of `records` A records each. */
async function floodingResolver(copies, records) {
  const sock = dgram.createSocket("udp4");
  servers.push(sock);
  sock.on("message", (msg, rinfo) => {
    let q;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const answers = Array.from({ length: records }, (_, i) => ({ type: "A", name: q.questions[0].name, ttl: 60, data: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }));
    const wire = packet.encode({ type: "response", id: q.id, flags: packet.RECURSION_DESIRED, questions: q.questions, answers });
    let sent = 0;
    const next = () => sent++ < copies && sock.send(wire, rinfo.port, rinfo.address, () => setTimeout(next, 2));
    next();
  });
  await new Promise((r) => sock.bind(0, "127.0.0.1", r));
  return sock.address().port;
}

async function badInput() {
  const big = join(dir, "one-line-100MB.txt");
  writeFileSync(big, Buffer.alloc(100 << 20, "a"));
  const bad = join(dir, "bad-100k.txt");
  writeFileSync(bad, Array.from({ length: 100_000 }, (_, i) => `not a target ${i}\n`).join(""));
  const fifteen = join(dir, "one-line-15MB.txt");
  writeFileSync(fifteen, `https://${"a".repeat(15 << 20)}/\n`);
  const hugeConfig = join(dir, "huge-config.json");
  writeFileSync(hugeConfig, `{"timeout": 1000, "x": "${"y".repeat(60 << 20)}"}`);
  const keysConfig = join(dir, "many-keys.json");
  writeFileSync(keysConfig, `{${Array.from({ length: 40_000 }, (_, i) => `"k${i}":1`).join(",")}}`);
  const n = QUICK ? 20_000 : 100_000;
  const valid = join(dir, `valid-${n}.txt`);
  const closed = await tcp((s) => s.resetAndDestroy()); // refuses every target at once
  writeFileSync(valid, Array.from({ length: n }, (_, i) => `tcp://127.${1 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}:${closed}\n`).join(""));
  const dnsPort = await floodingResolver(24, 2500);
  const floodDb = join(dir, "flood.db");

  const cases = [
    ["100 MB one-line target file", ["--no-store", "--file", big], [2]],
    ["15 MB one-line target file", ["--no-store", "--file", fifteen], [2]],
    ["100k bad lines", ["--no-store", "--file", bad], [2]],
    ["/dev/zero as --file", ["--no-store", "--file", "/dev/zero"], [2]],
    ["60 MB config file", ["--no-store", "--config", hugeConfig, "tcp://127.0.0.1:9"], [2]],
    ["config with 40k unknown keys", ["--no-store", "--config", keysConfig, "tcp://127.0.0.1:9"], [2]],
    ["/dev/zero as --config", ["--no-store", "--config", "/dev/zero", "tcp://127.0.0.1:9"], [2]],
    ["/dev/zero as --fingerprints", ["--no-store", "--fingerprints", "/dev/zero", "tcp://127.0.0.1:9"], [2]],
    ["resolver flooding 24 x 2,500 A records", ["--db", floodDb, "--no-system-resolver", "--resolver", `127.0.0.1:${dnsPort}`, "--timeout", "2000", "http://flood.test/"], [0, 3, 4, 5]],
    [`${n / 1000}k valid targets, --json, stored`, ["--db", join(dir, "many.db"), "--json", "--concurrency", "256", "--file", valid], [4]],
    [`${n / 1000}k valid targets, human report`, ["--no-store", "--concurrency", "256", "--file", valid], [4]],
  ];
  for (const [name, args, codes] of cases) {
    // COMMON's --resolver is replaced where the case gives its own.
    const base = args.includes("--resolver") ? ["--no-canary", "--no-notice", "--public-ranges", "127.0.0.1/32"] : COMMON;
    const r = await run([...base, ...args], { killAfterMs: 300_000 });
    const errLines = lines(r.stderr);
    let extra = "";
    if (name.startsWith("resolver")) {
      const c = new Database(floodDb, { readonly: true });
      const m = c.prepare("SELECT length(observations_json) AS n FROM measurements").get();
      c.close();
      extra = `, ${m ? (m.n / 1024).toFixed(1) : "?"} KB stored for the target`;
    }
    if (name.includes("--json")) extra = `, ${lines(r.stdout) - 4} results`;
    if (name.includes("human")) extra = `, ${(r.stdoutBytes / (1 << 20)).toFixed(1)} MB of report`;
    const ok = codes.includes(r.code) && r.rssMb !== null && r.rssMb < RSS_LIMIT_MB && errLines <= ERROR_LINES_LIMIT && r.ms < 240_000;
    const first = r.stderr.split("\n")[0].slice(0, 160);
    row(`bad input: ${name}`, ok, `exit ${r.code}, peak RSS ${r.rssMb ?? "?"} MB, ${errLines} lines on stderr (${r.stderr.length} bytes) in ${(r.ms / 1000).toFixed(1)} s${extra}${errLines ? ` — "${first}"` : ""}`);
  }
}

// --- the run -------------------------------------------------------------------------------------
const t0 = Date.now();
console.error(`chaos: ${process.env.CHAOS_NS === "1" ? "in a new network namespace (lo only)" : "on 127.0.0.1 only"}; work dir ${dir}`);
// CHAOS_ONLY=overlapWithKills (a comma-separated list of the functions below) runs only those.
const only = process.env.CHAOS_ONLY?.split(",");
const sections = { killLoop, overlap, overlapWithKills, slowloris, hostileOrigins, badInput };
try {
  for (const [name, fn] of Object.entries(sections)) if (!only || only.includes(name)) await fn();
} catch (err) {
  row("suite", false, `crashed: ${err?.stack ?? err}`);
} finally {
  for (const s of servers) {
    try {
      s.close();
    } catch {
      /* closed */
    }
  }
}
const width = Math.max(...rows.map((r) => r.check.length));
console.log(`\nreachprobe chaos suite (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
console.log(`| ${"check".padEnd(width)} | result | figures |`);
console.log(`|${"-".repeat(width + 2)}|--------|---------|`);
for (const r of rows) console.log(`| ${r.check.padEnd(width)} | ${r.ok ? "ok    " : "FAIL  "} | ${r.figure} |`);
if (process.env.CHAOS_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
process.exit(rows.every((r) => r.ok) ? 0 : 1);
