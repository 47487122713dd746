/**
 * A step's timer signal is listened on by every address of the step at once, and the run's stop
 * signal by every target's budget: no MaxListenersExceededWarning on stderr for either, and a
 * leak (listeners never removed) still reported.
 */
import { describe, expect, it } from "vitest";
import { EventEmitter, getEventListeners } from "node:events";
import { ClassifiedError } from "../../src/net/failures.js";
import { abortReason, allowStepListeners, followAbortSignal, startStepTimer, STEP_LISTENERS, toAbortSignal, type StepTimer } from "../../src/net/deadline.js";

async function warningsWhile(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off("warning", onWarning);
  }
  return seen;
}

function listenMany(n: number): void {
  const timer = startStepTimer(10_000);
  for (let i = 0; i < n; i++) timer.signal.addEventListener("abort", () => {});
  timer.dispose();
}

/** `n` target budgets listening on `stop` at once, as a run's targets in flight do. */
function budgetsOn(stop: AbortSignal, n: number): void {
  const budgets = Array.from({ length: n }, () => startStepTimer(10_000, stop));
  for (const b of budgets) b.dispose();
}

describe("step timers", () => {
  it("take a step's listeners without a warning, and still warn past the bound", async () => {
    expect(await warningsWhile(() => listenMany(100))).toEqual([]);
    const leak = await warningsWhile(() => listenMany(STEP_LISTENERS + 1));
    expect(leak.join("\n")).toMatch(/MaxListenersExceededWarning/);
  });

  it("listen on a run's stop signal without a warning once the run raised the default (allowStepListeners)", async () => {
    const before = EventEmitter.defaultMaxListeners;
    expect(before).toBeLessThan(100);
    try {
      // A stop signal made before: Node's default bound, so 100 budgets are reported as a leak.
      const early = new AbortController();
      expect((await warningsWhile(() => budgetsOn(early.signal, 100))).join("\n")).toMatch(/MaxListenersExceededWarning/);
      allowStepListeners();
      expect(EventEmitter.defaultMaxListeners).toBe(STEP_LISTENERS);
      const stop = new AbortController();
      expect(await warningsWhile(() => budgetsOn(stop.signal, 100))).toEqual([]);
    } finally {
      EventEmitter.defaultMaxListeners = before;
    }
  });

  it("follow a run's stop signal through one listener on it, however many budgets follow, with no leak warning", async () => {
    const run = new AbortController();
    const stop = followAbortSignal(run.signal);
    let budgets: StepTimer[] = [];
    const warnings = await warningsWhile(() => {
      budgets = Array.from({ length: 2 * STEP_LISTENERS }, () => startStepTimer(10_000, stop.signal));
    });
    expect(warnings).toEqual([]);
    expect(getEventListeners(run.signal, "abort")).toHaveLength(1);
    const reason = new Error("SIGINT");
    run.abort(reason);
    expect(stop.signal.aborted).toBe(true);
    expect(stop.signal.reason).toBe(reason);
    expect(budgets.every((b) => b.signal.aborted)).toBe(true);
    for (const b of budgets) b.dispose();
    const late = followAbortSignal(run.signal);
    expect([late.signal.aborted, late.signal.reason]).toEqual([true, reason]);
  });

  it("stop following once disposed: the run's signal keeps no listener, and a later abort reaches nobody", () => {
    const run = new AbortController();
    const stop = followAbortSignal(run.signal);
    stop.dispose();
    expect(getEventListeners(run.signal, "abort")).toHaveLength(0);
    run.abort(new Error("SIGINT"));
    expect(stop.signal.aborted).toBe(false);
  });

  it("abort with a timeout when their time is up", async () => {
    const timer = startStepTimer(5);
    await new Promise<void>((r) => timer.signal.addEventListener("abort", () => r(), { once: true }));
    expect((timer.signal.reason as { failure?: string }).failure ?? String(timer.signal.reason)).toMatch(/generic_timeout_error/);
    timer.dispose();
  });

  it("abort with their budget's reason when the budget aborts first, and call each listener once", () => {
    const budget = startStepTimer(10_000);
    const step = startStepTimer(10_000, budget.signal);
    const calls: string[] = [];
    const a = () => calls.push("a");
    step.signal.addEventListener("abort", a);
    step.signal.addEventListener("abort", a); // the same listener twice counts once, as on an AbortSignal
    step.signal.addEventListener("abort", () => calls.push("b"), { once: true });
    const removed = () => calls.push("removed");
    step.signal.addEventListener("abort", removed);
    step.signal.removeEventListener("abort", removed);
    const why = new ClassifiedError("generic_timeout_error", "the target's budget ran out");
    (budget.signal as unknown as { abort(r: unknown): void }).abort(why);
    expect(step.signal.aborted).toBe(true);
    expect(step.signal.reason).toBe(why);
    expect(abortReason(step.signal)).toBe(why);
    expect(calls).toEqual(["a", "b"]);
    // Added after the abort: never called, as on an AbortSignal.
    step.signal.addEventListener("abort", () => calls.push("late"));
    expect(calls).toEqual(["a", "b"]);
    step.dispose();
    budget.dispose();
  });

  it("stop listening on their budget once disposed, and never fire after", async () => {
    const stop = new AbortController();
    const step = startStepTimer(5, stop.signal);
    step.dispose();
    stop.abort(new ClassifiedError("generic_timeout_error", "stopped"));
    await new Promise((r) => setTimeout(r, 20));
    expect(step.signal.aborted).toBe(false);
  });

  it("give undici an AbortSignal that aborts with the step, however late it is asked for", async () => {
    const step = startStepTimer(5);
    const early = toAbortSignal(step.signal);
    expect(early.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(early.aborted).toBe(true);
    expect(early.reason).toBe(step.signal.reason);
    const late = toAbortSignal(step.signal);
    expect(late.aborted).toBe(true);
    expect(late.reason).toBe(step.signal.reason);
    const stop = new AbortController();
    expect(toAbortSignal(stop.signal)).toBe(stop.signal);
    step.dispose();
  });
});
