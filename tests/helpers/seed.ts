/**
 * Databases for tests: runs and measurements written through the Store, as `reachprobe run`
 * writes them, described in one line a run (`seedRun(store, { at, network, rows })`).
 */
import type { Layer, Status, Verdict } from "../../src/analysis/verdict.js";
import type { Failure } from "../../src/net/failures.js";
import type { FinalRunState, MeasurementInput, Store } from "../../src/store/store.js";

/** One measurement: target, service, verdict (null: listed but not measured), and any other field. */
export type SeedRow = [target: string, service: string, verdict: Verdict | null, extra?: Partial<MeasurementInput>];

/** One run to write. */
export interface SeedRun {
  /** When the run started (ms since the epoch, a Date or an ISO string). */
  at: number | Date | string;
  network?: { label?: string | null; asn?: number | null; cc?: string | null };
  rows: SeedRow[];
  /** The run's id; the Store makes one when absent. */
  id?: string;
  version?: string;
  options?: unknown;
  /** Defaults to the number of rows. */
  targetCount?: number;
  /** The i-th row starts `spacingMs * i` after the run (default 0). */
  spacingMs?: number;
  /** Each measurement's duration; it finishes that long after it started (default 1). */
  durationMs?: number;
  /** How the run ended; null leaves it running (default "completed"). */
  state?: FinalRunState | null;
  /** The per-service summary finishRun stores. */
  summary?: unknown;
}

/** Writes one run and its measurements; returns the run's id and its measurements' ids in row order. */
export function seedRun(store: Store, run: SeedRun): { runId: string; ids: string[] } {
  const start = run.at instanceof Date ? run.at.getTime() : typeof run.at === "string" ? Date.parse(run.at) : run.at;
  const runId = store.startRun({
    ...(run.id !== undefined ? { id: run.id } : {}),
    startedAt: typeof run.at === "string" ? run.at : new Date(start),
    version: run.version ?? "0.1.0",
    options: run.options ?? {},
    networkLabel: run.network?.label ?? null,
    probeAsn: run.network?.asn ?? null,
    probeCc: run.network?.cc ?? null,
    targetCount: run.targetCount ?? run.rows.length,
  });
  const ids: string[] = [];
  run.rows.forEach(([target, service, verdict, extra], i) => {
    if (!verdict) return;
    const t = start + (run.spacingMs ?? 0) * i;
    const durationMs = run.durationMs ?? 1;
    ids.push(store.addMeasurement(runId, { target, service, verdict, observations: [], startedAt: new Date(t), finishedAt: new Date(t + durationMs), durationMs, ...extra }));
  });
  if (run.state !== null) store.finishRun(runId, run.state ?? "completed", run.summary);
  return { runId, ids };
}

/** A verdict from its short form, "ok", "blocked/dns", "anomaly/tcp"; `failureOf` names the failure (none by default). */
export function verdict(text: string, failureOf: (status: Status, layer: Layer | null) => Failure | null = () => null, evidence: string[] = []): Verdict {
  const [status, layer] = text.split("/") as [Status, Layer | undefined];
  return { status, layer: layer ?? null, failure: failureOf(status, layer ?? null), evidence };
}
