#!/usr/bin/env node
/**
 * `npm run bench`: the run benchmark of docs/design.md ("Performance").
 *
 * N targets against loopback servers started here, a share of which stall, probed by the
 * BUILT command (`node bin/reachprobe.cjs run ...`, the launcher, exactly as a user runs it) at a given
 * concurrency. Prints the wall time as a ratio of the bound `ceil(N / concurrency) x timeout`,
 * the peak RSS of the command, how far the per-step timeout overshoots, and the peak RSS at a
 * smaller N to show that memory does not grow with the list.
 *
 * Safety: every target is http://127.0.0.1:PORT/... on a server this script started; the
 * command runs with --no-canary, so nothing but loopback is ever contacted.
 *
 * Plain ESM JavaScript on purpose: it needs no build of its own, only `npm run build`.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gnuTimeWorks, parseGnuTime, readVmHwmKb } from "./child-usage.mjs";

let CLI = fileURLToPath(new URL("../bin/reachprobe.cjs", import.meta.url));
const HELP = `usage: node bench/run-bench.mjs [options]   (or: npm run bench -- [options])

Runs the built reachprobe CLI against loopback servers started by this script and prints
wall time as a ratio of ceil(N / concurrency) x timeout, peak RSS and timeout precision.

options:
  --system-resolver    the field mode instead: bench/field-bench.mjs (root; a namespace lab
                       whose resolver answers after 50-100 ms; --help there for its options)
  --targets N          targets in the main run (default 2000)
  --concurrency C      --concurrency passed to the CLI (default 100)
  --stall-share S      share of targets pointing at a server that accepts and never answers,
                       0..1 (default 0.2)
  --timeout MS         --timeout (per step) passed to the CLI (default 1000)
  --budget MS          --budget (per target) passed to the CLI (default 4 x timeout)
  --scale LIST         comma-separated target counts for the memory-flatness runs; the main
                       N is always included (default: N/4 and N). "none" skips the extra runs
  --monitor            preload bench/cli-monitor.mjs into the CLI (node --import) and print its
                       event-loop delay (how late its timers fire under load) and its live
                       heap after major GCs (what really grows with N, unlike peak RSS)
  --rss-source SRC     where peak RSS comes from: auto (default: /usr/bin/time -v when it works,
                       else proc), time, or proc (poll /proc/<pid>/status VmHWM every 50 ms)
  --cpu-prof DIR       run the CLI under "node --cpu-prof --cpu-prof-dir DIR" (a .cpuprofile
                       for Chrome DevTools or bench/profile-summary.mjs); costs some CPU itself
  --cli PATH           the entry to run (default: this checkout's launcher bin/reachprobe.cjs), e.g. a
                       build of another commit, to compare CPU per target under the same load
  --keep               keep the temporary directory (targets file, database, JSON, logs)
  --help               this text

Exit status: 0 when every run finished with the right verdicts, 1 otherwise.`;

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

function parseFlags() {
  // The field mode (the system resolver in a namespace lab, root only) is its own script.
  if (process.argv.includes("--system-resolver")) return { field: true };
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        targets: { type: "string", default: "2000" },
        concurrency: { type: "string", default: "100" },
        "stall-share": { type: "string", default: "0.2" },
        timeout: { type: "string", default: "1000" },
        budget: { type: "string" },
        scale: { type: "string" },
        keep: { type: "boolean", default: false },
        monitor: { type: "boolean", default: false },
        "rss-source": { type: "string", default: "auto" },
        "cpu-prof": { type: "string" },
        cli: { type: "string" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    fail(`${err.message}\n\n${HELP}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const int = (name, text, min) => {
    const n = Number(text);
    if (!/^\d+$/.test(String(text).trim()) || !Number.isSafeInteger(n) || n < min) fail(`--${name} must be a whole number >= ${min}, got "${text}"`);
    return n;
  };
  const targets = int("targets", v.targets, 1);
  const concurrency = int("concurrency", v.concurrency, 1);
  const timeout = int("timeout", v.timeout, 1);
  const budget = v.budget === undefined ? 4 * timeout : int("budget", v.budget, 1);
  const share = Number(v["stall-share"]);
  if (!Number.isFinite(share) || share < 0 || share > 1) fail(`--stall-share must be a number from 0 to 1, got "${v["stall-share"]}"`);
  let scale;
  if (v.scale === undefined) scale = [Math.max(1, Math.ceil(targets / 4)), targets];
  else if (v.scale === "none") scale = [targets];
  else scale = [...v.scale.split(",").map((s) => int("scale", s, 1)), targets];
  scale = [...new Set(scale)].sort((a, b) => a - b);
  const rssSource = v["rss-source"];
  if (!["auto", "time", "proc"].includes(rssSource)) fail(`--rss-source must be auto, time or proc, got "${rssSource}"`);
  if (v.cli !== undefined) CLI = resolve(v.cli);
  return { targets, concurrency, timeout, budget, share, scale, keep: v.keep, monitor: v.monitor, rssSource, cpuProf: v["cpu-prof"] };
}

// ---------------------------------------------------------------------------------------
// Loopback servers

const PAGE = Buffer.from(
  "<!doctype html><html><head><title>reachprobe bench</title></head><body><p>A small page served on loopback by bench/run-bench.mjs.</p></body></html>\n",
);

/** A quick HTTP server answering every GET with a small HTML page. */
async function startFastServer() {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": PAGE.length });
    res.end(PAGE);
  });
  server.keepAliveTimeout = 1000;
  server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 });
  await once(server, "listening");
  let requests = 0;
  server.on("request", () => requests++);
  return {
    port: server.address().port,
    get requests() {
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A TCP server that accepts every connection and never sends a byte; sockets are held until close(). */
async function startStallServer() {
  const sockets = new Set();
  let accepted = 0;
  let peak = 0;
  const server = createTcpServer((socket) => {
    accepted++;
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on("error", () => {}); // the client resets when its timer fires; that is expected
    socket.on("close", () => sockets.delete(socket));
    socket.resume(); // read and drop the request so the client's writes never block
  });
  server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 });
  await once(server, "listening");
  return {
    port: server.address().port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    get peak() {
      return peak;
    },
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise((r) => server.close(r));
    },
  };
}

