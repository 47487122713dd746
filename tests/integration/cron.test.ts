/**
 * What a cron job and a volunteer rely on, tested with real processes: the lock (a second run
 * exits 6 or waits), kill -9 in the middle of a run (nothing finished is lost, the next run
 * goes ahead), SIGTERM, --quiet, the network label, the progress bar on a terminal, and
 * the probe's own address kept out of the database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { rowsAtLeast } from "../helpers/db-wait.js";
import { closeAll, closedPort, stallServer, webServer } from "../helpers/servers.js";
import { assertNoDefaultThirdParties, hermeticEnv, LAUNCHER, runCli } from "../helpers/cli.js";
import { inflateSync } from "node:zlib";

let dir: string;
const ports: Record<string, number> = {};
const ownAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === "IPv4")?.address;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-cron-"));
  ports.stall = await stallServer();
  ports.closed = await closedPort();
  ports.web = await webServer((req, res) => {
    if (req.url === "/echo") return res.end(`<title>Your address</title><p>You are visiting from ${ownAddress}.</p>`);
    res.end("<title>fine</title>");
  });
});
afterAll(closeAll);

const common = ["--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--public-ranges", "127.0.0.1/32"];
const fast = () => `http://127.0.0.1:${ports.web}/`;
const stall = () => `http://127.0.0.1:${ports.stall}/`;

function startRun(args: string[]) {
  assertNoDefaultThirdParties(["run", ...args]);
  const child = spawn(process.execPath, [LAUNCHER, "run", ...args], { env: hermeticEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })));
  return { child, exited, stderr: () => stderr };
}

describe("two runs on one database", () => {
  it("the second exits 6 naming the first, and --wait waits for it", async () => {
    const db = join(dir, "lock.db");
    const first = startRun([...common, "--db", db, "--timeout", "20000", "--budget", "20000", fast(), stall()]);
    await rowsAtLeast(db, 1);
    const second = await runCli(["run", ...common, "--db", db, fast()]);
    expect(second.code).toBe(6);
    expect(second.stderr).toMatch(new RegExp(`another reachprobe run is writing .*lock\\.db \\(pid ${first.child.pid}, since `));

    const waiting = startRun([...common, "--db", db, "--wait", "30", fast()]);
    await expect.poll(waiting.stderr, { timeout: 10_000 }).toMatch(new RegExp(`waiting for the lock, held by pid ${first.child.pid}, since `));
    first.child.kill("SIGTERM");
    const f = await first.exited;
    expect(f.code).toBe(143);
    const w = await waiting.exited;
    expect(w.code, w.stderr).toBe(0);
    const c = new Database(db, { readonly: true });
    const runs = c.prepare("SELECT state FROM runs ORDER BY started_at").all() as Array<{ state: string }>;
    c.close();
    expect(runs.map((r) => r.state)).toEqual(["interrupted", "completed"]);
    expect(existsSync(`${db}.lock`)).toBe(false);
  });

  it("after kill -9 the finished measurements are there, and the next run takes over the stale lock", async () => {
    const db = join(dir, "killed.db");
    const first = startRun([...common, "--db", db, "--timeout", "20000", "--budget", "20000", fast(), stall()]);
    await rowsAtLeast(db, 1);
    first.child.kill("SIGKILL");
    await first.exited;
    expect(existsSync(`${db}.lock`), "kill -9 leaves the lock file behind").toBe(true);
    const c1 = new Database(db, { readonly: true });
    expect(c1.prepare("SELECT target, status FROM measurements").all()).toEqual([{ target: fast(), status: "ok" }]);
    expect((c1.prepare("SELECT state FROM runs").get() as { state: string }).state).toBe("running");
    c1.close();

    const next = await runCli(["run", ...common, "--db", db, fast()]);
    expect(next.code, next.stderr).toBe(0);
    const c2 = new Database(db, { readonly: true });
    const runs = c2.prepare("SELECT state, (SELECT count(*) FROM measurements m WHERE m.run_id = runs.id) AS n FROM runs ORDER BY started_at").all();
    const integrity = c2.pragma("integrity_check", { simple: true });
    c2.close();
    expect(runs).toEqual([
      { state: "interrupted", n: 1 },
      { state: "completed", n: 1 },
    ]);
    expect(integrity).toBe("ok");
  });
});

describe("quiet runs and network labels", () => {
  it("--quiet prints nothing when nothing is wrong", async () => {
    const r = await runCli(["run", ...common, "--no-store", "--quiet", fast()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("");
  });

  it("--quiet prints only what needs a human", async () => {
    const r = await runCli(["run", ...common, "--no-store", "--quiet", fast(), `tcp://127.0.0.1:${ports.closed}`]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/suspicious at TCP/);
    expect(r.stdout, "the reachable endpoint's own line is left out").not.toMatch(/✓/);
  });

  it("records the network label on the run", async () => {
    const db = join(dir, "label.db");
    const r = await runCli(["run", ...common, "--db", db, "--network-label", "Rostelecom Moscow", fast()]);
    expect(r.code).toBe(0);
    const c = new Database(db, { readonly: true });
    expect(c.prepare("SELECT network_label FROM runs").get()).toEqual({ network_label: "Rostelecom Moscow" });
    c.close();
  });
});

describe("volunteers", () => {
  const hasScript = spawnSync("script", ["--version"]).status === 0;

  /**
   * Runs the command on a pseudo-terminal (util-linux `script`), as a volunteer would. Async:
   * the web server it talks to lives in this process, so a spawnSync would starve it.
   */
  function onTerminal(args: string[], home: string, noColor = true): Promise<string> {
    const cmd = [process.execPath, LAUNCHER, "run", ...args].map((a) => `'${a}'`).join(" ");
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: home, NO_COLOR: "1" };
    if (!noColor) delete env.NO_COLOR;
    return new Promise((resolve) => {
      const child = spawn("script", ["-qec", cmd, "/dev/null"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("close", () => resolve(out));
    });
  }

  // The first-run notice on a terminal: tests/integration/consent.test.ts.
  it.skipIf(!hasScript)("draws a progress bar on a terminal", async () => {
    const out = await onTerminal([...common, "--no-store", "--no-notice", fast()], mkdtempSync(join(tmpdir(), "reachprobe-home-")), false);
    expect(out).toMatch(/1\/1 targets, 0 blocked, about 0 s left/);
  });

  it.skipIf(!ownAddress)("never stores the probe's own address, even when a page prints it", async () => {
    const db = join(dir, "privacy.db");
    const r = await runCli(["run", ...common, "--db", db, "--json", `http://127.0.0.1:${ports.web}/echo`]);
    expect(r.stdout).not.toContain(ownAddress!);
    const c = new Database(db, { readonly: true });
    const row = c.prepare("SELECT observations_json FROM measurements").get() as { observations_json: string };
    // Long samples, headers and chains are kept in blobs (README, "Body samples and other blobs").
    const blobs = (c.prepare("SELECT compression, data FROM blobs").all() as Array<{ compression: string; data: Buffer }>)
      .map((b) => (b.compression === "zlib" ? inflateSync(b.data) : b.data).toString("utf8"));
    c.close();
    for (const text of blobs) expect(text).not.toContain(ownAddress!);
    expect(row.observations_json).not.toContain(ownAddress!);
    expect(row.observations_json).toContain("You are visiting from [probe address].");
  });
});
