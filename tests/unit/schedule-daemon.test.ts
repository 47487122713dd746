/**
 * The daemon's loop with fake runs (no process is started): runs at each tick, never two at
 * once, a crash logged and survived, and a stop that forwards the signal and waits.
 */
import { describe, expect, it } from "vitest";
import { Daemon, type DaemonDeps, type DaemonPlan, type RunChild, type RunExit } from "../../src/cli/daemon.js";
import { intervalTicker } from "../../src/schedule/ticks.js";

/** A fake run: it ends after `ms` with `result`, or with 143 when it is sent a signal. */
interface FakeRun {
  ms: number;
  result: RunExit;
}

function harness(runs: (n: number) => FakeRun, plan: Partial<DaemonPlan> = {}, onKill: (sig: NodeJS.Signals) => RunExit = () => ({ code: 143, signal: null })) {
  const lines: string[] = [];
  const signals: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let started = 0;
  const deps: DaemonDeps = {
    now: Date.now,
    random: () => 0.5,
    log: (m) => lines.push(m),
    spawnRun: (): RunChild => {
      const spec = runs(++started);
      running++;
      maxRunning = Math.max(maxRunning, running);
      let finish: (r: RunExit) => void = () => {};
      const exited = new Promise<RunExit>((resolve) => {
        finish = (r) => {
          clearTimeout(timer);
          running--;
          resolve(r);
        };
      });
      const timer = setTimeout(() => finish(spec.result), spec.ms);
      return {
        pid: 1000 + started,
        kill: (sig) => {
          signals.push(sig);
          setTimeout(() => finish(onKill(sig)), 20);
        },
        exited,
      };
    },
  };
  const daemon = new Daemon({ ticker: intervalTicker(100, Date.now()), describe: "every 100 ms", jitterMs: 0, runArgs: ["--no-store"], runNow: false, ...plan }, deps);
  return { daemon, lines, signals, stats: () => ({ started, maxRunning, running }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("daemon loop", () => {
  it("starts a run at each tick and logs each exit code with its meaning", async () => {
    const h = harness(() => ({ ms: 10, result: { code: 3, signal: null } }));
    const done = h.daemon.loop();
    await sleep(550);
    h.daemon.stop("SIGTERM");
    await done;
    expect(h.stats().started).toBeGreaterThanOrEqual(3);
    expect(h.lines.filter((l) => /^run \d+ exited 3 \(ran; blocking found\) after/.test(l)).length).toBe(h.stats().started);
    expect(h.lines.at(-1)).toBe("stopped");
  });

  it("never overlaps: a tick while a run is going is skipped and logged", async () => {
    const h = harness(() => ({ ms: 250, result: { code: 0, signal: null } }));
    const done = h.daemon.loop();
    await sleep(700);
    h.daemon.stop("SIGTERM");
    await done;
    expect(h.stats().maxRunning).toBe(1);
    expect(h.lines.some((l) => /^tick at .* skipped: run 1 \(pid 1001\) started .* s ago is still going$/.test(l)), h.lines.join("\n")).toBe(true);
  });

  it("survives a crashed run and one that could not start", async () => {
    const h = harness((n) => (n === 1 ? { ms: 5, result: { code: null, signal: "SIGSEGV" } } : n === 2 ? { ms: 5, result: { code: null, signal: null, error: new Error("spawn EAGAIN") } } : { ms: 5, result: { code: 0, signal: null } }));
    const done = h.daemon.loop();
    await sleep(420);
    h.daemon.stop("SIGINT");
    await done;
    expect(h.lines).toContainEqual(expect.stringMatching(/^run 1 crashed: killed by SIGSEGV after/));
    expect(h.lines).toContain("run 2 could not start: spawn EAGAIN");
    expect(h.lines).toContainEqual(expect.stringMatching(/^run 3 exited 0 /));
  });

  it("a stop forwards the signal to the running run and waits for it", async () => {
    const h = harness(() => ({ ms: 60_000, result: { code: 0, signal: null } }), { runNow: true });
    const done = h.daemon.loop();
    await sleep(30);
    expect(h.stats().running).toBe(1);
    const t0 = Date.now();
    h.daemon.stop("SIGTERM");
    h.daemon.stop("SIGTERM");
    await done;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(h.signals).toEqual(["SIGTERM", "SIGTERM"]);
    expect(h.stats().running).toBe(0);
    expect(h.lines).toContain("SIGTERM: stopping; waiting for run 1 (pid 1001) to finish");
    expect(h.lines).toContainEqual(expect.stringMatching(/^run 1 exited 143 \(interrupted by SIGTERM\)/));
    expect(h.lines.at(-1)).toBe("stopped");
  });

  it("a run that dies of the signal passed on to it was stopped, not crashed", async () => {
    const h = harness(() => ({ ms: 60_000, result: { code: 0, signal: null } }), { runNow: true }, (sig) => ({ code: null, signal: sig }));
    const done = h.daemon.loop();
    await sleep(30);
    h.daemon.stop("SIGINT");
    await done;
    expect(h.lines).toContainEqual(expect.stringMatching(/^run 1 stopped by SIGINT after/));
    expect(h.lines.some((l) => l.includes("crashed"))).toBe(false);
  });

  it("a stop during the random delay starts nothing", async () => {
    const h = harness(() => ({ ms: 5, result: { code: 0, signal: null } }), { jitterMs: 10_000, ticker: intervalTicker(50, Date.now()) });
    const done = h.daemon.loop();
    await sleep(120);
    h.daemon.stop("SIGTERM");
    await done;
    expect(h.stats().started).toBe(0);
    expect(h.lines.some((l) => l.includes("still waiting out its random delay"))).toBe(true);
  });
});