// ---------------------------------------------------------------------------------------
// Running the CLI and measuring it

/** The CLI run in progress (its own process group), killed if the bench itself is stopped. */
let running = null;
/** The temporary directory to remove when the bench is stopped (null with --keep). */
let workDir = null;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (running) {
      try {
        process.kill(-running.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    process.stderr.write(`bench: ${sig}, stopped\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  });
}

/**
 * Spawns `node bin/reachprobe.cjs run ...` and waits for it. Peak RSS comes from GNU time when
 * available, else from polling /proc/<pid>/status VmHWM every 50 ms (VmHWM is already the
 * peak, so polling only has to catch the last value before exit).
 */
async function runCli({ args, dir, label, useTime, limitMs, monitor, cpuProf }) {
  const stdoutFile = join(dir, `${label}.json`);
  const stderrFile = join(dir, `${label}.stderr`);
  const timeFile = join(dir, `${label}.time`);
  const monitorFile = join(dir, `${label}.monitor.json`);
  const out = openSync(stdoutFile, "w");
  const err = openSync(stderrFile, "w");
  const preload = monitor ? ["--import", new URL("./cli-monitor.mjs", import.meta.url).href] : [];
  const prof = cpuProf ? ["--cpu-prof", "--cpu-prof-dir", cpuProf] : [];
  const nodeArgs = [...prof, ...preload, CLI, "run", ...args];
  const [cmd, argv] = useTime ? ["/usr/bin/time", ["-v", "-o", timeFile, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const env = { ...process.env, NO_COLOR: "1" };
  delete env.REACHPROBE_DB;
  delete env.REACHPROBE_PUBLIC_RANGES;
  if (monitor) env.REACHPROBE_BENCH_MONITOR_FILE = monitorFile;
  const t0 = performance.now();
  // detached: its own process group, so a hung run can be killed with its wrapper.
  const child = spawn(cmd, argv, { stdio: ["ignore", out, err], env, detached: true });
  running = child;
  closeSync(out);
  closeSync(err);
  let hwm = null;
  const poll = useTime
    ? null
    : setInterval(() => {
        const v = readVmHwmKb(child.pid);
        if (v !== null) hwm = Math.max(hwm ?? 0, v);
      }, 50);
  let killedForHang = false;
  const guard = setTimeout(() => {
    killedForHang = true;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }, limitMs);
  const [code, signal] = await once(child, "exit");
  const wallMs = performance.now() - t0;
  running = null;
  clearTimeout(guard);
  if (poll) clearInterval(poll);
  let rssKb = hwm;
  let cpuMs = null;
  let mon = null;
  if (monitor && existsSync(monitorFile)) {
    mon = JSON.parse(readFileSync(monitorFile, "utf8"));
    cpuMs = mon.cpuUserMs + mon.cpuSystemMs;
  }
  if (useTime && existsSync(timeFile)) {
    const t = parseGnuTime(readFileSync(timeFile, "utf8"));
    if (t.rssKb !== null) rssKb = t.rssKb;
    if (t.cpuMs !== null) cpuMs = t.cpuMs;
    // GNU time reports the child's status in its own exit code; a signal shows in the file.
    if (t.signal !== null) return { code: null, signal: t.signal, wallMs, rssKb, cpuMs, mon, stdoutFile, stderrFile, killedForHang };
  }
  return { code, signal, wallMs, rssKb, cpuMs, mon, stdoutFile, stderrFile, killedForHang };
}

function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function pct(x) {
  return `${x >= 0 ? "" : "-"}${Math.abs(x).toFixed(1)}%`;
}

/** Which of N targets stall: spread evenly through the list (target i stalls when floor((i+1)S) > floor(iS)). */
function stalls(i, share) {
  return Math.floor((i + 1) * share + 1e-9) > Math.floor(i * share + 1e-9);
}

/**
 * One benchmark run of n targets. Returns the figures, and a list of problems (wrong verdict
 * counts, wrong exit code, a hang...) that make the bench fail.
 */
async function benchRun(n, o, servers, dir, useTime) {
  const label = `run-${n}`;
  const lines = [];
  const expected = new Map(); // target -> "stall" | "fast"
  for (let i = 0; i < n; i++) {
    const stall = stalls(i, o.share);
    const url = stall ? `http://127.0.0.1:${servers.stall.port}/stall-${i}` : `http://127.0.0.1:${servers.fast.port}/page-${i}`;
    lines.push(url);
    expected.set(url, stall ? "stall" : "fast");
  }
  const stalled = [...expected.values()].filter((v) => v === "stall").length;
  const listFile = join(dir, `${label}.txt`);
  writeFileSync(listFile, `# reachprobe bench: ${n} loopback targets, ${stalled} stalling\n# service: bench\n${lines.join("\n")}\n`);
  const db = join(dir, `${label}.db`);
  const args = [
    "--file", listFile,
    "--db", db,
    "--json",
    "--no-canary",
    // Loopback IP literals only, but said outright: no default public resolver, ever.
    "--no-dns-control",
    "--public-ranges", "127.0.0.1/32",
    "--timeout", String(o.timeout),
    "--budget", String(o.budget),
    "--concurrency", String(o.concurrency),
    "--log-level", "warn",
  ];
  const idealMs = Math.ceil(n / o.concurrency) * o.timeout;
  // Generous: a run slower than this is a hang, not a slow run.
  const limitMs = Math.max(60_000, 5 * Math.ceil(n / o.concurrency) * o.budget);
  const acceptedBefore = servers.stall.accepted;
  const requestsBefore = servers.fast.requests;
  const r = await runCli({ args, dir, label, useTime, limitMs, monitor: o.monitor, cpuProf: o.cpuProf });
  const problems = [];
  const res = { n, stalled, fast: n - stalled, idealMs, ...r, problems, stallConnections: servers.stall.accepted - acceptedBefore, fastRequests: servers.fast.requests - requestsBefore };

  const stderrText = readFileSync(r.stderrFile, "utf8");
  if (r.killedForHang) problems.push(`the CLI did not finish within ${(limitMs / 1000).toFixed(0)} s and was killed`);
  const wantCode = stalled > 0 ? 4 : 0; // 4 = anomalies found, 0 = all ok
  if (r.code !== wantCode) problems.push(`exit code ${r.code ?? `signal ${r.signal}`}, expected ${wantCode}`);
  if (stderrText.trim()) res.stderrTail = stderrText.trim().split("\n").slice(-15).join("\n");

  let doc = null;
  try {
    doc = JSON.parse(readFileSync(r.stdoutFile, "utf8"));
  } catch (err) {
    problems.push(`stdout is not one JSON document: ${err.message}`);
  }
  if (doc) {
    const counts = { ok: 0, stallAnomaly: 0, wrong: 0 };
    const wrongExamples = [];
    const httpOvershoot = []; // percent, http step of stalled targets
    const targetOvershoot = []; // percent, whole target duration of stalled targets
    const fastDurations = [];
    for (const x of doc.results ?? []) {
      const kind = expected.get(x.target);
      const http = (x.observations ?? []).filter((ob) => ob.step === "http");
      if (kind === "stall" && x.status === "anomaly" && x.layer === "http" && x.failure === "generic_timeout_error") {
        counts.stallAnomaly++;
        const last = http[http.length - 1];
        if (last) httpOvershoot.push(((last.t - last.t0 - o.timeout) / o.timeout) * 100);
        // A stalled target = one quick TCP connect + one HTTP hop that times out.
        targetOvershoot.push(((x.duration_ms - o.timeout) / o.timeout) * 100);
      } else if (kind === "fast" && x.status === "ok") {
        counts.ok++;
        fastDurations.push(x.duration_ms);
      } else {
        counts.wrong++;
        if (wrongExamples.length < 5) wrongExamples.push(`${x.target} (${kind ?? "unknown target"}): ${x.status}/${x.layer}/${x.failure} ${JSON.stringify(x.evidence)}`);
      }
    }
    res.counts = counts;
    res.httpOvershoot = httpOvershoot;
    res.targetOvershoot = targetOvershoot;
    res.fastDurations = fastDurations;
    const seen = (doc.results ?? []).length;
    if (seen !== n) problems.push(`${seen} results in the JSON, expected ${n}`);
    if (counts.stallAnomaly !== stalled) problems.push(`${counts.stallAnomaly} stalled targets reported as anomaly/http/generic_timeout_error, expected ${stalled}`);
    if (counts.ok !== n - stalled) problems.push(`${counts.ok} fast targets reported ok, expected ${n - stalled}`);
    if (wrongExamples.length) problems.push(`wrong verdicts, e.g.:\n      ${wrongExamples.join("\n      ")}`);
    if (doc.run?.state !== "completed") problems.push(`run state ${doc.run?.state}, expected completed`);
    if (doc.run?.measured !== n) problems.push(`run.measured ${doc.run?.measured}, expected ${n}`);
    if (doc.run?.started_at && doc.run?.finished_at) res.inRunMs = Date.parse(doc.run.finished_at) - Date.parse(doc.run.started_at);
  }
  // Storing is part of the cost, so check that it happened.
  try {
    const { default: Database } = await import("better-sqlite3");
    const sdb = new Database(db, { readonly: true, fileMustExist: true });
    res.stored = sdb.prepare("SELECT count(*) AS c FROM measurements").get().c;
    sdb.close();
    if (res.stored !== n) problems.push(`${res.stored} measurements stored in ${db}, expected ${n}`);
  } catch (err) {
    problems.push(`could not read the database ${db}: ${err.message}`);
  }
  return res;
}

// ---------------------------------------------------------------------------------------

function secs(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

function report(r, o) {
  const stalledWaves = Math.ceil(r.stalled / o.concurrency);
  const workloadMs = stalledWaves * o.timeout;
  const out = [];
  out.push(`targets ${r.n}, concurrency ${o.concurrency}, stall ${(o.share * 100).toFixed(0)}%, timeout ${o.timeout} ms`);
  // The issue's bound: every target may take one timeout, so N / C waves of one timeout each.
  const bound = `bound ceil(${r.n}/${o.concurrency}) x ${(o.timeout / 1000).toFixed(3)} s = ${(r.idealMs / 1000).toFixed(1)} s -> ratio ${(r.wallMs / r.idealMs).toFixed(2)}`;
  // The workload's own bound: only stalled targets take a timeout (the fast ones take ~0), and at
  // most C of them run at once, so no schedule beats ceil(stalled / C) waves of one timeout.
  // A ratio near 1 means the runner adds little beyond the timeouts it must wait for.
  const wl =
    r.stalled > 0
      ? `workload bound ceil(${r.stalled}/${o.concurrency}) x ${(o.timeout / 1000).toFixed(3)} s = ${(workloadMs / 1000).toFixed(1)} s -> ratio ${(r.wallMs / workloadMs).toFixed(2)}`
      : "workload bound 0 s (nothing stalls)";
  out.push(`wall ${secs(r.wallMs)}${r.inRunMs !== undefined ? ` (in-run ${secs(r.inRunMs)}, the rest is process start and exit)` : ""}; ${bound}; ${wl}`);
  const rss = r.rssKb !== null && r.rssKb !== undefined ? `${(r.rssKb / 1024).toFixed(0)} MB` : "unknown";
  let over = "no stalled targets";
  if (r.httpOvershoot?.length) {
    over = `timeout overshoot (http step) median ${pct(median(r.httpOvershoot))}, max ${pct(Math.max(...r.httpOvershoot))}`;
    over += `; whole stalled target median ${pct(median(r.targetOvershoot))}, max ${pct(Math.max(...r.targetOvershoot))}`;
  }
  out.push(`peak RSS ${rss}; ${over}`);
  const extra = [];
  // CPU of the CLI (user + system): when this approaches the wall time, the run is CPU-bound,
  // not bound by the timeouts it waits for.
  if (r.cpuMs !== null && r.cpuMs !== undefined) extra.push(`CLI CPU ${secs(r.cpuMs)} (${(r.cpuMs / r.n).toFixed(2)} ms per target, ${((r.cpuMs / r.wallMs) * 100).toFixed(0)}% of wall)`);
  if (r.mon) {
    const l = r.mon.loop;
    extra.push(`event-loop delay p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`);
    extra.push(`live heap after major GC max ${r.mon.liveHeap.maxMB.toFixed(1)} MB (${r.mon.liveHeap.majorGcs} major GCs)`);
  }
  if (extra.length) out.push(extra.join("; "));
  // The CLI probes on one main thread: when its CPU time nears the wall time, the run is
  // CPU-bound and the workload ratio measures per-target CPU cost, not timeout handling.
  if (r.cpuMs && r.cpuMs > 0.8 * r.wallMs && r.wallMs > 1.1 * workloadMs) {
    out.push(`note: CPU-bound (CLI CPU ${((r.cpuMs / r.wallMs) * 100).toFixed(0)}% of wall): past the workload bound, the time goes to per-target CPU, not to waiting on timeouts`);
  }
  if (r.counts) {
    const fastMed = r.fastDurations.length ? `, fast target median ${median(r.fastDurations).toFixed(0)} ms, max ${Math.max(...r.fastDurations)} ms` : "";
    out.push(`verdicts: ${r.counts.ok} ok (want ${r.fast}), ${r.counts.stallAnomaly} anomaly/http/generic_timeout_error (want ${r.stalled}), ${r.counts.wrong} other; stored ${r.stored ?? "?"}; exit ${r.code}${fastMed}`);
  }
  return out.join("\n");
}

async function main() {
  const o = parseFlags();
  if (o.field) {
    const { main: fieldMain } = await import("./field-bench.mjs");
    return fieldMain(process.argv.slice(2).filter((a) => a !== "--system-resolver"));
  }
  if (!existsSync(CLI)) fail(`${CLI} not found: run "npm run build" first (npm run bench does)`);
  const timeWorks = gnuTimeWorks();
  if (o.rssSource === "time" && !timeWorks) fail("--rss-source time: /usr/bin/time -v -o FILE does not work here");
  const useTime = o.rssSource === "proc" ? false : timeWorks;
  const dir = mkdtempSync(join(tmpdir(), "reachprobe-bench-"));
  if (!o.keep) workDir = dir;
  let fdLimit = null;
  const ul = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" });
  if (ul.status === 0) fdLimit = Number(ul.stdout.trim());
  // The CLI holds ~1-2 sockets per target in flight; this process holds the server side.
  if (fdLimit && fdLimit < 4 * o.concurrency + 256) {
    process.stderr.write(`bench: warning: open-file limit ${fdLimit} is low for concurrency ${o.concurrency}; raise it with "ulimit -n ${4 * o.concurrency + 256}"\n`);
  }
  const servers = { fast: await startFastServer(), stall: await startStallServer() };
  process.stdout.write(
    `reachprobe bench: node ${process.version}, peak RSS via ${useTime ? "/usr/bin/time -v" : "/proc/<pid>/status VmHWM"}, fd limit ${fdLimit ?? "?"}\n` +
      `servers: fast HTTP 127.0.0.1:${servers.fast.port}, stall TCP 127.0.0.1:${servers.stall.port}; budget ${o.budget} ms; work dir ${dir}\n\n`,
  );
  const results = [];
  let failed = false;
  try {
    // The main N last, so its figures end the output; smaller runs first for the flatness table.
    for (const n of o.scale) {
      process.stdout.write(`running ${n} targets ...\n`);
      const r = await benchRun(n, o, servers, dir, useTime);
      results.push(r);
      process.stdout.write(`${report(r, o).replace(/^/gm, "  ")}\n`);
      if (r.stderrTail) process.stdout.write(`  CLI stderr (last lines):\n${r.stderrTail.replace(/^/gm, "    ")}\n`);
      if (r.problems.length) {
        failed = true;
        process.stdout.write(`  PROBLEMS:\n${r.problems.map((p) => `    - ${p}`).join("\n")}\n`);
      }
      process.stdout.write(`  stall server: ${r.stallConnections} connections accepted (${servers.stall.open} still open, peak ${servers.stall.peak}); fast server: ${r.fastRequests} requests\n\n`);
    }
  } finally {
    await servers.stall.close();
    await servers.fast.close();
    if (o.keep) process.stdout.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }

  if (results.length > 1) {
    process.stdout.write("memory flatness (peak RSS of the CLI per run):\n");
    const base = results[0];
    for (const r of results) {
      const mb = r.rssKb ? (r.rssKb / 1024).toFixed(0) : "?";
      const rel = r.rssKb && base.rssKb ? ` (x${(r.rssKb / base.rssKb).toFixed(2)} for x${(r.n / base.n).toFixed(2)} targets)` : "";
      const heap = r.mon ? `; live heap ${r.mon.liveHeap.maxMB.toFixed(1)} MB` : "";
      process.stdout.write(`  ${String(r.n).padStart(6)} targets: ${mb} MB${rel}${heap}\n`);
    }
    const first = results[0];
    const last = results[results.length - 1];
    if (first.rssKb && last.rssKb && last.n > first.n) {
      const perTargetKb = (last.rssKb - first.rssKb) / (last.n - first.n);
      process.stdout.write(`  growth ${perTargetKb.toFixed(1)} kB per extra target\n`);
    }
    process.stdout.write("\n");
  }
  const main = results.find((r) => r.n === o.targets) ?? results[results.length - 1];
  process.stdout.write("summary\n");
  process.stdout.write(`${report(main, o)}\n`);
  if (failed) {
    process.stdout.write("\nbench: FAILED (see PROBLEMS above)\n");
    process.exitCode = 1;
  }
}

await main();
