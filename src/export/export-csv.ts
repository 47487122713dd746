/**
 * The CSV export: the summary columns of each measurement (no observations), one row each,
 * quoted as RFC 4180 says, so that a spreadsheet or `csv.reader` reads it back exactly.
 */
import { networkKey } from "../store/network.js";
import type { MeasurementWithRun } from "../store/store.js";

/** The header row's column names, in order. */
export const CSV_COLUMNS = [
  "measurement_id",
  "run_id",
  "network",
  "target",
  "service",
  "status",
  "layer",
  "failure",
  "started_at",
  "finished_at",
  "duration_ms",
] as const;

/**
 * One field as RFC 4180 writes it: quoted when it holds a comma, a double quote, CR or LF,
 * with inner quotes doubled; null is the empty field.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record, CRLF-terminated as RFC 4180 says. */
export function csvRecord(fields: ReadonlyArray<string | number | null | undefined>): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** The header line, then one line per measurement, produced as the rows are read. */
export function* csvLines(rows: Iterable<MeasurementWithRun>): Generator<string> {
  yield csvRecord(CSV_COLUMNS);
  for (const { run, measurement: m } of rows) {
    yield csvRecord([
      m.id,
      m.runId,
      networkKey(run),
      m.target,
      m.service,
      m.verdict.status,
      m.verdict.layer,
      m.verdict.failure,
      m.startedAt,
      m.finishedAt,
      m.durationMs,
    ]);
  }
}
