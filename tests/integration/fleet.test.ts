/**
 * The fleet path with real processes on loopback: probes pushing at once into one collector,
 * a collector killed with SIGKILL in the middle of a push, a probe killed in the middle of its
 * push, a push sent twice, a token used for another probe's rows, an expired and a revoked
 * token, a batch with one bad row. Counted against the probes' own databases: nothing lost,
 * nothing stored twice, and the derived columns as a full recomputation gives them.
 */
import { spawn } from "node:child_process";
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { LAUNCHER, hermeticEnv, runCli, startCli } from "../helpers/cli.js";
import { makeTestCa } from "../helpers/certs.js";
import { makeToken, pushCli, seedProbe, startCollector, usePgCluster } from "../helpers/fleet.js";
import { freshDatabase, pgUnavailable } from "../helpers/pg.js";
import { skipTag } from "../helpers/skip.js";
import { spansDriftSql } from "../../src/store/pg/spans.js";

const why = pgUnavailable();

function localIds(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT id FROM measurements").pluck().all() as string[];
  } finally {
    db.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Rows whose derived columns differ from a recomputation over the whole table.
const MISLINKED_SQL = `SELECT count(*)::integer AS n FROM (
  SELECT prev_status, prev_layer, changed,
         LAG(status) OVER w AS ps, LAG(layer) OVER w AS pl, ROW_NUMBER() OVER w AS rn, status, layer
  FROM measurements WINDOW w AS (PARTITION BY network, target ORDER BY started_at, seq)) AS x
  WHERE (prev_status, prev_layer) IS DISTINCT FROM (ps, pl)
     OR changed IS DISTINCT FROM CASE WHEN rn = 1 THEN NULL ELSE (ps IS DISTINCT FROM status OR pl IS DISTINCT FROM layer) END`;

describe.skipIf(why !== null)(`probes pushing into a collector${skipTag(why)}`, () => {
  const pgc = usePgCluster();

  async function database() {
    const url = await freshDatabase(pgc.cluster);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const count = async (sql: string, params: unknown[] = []) => Number((await client.query(sql, params)).rows[0].n);
    return { url, client, count };
  }

  it("eight probes pushing at once, four of them on one network (three asking a control helper): every row once, derived columns and spans right", async () => {
    const { url, client, count } = await database();
    const { cli, url: at } = await startCollector(url);
    try {
      const probes = Array.from({ length: 8 }, (_v, i) => {
        const file = join(pgc.dir, `many-${i}.db`);
        seedProbe(file, { runs: 40, start: `2026-0${1 + (i % 3)}-2${i % 4}T0${i}:00:00.000Z`, label: i < 4 ? "shared" : `net-${i}`, salt: i, helper: i < 3 });
        return { file, name: `probe-${i}` };
      });
      const tokens = await Promise.all(probes.map((p) => makeToken(url, p.name)));
      const results = await Promise.all(probes.map((p, i) => pushCli(p.file, at, tokens[i]!, ["--batch-size", "23"])));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const expected = probes.flatMap((p) => localIds(p.file));
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(expected.length);
      expect(await count("SELECT count(DISTINCT id) AS n FROM measurements WHERE id = ANY($1)", [expected])).toBe(expected.length);
      expect(await count(MISLINKED_SQL)).toBe(0);
      // The spans kept per batch are those a recomputation over all rows makes.
      expect(await count("SELECT count(*) AS n FROM spans WHERE network = 'shared'")).toBeGreaterThan(50);
      expect(await count(spansDriftSql())).toBe(0);
      expect(await count("SELECT count(*) AS n FROM status_changes WHERE network = 'shared'")).toBeGreaterThan(50);
      // Each probe's rows are its own.
      expect(await count(`SELECT count(*) AS n FROM measurements AS m JOIN probes AS p ON p.id = m.probe_id WHERE p.name = 'probe-3'`)).toBe(localIds(probes[3]!.file).length);
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 180_000);

  it("over HTTPS: the collector serves its certificate and the probe checks it", async () => {
    const { url, client, count } = await database();
    const ca = makeTestCa();
    const leaf = ca.issue(["127.0.0.1"]);
    writeFileSync(join(pgc.dir, "cert.pem"), leaf.cert);
    writeFileSync(join(pgc.dir, "key.pem"), leaf.key);
    const cli = await startCli(["collector", "--listen", "127.0.0.1:0", "--db", url, "--tls-cert", join(pgc.dir, "cert.pem"), "--tls-key", join(pgc.dir, "key.pem")], /listening on (https:\/\/127\.0\.0\.1:\d+)/);
    try {
      const file = join(pgc.dir, "tls.db");
      seedProbe(file, { runs: 2, start: "2026-03-01T00:00:00.000Z", label: "home" });
      const token = await makeToken(url, "tls");
      const untrusted = await runCli(["push", "--to", cli.match[1]!, "--db", file], { env: { REACHPROBE_PUSH_TOKEN: token } });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/the collector's certificate was refused \(\w+\)/);
      expect(untrusted.stderr).not.toContain("trying again");
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(0);
      const r = await runCli(["push", "--to", cli.match[1]!, "--db", file], { env: { REACHPROBE_PUSH_TOKEN: token, NODE_EXTRA_CA_CERTS: ca.certFile } });
      expect(r.code, r.stderr).toBe(0);
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(8);
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
      rmSync(ca.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("run --push pushes the run it just made (IP-literal loopback targets only)", async () => {
    const { url, client, count } = await database();
    const { cli, url: at } = await startCollector(url);
    try {
      const file = join(pgc.dir, "run-push.db");
      const closed = await freePort();
      const token = await makeToken(url, "runner");
      const args = ["run", "--no-system-resolver", "--no-canary", "--no-notice", "--public-ranges", "127.0.0.1/32", "--timeout", "700", "--db", file, "--network-label", "lab", `tcp://127.0.0.1:${closed}`];
      const r = await runCli([...args, "--push", "--push-to", at], { env: { REACHPROBE_PUSH_TOKEN: token } });
      expect([0, 3, 4, 5], r.stderr).toContain(r.code);
      expect(r.stderr).toMatch(/reachprobe: 1 measurement sent in 1 batch \(1 new to the collector, 0 it had already\), 1 run sent/);
      expect(await count("SELECT count(*) AS n FROM measurements WHERE network = 'lab'")).toBe(localIds(file).length);
      expect(await count("SELECT count(*) AS n FROM runs WHERE state = 'completed'")).toBe(1);
      // A collector that refuses: the run's results stay, and the exit code says the push failed.
      const refused = await runCli([...args, "--push", "--push-to", at], { env: { REACHPROBE_PUSH_TOKEN: "rpt_unknown" } });
      expect(refused.code).toBe(r.code === 0 ? 1 : r.code);
      expect(refused.stderr).toContain("reachprobe: the collector refused the batch (HTTP 401)");
      expect(localIds(file).length).toBe(2);
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 120_000);

  it("a push sent twice (its acknowledgement lost) stores every row once and says they were there", async () => {
    const { url, client, count } = await database();
    const { cli, url: at } = await startCollector(url);
    try {
      const file = join(pgc.dir, "twice.db");
      seedProbe(file, { runs: 10, start: "2026-03-01T00:00:00.000Z", label: "home" });
      const token = await makeToken(url, "twice");
      expect((await pushCli(file, at, token)).code).toBe(0);
      const local = new Database(file);
      local.exec("DELETE FROM push_marks; DELETE FROM push_runs");
      local.close();
      const again = await pushCli(file, at, token);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain("40 measurements sent in 1 batch (0 new to the collector, 40 it had already)");
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(40);
      // And a push with nothing new sends nothing.
      expect((await pushCli(file, at, token)).stderr).toContain("0 measurements sent in 0 batches");
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 60_000);

  it("a token cannot push another probe's rows, and a bad row refuses its whole batch", async () => {
    const { url, client, count } = await database();
    const { cli, url: at } = await startCollector(url);
    try {
      const file = join(pgc.dir, "owner.db");
      seedProbe(file, { runs: 5, start: "2026-03-01T00:00:00.000Z", label: "home" });
      const copy = join(pgc.dir, "copy.db");
      copyFileSync(file, copy);
      const [owner, thief] = [await makeToken(url, "owner"), await makeToken(url, "thief")];
      expect((await pushCli(file, at, owner)).code).toBe(0);
      // The thief pushes a copy of the owner's file: the same run and measurement ids.
      const forged = await pushCli(copy, at, thief);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toMatch(/refused the batch \(HTTP 409\): batch refused, nothing written: run \S+ belongs to another probe/);
      expect(await count("SELECT count(*) AS n FROM measurements AS m JOIN probes AS p ON p.id = m.probe_id WHERE p.name = 'thief'")).toBe(0);

      const good = { id: "m-good", run_id: "r-1", target: "https://x.example/", service: "X", status: "ok", layer: null, failure: null, evidence_json: "[]", observations_json: "[]", control_json: null, started_at: "2026-03-02T00:00:00.000Z", finished_at: "2026-03-02T00:00:01.000Z", duration_ms: 1000 };
      const run = { id: "r-1", started_at: "2026-03-02T00:00:00.000Z", finished_at: null, state: "running", reachprobe_version: "0.1.0", pid: 1, hostname_hash: null, network_label: "home", probe_asn: null, probe_cc: null, options_json: "{}", target_count: 2, summary_json: null, canary_json: null };
      const post = (body: unknown, token = thief) =>
        fetch(`${at}/v1/batches`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      const bad = await post({ version: 1, runs: [run], measurements: [good, { ...good, id: "m-bad", status: "censored" }], blobs: [] });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe("batch refused, nothing written: measurements[1]: status must be one of ok, blocked, anomaly, down, inconclusive, not \"censored\"");
      const late = await post({ version: 1, runs: [run], measurements: [{ ...good, started_at: "2031-01-01T00:00:00.000Z" }], blobs: [] });
      expect(late.status).toBe(400);
      expect(((await late.json()) as { error: string }).error).toMatch(/measurements\[0\]: started_at 2031-01-01T00:00:00.000Z is outside/);
      expect(await count("SELECT count(*) AS n FROM runs WHERE id = 'r-1'")).toBe(0);
      // A run of its own, carrying a measurement id that is the owner's.
      const ownersId = localIds(file)[0]!;
      const stolen = await post({ version: 1, runs: [{ ...run, id: "r-2" }], measurements: [{ ...good, id: ownersId, run_id: "r-2" }], blobs: [] });
      expect(stolen.status).toBe(409);
      expect(((await stolen.json()) as { error: string }).error).toBe(`batch refused, nothing written: measurement ${ownersId} belongs to another probe`);
      expect(await count("SELECT count(*) AS n FROM runs WHERE id = 'r-2'")).toBe(0);
      const ok = await post({ version: 1, runs: [run], measurements: [good], blobs: [] });
      expect(ok.status).toBe(200);
      expect(await count("SELECT count(*) AS n FROM measurements WHERE id = 'm-good'")).toBe(1);
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 60_000);

  it("an expired or revoked token is refused, and nothing is written", async () => {
    const { url, client, count } = await database();
    const { cli, url: at } = await startCollector(url);
    try {
      const file = join(pgc.dir, "expired.db");
      seedProbe(file, { runs: 3, start: "2026-03-01T00:00:00.000Z", label: "home" });
      const expired = await makeToken(url, "old", ["--expires", "2020-01-01"]);
      const r = await pushCli(file, at, expired);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("refused the batch (HTTP 403): the token is expired");
      const revoked = await makeToken(url, "gone");
      const rv = await runCli(["collector", "token", "revoke", "gone", "--db", url]);
      expect(rv.code, rv.stderr).toBe(0);
      const r2 = await pushCli(file, at, revoked);
      expect(r2.stderr).toContain("(HTTP 403): the token is revoked");
      const r3 = await pushCli(file, at, "rpt_made_up");
      expect(r3.stderr).toContain("(HTTP 401): the token is not known to this collector");
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(0);
      // The queue is intact: a good token then sends everything.
      const good = await makeToken(url, "new");
      expect((await pushCli(file, at, good)).code).toBe(0);
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(12);
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 60_000);

  it("a collector killed with SIGKILL mid-push, then restarted: the push retries, nothing lost or doubled", async () => {
    const { url, client, count } = await database();
    const port = await freePort();
    const listen = ["collector", "--listen", `127.0.0.1:${port}`, "--db", url, "--quiet"];
    let collector = await startCli(listen, /listening on/, { killAfterMs: 300_000 });
    try {
      const file = join(pgc.dir, "killed-collector.db");
      seedProbe(file, { runs: 600, start: "2026-01-05T00:00:00.000Z", label: "home", stepMs: 600_000 });
      const token = await makeToken(url, "steady");
      const pushing = pushCli(file, `http://127.0.0.1:${port}`, token, ["--batch-size", "20", "--tries", "10"]);
      while ((await count("SELECT count(*) AS n FROM measurements")) < 200) await sleep(20);
      collector.child.kill("SIGKILL");
      await collector.exited;
      const atKill = await count("SELECT count(*) AS n FROM measurements");
      await sleep(500);
      collector = await startCli(listen, /listening on/, { killAfterMs: 300_000 });
      const r = await pushing;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/try 1 failed \(.*\); trying again in 1 s/);
      expect(atKill).toBeLessThan(2400);
      const ids = localIds(file);
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(ids.length);
      expect(await count("SELECT count(DISTINCT id) AS n FROM measurements WHERE id = ANY($1)", [ids])).toBe(ids.length);
      expect(await count(MISLINKED_SQL)).toBe(0);
      expect(await count(spansDriftSql())).toBe(0);
    } finally {
      collector.child.kill("SIGKILL");
      await client.end();
    }
  }, 240_000);

  it("a probe killed with SIGKILL mid-push pushes the rest next time", async () => {
    const { url, client, count } = await database();
    const { cli, url: at } = await startCollector(url);
    try {
      const file = join(pgc.dir, "killed-probe.db");
      seedProbe(file, { runs: 600, start: "2026-01-05T00:00:00.000Z", label: "home", stepMs: 600_000 });
      const token = await makeToken(url, "flaky");
      const child = spawn(process.execPath, [LAUNCHER, "push", "--to", at, "--db", file, "--batch-size", "20"], {
        env: hermeticEnv({ REACHPROBE_PUSH_TOKEN: token }),
        stdio: "ignore",
      });
      const exited = new Promise((r) => child.on("close", r));
      while ((await count("SELECT count(*) AS n FROM measurements")) < 200) await sleep(20);
      child.kill("SIGKILL");
      await exited;
      const ids = localIds(file);
      expect(await count("SELECT count(*) AS n FROM measurements")).toBeLessThan(ids.length);
      const r = await pushCli(file, at, token);
      expect(r.code, r.stderr).toBe(0);
      expect(await count("SELECT count(*) AS n FROM measurements")).toBe(ids.length);
      expect(await count("SELECT count(DISTINCT id) AS n FROM measurements WHERE id = ANY($1)", [ids])).toBe(ids.length);
      expect(await count("SELECT count(*) AS n FROM runs WHERE state = 'completed'")).toBe(600);
      expect(await count(MISLINKED_SQL)).toBe(0);
      expect(await count(spansDriftSql())).toBe(0);
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 240_000);
});
