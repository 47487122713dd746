/** Timers for probe steps: a per-step timeout bounded by the target's remaining budget. */
import { EventEmitter } from "node:events";
import { ClassifiedError } from "./failures.js";

/**
 * What a probe needs of a signal: whether it aborted, why, and a listener for when it does. The
 * run's stop signal (an AbortSignal) is one; a step's timer (Deadline below) is the other.
 */
export interface StepSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A running timer that aborts `signal` when the step's time is up. */
export interface StepTimer {
  signal: StepSignal;
  /** Milliseconds granted to the step (min of its timeout and the budget left). */
  ms: number;
  dispose(): void;
}

/** How many listeners a step's signal may have: every address of a step listens on it at once. */
export const STEP_LISTENERS = 256;

/**
 * Makes every AbortSignal created from now on allow STEP_LISTENERS listeners, for a process that
 * starts many targets (a run): steps listen on the signals made for Node's and undici's APIs
 * (toAbortSignal) once an address, and setting the bound on each signal costs about 5 us a call
 * in Node 20 (an object that gets the property changes shape). Targets' budgets listen on the
 * run's stop signal through followAbortSignal, which adds one listener to it.
 */
export function allowStepListeners(): void {
  if (EventEmitter.defaultMaxListeners < STEP_LISTENERS) EventEmitter.defaultMaxListeners = STEP_LISTENERS;
}

/**
 * A step's signal: aborts once, calls its listeners in the order they were added (each once), and
 * never again after. Why not an AbortController: a target starts four or five timers, each
 * listened on by two or three parties, and Node 20's EventTarget (a listener record, weak-handler
 * bookkeeping, an Event object at abort) cost three times as much CPU as this for the same work
 * (bench/step-signal-bench.mjs; docs/development.md, "CPU per target"). Probes never hand a
 * step's signal to Node or undici; what must (the DoH and helper clients) asks toAbortSignal.
 */
class Deadline implements StepSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | null = null;
  private warned = false;
  private real: AbortController | null = null;

  /** `bound`: listeners past which a leak is reported (0: none, for a run's stop signal). */
  constructor(private readonly bound = STEP_LISTENERS) {}

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return; // as an AbortSignal: a listener added after the abort never runs
    const list = (this.listeners ??= []);
    if (list.includes(listener)) return; // as EventTarget: the same listener once
    list.push(listener);
    if (this.bound > 0 && list.length > this.bound && !this.warned) {
      // A leak (listeners added and never removed) is reported as EventTarget reports it.
      this.warned = true;
      process.emitWarning(`Possible step timer leak detected. ${list.length} abort listeners added to a step's signal. The bound is ${this.bound}.`, "MaxListenersExceededWarning");
    }
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const list = this.listeners;
    if (list === null) return;
    const i = list.lastIndexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const list = this.listeners;
    this.listeners = null;
    this.real?.abort(reason);
    if (list === null) return;
    for (const listener of list) {
      try {
        listener();
      } catch (err) {
        // As EventTarget does: the other listeners still run; the error surfaces uncaught.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  toAbortSignal(): AbortSignal {
    if (this.real === null) {
      this.real = new AbortController();
      if (this.aborted) this.real.abort(this.reason);
    }
    return this.real.signal;
  }
}

/**
 * A step signal that aborts with `signal` (a run's stop signal): what every target's budget and
 * lookup listen on, instead of the AbortSignal itself, to which it adds one listener until
 * `dispose`. Why: each listener added to and removed from an AbortSignal cost Node 20's
 * EventTarget 20-25 us, two a target (a field run's --cpu-prof). Any number may listen: a run has
 * one a target in flight.
 */
export function followAbortSignal(signal: AbortSignal): { signal: StepSignal; dispose(): void } {
  const follower = new Deadline(0);
  const onAbort = () => follower.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return { signal: follower, dispose: () => signal.removeEventListener("abort", onAbort) };
}

/** An AbortSignal that aborts with `signal` (itself when it is one): for Node's and undici's APIs. */
export function toAbortSignal(signal: StepSignal): AbortSignal {
  if (signal instanceof Deadline) return signal.toAbortSignal();
  if (signal instanceof AbortSignal) return signal;
  // The two kinds of step signal there are; anything else is a programming error.
  throw new TypeError("toAbortSignal: not an AbortSignal nor a step timer's signal");
}

/** Starts a timer of `timeoutMs`, cut short when `parent` (the target's budget) aborts first. */
export function startStepTimer(timeoutMs: number, parent?: StepSignal): StepTimer {
  const deadline = new Deadline();
  // The error is built only when the timer fires: thousands of steps finish in time, and an
  // Error captures a stack.
  const timedOut = () => new ClassifiedError("generic_timeout_error", `step timed out after ${timeoutMs} ms`);
  const timer = setTimeout(() => deadline.abort(timedOut()), Math.max(0, timeoutMs));
  const onParent = () => {
    clearTimeout(timer);
    deadline.abort(parent?.reason instanceof ClassifiedError ? parent.reason : timedOut());
  };
  if (parent) {
    if (parent.aborted) onParent();
    else parent.addEventListener("abort", onParent, { once: true });
  }
  return {
    signal: deadline,
    ms: timeoutMs,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}

/** Resolves with fn's result, or rejects with a generic_timeout_error when signal aborts first. */
export function raceAbort<T>(signal: StepSignal, fn: () => Promise<T>): Promise<T> {
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
export function abortReason(signal: StepSignal): ClassifiedError {
  return signal.reason instanceof ClassifiedError ? signal.reason : new ClassifiedError("generic_timeout_error");
}
