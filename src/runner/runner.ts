/**
 * The runner: the one place where concurrency lives. It probes the canary first, then every
 * target through a pool of `concurrency` workers pulling from the plan one target at a time,
 * analyses each as it finishes and hands the result to the sink at once, so a killed run loses
 * nothing that finished, and memory holds only the targets in flight, however long the plan.
 */
import type { Target } from "../targets/target.js";
import { parseTarget } from "../targets/parse.js";
import type { ProbeConfig } from "../probes/config.js";
import type { ControlObservation, DnsObservation, Observation } from "../probes/observation.js";
import { lookupAhead, probeTarget, type ProbeOutcome } from "../probes/pipeline.js";
import { allowStepListeners, followAbortSignal, type StepSignal } from "../net/deadline.js";
import type { AnalysisContext } from "../analysis/context.js";
import { analyzeTarget, failedAtNetworkLevel } from "../analysis/target.js";
import { notMeasured } from "../analysis/classify.js";
import type { Verdict } from "../analysis/verdict.js";
import { scrubOwnAddresses } from "./privacy.js";
import { collectGarbage } from "./memory.js";

/** A full garbage collection every this many results (a few tens of ms each). */
const GC_EVERY = 5_000;

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

/** The preflight's outcome, recorded with the run: is this machine online at all? */
export interface CanaryResult {
  target: string;
  ok: boolean;
  /** Why it counts as failed, in plain words; null when ok. */
  reason: string | null;
  /** Whether the control helper answered a health check (null: no helper configured). */
  control?: boolean | null;
  /** True when the preflight concluded that the local network is down: targets were not probed. */
  networkDown?: boolean;
}

/** What the runner needs. */
export interface RunnerInput {
  /** The plan, read one target at a time as a worker is free (an array, or a generator). */
  targets: Iterable<Target>;
  canary?: Target | null;
  probe: ProbeConfig;
  concurrency: number;
  context: Omit<AnalysisContext, "networkDown">;
  /** Aborted on SIGINT/SIGTERM: in-flight targets stop and are not reported. */
  stop: AbortSignal;
  /** The control helper's health check, made before the run; absent when there is none. */
  controlUp?: { ok: boolean; failure: string | null } | null;
  /** Strings scrubbed from every measurement before it is reported (the probe's own addresses). */
  ownAddresses?: readonly string[];
  /** Swappable for tests: defaults to the real pipeline. */
  probeFn?: (t: Target, cfg: ProbeConfig, stop: StepSignal, lookup?: Promise<DnsObservation[]> | null) => Promise<ProbeOutcome>;
  /** Starts a target's lookup ahead of its probe; defaults to the real one with the real pipeline, none with a probeFn. */
  lookupFn?: ((t: Target, cfg: ProbeConfig, stop: StepSignal) => Promise<DnsObservation[]> | null) | null;
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

/**
 * The preflight: the canary, and the control helper's health. A failed canary with a live
 * helper means the canary itself is filtered, not that the network is down.
 */
async function preflight(input: RunnerInput, probe: NonNullable<RunnerInput["probeFn"]>, stop: StepSignal): Promise<CanaryResult | null> {
  if (!input.canary || input.stop.aborted) return null;
  // The canary asks no control: it tests this machine's network, not the helper's.
  // Nor does it swap SNI, Host or address: its failure is taken as the network's, whatever the cause.
  const { observations: obs } = await probe(input.canary, { ...input.probe, control: undefined, sniSwap: null, hostSwap: null, addressSwap: false }, stop);
  const control = input.controlUp ?? null;
  const down = failedAtNetworkLevel(input.canary, obs);
  const firstFailure = obs.find((o) => o.failure !== null)?.failure;
  const canary: CanaryResult = { target: input.canary.input, ok: !down, reason: down ? `${firstFailure ?? "no answer"}` : null, control: control ? control.ok : null };
  canary.networkDown = down && !(control?.ok ?? false);
  if (down && control && !control.ok) canary.reason += `; the control helper could not be reached either (${control.failure})`;
  return canary;
}

/** How many targets at the head of a plan are kept as parsed (some 600 bytes each, 6 MB at most). */
export const KEEP_PARSED = 10_000;

/**
 * A plan kept small: past its first KEEP_PARSED targets, each target as its canonical input and
 * service only (some 60 bytes instead of some 600 as a parsed Target), parsed again when a worker
 * takes it; every target forgotten once taken. 100,000 targets held as Targets through a run
 * made the heap, which V8 lets grow to about four times what is live, pass 400 MB. The head is
 * kept as parsed because parsing again cost 20-40 us of CPU a target in the field bench
 * (docs/development.md, "CPU per target"), and a list of that size costs little to hold.
 */
export class CompactPlan implements Iterable<Target> {
  private readonly head: Array<Target | undefined>;
  private readonly inputs: Array<string | undefined>;
  private readonly services: Array<string | undefined>;
  /** How many targets the plan had. */
  readonly length: number;

