/**
 * The JSON Lines export: one measurement a line, with the fields of its run that say where it
 * was measured from, its verdict, its observations and what the control helper saw. Pure: it
 * turns records into lines; reading the database and writing the file are the caller's.
 */
import { networkKey } from "../store/network.js";
import type { MeasurementWithRun } from "../store/store.js";

/** One line of the JSONL export, as documented in docs/commands.md ("reachprobe export"). */
export interface JsonlRecord {
  id: string;
  run_id: string;
  /** When the run started: observation times (t0, t) are milliseconds since then. */
  run_started_at: string;
  /** The network key (the label, else AS<asn>, else ""), as history and changes group runs. */
  network: string;
  network_label: string | null;
  probe_asn: number | null;
  probe_cc: string | null;
  reachprobe_version: string | null;
  target: string;
  service: string;
  status: string;
  layer: string | null;
  failure: string | null;
  evidence: string[];
  started_at: string;
  finished_at: string;
  duration_ms: number;
  observations: unknown[];
  control: unknown;
}

/** The JSONL record of one stored measurement. */
export function toJsonlRecord({ run, measurement: m }: MeasurementWithRun): JsonlRecord {
  return {
    id: m.id,
    run_id: m.runId,
    run_started_at: run.startedAt,
    network: networkKey(run),
    network_label: run.networkLabel,
    probe_asn: run.probeAsn,
    probe_cc: run.probeCc,
    reachprobe_version: run.version,
    target: m.target,
    service: m.service,
    status: m.verdict.status,
    layer: m.verdict.layer,
    failure: m.verdict.failure,
    evidence: m.verdict.evidence,
    started_at: m.startedAt,
    finished_at: m.finishedAt,
    duration_ms: m.durationMs,
    observations: m.observations,
    control: m.control,
  };
}

/** One line (newline included) per measurement, produced as the rows are read. */
export function* jsonlLines(rows: Iterable<MeasurementWithRun>): Generator<string> {
  for (const row of rows) yield `${JSON.stringify(toJsonlRecord(row))}\n`;
}
