/**
 * The crontab line `schedule` writes, run as cron runs it (/bin/sh -c, the real node and
 * reachprobe) three times against a loopback target that stops answering after the first:
 * cron mails a job's output, so the output must be the change, once, and nothing the other times.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { renderCronLine } from "../../src/schedule/crontab.js";
import { LAUNCHER } from "../helpers/cli.js";

let dir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-cron-mail-"));
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

it("mails the change once, and nothing when nothing changed; the log keeps the runs' output", async () => {
  const db = join(dir, "probe.db");
  const log = join(dir, "cron.log");
  const runArgs = ["--quiet", "--no-notice", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--timeout", "500", "--db", db, `tcp://127.0.0.1:${port}`];
  const line = renderCronLine({ node: process.execPath, cli: LAUNCHER, cwd: dir, runArgs, changesArgs: ["--db", db] }, { time: "* * * * *", jitterS: 0, logFile: log });
  const cron = () => {
    // What cron gives a job: sh, a short PATH, no terminal.
    const r = spawnSync("/bin/sh", ["-c", line.split(" ").slice(5).join(" ")], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: dir }, stdio: ["ignore", "pipe", "pipe"] });
    return { mail: r.stdout + r.stderr, status: r.status };
  };
  expect(cron(), "the first run: nothing to compare with").toEqual({ mail: "", status: 0 });
  await new Promise<void>((r) => server.close(() => r()));
  const second = cron();
  expect(second.mail).toMatch(/^1 change in run [0-9a-f]{8}, newest first \(times in UTC\):\n.*tcp:\/\/127\.0\.0\.1:\d+ {2}reachable -> suspicious at TCP {2}run [0-9a-f]{8}\n$/);
  expect(cron(), "the same state again").toEqual({ mail: "", status: 0 });
  expect(readFileSync(log, "utf8"), "the log holds --quiet's output of the runs that found something").toMatch(/suspicious at TCP/);
}, 60_000);
