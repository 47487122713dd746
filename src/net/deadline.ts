/** Timers for probe steps: a per-step timeout bounded by the target's remaining budget. */
import { setMaxListeners } from "node:events";
import { ClassifiedError } from "./failures.js";

/** A running timer that aborts `signal` when the step's time is up. */
export interface StepTimer {
  signal: AbortSignal;
  /** Milliseconds granted to the step (min of its timeout and the budget left). */
  ms: number;
  dispose(): void;
}

/** Starts a timer of `timeoutMs`, cut short when `parent` (the target's budget) aborts first. */
export function startStepTimer(timeoutMs: number, parent?: AbortSignal): StepTimer {
  const ctl = new AbortController();
  // A target's budget is shared by every step and address at once; that many listeners is expected.
  setMaxListeners(256, ctl.signal);
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
