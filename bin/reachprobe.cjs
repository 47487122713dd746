#!/usr/bin/env node
/**
 * The `reachprobe` command as installed (package.json "bin", npx, a scheduled run, the daemon's
 * runs): sizes libuv's thread pool, sets V8's tiering for the commands that measure, then loads
 * the CLI (dist/cli/main.js).
 *
 * Why a CommonJS file that is not compiled: libuv starts its thread pool, reading
 * UV_THREADPOOL_SIZE once, at the first task queued on it, and Node's ESM loader queues one when
 * it reads the first module. A CommonJS entry is read synchronously, so this file runs before the
 * pool exists and its setting takes effect; the same line at the top of main.js came too late
 * (the pool was already 4 threads, and 914 of 1,000 lab targets timed out in DNS, see README.md
 * "Thread pool"). `node dist/cli/main.js` run directly relaunches itself through this file
 * (src/cli/relaunch.ts).
 *
 * Why the size: getaddrinfo (the system resolver) blocks one pool thread per lookup, and libuv
 * lets such slow tasks take at most half of the pool, keeping the other half for the short ones
 * (async fs of target files and logs, zlib inflating HTTP bodies, crypto's async calls).
 * QUIRK: seen in tests/integration/threadpool.test.ts's namespace, 100 lookups asked at once
 * reached the resolver 2 at a time with 4 threads, 4 with 8 (so the old 64 allowed 32). A
 * lookup we stop waiting for at --timeout keeps its thread until glibc gives up (5 s x 2
 * attempts a nameserver by default), so with a resolver that drops queries abandoned lookups sit
 * next to the live ones. Hence 4 threads per target probed at once (two lookups: the live one
 * and one abandoned), plus 16. Without --concurrency on the command line (a config file may set
 * it) 64 is assumed. At least 64, at most libuv's 1024. A UV_THREADPOOL_SIZE the user set is
 * kept as it is. Other commands keep libuv's default 4: they resolve few names, if any.
 */
"use strict";

/** Commands that resolve names at scale and get a sized pool; the others keep libuv's default. */
const POOL_COMMANDS = ["run", "control"];
/** The flag that says how many targets (requests, for control) are measured at once. */
const CONCURRENCY_FLAG = { run: "--concurrency", control: "--max-concurrent" };
const MIN_POOL = 64;
const MAX_POOL = 1024; // libuv's own limit (MAX_THREADPOOL_SIZE)
const ASSUMED_CONCURRENCY = 64;

/** The concurrency given on a command line (`--flag N` or `--flag=N`, before `--`), or null. */
function concurrencyOf(args, flag) {
  let found = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") break;
    let v;
    if (a === flag) v = args[++i];
    else if (a.startsWith(`${flag}=`)) v = a.slice(flag.length + 1);
    else continue;
    // A bad value is left for the command's own parser to report.
    if (v !== undefined && /^[1-9]\d{0,6}$/.test(v)) found = Number(v);
  }
  return found;
}

/**
 * The pool size for `args` (the words after the script: a command and its flags), or null when
 * the command does not need one.
 */
function poolSize(args) {
  const command = args[0];
  if (!POOL_COMMANDS.includes(command)) return null;
  const n = concurrencyOf(args.slice(1), CONCURRENCY_FLAG[command]) ?? ASSUMED_CONCURRENCY;
  return Math.min(MAX_POOL, Math.max(MIN_POOL, 4 * n + 16));
}

/**
 * V8's interrupt budget for the commands that measure (run, control): 8 x its default (67,584),
 * so a function must run 8 times longer before V8's optimising compiler (TurboFan) takes it.
 * Why: a run waits on the network most of its life and runs each of its functions a few
 * thousand times; TurboFan compiled hundreds of them, on its own threads, and that was 15% of
 * a 1,000-target run's CPU (perf record in the field bench, docs/development.md "CPU per
 * target"): 1.7% with this budget, the run's CPU 11% lower. Functions still hot after that
 * (a 100,000-target run) are optimised as before, only later. Set here, before the CLI's first
 * function exists (V8 reads the flag when it gives a function its budget); a budget the user
 * put on node's command line is kept.
 */
const INTERRUPT_BUDGET = 8 * 67584;

/**
 * Node's built-in modules that `run` and `control` load, loaded before the launcher changes a V8
 * flag. Why: Node compiles its built-in modules from a code cache made with V8's default flags,
 * and V8 rejects a cache made under other flags (it checks a hash of them), so every built-in
 * loaded after the flag changes is compiled from its source: the list below took 25-32 ms of
 * CPU to load after the flag and 10-15 ms before it (3 runs each; a one-target run is about
 * 250 ms). Loading them first costs nothing the command would not pay anyway: `run` loads every
 * one (process.moduleLoadList). A module left off the list is only compiled the slow way.
 */
const MEASURING_BUILTINS = [
  "node:net", "node:dgram", "node:dns", "node:http", "node:tls", "node:crypto", "node:zlib", "node:stream",
  "node:stream/promises", "node:string_decoder", "node:fs/promises", "node:os", "node:readline",
  "node:timers/promises", "node:perf_hooks", "node:diagnostics_channel", "node:v8",
];

/**
 * WebAssembly kept in Liftoff, V8's baseline compiler (every wasm function starts there), for
 * the same commands. Why: the module a run executes is llhttp (src/net/http1.ts reads every
 * HTTP/1.1 response with it; undici's clients use it too), and V8 recompiled its parser, one
 * very large function, with TurboFan as soon as it was hot: 20,000 parses of a small response
 * took 150-200 ms of CPU and 12-15 MB more memory with that, 25-35 ms and 3 MB without.
 * QUIRK: of V8 11.3's flags only this one takes effect when set at run time, as here
 * (--no-wasm-dynamic-tiering and a larger --wasm-tiering-budget change nothing then, nor does
 * --no-wasm-tier-up, even on node's command line); V8 lists it as a testing flag, for what it
 * tests: Liftoff alone. A flag of the
 * user's own about Liftoff or tiering is kept.
 */
const LIFTOFF_ONLY = "--liftoff-only";

/** The V8 flags the launcher sets for `args` (given node's own `execArgv`), or [] for none. */
function v8Flags(args, execArgv) {
  if (!POOL_COMMANDS.includes(args[0])) return [];
  const flags = [];
  if (!execArgv.some((a) => a.startsWith("--interrupt-budget") || a.startsWith("--interrupt_budget"))) {
    flags.push(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  }
  if (!execArgv.some((a) => /^--(no-)?(liftoff|wasm[-_]tier[-_]up|wasm[-_]dynamic[-_]tiering)/.test(a))) flags.push(LIFTOFF_ONLY);
  return flags;
}

module.exports = { POOL_COMMANDS, MEASURING_BUILTINS, poolSize, concurrencyOf, v8Flags };

if (require.main === module) {
  const size = poolSize(process.argv.slice(2));
  if (size !== null && !process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(size);
  const flags = v8Flags(process.argv.slice(2), process.execArgv);
  if (flags.length > 0) for (const m of MEASURING_BUILTINS) require(m);
  for (const flag of flags) require("node:v8").setFlagsFromString(flag);
  const { pathToFileURL } = require("node:url");
  const { join } = require("node:path");
  import(pathToFileURL(join(__dirname, "..", "dist", "cli", "main.js")).href).catch((err) => {
    process.stderr.write(`reachprobe: cannot load ${join(__dirname, "..", "dist", "cli", "main.js")}: ${(err && err.message) || err}\n`);
    process.exitCode = 1;
  });
}
