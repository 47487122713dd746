import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { hashHostname, isProcessAlive, processStartTime, processState } from "../../src/base/process-identity.js";
import { judgeLockFile, thisHost } from "../../src/store/lock.js";
import { Store } from "../../src/store/store.js";

const hasProc = existsSync(`/proc/${process.pid}/stat`);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

/**
 * A real zombie: sh starts a child in the background and execs `sleep`, which never waits for
 * it; the child exits once told (a byte on fd 3), after the exec, and stays a zombie until the
 * sleep is killed.
 */
async function makeZombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn("sh", ["-c", "head -c 1 <&3 >/dev/null & echo $!; exec sleep 60 3<&-"], { stdio: ["ignore", "pipe", "inherit", "pipe"] });
  cleanups.push(() => parent.kill("SIGKILL"));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = "";
    parent.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    parent.once("error", reject);
  });
  // Bounded waits (no assertion on how long they take): sh has become sleep, then the child exited.
  const comm = (): string => (existsSync(`/proc/${parent.pid}/comm`) ? readFileSync(`/proc/${parent.pid}/comm`, "utf8").trim() : "");
  for (let i = 0; i < 500 && comm() !== "sleep"; i++) await sleep(10);
  (parent.stdio[3] as Writable).end("x");
  for (let i = 0; i < 500 && processState(pid) !== "Z"; i++) await sleep(10);
  return { pid, parent };
}

describe("isProcessAlive", () => {
  it("is true for this process and false for a pid that is gone", async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const child = spawn("sh", ["-c", "exit 0"]);
    const pid = child.pid as number;
    await new Promise((r) => child.once("exit", r)); // emitted once Node has reaped it
    expect(isProcessAlive(pid)).toBe(false);
  });

  it.skipIf(!hasProc)("calls a zombie dead, although kill(pid, 0) still finds it", async () => {
    const { pid } = await makeZombie();
    expect(processState(pid), "the test made a real zombie").toBe("Z");
    expect(() => process.kill(pid, 0), "a zombie passes the old existence check").not.toThrow();
    expect(isProcessAlive(pid)).toBe(false);
  });

  it.skipIf(!hasProc)("lets the next run mark a zombie's run interrupted and take its lock", async () => {
    const { pid } = await makeZombie();
    expect(processState(pid)).toBe("Z");
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-zombie-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "r.db");
    const first = Store.open(path);
    const run = first.startRun({ startedAt: new Date(), version: "test", options: {}, targetCount: 1 });
    first.db.prepare("UPDATE runs SET pid = ? WHERE id = ?").run(pid, run);
    first.close();
    const next = Store.open(path);
    cleanups.push(() => next.close());
    expect(next.markStaleRuns()).toBe(1);
    expect(next.getRun(run)?.state).toBe("interrupted");

    const host = thisHost();
    const text = JSON.stringify({ pid, hostname_hash: host.hostHash, started_at: new Date().toISOString(), proc_start: processStartTime(pid) });
    expect(judgeLockFile({ text, mtimeMs: host.nowMs }, host).state).toBe("stale");
  });
});

describe("processStartTime and processState", () => {
  it.skipIf(!hasProc)("read this process's stat, and null for no process", () => {
    expect(processStartTime(process.pid)).toBeGreaterThan(0);
    expect(processState(process.pid)).toMatch(/^[RS]$/);
    expect(processStartTime(0)).toBeNull();
    expect(processState(-1)).toBeNull();
    expect(processStartTime(2 ** 30)).toBeNull();
  });

  it("hashes host names case-insensitively, without revealing them", () => {
    expect(hashHostname("Probe-1")).toBe(hashHostname("probe-1"));
    expect(hashHostname("probe-1")).toMatch(/^[0-9a-f]{12}$/);
    expect(hashHostname("probe-1")).not.toBe(hashHostname("probe-2"));
  });
});
