/** Timers for probe steps: a per-step timeout bounded by the target's remaining budget. */
import { EventEmitter, setMaxListeners } from "node:events";
import { ClassifiedError } from "./failures.js";

/** A running timer that aborts `signal` when the step's time is up. */
export interface StepTimer {
  signal: AbortSignal;
  /** Milliseconds granted to the step (min of its timeout and the budget left). */
  ms: number;
  dispose(): void;
}

/** How many listeners a step's signal may have: every address of a step listens on it at once. */
export const STEP_LISTENERS = 256;

/**
 * Makes every signal created from now on allow STEP_LISTENERS listeners, for a process that
 * starts many step timers (a run): setting it on each signal costs about 5 us a call in Node 20
 * (an object that gets the property changes shape), several a target.
 */
export function allowStepListeners(): void {
  if (EventEmitter.defaultMaxListeners < STEP_LISTENERS) EventEmitter.defaultMaxListeners = STEP_LISTENERS;
}

/** Starts a timer of `timeoutMs`, cut short when `parent` (the target's budget) aborts first. */
export function startStepTimer(timeoutMs: number, parent?: AbortSignal): StepTimer {
  const ctl = new AbortController();
  // A target's budget is shared by every step and address at once; that many listeners is expected.
  if (EventEmitter.defaultMaxListeners < STEP_LISTENERS) setMaxListeners(STEP_LISTENERS, ctl.signal);
  // The error is built only when the timer fires: thousands of steps finish in time, and an
  // Error captures a stack.
  const timeout = () => new ClassifiedError("generic_timeout_error", `step timed out after ${timeoutMs} ms`);
  const timer = setTimeout(() => ctl.abort(timeout()), Math.max(0, timeoutMs));
  const onParent = () => ctl.abort(parent?.reason instanceof ClassifiedError ? parent.reason : timeout());
  if (parent) {
    if (parent.aborted) onParent();
    else parent.addEventListener("abort", onParent, { once: true });
  }
  return {
    signal: ctl.signal,
    ms: timeoutMs,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}

/** Resolves with fn's result, or rejects with a generic_timeout_error when signal aborts first. */
export function raceAbort<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    fn().then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** The abort reason as a classified error (timeouts are the only way our signals abort). */
export function abortReason(signal: AbortSignal): ClassifiedError {
  return signal.reason instanceof ClassifiedError ? signal.reason : new ClassifiedError("generic_timeout_error");
}
