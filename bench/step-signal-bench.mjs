#!/usr/bin/env node
/**
 * What a target's step timers cost in CPU: the pattern a run's target goes through (a budget
 * listening on the run's stop signal, through followAbortSignal for the build's timers, then
 * DNS, TCP and HTTP steps, each with its own timer listening on the budget and two listeners
 * of its own), with the build's startStepTimer
 * (dist/net/deadline.js) against the same pattern on AbortController, which the step timers
 * used before (docs/development.md, "CPU per target"). Each variant runs in a child process
 * started with the launcher's V8 flags, as `run` is, and is repeated; the output is CPU time
 * per target and the ratio.
 *
 *   npm run build && node bench/step-signal-bench.mjs [--targets N] [--concurrency C] [--runs R]
 *
 * Nothing is sent anywhere: timers and promises only.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const DEADLINE = join(REPO, "dist", "net", "deadline.js");

/** One child: N targets, C at once, with `variant`'s timers; prints its CPU microseconds per target. */
async function child(variant, n, concurrency) {
  const { allowStepListeners, followAbortSignal, startStepTimer } = await import(pathToFileURL(DEADLINE).href);
  // As a run does once: every target's budget listens on the run's stop signal.
  allowStepListeners();
  // The timers of the issue-9 build, as they were: an AbortController per step.
  const startAbortTimer = (ms, parent) => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new Error("timed out")), ms);
    const onParent = () => ctl.abort(parent.reason);
    if (parent) parent.addEventListener("abort", onParent, { once: true });
    return { signal: ctl.signal, dispose() { clearTimeout(timer); parent?.removeEventListener("abort", onParent); } };
  };
  const start = variant === "deadline" ? startStepTimer : startAbortTimer;
  // The run's stop signal; a run's budgets follow it through one listener (followAbortSignal).
  const runStop = new AbortController().signal;
  const stop = variant === "deadline" ? followAbortSignal(runStop).signal : runStop;
  const listen = (signal) => {
    const f = () => {};
    signal.addEventListener("abort", f, { once: true });
    return () => signal.removeEventListener("abort", f);
  };
  const target = async () => {
    const budget = start(8000, stop);
    for (let step = 0; step < 3; step++) {
      const t = start(2000, budget.signal);
      const a = listen(t.signal);
      const b = listen(t.signal);
      await null;
      a();
      b();
      t.dispose();
    }
    budget.dispose();
  };
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await target();
    }
  };
  const u0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const u = process.cpuUsage(u0);
  process.stdout.write(`${(u.user + u.system) / n}\n`);
}

const { values: v } = parseArgs({
  options: {
    child: { type: "string" },
    targets: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "100" },
    runs: { type: "string", default: "5" },
  },
});
const n = Number(v.targets);
const concurrency = Number(v.concurrency);
if (!(n > 0) || !(concurrency > 0) || !(Number(v.runs) > 0)) {
  process.stderr.write("step-signal-bench: --targets, --concurrency and --runs must be positive numbers\n");
  process.exit(2);
}
if (v.child) {
  await child(v.child, n, concurrency);
} else {
  if (!existsSync(DEADLINE)) {
    process.stderr.write(`step-signal-bench: ${DEADLINE} not found: run "npm run build" first\n`);
    process.exit(2);
  }
  const { v8Flags } = createRequire(import.meta.url)(join(REPO, "bin", "reachprobe.cjs"));
  const flags = v8Flags(["run"], []);
  const per = { abortcontroller: [], deadline: [] };
  for (let r = 0; r < Number(v.runs); r++) {
    // Taking turns, so that both see the same load on a shared machine.
    for (const variant of Object.keys(per)) {
      const out = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), "--child", variant, "--targets", String(n), "--concurrency", String(concurrency)], { encoding: "utf8" });
      if (out.status !== 0) {
        process.stderr.write(`step-signal-bench: the ${variant} child failed: ${out.stderr.trim()}\n`);
        process.exit(1);
      }
      per[variant].push(Number(out.stdout.trim()));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  process.stdout.write(`${n} targets, ${concurrency} at once, ${v.runs} runs each (V8 flags: ${flags.join(" ") || "none"}); CPU per target:\n`);
  for (const [variant, xs] of Object.entries(per)) {
    process.stdout.write(`  ${variant.padEnd(16)} median ${median(xs).toFixed(1)} us (min ${Math.min(...xs).toFixed(1)})\n`);
  }
  process.stdout.write(`  ratio deadline / abortcontroller: ${(median(per.deadline) / median(per.abortcontroller)).toFixed(2)}\n`);
}