  constructor(targets: readonly Target[]) {
    this.head = targets.slice(0, KEEP_PARSED);
    const tail = targets.slice(KEEP_PARSED);
    this.inputs = tail.map((t) => t.input);
    this.services = tail.map((t) => t.service);
    this.length = targets.length;
  }

  *[Symbol.iterator](): Generator<Target> {
    for (let i = 0; i < this.head.length; i++) {
      const target = this.head[i];
      if (target === undefined) continue; // taken already
      this.head[i] = undefined;
      yield target;
    }
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i];
      const service = this.services[i];
      if (input === undefined || service === undefined) continue; // taken already
      this.inputs[i] = this.services[i] = undefined;
      // A canonical input parses back to the same target.
      yield parseTarget(input, service);
    }
  }
}

/** Probes the canary, then every target at the given concurrency. */
export async function runTargets(input: RunnerInput, sink: RunnerSink): Promise<RunnerOutcome> {
  // Every target in flight listens on the stop signal, through one follower.
  const stop = followAbortSignal(input.stop);
  try {
    return await runFollowing(input, sink, stop.signal);
  } finally {
    stop.dispose();
  }
}

async function runFollowing(input: RunnerInput, sink: RunnerSink, stop: StepSignal): Promise<RunnerOutcome> {
  const probe = input.probeFn ?? probeTarget;
  const lookupFn = input.lookupFn !== undefined ? input.lookupFn : input.probeFn ? null : lookupAhead;
  allowStepListeners();
  const canary = await preflight(input, probe, stop);
  if (canary) sink.onCanary?.(canary);
  const context: AnalysisContext = {
    ...input.context,
    networkDown: canary && !canary.ok ? { canary: canary.target, reason: canary.reason ?? "failed" } : null,
  };
  const own = input.ownAddresses ?? [];

  let completed = 0;
  const measure = async (target: Target, lookup: Promise<DnsObservation[]> | null): Promise<void> => {
    sink.onStart?.(target);
    const startedAt = new Date();
    if (canary?.networkDown) {
      // Probing every target of an offline machine would only time out, slowly, target by
      // target: each is recorded as not measured.
      completed++;
      const verdict: Verdict = notMeasured(canary.target, canary.reason ?? "failed");
      sink.onResult({ target, verdict, observations: [], control: null, startedAt, finishedAt: startedAt, durationMs: 0 });
      return;
    }
    const t0 = performance.now();
    const raw = await probe(target, input.probe, stop, lookup);
    // A target cut short by Ctrl-C would look like a timeout; it is dropped, not stored.
    if (input.stop.aborted) return;
    const { observations, control } = own.length ? scrubOwnAddresses(raw, own) : raw;
    const verdict = scrubOwnAddresses(analyzeTarget(target, observations, context, control), own);
    completed++;
    sink.onResult({ target, verdict, observations, control, startedAt, finishedAt: new Date(), durationMs: Math.round(performance.now() - t0) });
    // See memory.ts: without it a 100,000-target run's heap grows to four times what it holds.
    if (completed % GC_EVERY === 0) collectGarbage();
  };

  // A pool of workers, each taking the next target when it is free; nothing finished is kept
  // here. A quarter of --concurrency more targets wait ahead with their lookups started
  // (lookupAhead): with the lookups in the slots, a resolver's 60-100 ms was added to every
  // target's turn. A quarter is enough to cover a resolver's delay once the first targets are
  // under way (targets finish at about concurrency / duration a second), and keeps bursts of
  // queries to the resolver near what --concurrency alone sends (twice it, seen on a loopback
  // resolver, lost queries to a full socket buffer: glibc then waits 5 s to ask again).
  const plan = input.targets[Symbol.iterator]();
  const depth = lookupFn ? Math.ceil(Math.max(1, input.concurrency) / 4) + 1 : 1;
  const ahead: Array<{ target: Target; lookup: Promise<DnsObservation[]> | null }> = [];
  const take = (): { target: Target; lookup: Promise<DnsObservation[]> | null } | undefined => {
    while (ahead.length < depth && !input.stop.aborted) {
      const next = plan.next();
      if (next.done) break;
      const lookup = lookupFn && !canary?.networkDown ? lookupFn(next.value, input.probe, stop) : null;
      ahead.push({ target: next.value, lookup });
    }
    return ahead.shift();
  };
  const worker = async (): Promise<void> => {
    while (!input.stop.aborted) {
      const next = take();
      if (!next) return;
      await measure(next.target, next.lookup);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, input.concurrency) }, worker));
  return { canary, completed, interrupted: input.stop.aborted };
}
