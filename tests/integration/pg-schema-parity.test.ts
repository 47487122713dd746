/**
 * The fleet database has SQLite's tables and columns (issue 14: "the same tables and columns
 * as SQLite, plus the probe identity"). The two schemas are written by hand in two dialects
 * (src/store/schema.ts, src/store/pg/schema.ts): this holds them together, so that a column
 * added to one and not the other fails here rather than in an analyst's query.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { migratePg } from "../../src/store/pg/schema.js";
import { usePgCluster } from "../helpers/fleet.js";
import { freshDatabase, pgUnavailable } from "../helpers/pg.js";
import { skipTag } from "../helpers/skip.js";

const why = pgUnavailable();
/** Columns only the fleet database has, as docs/fleet.md lists them: whose probe, the run's network key, arrival order. */
const FLEET_ONLY: Record<string, readonly string[]> = { runs: ["probe_id", "network", "seq"], measurements: ["probe_id", "seq"], blobs: [] };

describe.skipIf(why !== null)(`the fleet database's columns${skipTag(why)}`, () => {
  const pgc = usePgCluster();

  it("are SQLite's, table by table, plus the probe identity", async () => {
    const store = Store.open(join(mkdtempSync(join(tmpdir(), "reachprobe-parity-")), "r.db"));
    const sqlite = new Map<string, string[]>();
    for (const table of ["runs", "measurements", "blobs"]) {
      sqlite.set(table, (store.db.prepare(`SELECT name FROM pragma_table_info('${table}') ORDER BY name`).pluck().all() as string[]));
    }
    store.close();

    const client = new pg.Client({ connectionString: await freshDatabase(pgc.cluster) });
    await client.connect();
    try {
      await migratePg(client, "parity test");
      for (const [table, columns] of sqlite) {
        const { rows } = await client.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name",
          [table],
        );
        const fleet = rows.map((r) => r.column_name);
        expect(columns.length, `SQLite's ${table}`).toBeGreaterThan(0);
        expect(fleet.filter((c) => !FLEET_ONLY[table]!.includes(c)), `${table}: the fleet's columns beside SQLite's`).toEqual(columns);
        for (const extra of FLEET_ONLY[table]!) expect(fleet, `${table}.${extra}, listed in docs/fleet.md`).toContain(extra);
      }
    } finally {
      await client.end();
    }
  });
});
