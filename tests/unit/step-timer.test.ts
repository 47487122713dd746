/**
 * A step's timer signal is listened on by every address of the step at once: no
 * MaxListenersExceededWarning on stderr for a name with many addresses, whether or not the
 * process raised the default (a run does, once, see allowStepListeners).
 */
import { describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import { allowStepListeners, startStepTimer, STEP_LISTENERS } from "../../src/net/deadline.js";

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

describe("step timers", () => {
  it("take a step's listeners without a warning before the default is raised", async () => {
    const before = EventEmitter.defaultMaxListeners;
    expect(before).toBeLessThan(STEP_LISTENERS);
    expect(await warningsWhile(() => listenMany(100))).toEqual([]);
  });

  it("take them without a warning once a run raised the default, and still warn past the bound", async () => {
    const before = EventEmitter.defaultMaxListeners;
    try {
      allowStepListeners();
      expect(EventEmitter.defaultMaxListeners).toBe(STEP_LISTENERS);
      expect(await warningsWhile(() => listenMany(100))).toEqual([]);
      // A leak (listeners never removed) is still reported.
      const leak = await warningsWhile(() => listenMany(STEP_LISTENERS + 1));
      expect(leak.join("\n")).toMatch(/MaxListenersExceededWarning/);
    } finally {
      EventEmitter.defaultMaxListeners = before;
    }
  });

  it("abort with a timeout when their time is up", async () => {
    const timer = startStepTimer(5);
    await new Promise((r) => timer.signal.addEventListener("abort", r, { once: true }));
    expect((timer.signal.reason as { failure?: string }).failure ?? String(timer.signal.reason)).toMatch(/generic_timeout_error/);
    timer.dispose();
  });
});
