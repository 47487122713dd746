/**
 * What every command shares, tried as users meet it (issue 12): a terminal (a real pty) with and
 * without NO_COLOR and --no-color, Ctrl-C, durations, short flags, one error prefix, filters in
 * any case with hints, report without --html, --wait before a target, the command on PATH.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { hermeticEnv, LAUNCHER, runCli } from "../helpers/cli.js";
import { noPty, onPty } from "../helpers/pty.js";
import { seedRun, verdict } from "../helpers/seed.js";
import { closeAll, stallServer, webServer } from "../helpers/servers.js";
import { skipTag } from "../helpers/skip.js";
import { ooniArchitecture, ooniPlatform } from "../../src/export/export-ooni.js";

let dir: string;
let fast: string;
let stalls: string[];
let db: string;
const local = ["--no-notice", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--public-ranges", "127.0.0.1/32"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-conventions-"));
  fast = `http://127.0.0.1:${await webServer((_q, s) => s.end("<title>fine</title>"))}/`;
  stalls = [];
  // Accept, then never answer: an http target there stays in flight until its timeout.
  for (let i = 0; i < 3; i++) stalls.push(`http://127.0.0.1:${await stallServer()}/`);
  db = join(dir, "seeded.db");
  const store = Store.open(db);
  seedRun(store, { at: Date.now() - 3_600_000, network: { label: "Home ISP" }, rows: [["https://weixin.qq.com/", "WeChat", verdict("blocked/dns")]] });
  store.close();
});
afterAll(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a person at a terminal: no NO_COLOR unless given. */
function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = hermeticEnv({ HOME: dir, XDG_CONFIG_HOME: dir, ...extra });
  if (!("NO_COLOR" in extra)) delete env.NO_COLOR;
  return env;
}

describe(`on a terminal${skipTag(noPty)}`, () => {
  const run = (args: string[], env: NodeJS.ProcessEnv, ctrlC?: RegExp) => onPty([process.execPath, LAUNCHER, "run", ...local, "--no-store", ...args], env, ctrlC);

  it.skipIf(noPty !== null)("draws the progress bar, and no bar (and no colour) with NO_COLOR or --no-color", async () => {
    const plain = await run([fast], terminalEnv());
    expect(plain.screen).toMatch(/1\/1 targets, 0 blocked/);
    expect(plain.screen).toContain("\u001b[32m"); // green: colours on a terminal
    for (const [what, r] of [
      ["NO_COLOR=1", await run([fast], terminalEnv({ NO_COLOR: "1" }))],
      ["--no-color", await run(["--no-color", fast], terminalEnv())],
    ] as const) {
      expect(r.code, what).toBe(0);
      expect(r.screen, what).not.toMatch(/targets, \d+ blocked|█|░/);
      expect(r.screen, what).not.toContain("\u001b[");
      expect(r.screen, what).toMatch(/^\(command line\): reachable/);
    }
  });

  it.skipIf(noPty !== null)("Ctrl-C: plain words, no JSON log line, the summary says interrupted, the bar no '0 s left' with targets in flight", async () => {
    const r = await run(["--timeout", "20s", fast, ...stalls], terminalEnv({ NO_COLOR: "" }), /1\/4 targets/);
    expect(r.screen).not.toMatch(/^reachprobe: .*(unknown|must)/m);
    expect(r.code).toBe(130);
    expect(r.screen).not.toContain('{"level"');
    expect(r.screen).not.toMatch(/about 0 s left/);
    expect(r.screen).toMatch(/1\/4 targets, 0 blocked, (waiting for the last 3|about [1-9]\d* (s|min) left)/);
    expect(r.screen).toMatch(/reachprobe: interrupted \(Ctrl-C\): stopping, the targets in flight dropped; finished measurements are kept/);
    const plain = r.screen.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
    expect(plain).toMatch(/1 of 4 targets measured in \d+\.\d s, then interrupted \(Ctrl-C\): the other 3 were not measured\. Nothing stored/);
  }, 40_000);

  it.skipIf(noPty !== null)("report without --html refuses to pour HTML onto the terminal, saying what to do", async () => {
    const r = await onPty([process.execPath, LAUNCHER, "report", "--db", db], terminalEnv());
    expect(r.code).toBe(2);
    expect(r.screen).toMatch(/^reachprobe: report writes an HTML page: give --html FILE, or send stdout to a file \(reachprobe report > report\.html\)/);
  });
});

