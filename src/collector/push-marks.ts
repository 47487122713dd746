/**
 * What a collector has acknowledged, kept in the probe's own SQLite database (docs/fleet.md,
 * "Pushing"): per collector URL, the highest measurement rowid it took (measurements are sent
 * in rowid order, so everything at or below it is there), and the state of each run as last
 * sent (a run is sent again when it changes: finished, summary, canary). The tables are made on
 * first push and are not part of the measurement schema (schema.ts): nothing else reads them.
 */
import type Database from "better-sqlite3";

const TABLES = `
CREATE TABLE IF NOT EXISTS push_marks (
  collector         TEXT PRIMARY KEY,
  measurement_rowid INTEGER NOT NULL,
  pushed_at         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS push_runs (
  collector   TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  state       TEXT NOT NULL,
  finished_at TEXT,
  has_summary INTEGER NOT NULL,
  has_canary  INTEGER NOT NULL,
  PRIMARY KEY (collector, run_id)
);
`;

/** A run as last acknowledged: what decides whether it must be sent again. */
export interface SentRun {
  id: string;
  state: string;
  finished_at: string | null;
  summary_json: string | null;
  canary_json: string | null;
}

/** The push bookkeeping of one database for one collector. */
export class PushMarks {
  private readonly db: Database.Database;
  private readonly collector: string;

  constructor(db: Database.Database, collector: string) {
    this.db = db;
    this.collector = collector;
    db.exec(TABLES);
  }

  /** The highest measurement rowid the collector has acknowledged (0: none). */
  highWater(): number {
    const row = this.db.prepare<[string], { r: number }>(`SELECT measurement_rowid AS r FROM push_marks WHERE collector = ?`).get(this.collector);
    return row?.r ?? 0;
  }

  /** Records an acknowledged batch: its last measurement rowid and the runs it carried, in one transaction. */
  acknowledge(rowid: number, runs: readonly SentRun[], now: Date): void {
    const mark = this.db.prepare(`INSERT INTO push_marks (collector, measurement_rowid, pushed_at) VALUES (?, ?, ?)
      ON CONFLICT (collector) DO UPDATE SET measurement_rowid = max(measurement_rowid, excluded.measurement_rowid), pushed_at = excluded.pushed_at`);
    const run = this.db.prepare(`INSERT OR REPLACE INTO push_runs (collector, run_id, state, finished_at, has_summary, has_canary) VALUES (?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      mark.run(this.collector, rowid, now.toISOString());
      for (const r of runs) run.run(this.collector, r.id, r.state, r.finished_at, r.summary_json === null ? 0 : 1, r.canary_json === null ? 0 : 1);
    })();
  }

  /** The SQL condition, over `runs AS r`, of a run the collector does not have as it is now. */
  static readonly PENDING_RUN = `NOT EXISTS (SELECT 1 FROM push_runs AS p WHERE p.collector = @collector AND p.run_id = r.id
      AND p.state = r.state AND p.finished_at IS r.finished_at
      AND p.has_summary = (r.summary_json IS NOT NULL) AND p.has_canary = (r.canary_json IS NOT NULL))`;
}
