/**
 * libuv's thread pool, as the real command gets it however it is launched. 200 targets whose
 * names only the system resolver knows, through a loopback DNS server answering after 100 ms,
 * probed 100 at a time: with the pool sized before Node starts every target is ok and the run
 * takes a fraction of a second; with the pool Node starts by default (4 threads) most lookups
 * queue behind each other and end as DNS timeouts.
 *
 * The system resolver must be the test's: everything runs inside `unshare --net --mount` (root),
 * where only lo exists, /etc/resolv.conf names only 127.0.0.1 and the DNS and web servers
 * (tests/helpers/pool-lab.mjs) listen on 127.0.0.1. Nothing leaves the namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI, hermeticEnv, LAUNCHER, runCli } from "../helpers/cli.js";

const POOL_LAB = fileURLToPath(new URL("../helpers/pool-lab.mjs", import.meta.url));
const TARGETS = 200;
const CONCURRENCY = 100;

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root for unshare --net --mount";
  if (spawnSync("unshare", ["--version"]).error) return "unshare is missing";
  if (spawnSync("ip", ["-V"]).error) return "ip (iproute2) is missing";
  return null;
}
const why = skipReason();

interface Outcome {
  label: string;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Most names the DNS server had waiting at once: lookups in flight, one pool thread each. */
  maxWaiting: number;
  queries: number;
}

interface RunDoc {
  run: { started_at: string; finished_at: string };
  results: Array<{ target: string; status: string; layer: string | null; failure: string | null }>;
}

let dir: string;
let outcomes: Map<string, Outcome>;