describe("report without --html", () => {
  it("writes the page on stdout when it is not a terminal", async () => {
    const r = await runCli(["report", "--db", db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<!doctype html>/i);
    expect(r.stdout).toContain("weixin.qq.com");
  });
});

describe("durations and short flags", () => {
  it("--timeout 5s, --budget 2m, --dns-window 150ms; a bare number keeps its unit (ms)", async () => {
    const r = await runCli(["run", ...local, "--no-store", "--json", "-j", "3", "-q", "--timeout", "5s", "--budget", "2m", "--dns-window", "150ms", fast]);
    expect(r.code, r.stderr).toBe(0);
    const opts = (JSON.parse(r.stdout) as { run: { options: Record<string, unknown> } }).run.options;
    expect(opts).toMatchObject({ timeout_ms: 5000, budget_ms: 120_000, dns_window_ms: 150, concurrency: 3, platform: ooniPlatform(process.platform), architecture: ooniArchitecture(process.arch) });
    const bare = await runCli(["run", ...local, "--no-store", "--json", "--timeout", "700", fast]);
    expect((JSON.parse(bare.stdout) as { run: { options: Record<string, unknown> } }).run.options.timeout_ms).toBe(700);
  });

  it("-c reads a config file, as --config does", async () => {
    const cfg = join(dir, "probe.json");
    spawnSync("sh", ["-c", `printf '{"timeout": "3s", "concurrency": 2}' > '${cfg}'`]);
    const r = await runCli(["run", "-c", cfg, ...local, "--no-store", "--json", fast]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { run: { options: Record<string, unknown> } }).run.options).toMatchObject({ timeout_ms: 3000, concurrency: 2, config: "probe.json" });
  });

  it("a bad duration is a usage error naming the flag and the forms", async () => {
    const r = await runCli(["run", ...local, "--no-store", "--timeout", "5 parsecs", fast]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^reachprobe: --timeout must be a duration from 1ms to 10m, such as 5s, 1500ms or 2m \(a bare number is milliseconds\), got "5 parsecs"\n/);
  });

  it("run --wait before a target: the target is measured, not taken as the time to wait", async () => {
    const r = await runCli(["run", ...local, "--db", join(dir, "wait.db"), "--json", "--wait", fast]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { results: Array<{ target: string }> }).results.map((x) => x.target)).toEqual([fast]);
    const timed = await runCli(["run", ...local, "--db", join(dir, "wait.db"), "--json", "--wait", "2m", fast]);
    expect(timed.code, timed.stderr).toBe(0);
  });
});

describe("one error prefix", () => {
  it("commander's own errors and reachprobe's say reachprobe:, never error:", async () => {
    for (const args of [["changes", "--bogus"], ["run", "--no-canary", "--timeout"], ["history", "--since", "tuesday", "--db", db], ["show", "zz", "--db", db], ["nonsense"]]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/^reachprobe: /);
      expect(r.stderr, args.join(" ")).not.toMatch(/^error:|reachprobe [a-z]+: /m);
    }
  });
});

describe("filters in any case, with hints", () => {
  it("history --service wechat finds WeChat; a misspelt one gets a did-you-mean", async () => {
    const r = await runCli(["history", "--service", "wechat", "--db", db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("BLOCKED at DNS");
    const bad = await runCli(["history", "--service", "wechta", "--db", db]);
    expect(bad).toMatchObject({ code: 2, stdout: "", stderr: 'reachprobe: --service: no service "wechta" in the database; did you mean "WeChat"?\n' });
  });

  it("export --network Nope is an error with the networks there are, not a bare CSV header", async () => {
    const r = await runCli(["export", "--format", "csv", "--network", "Nope", "--db", db]);
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: 'reachprobe: --network: no network "Nope" in the database (known: Home ISP)\n' });
    const any = await runCli(["export", "--format", "csv", "--network", "home isp", "--db", db]);
    expect(any.code).toBe(0);
    expect(any.stdout.trim().split("\n")).toHaveLength(2);
  });
});

describe(`the command on PATH${skipTag(process.getuid?.() !== 0 ? "needs root for unshare --net (npm must not reach a registry)" : null)}`, () => {
  it.skipIf(process.getuid?.() !== 0)("npm install -g . (as npm link does) puts reachprobe on PATH; from another directory it finds the same default database", () => {
    const prefix = join(dir, "prefix");
    const root = join(LAUNCHER, "..", "..");
    // In a namespace with no route out: npm installs the clone by a link and must not reach a registry.
    const script = `ip link set lo up && cd '${root}' && npm install -g --offline --ignore-scripts --no-audit --no-fund --prefix '${prefix}' . >/dev/null 2>&1 && cd '${dir}' && PATH='${prefix}/bin':"$PATH" reachprobe --version && PATH='${prefix}/bin':"$PATH" reachprobe runs --help`;
    const r = spawnSync("unshare", ["--net", "sh", "-c", script], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(r.stdout.split("\n")[0]).toBe(pkg.version);
    expect(r.stdout.replace(/\s+/g, " ")).toContain(`(default: "${join(root, "data", "reachprobe.db")}"`);
  });
});
