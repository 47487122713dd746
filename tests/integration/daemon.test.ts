/**
 * The real built `reachprobe daemon`, whose runs are harmless: `reachprobe run --no-store`
 * against a closed or stalling loopback port, names resolved only by the test's own DNS
 * server. Runs at each tick, one at a time, exit codes logged, and a prompt, clean stop on
 * SIGTERM or SIGINT, also while a run is going.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hermeticEnv, LAUNCHER } from "../helpers/cli.js";
import { closeAll, closedPort, dnsServer, tcpServer } from "../helpers/servers.js";

let dir: string;
let resolver: string;
let closed: number;
let stallPort: number;
/** Resolves when the stall server gets its next connection. */
let stallConnected: Promise<void>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-daemon-"));
  resolver = `127.0.0.1:${(await dnsServer({})).port}`;
  closed = await closedPort();
  let connected: () => void = () => {};
  stallConnected = new Promise((r) => (connected = r));
  // Accepts and never answers: a TLS handshake to it hangs until the run's timeout.
  stallPort = await tcpServer(() => connected());
});

afterAll(closeAll);

/** Arguments of one harmless run: no database, no canary, only the test's resolver. */
function harmless(target: string, extra: string[] = []): string[] {
  return ["--no-store", "--no-canary", "--no-system-resolver", "--resolver", resolver, ...extra, target];
}

/** A running daemon whose stderr lines can be awaited. */
interface Daemon {
  child: ChildProcess;
  lines(): string[];
  /** Its stderr as written. */
  raw(): string;
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function startDaemon(args: string[]): Daemon {
  if (!existsSync(LAUNCHER)) throw new Error(`${LAUNCHER} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [LAUNCHER, "daemon", ...args], {
    cwd: dir,
    env: hermeticEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout?.resume();
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters) w();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      for (const w of waiters) w();
      resolve({ code, signal, at: Date.now() });
    }),
  );
  // The daemon logs through pino (one JSON object a line); what its runs print is plain text.
  const lines = () =>
    stderr
      .split("\n")
      .filter(Boolean)
      .map((l) => (l.startsWith("{") ? (JSON.parse(l) as { msg: string }).msg : l));
  const waitFor = (re: RegExp, timeoutMs: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        for (const line of lines()) {
          const m = re.exec(line);
          if (m) {
            cleanup();
            return resolve(m);
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`the daemon exited before logging ${re}:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, lines, raw: () => stderr, waitFor, exited };
}

/** The log lines without their timestamp and prefix. */
function messages(d: Daemon): string[] {
  return d.lines();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("reachprobe daemon", () => {
  it("runs at every tick, one run at a time, logs exit codes, and exits 0 at once on SIGTERM", async () => {
    const d = startDaemon(["--every", "2s", "--", ...harmless(`tcp://127.0.0.1:${closed}`, ["--timeout", "2000"])]);
    await d.waitFor(/^started: every 2s \(cron "[01]-59\/2 \* \* \* \* \*"\)/, 15_000);
    await d.waitFor(/^run 2 exited \d+ /, 20_000);
    const log = messages(d);
    // pino's format, as run and control log: a JSON object a line, the time in ISO-8601 UTC.
    const first = JSON.parse(d.raw().split("\n")[0]!) as { level: number; time: string; msg: string };
    expect(first).toMatchObject({ level: 30, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), msg: expect.stringMatching(/^started: /) });
    // One run at a time: each run's exit is logged before the next one starts.
    const events = log.flatMap((m) => {
      const s = /^run (\d+) (started|exited)/.exec(m);
      return s ? [`${s[2]} ${s[1]}`] : [];
    });
    expect(events.slice(0, 4), log.join("\n")).toEqual(["started 1", "exited 1", "started 2", "exited 2"]);
    expect(log).toContainEqual(expect.stringMatching(/^run 1 started \(pid \d+\)$/));
    expect(log).toContainEqual(expect.stringMatching(/^run 1 exited [0-5] \(ran; [^)]+\) after \d+\.\d s$/));

    const t0 = Date.now();
    d.child.kill("SIGTERM");
    const r = await d.exited;
    expect(r.code, d.lines().join("\n")).toBe(0);
    expect(r.at - t0).toBeLessThan(5000);
    expect(messages(d).at(-1)).toBe("stopped");
  });

  it("SIGTERM during a run: the run gets it, keeps what it did, the daemon waits and exits 0; ticks meanwhile are skipped", async () => {
    const d = startDaemon(["--every", "1s", "--now", "--", ...harmless(`https://127.0.0.1:${stallPort}/`, ["--timeout", "60000"])]);
    const [, pid] = (await d.waitFor(/run 1 started \(pid (\d+)\)/, 15_000)) as RegExpMatchArray;
    await stallConnected;
    await d.waitFor(/tick at \S+ skipped: run 1 \(pid \d+\) started \d+\.\d s ago is still going/, 10_000);
    expect(alive(Number(pid))).toBe(true);

    const t0 = Date.now();
    d.child.kill("SIGTERM");
    const r = await d.exited;
    expect(r.code, d.lines().join("\n")).toBe(0);
    expect(r.at - t0, "the daemon took too long to stop").toBeLessThan(8000);
    const log = messages(d);
    expect(log).toContain(`SIGTERM: stopping; waiting for run 1 (pid ${pid}) to finish`);
    expect(log).toContainEqual(expect.stringMatching(/^run 1 exited 143 \(interrupted by SIGTERM\) after/));
    expect(log.filter((m) => /^run \d+ started/.test(m))).toHaveLength(1);
    expect(log.at(-1)).toBe("stopped");
    expect(alive(Number(pid))).toBe(false);
  });

  it("SIGINT while waiting for a tick exits 0 at once", async () => {
    const d = startDaemon(["--every", "1h", "--", ...harmless(`tcp://127.0.0.1:${closed}`)]);
    await d.waitFor(/first tick at/, 15_000);
    const t0 = Date.now();
    d.child.kill("SIGINT");
    const r = await d.exited;
    expect(r.code, d.lines().join("\n")).toBe(0);
    expect(r.at - t0).toBeLessThan(3000);
    expect(messages(d).slice(-2)).toEqual(["SIGINT: stopping", "stopped"]);
  });
});
