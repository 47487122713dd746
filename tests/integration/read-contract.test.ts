/**
 * One contract, two stores: the same measurements read through history, changes, runs, show,
 * export and report give the same answers from an SQLite file (volunteers' files merged) and from the
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
import { openPgReader } from "../../src/cli/read-source.js";
import { loadReport, runsReadAhead } from "../../src/report/report-data.js";
import { PgReader } from "../../src/store/pg/read.js";
import { computeWithPgRows } from "../../src/store/pg/report-rows.js";

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
    const d = join(dir, "d.db");
    // a and b share a network; b's runs are older and interleave in time with a's first ones.
    seedProbe(a, { runs: 30, start: "2026-01-30T00:00:00.000Z", label: "Rostelecom Moscow" });
    seedProbe(b, { runs: 30, start: "2026-01-28T00:30:00.000Z", label: "Rostelecom Moscow", salt: 3, stepMs: 5_400_000 });
    seedProbe(c, { runs: 20, start: "2026-02-27T12:00:00.000Z", label: null, asn: 8359, salt: 1 });
    // d's runs ask a control helper two times in three, which answers one of them.
    seedProbe(d, { runs: 40, start: "2026-02-10T00:00:00.000Z", label: "Helper Net", salt: 2, helper: true });
    sqlite = join(dir, "all.db");
    const merged = await runCli(["merge", "--db", sqlite, a, b, c, d]);
    expect(merged.code, merged.stderr).toBe(0);
    const started = await startCollector(pgUrl);
    collector = started.cli;
    for (const [file, name] of [[a, "probe-a"], [b, "probe-b"], [c, "probe-c"], [d, "probe-d"]] as const) {
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

  const both = async (args: string[], code = 0) => {
    const [s, p] = [await runCli([...args, "--db", sqlite]), await runCli([...args, "--db", pgUrl])];
    expect(s.code, s.stderr).toBe(code);
    expect(p.code, p.stderr).toBe(code);
    return [s.stdout, p.stdout, s.stderr, p.stderr] as const;
  };

  it.each([
    [["history", "--json"]],
    [["history"]],
    [["history", "https://b.example/", "--since", "2026-02-01"]],
    [["history", "--service", "Service 1", "--network", "AS8359"]],
    [["changes", "--since", "2020-01-01", "--json"]],
    [["changes", "--since", "2026-01-30T12:00", "--network", "Rostelecom Moscow"]],
    [["changes", "--since", "2020-01-01", "--network", "helper net", "--json"]],
    [["changes", "--since", "2020-01-01", "--service", "service 1"]],
    [["changes", "--since", "2020-01-01", "--target", "a.example", "--target", "tcp://c.example:443", "--json"]],
    [["runs"]],
    [["runs", "--json", "-n", "500"]],
    [["runs", "--since", "2026-01-30T12:00", "--network", "rostelecom moscow", "-n", "50"]],
    [["runs", "--network", "AS8359", "--json"]],
    [["export", "--format", "jsonl"]],
    [["export", "--format", "csv", "--since", "2026-02-01"]],
    [["export", "--format", "ooni", "--network", "AS8359"]],
  ])("%j answers the same", async (args) => {
    const [s, p] = await both(args);
    expect(s.length).toBeGreaterThan(200);
    expect(p).toBe(s);
  }, 90_000);

  it("changes --exit-code exits 7 on both, -q prints nothing on both when nothing changed", async () => {
    const [s, p] = await both(["changes", "--since", "2020-01-01", "--exit-code", "-q", "--json"], 7);
    expect(JSON.parse(s).changes.length).toBeGreaterThan(20);
    expect(p).toBe(s);
    // A target never measured: no changes, so nothing printed and exit 0.
    const [qs, qp] = await both(["changes", "--since", "2020-01-01", "--target", "https://never.example/", "--exit-code", "-q"]);
    expect([qs, qp]).toEqual(["", ""]);
  }, 90_000);

  it("changes --last-run reads the same newest run on both, per network and overall", async () => {
    let seen = 0;
    for (const net of [[], ["--network", "rostelecom moscow"], ["--network", "AS8359"], ["--network", "Helper Net"]]) {
      const [s, p] = await both(["changes", "--last-run", "--json", ...net]);
      expect(p).toBe(s);
      const n = JSON.parse(s).changes.length as number;
      seen += n;
      const [qs, qp] = await both(["changes", "--last-run", "--exit-code", "-q", ...net], n > 0 ? 7 : 0);
      expect(qp).toBe(qs);
      if (n === 0) expect(qs).toBe("");
    }
    expect(seen).toBeGreaterThan(0);
  }, 90_000);

  it("a filter that names nothing is the same usage error, with the same suggestions, on both", async () => {
    const [, , s, p] = await both(["changes", "--service", "Servce 1"], 2);
    expect(s).toContain("Service 1");
    expect(p).toBe(s);
    const [, , hs, hp] = await both(["history", "--network", "Helpr Net"], 2);
    expect(hs).toContain("Helper Net");
    expect(hp).toBe(hs);
  }, 90_000);

  it("on the helper's network, changes are fewer than the raw transitions on both (the helper rule and outages)", async () => {
    const [s, p] = await both(["changes", "--since", "2020-01-01", "--network", "Helper Net", "--json"]);
    expect(p).toBe(s);
    const [hs] = await both(["history", "--network", "Helper Net", "--json"]);
    const spans = JSON.parse(hs).spans as unknown[];
    const targets = new Set((JSON.parse(hs).spans as Array<{ target: string }>).map((x) => x.target)).size;
    // Each span after a target's first is a raw transition.
    expect(JSON.parse(s).changes.length).toBeLessThan(spans.length - targets);
    expect(JSON.parse(s).changes.length).toBeGreaterThan(5);
  }, 90_000);

  it("history and changes find the changes of two probes on one network, whichever arrived first", async () => {
    const [s] = await both(["changes", "--since", "2020-01-01", "--json"]);
    const changes = JSON.parse(s).changes as Array<{ network: string }>;
    expect(changes.filter((c) => c.network === "Rostelecom Moscow").length).toBeGreaterThan(20);
  }, 90_000);

  it("show prints the same run and the same measurement, by a prefix or the whole id, on both", async () => {
    const [runs] = await both(["runs", "--json", "-n", "500"]);
    const ids = (JSON.parse(runs).runs as Array<{ id: string; network: string }>);
    expect(ids.length).toBe(120);
    // A run on the network two probes share, and one on the helper's network (its control observations).
    const picked = [ids.find((r) => r.network === "Rostelecom Moscow")!.id, ids.find((r) => r.network === "Helper Net")!.id];
    for (const run of picked) {
      const [human, humanPg] = await both(["show", run.slice(0, 8)]);
      expect(human).toContain(`Run ${run}`);
      expect(humanPg).toBe(human);
      const [json, jsonPg] = await both(["show", run, "--json"]);
      expect(jsonPg).toBe(json);
      const ms = JSON.parse(json).measurements as Array<{ id: string; observations: unknown[] }>;
      expect(ms.length).toBeGreaterThan(0);
      // A measurement by its id's start: its observations with the body sample read back from the
      // blobs, text, and for b.example bytes that are not text, given back as base64.
      for (const m of [ms[ms.length - 1]!, ms.find((x) => (x as unknown as { target: string }).target === "https://b.example/")!]) {
      const [mh, mhPg] = await both(["show", m.id.slice(0, 13)]);
      expect(mh).toContain(m.id);
      expect(mhPg).toBe(mh);
      const [mj, mjPg] = await both(["show", m.id, "--json"]);
      expect(JSON.parse(mj).observations).toEqual(m.observations);
      expect(mjPg).toBe(mj);
      if ((m as unknown as { target: string }).target === "https://b.example/") {
        expect((m.observations as Array<{ step: string; bodySampleEncoding?: string }>).find((o) => o.step === "http")!.bodySampleEncoding).toBe("base64");
      }
      }
    }
  }, 90_000);

  it("show refuses an ambiguous prefix and an unknown id with the same message and exit 2 on both", async () => {
    const [, , amb, ambPg] = await both(["show", "a"], 2);
    expect(amb).toContain('"a" is the start of more than one id (');
    expect(ambPg).toBe(amb);
    const [, , none, nonePg] = await both(["show", "dead0000"], 2);
    expect(none).toContain('no run or measurement id starts with "dead0000"');
    expect(nonePg).toBe(none);
    const [, , bad, badPg] = await both(["show", "zz%"], 2);
    expect(bad).toContain("is not a run or measurement id");
    expect(badPg).toBe(bad);
  }, 90_000);

  it("runs on a network that is not there is the same usage error on both", async () => {
    const [, , s, p] = await both(["runs", "--network", "Helpr Net"], 2);
    expect(s).toContain("Helper Net");
    expect(p).toBe(s);
  }, 90_000);

  // The period from 2026-01-29 begins inside one of b's runs (it straddles the period's start);
  // the whole database and one network are read ahead differently on PostgreSQL (report-ahead.ts).
  it.each([
    ["since 2026-01-29", ["--since", "2026-01-29"]],
    ["the whole database", []],
    ["one network", ["--network", "Rostelecom Moscow"]],
    ["one network since 2026-02-20", ["--network", "helper net", "--since", "2026-02-20"]],
  ])("report writes the same page (%s), on PostgreSQL reading ahead what it needs", async (_what, args) => {
    const pages = [];
    for (const db of [sqlite, pgUrl]) {
      const html = join(dir, `r${pages.length}.html`);
      const r = await runCli(["report", "--html", html, ...args, "--db", db], { env: { REACHPROBE_DEBUG_REPORT: "1" } });
      expect(r.code, r.stderr).toBe(0);
      // The database's name and the time the page was made differ, and nothing else may.
      pages.push(readFileSync(html, "utf8").split(db).join("DB").replace(/Generated<\/th><td>[^<]*/g, "Generated</th><td>"));
      // Every run here has its own cell: its measurements, the networks' rows and the details
      // listed are read with the runs, and the second pass computes the page without asking more.
      if (db === pgUrl) expect(r.stderr).toMatch(/report pass 1: computed in \d+ ms, asked for \{\}/);
    }
    expect(pages[0]!.length).toBeGreaterThan(5000);
    expect(pages[1]).toBe(pages[0]);
  }, 90_000);

  // The reads ahead need a second session; a server at max_connections refuses it, and a
  // reader may have none: the passes then ask for everything themselves, with the same answer.
  it("report's content on PostgreSQL is the same without a second session, or without reading ahead", async () => {
    const contents = [];
    for (const variant of ["second session", "refused", "none", "no runs read ahead"] as const) {
      const opened = await openPgReader(pgUrl);
      if (typeof opened === "string") throw new Error(opened);
      try {
        const { reader } = opened;
        const refused = () => Promise.reject(new Error("sorry, too many clients already"));
        const used = variant === "second session" || variant === "no runs read ahead" ? reader : new PgReader(reader.db, reader.path, variant === "refused" ? refused : undefined);
        const q = { since: "2026-01-29T00:00:00.000Z", network: null };
        const data = await computeWithPgRows(used, (rows) => loadReport(rows, q), variant === "no runs read ahead" ? undefined : (runs) => runsReadAhead(runs, q));
        contents.push(JSON.stringify(data));
      } finally {
        await opened.close();
      }
    }
    expect(contents[0]!.length).toBeGreaterThan(5000);
    for (const c of contents.slice(1)) expect(c).toBe(contents[0]);
  }, 90_000);
});