/** The verdicts of a run as "status layer failure" counts, and how long the run itself took. */
function summary(doc: RunDoc): { counts: Record<string, number>; ms: number } {
  const counts: Record<string, number> = {};
  for (const r of doc.results) {
    const k = [r.status, r.layer, r.failure].filter(Boolean).join(" ");
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return { counts, ms: Date.parse(doc.run.finished_at) - Date.parse(doc.run.started_at) };
}

/** `reachprobe run` arguments shared by every launch path (after the command name). */
function runArgs(extra: string[] = []): string[] {
  return ["--json", "--no-store", "--no-canary", "--no-notice", "--no-dns-control", "--concurrency", String(CONCURRENCY), "--public-ranges", "127.0.0.0/8", "--file", join(dir, "targets.txt"), ...extra];
}

describe.skipIf(why !== null)(`the thread pool, however reachprobe is launched${why ? ` (skipped: ${why})` : ""}`, () => {
  beforeAll(async () => {
    const hosts = readFileSync("/etc/hosts", "utf8");
    if (/pool\.test/i.test(hosts)) throw new Error("/etc/hosts names *.pool.test: the test's names must resolve only through its DNS server");
    dir = mkdtempSync(join(tmpdir(), "reachprobe-pool-"));
    writeFileSync(join(dir, "targets.txt"), Array.from({ length: TARGETS }, (_, i) => `http://t${i + 1}.pool.test:8080/`).join("\n") + "\n");
    writeFileSync(join(dir, "resolv.conf"), "nameserver 127.0.0.1\n");
    writeFileSync(join(dir, "nsswitch.conf"), "hosts: files dns\n");
    const state = join(dir, "state");
    mkdirSync(join(state, "reachprobe"), { recursive: true });

    // The exact command lines `schedule` writes (printing touches no network).
    const env = { XDG_STATE_HOME: state, XDG_CONFIG_HOME: join(dir, "config") };
    const cron = await runCli(["schedule", "--every", "1h", "--jitter", "0", "--format", "cron", "--", "run", ...runArgs()], { cwd: dir, env });
    expect(cron.code, cron.stderr).toBe(0);
    const cronLine = cron.stdout.split("\n").find((l) => !l.startsWith("#") && l.trim() !== "")!;
    const shellCommand = cronLine.split(" ").slice(5).join(" ");
    const unit = await runCli(["schedule", "--every", "1h", "--jitter", "0", "--format", "systemd", "--", "run", ...runArgs()], { cwd: dir, env });
    expect(unit.code, unit.stderr).toBe(0);
    const execStart = /^ExecStart=(.*)$/m.exec(unit.stdout)![1]!;
    expect(execStart, "plain words only: this test splits on spaces").not.toMatch(/["'\\]/);
    const execArgv = execStart.split(" ").map((w) => w.replace(/%%/g, "%").replace(/\$\$/g, "$"));

    const node = process.execPath;
    const plan = {
      delayMs: 100,
      commands: [
        { label: "launcher", argv: [node, LAUNCHER, "run", ...runArgs()] },
        { label: "main.js", argv: [node, CLI, "run", ...runArgs()] },
        { label: "cron line", argv: ["sh", "-c", shellCommand] },
        { label: "systemd unit", argv: execArgv, cwd: /^WorkingDirectory=(.*)$/m.exec(unit.stdout)![1], env: { NO_COLOR: "1" } },
        { label: "daemon", argv: [node, CLI, "daemon", "--every", "1h", "--jitter", "0", "--now", "--", "run", ...runArgs()], cwd: dir, stopOn: "run 1 (exited|stopped|crashed|could not start)" },
        // The old behaviour: the pool Node starts on its own. The timeout is one 4 threads cannot meet.
        { label: "4 threads", argv: [node, CLI, "run", ...runArgs(["--timeout", "1000"])], env: { UV_THREADPOOL_SIZE: "4" } },
      ],
    };
    writeFileSync(join(dir, "plan.json"), JSON.stringify(plan));
    const script = [
      "set -e",
      "ip link set lo up",
      `mount --bind ${join(dir, "resolv.conf")} /etc/resolv.conf`,
      `mount --bind ${join(dir, "nsswitch.conf")} /etc/nsswitch.conf`,
      `exec ${node} ${POOL_LAB} ${join(dir, "plan.json")}`,
    ].join("\n");
    const r = spawnSync("unshare", ["--net", "--mount", "sh", "-c", script], { env: hermeticEnv({ UV_THREADPOOL_SIZE: undefined }), encoding: "utf8", timeout: 150_000, maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`the namespace run failed (${r.status ?? r.signal}): ${r.stderr}`);
    const list = JSON.parse(r.stdout) as Outcome[];
    outcomes = new Map(list.map((o) => [o.label, o]));
    // Cron appends the run's output to its log file instead of stdout.
    outcomes.get("cron line")!.stdout = readFileSync(join(state, "reachprobe", "cron.log"), "utf8");
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("through the launcher (npx, the bin on PATH): every target ok, the run well under 2 s", () => {
    const o = outcomes.get("launcher")!;
    expect(o.code, o.stderr).toBe(0);
    const s = summary(JSON.parse(o.stdout) as RunDoc);
    expect(s.counts).toEqual({ ok: TARGETS });
    expect(s.ms).toBeLessThan(2000);
    expect(o.maxWaiting).toBeGreaterThanOrEqual(CONCURRENCY * 0.9);
  });

  it.each(["main.js", "cron line", "systemd unit", "daemon"])("%s: the same pool, every target ok", (label) => {
    const o = outcomes.get(label)!;
    expect(o.code, o.stderr).toBe(0);
    const s = summary(JSON.parse(o.stdout) as RunDoc);
    expect(s.counts).toEqual({ ok: TARGETS });
    expect(s.ms).toBeLessThan(2000);
    // With Node's own pool at most 2 names are resolved at once (libuv gives lookups half of it).
    expect(o.maxWaiting).toBeGreaterThanOrEqual(CONCURRENCY * 0.9);
  });

  it("with the pool Node starts by default the same run is mostly false DNS timeouts", () => {
    const o = outcomes.get("4 threads")!;
    const s = summary(JSON.parse(o.stdout) as RunDoc);
    expect(o.maxWaiting).toBeLessThanOrEqual(2);
    expect(s.counts["anomaly dns generic_timeout_error"] ?? 0).toBeGreaterThanOrEqual(TARGETS / 2);
  });
});
