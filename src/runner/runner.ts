/**
 * The runner: the one place where concurrency lives. It probes the canary first, then every
 * target through p-limit, analyses each as it finishes and hands the result to the sink at
 * once, so a killed run loses nothing that finished.
 */
import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import type { Target } from "../targets/target.js";
import type { ProbeConfig } from "../probes/config.js";
import type { ControlObservation, Observation } from "../probes/observation.js";
import { probeTarget, type ProbeOutcome } from "../probes/pipeline.js";
import type { AnalysisContext } from "../analysis/context.js";
import { analyzeTarget, failedAtNetworkLevel } from "../analysis/target.js";
import type { Verdict } from "../analysis/verdict.js";

/** One target's finished measurement. */
export interface TargetResult {
  target: Target;
  verdict: Verdict;
  observations: Observation[];
  /** What the control helper saw, when one was asked. */
  control: ControlObservation | null;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

/** The canary's outcome, recorded with the run. */
export interface CanaryResult {
  target: string;
  ok: boolean;
  /** Why it counts as failed, in plain words; null when ok. */
  reason: string | null;
}

/** What the runner needs. */
export interface RunnerInput {
  targets: readonly Target[];
  canary?: Target | null;
  probe: ProbeConfig;
  concurrency: number;
  context: Omit<AnalysisContext, "networkDown">;
  /** Aborted on SIGINT/SIGTERM: in-flight targets stop and are not reported. */
  stop: AbortSignal;
  /** Swappable for tests: defaults to the real pipeline. */
  probeFn?: (t: Target, cfg: ProbeConfig, stop: AbortSignal) => Promise<ProbeOutcome>;
}

/** Callbacks the runner reports to, synchronously, as things happen. */
export interface RunnerSink {
  onCanary?(c: CanaryResult): void;
  onStart?(t: Target): void;
  onResult(r: TargetResult): void;
}

/** What the whole run produced. */
export interface RunnerOutcome {
  canary: CanaryResult | null;
  completed: number;
  interrupted: boolean;
}

/** Probes the canary, then every target at the given concurrency. */
export async function runTargets(input: RunnerInput, sink: RunnerSink): Promise<RunnerOutcome> {
  const probe = input.probeFn ?? probeTarget;
  // Every target in flight listens on the stop signal.
  setMaxListeners(0, input.stop);
  let canary: CanaryResult | null = null;
  if (input.canary && !input.stop.aborted) {
    // The canary asks no control: it tests this machine's network, not the helper's.
    const { observations: obs } = await probe(input.canary, { ...input.probe, control: undefined }, input.stop);
    const down = failedAtNetworkLevel(input.canary, obs);
    const firstFailure = obs.find((o) => o.failure !== null)?.failure;
    canary = { target: input.canary.input, ok: !down, reason: down ? `${firstFailure ?? "no answer"}` : null };
    sink.onCanary?.(canary);
  }
  const context: AnalysisContext = {
    ...input.context,
    networkDown: canary && !canary.ok ? { canary: canary.target, reason: canary.reason ?? "failed" } : null,
  };

  const limit = pLimit(Math.max(1, input.concurrency));
  let completed = 0;
  await Promise.all(
    input.targets.map((target) =>
      limit(async () => {
        if (input.stop.aborted) return;
        sink.onStart?.(target);
        const startedAt = new Date();
        const t0 = performance.now();
        const { observations, control } = await probe(target, input.probe, input.stop);
        // A target cut short by Ctrl-C would look like a timeout; it is dropped, not stored.
        if (input.stop.aborted) return;
        const verdict = analyzeTarget(target, observations, context, control);
        completed++;
        sink.onResult({ target, verdict, observations, control, startedAt, finishedAt: new Date(), durationMs: Math.round(performance.now() - t0) });
      }),
    ),
  );
  return { canary, completed, interrupted: input.stop.aborted };
}
