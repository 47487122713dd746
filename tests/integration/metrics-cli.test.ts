/**
 * `reachprobe run --metrics FILE`: the file node_exporter's textfile collector reads, written by
 * a real run against loopback targets, parsed by Prometheus's own `promtool check metrics`
 * (Debian's prometheus package; skipped with the reason where it is not installed).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { closeAll, closedPort, webServer } from "../helpers/servers.js";
import { skipTag } from "../helpers/skip.js";

const noPromtool = spawnSync("promtool", ["--version"]).status === 0 ? null : "promtool is not installed (apt-get install prometheus)";
let dir: string;
let fast: string;
let refused: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-metrics-"));
  fast = `http://127.0.0.1:${await webServer((_q, s) => s.end("<title>fine</title>"))}/`;
  refused = `tcp://127.0.0.1:${await closedPort()}`;
});
afterAll(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

async function runWithMetrics(file: string) {
  const r = await runCli(["run", "--no-notice", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--no-store", "--network-label", 'Lab "A"', "--metrics", file, fast, refused]);
  expect(r.code, r.stderr).toBe(4);
  return readFileSync(file, "utf8");
}

describe("run --metrics", () => {
  it("writes each target's status as a labelled state set, its duration, and the services", async () => {
    const file = join(dir, "reachprobe.prom");
    writeFileSync(file, "old contents\n");
    const text = await runWithMetrics(file);
    expect(text).not.toContain("old contents");
    const net = 'network="Lab \\"A\\""';
    expect(text).toContain(`reachprobe_target_status{${net},service="(command line)",target="${refused}",status="anomaly",layer="tcp"} 1`);
    expect(text).toContain(`reachprobe_target_status{${net},service="(command line)",target="${refused}",status="ok",layer=""} 0`);
    expect(text).toContain(`reachprobe_target_status{${net},service="(command line)",target="${fast}",status="ok",layer=""} 1`);
    expect(text).toMatch(new RegExp(`reachprobe_target_duration_seconds\\{${net.replace(/[\\"]/g, "\\$&")},service="\\(command line\\)",target="${fast.replace(/[.]/g, "\\.")}"\\} \\d+(\\.\\d+)?\\n`));
    expect(text).toContain(`reachprobe_service_status{${net},service="(command line)",status="anomalies"} 1`);
    expect(text).toContain(`reachprobe_last_run_targets{${net},what="measured"} 2`);
    // Written through a temporary file and a rename: nothing else is left in the directory.
    expect(readdirSync(dir).filter((f) => f !== "reachprobe.prom")).toEqual([]);
  });

  it.skipIf(noPromtool !== null)(`parses with promtool check metrics${skipTag(noPromtool)}`, async () => {
    const file = join(dir, "check.prom");
    const text = await runWithMetrics(file);
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
  });

  it("an unwritable file is an error after the run, exit 1, the run's results kept", async () => {
    const r = await runCli(["run", "--no-notice", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--db", join(dir, "m.db"), "--metrics", join(dir, "no", "such", "dir", "x.prom"), fast]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^reachprobe: could not write the metrics file .*x\.prom: ENOENT/);
    const db = new Database(join(dir, "m.db"), { readonly: true });
    expect(db.prepare("SELECT COUNT(*) FROM measurements").pluck().get()).toBe(1);
    db.close();
  });
});
