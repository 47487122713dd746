/**
 * The example Grafana dashboard (docs/grafana-fleet-dashboard.json) over a real fleet
 * database: every panel's SQL and the variable's query run, with Grafana's macros expanded as
 * its PostgreSQL data source expands them, and give the rows the panels show.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeToken, pushCli, seedProbe, startCollector, tempDir } from "../helpers/fleet.js";
import { freshDatabase, pgUnavailable, startPg, type PgCluster } from "../helpers/pg.js";
import { skipTag } from "../helpers/skip.js";

const why = pgUnavailable();
const DASHBOARD = JSON.parse(readFileSync(new URL("../../docs/grafana-fleet-dashboard.json", import.meta.url), "utf8")) as {
  panels: Array<{ title: string; targets: Array<{ rawSql: string; format: string }> }>;
  templating: { list: Array<{ name: string; query: string }> };
};

/** Grafana's PostgreSQL macros over a time range, and $network as a multi-value variable. */
function expandMacros(sql: string, from: string, to: string, networks: string[]): string {
  const quoted = networks.map((n) => `'${n.replace(/'/g, "''")}'`).join(",");
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, col: string) => `${col} BETWEEN '${from}' AND '${to}'`)
    .replace(/\$__timeGroupAlias\(([^,]+),\s*'(\d+)h'\)/g, (_m, col: string, h: string) => `floor(extract(epoch from ${col})/${Number(h) * 3600})*${Number(h) * 3600} AS "time"`)
    .replace(/\$network/g, quoted);
}

describe.skipIf(why !== null)(`the Grafana dashboard's SQL${skipTag(why)}`, () => {
  let cluster: PgCluster;
  let dir: string;
  let client: pg.Client;

  beforeAll(async () => {
    cluster = await startPg();
    dir = tempDir();
    const url = await freshDatabase(cluster);
    const { cli, url: at } = await startCollector(url);
    try {
      for (const [i, label] of ["Rostelecom Moscow", "MTS"].entries()) {
        const file = join(dir, `g${i}.db`);
        seedProbe(file, { runs: 24, start: "2026-03-01T00:00:00.000Z", label, salt: i });
        expect((await pushCli(file, at, await makeToken(url, `p${i}`))).code).toBe(0);
      }
    } finally {
      cli.child.kill("SIGKILL");
    }
    client = new pg.Client({ connectionString: url });
    await client.connect();
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the network variable lists the networks", async () => {
    const r = await client.query(DASHBOARD.templating.list[0]!.query);
    expect(r.rows.map((x) => x.network)).toEqual(["MTS", "Rostelecom Moscow"]);
  });

  it("every panel's query runs and shows rows", async () => {
    const counts: Record<string, number> = {};
    for (const p of DASHBOARD.panels) {
      for (const t of p.targets) {
        const r = await client.query(expandMacros(t.rawSql, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", ["MTS", "Rostelecom Moscow"]));
        counts[p.title] = r.rows.length;
        if (t.format === "time_series") expect(Object.keys(r.rows[0] ?? {})).toContain("time");
      }
    }
    expect(counts).toEqual({
      "Targets blocked now, per network": 2,
      "Status changes per hour": expect.any(Number),
      "Current status": 8,
      "Latest changes": expect.any(Number),
      "Probes: last run": 2,
    });
    expect(counts["Status changes per hour"]).toBeGreaterThan(5);
    expect(counts["Latest changes"]).toBeGreaterThan(10);
  });

  it("one network selected shows only it", async () => {
    const sql = DASHBOARD.panels.find((p) => p.title === "Current status")!.targets[0]!.rawSql;
    const r = await client.query(expandMacros(sql, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", ["MTS"]));
    expect(new Set(r.rows.map((x) => x.network))).toEqual(new Set(["MTS"]));
  });
});
