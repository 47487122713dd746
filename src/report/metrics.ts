/**
 * The Prometheus text exposition of a run, for node_exporter's textfile collector
 * (docs/commands.md, "Metrics"): per target and per service, the status of the last run as a
 * state set (one series a status, 1 for the one it is), the target's duration, and the run's time.
 */
import type { Layer, Status } from "../analysis/verdict.js";
import { STATUSES_WORST_FIRST } from "../analysis/status-words.js";
import type { ServiceStatus, ServiceSummary } from "../analysis/service.js";

/** One target's result, as the metrics need it. */
export interface MetricsTarget {
  target: string;
  service: string;
  status: Status;
  layer: Layer | null;
  durationMs: number;
}

/** The run the metrics describe. */
export interface MetricsRun {
  /** The network key ("" when unlabelled, shown so). */
  network: string;
  startedAt: Date;
  finishedAt: Date;
  planned: number;
  measured: number;
  interrupted: boolean;
}

const SERVICE_STATUSES: readonly ServiceStatus[] = ["blocked", "partly blocked", "anomalies", "down", "inconclusive", "ok"];

/** A label value as the exposition format wants it: backslash, double quote and newline escaped. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(",")}}`;
}

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

/** The whole file, metric families in a fixed order, each with its HELP and TYPE lines. */
export function renderMetrics(run: MetricsRun, targets: readonly MetricsTarget[], services: readonly ServiceSummary[]): string {
  const network = run.network === "" ? "(unlabelled)" : run.network;
  const out: string[] = [];
  const family = (name: string, help: string, rows: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...rows);
  };
  family(
    "reachprobe_target_status",
    "Status of each target in the last run, one series a status: 1 for the target's status, 0 for the others (layer: where a blocked or anomaly status happened).",
    targets.flatMap((t) =>
      STATUSES_WORST_FIRST.map((s) => `reachprobe_target_status${labels({ network, service: t.service, target: t.target, status: s, layer: s === t.status ? (t.layer ?? "") : "" })} ${s === t.status ? 1 : 0}`),
    ),
  );
  family(
    "reachprobe_target_duration_seconds",
    "Time the last run took to measure each target, in seconds.",
    targets.map((t) => `reachprobe_target_duration_seconds${labels({ network, service: t.service, target: t.target })} ${seconds(t.durationMs)}`),
  );
  family(
    "reachprobe_service_status",
    "Status of each service in the last run (from its endpoints), one series a status: 1 for the service's status, 0 for the others.",
    services.flatMap((v) => SERVICE_STATUSES.map((s) => `reachprobe_service_status${labels({ network, service: v.service, status: s })} ${s === v.status ? 1 : 0}`)),
  );
  family(
    "reachprobe_service_endpoints",
    "Endpoints of each service in the last run, by status.",
    services.flatMap((v) => STATUSES_WORST_FIRST.map((s) => `reachprobe_service_endpoints${labels({ network, service: v.service, status: s })} ${v.counts[s]}`)),
  );
  family("reachprobe_last_run_timestamp_seconds", "When the last run finished, in seconds since the epoch.", [`reachprobe_last_run_timestamp_seconds${labels({ network })} ${seconds(run.finishedAt.getTime())}`]);
  family("reachprobe_last_run_duration_seconds", "How long the last run took, in seconds.", [`reachprobe_last_run_duration_seconds${labels({ network })} ${seconds(run.finishedAt.getTime() - run.startedAt.getTime())}`]);
  family("reachprobe_last_run_targets", "Targets of the last run: planned, and measured (fewer when it was interrupted).", [
    `reachprobe_last_run_targets${labels({ network, what: "planned" })} ${run.planned}`,
    `reachprobe_last_run_targets${labels({ network, what: "measured" })} ${run.measured}`,
  ]);
  family("reachprobe_last_run_interrupted", "1 when the last run was stopped before it measured every target.", [`reachprobe_last_run_interrupted${labels({ network })} ${run.interrupted ? 1 : 0}`]);
  return `${out.join("\n")}\n`;
}
