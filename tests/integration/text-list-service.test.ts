/**
 * Targets from a text file that names no service: the run's report and the HTML report's
 * headline name the file, never "(none)" (issue 12).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { closeAll, closedPort } from "../helpers/servers.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-text-list-"));
});
afterAll(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

it("names the file as the service in the run's report and the HTML headline", async () => {
  const file = join(dir, "my-targets.txt");
  writeFileSync(file, `# my own list\ntcp://127.0.0.1:${await closedPort()}\n`);
  const db = join(dir, "r.db");
  const run = await runCli(["run", "--no-notice", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--db", db, "--file", file]);
  expect(run.code, run.stderr).toBe(4);
  expect(run.stdout).toMatch(/^my-targets\.txt: suspicious, 1 suspicious\n/);
  expect(run.stdout).not.toContain("(none)");
  const report = await runCli(["report", "--db", db]);
  expect(report.code, report.stderr).toBe(0);
  expect(report.stdout).toContain("<strong>my-targets.txt</strong> suspicious");
  expect(report.stdout).not.toContain("(none)");
});
