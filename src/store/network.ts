/**
 * The network key: the one name under which runs from the same network are compared with
 * each other. History, changes, the views and every export use it, so that "the same
 * network" means the same thing everywhere.
 *
 * The key is the run's `network_label` (trimmed), else `AS<probe_asn>`, else `""` (shown as
 * "(unlabelled)"). It is copied onto every measurement (`measurements.network`) when the row
 * is written; see schema.ts for why.
 */
import type Database from "better-sqlite3";

/** How the empty key (no label, no ASN) is shown to people. */
export const UNLABELLED = "(unlabelled)";

/**
 * The network key as an SQL expression over a `runs` row, e.g. `networkKeySql("r")`.
 * The single definition: the schema's triggers are built from it.
 */
export function networkKeySql(run: string): string {
  // CAST: an ASN bound as a JS number arrives as a REAL where no INTEGER column converts it (AS8359.0).
  return `COALESCE(NULLIF(TRIM(${run}.network_label), ''), 'AS' || CAST(${run}.probe_asn AS INTEGER), '')`;
}

/** The network key of a run, as networkKeySql computes it in the database. */
export function networkKey(run: { networkLabel?: string | null; probeAsn?: number | null }): string {
  // SQLite's TRIM() removes spaces only, not tabs or newlines: match it exactly.
  const label = (run.networkLabel ?? "").replace(/^ +| +$/g, "");
  if (label !== "") return label;
  if (run.probeAsn !== null && run.probeAsn !== undefined) return `AS${run.probeAsn}`;
  return "";
}

/** A network key as people read it: the key itself, or "(unlabelled)" for the empty one. */
export function networkName(key: string): string {
  return key === "" ? UNLABELLED : key;
}

/** Turns what a user typed after `--network` into a key: trimmed, "(unlabelled)" meaning the empty key. */
export function networkFromInput(text: string): string {
  const t = text.replace(/^ +| +$/g, "");
  return t === UNLABELLED ? "" : t;
}

/** One network seen in the database. */
export interface NetworkSummary {
  /** The network key ("" for unlabelled). */
  network: string;
  /** How many targets were measured from it. */
  targets: number;
  /** When its latest measurement started (ISO). */
  lastMeasuredAt: string;
}

/**
 * The networks in the database with their target counts, by key. Reads one row per target and
 * network (through the `latest_status` view), never the whole history.
 */
export function listNetworks(db: Database.Database): NetworkSummary[] {
  return db
    .prepare<[], NetworkSummary>(
      `SELECT network, COUNT(*) AS targets, MAX(measured_at) AS lastMeasuredAt
       FROM latest_status GROUP BY network ORDER BY network`,
    )
    .all();
}
