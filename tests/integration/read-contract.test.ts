/**
 * One contract, two stores: the same measurements read through history, changes, export and
 * report give the same answers from an SQLite file (volunteers' files merged) and from the
 * fleet's PostgreSQL database (the same files pushed through a collector, the older rows
 * after the newer ones, two probes on one network). Real processes, loopback only.
 */
import { rmSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type LongRunningCli } from "../helpers/cli.js";
import { makeToken, pushCli, seedProbe, startCollector, tempDir } from "../helpers/fleet.js";
import { freshDatabase, pgUnavailable, startPg, type PgCluster } from "../helpers/pg.js";
import { skipTag } from "../helpers/skip.js";

const why = pgUnavailable();

describe.skipIf(why !== null)(`the reading commands on SQLite and on PostgreSQL${skipTag(why)}`, () => {
  let cluster: PgCluster;
  let dir: string;
  let pgUrl: string;
  let sqlite: string;
  let collector: LongRunningCli;

  beforeAll(async () => {
    cluster = await startPg();
    dir = tempDir();
    pgUrl = await freshDatabase(cluster);
    const a = join(dir, "a.db");
    const b = join(dir, "b.db");
    const c = join(dir, "c.db");
    // a and b share a network; b's runs are older and interleave in time with a's first ones.
    seedProbe(a, { runs: 30, start: "2026-01-30T00:00:00.000Z", label: "Rostelecom Moscow" });
    seedProbe(b, { runs: 30, start: "2026-01-28T00:30:00.000Z", label: "Rostelecom Moscow", salt: 3, stepMs: 5_400_000 });
    seedProbe(c, { runs: 20, start: "2026-02-27T12:00:00.000Z", label: null, asn: 8359, salt: 1 });
    sqlite = join(dir, "all.db");
    const merged = await runCli(["merge", "--db", sqlite, a, b, c]);
    expect(merged.code, merged.stderr).toBe(0);
    const started = await startCollector(pgUrl);
    collector = started.cli;
    for (const [file, name] of [[a, "probe-a"], [b, "probe-b"], [c, "probe-c"]] as const) {
      const token = await makeToken(pgUrl, name);
      const r = await pushCli(file, started.url, token, ["--batch-size", "37"]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 240_000);

  afterAll(() => {
    collector?.child.kill("SIGKILL");
    cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const both = async (args: string[]) => {
    const [s, p] = [await runCli([...args, "--db", sqlite]), await runCli([...args, "--db", pgUrl])];
    expect(s.code, s.stderr).toBe(0);
    expect(p.code, p.stderr).toBe(0);
    return [s.stdout, p.stdout] as const;
  };

  it.each([
    [["history", "--json"]],
    [["history"]],
    [["history", "https://b.example/", "--since", "2026-02-01"]],
    [["history", "--service", "Service 1", "--network", "AS8359"]],
    [["changes", "--since", "2020-01-01", "--json"]],
    [["changes", "--since", "2026-01-30T12:00", "--network", "Rostelecom Moscow"]],
    [["export", "--format", "jsonl"]],
    [["export", "--format", "csv", "--since", "2026-02-01"]],
    [["export", "--format", "ooni", "--network", "AS8359"]],
  ])("%j answers the same", async (args) => {
    const [s, p] = await both(args);
    expect(s.length).toBeGreaterThan(200);
    expect(p).toBe(s);
  }, 90_000);

  it("history and changes find the changes of two probes on one network, whichever arrived first", async () => {
    const [s] = await both(["changes", "--since", "2020-01-01", "--json"]);
    const changes = JSON.parse(s).changes as Array<{ network: string }>;
    expect(changes.filter((c) => c.network === "Rostelecom Moscow").length).toBeGreaterThan(20);
  }, 90_000);

  it("report writes the same page", async () => {
    const pages = [];
    for (const db of [sqlite, pgUrl]) {
      const html = join(dir, `r${pages.length}.html`);
      const r = await runCli(["report", "--html", html, "--since", "2026-01-29", "--db", db]);
      expect(r.code, r.stderr).toBe(0);
      // The database's name and the time the page was made differ, and nothing else may.
      pages.push(readFileSync(html, "utf8").split(db).join("DB").replace(/Generated<\/th><td>[^<]*/g, "Generated</th><td>"));
    }
    expect(pages[0]!.length).toBeGreaterThan(5000);
    expect(pages[1]).toBe(pages[0]);
  }, 90_000);
});
