/**
 * `node dist/cli/main.js run` started without UV_THREADPOOL_SIZE runs itself again through
 * bin/reachprobe.cjs (src/cli/relaunch.ts). To whoever started it, the two processes must behave
 * as one: signals reach the run, its exit code or signal comes back, and kill -9 on the first
 * stops the run too. The run connects to a loopback port that accepts and never answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { CLI, hermeticEnv, LAUNCHER } from "../helpers/cli.js";
import { closeAll, stallServer } from "../helpers/servers.js";

let stall: number;

beforeAll(async () => {
  stall = await stallServer();
});
afterAll(closeAll);

/** State and parent of a process ("S 1234"), or "" once it is gone. */
function stat(pid: number): string {
  try {
    return execFileSync("ps", ["-o", "stat=,ppid=", "-p", String(pid)], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** True when the process is gone or a zombie (dead, waiting to be reaped by whoever adopted it). */
function dead(pid: number): boolean {
  const s = stat(pid);
  return s === "" || s.startsWith("Z");
}

/** Starts a run that hangs in its TLS step, and waits for the relaunched child. */
async function hangingRun(): Promise<{ parent: ChildProcess; child: number; exited: Promise<{ code: number | null; signal: string | null }>; stdout: () => string }> {
  const parent = spawn(process.execPath, [CLI, "run", "--no-store", "--no-canary", "--no-notice", "--json", "--timeout", "20000", "--budget", "20000", `https://127.0.0.1:${stall}/`], {
    env: hermeticEnv({ UV_THREADPOOL_SIZE: undefined }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  parent.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  parent.stderr!.resume();
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => parent.on("close", (code, signal) => r({ code, signal })));
  let child = 0;
  await expect
    .poll(
      () => {
        const line = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(parent.pid)], { encoding: "utf8" }).trim();
        if (line.includes(LAUNCHER)) child = Number(line.split(/\s+/)[0]);
        return child;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBeGreaterThan(0);
  // The run has started once its process group exists and it has connected; a moment more for its handlers.
  await new Promise((r) => setTimeout(r, 1500));
  return { parent, child, exited, stdout: () => out };
}

describe("node dist/cli/main.js run, relaunched through the launcher", () => {
  it("passes SIGTERM on: the run stops, prints its interrupted document, and its exit code comes back", async () => {
    const r = await hangingRun();
    r.parent.kill("SIGTERM");
    const e = await r.exited;
    expect(JSON.parse(r.stdout()).run.state).toBe("interrupted");
    expect(e.signal).toBeNull();
    expect(e.code).not.toBe(0);
    await expect.poll(() => dead(r.child), { timeout: 5000 }).toBe(true);
  }, 30_000);

  it("ends with the run's signal when the run is killed by one", async () => {
    const r = await hangingRun();
    process.kill(r.child, "SIGKILL");
    expect(await r.exited).toEqual({ code: null, signal: "SIGKILL" });
  }, 30_000);

  it("kill -9 on the command stops the run too", async () => {
    const r = await hangingRun();
    r.parent.kill("SIGKILL");
    await r.exited;
    await expect.poll(() => dead(r.child), { timeout: 5000 }).toBe(true);
  }, 30_000);
});
