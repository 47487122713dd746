/** bin/reachprobe.cjs: the thread pool size it gives each command line, and the commands it agrees on with main.js. */
import { describe, expect, it } from "vitest";
import { createRequire, isBuiltin } from "node:module";
import { POOL_COMMANDS, needsRelaunch } from "../../src/cli/relaunch.js";

const launcher = createRequire(import.meta.url)("../../bin/reachprobe.cjs") as {
  POOL_COMMANDS: string[];
  poolSize(args: string[]): number | null;
  v8Flags(args: string[], execArgv: string[]): string[];
  MEASURING_BUILTINS: string[];
};

describe("the launcher's pool size", () => {
  it.each<[string[], number | null]>([
    [["run"], 272], // no --concurrency: 64 assumed (a config file may set it)
    [["run", "--concurrency", "100"], 416],
    [["run", "--concurrency=100"], 416],
    [["run", "--concurrency", "2"], 64], // the floor
    [["run", "--concurrency", "4096"], 1024], // libuv's limit
    [["run", "--concurrency", "abc"], 272], // left for run's own parser to refuse
    [["run", "--", "--concurrency", "100"], 272], // after --: a target, not a flag
    [["control", "--max-concurrent", "50"], 216],
    [["control", "--concurrency", "50"], 272], // not control's flag
    [["history"], null],
    [["daemon", "--every", "1h", "--", "run", "--concurrency", "100"], null], // each run is sized when it starts
    [[], null],
  ])("%j -> %s", (args, size) => {
    expect(launcher.poolSize(args)).toBe(size);
  });

  it("sizes the pool for exactly the commands main.js relaunches", () => {
    expect(launcher.POOL_COMMANDS).toEqual(POOL_COMMANDS);
  });
});

describe("the launcher's V8 flags", () => {
  it.each<[string[], string[], string[]]>([
    [["run", "--concurrency", "100"], [], ["--interrupt-budget=540672", "--liftoff-only"]],
    [["control"], [], ["--interrupt-budget=540672", "--liftoff-only"]],
    [["run"], ["--interrupt-budget=1000"], ["--liftoff-only"]], // the user's own, on node's command line
    [["run"], ["--wasm-tier-up"], ["--interrupt-budget=540672"]],
    [["run"], ["--no-liftoff", "--interrupt_budget=5"], []],
    [["history"], [], []],
    [["report"], [], []],
    [[], [], []],
  ])("%j (node %j) -> %j", (args, execArgv, flags) => {
    expect(launcher.v8Flags(args, execArgv)).toEqual(flags);
  });

  it("loads first only Node's own modules (a name that is not one would fail every run at start)", () => {
    expect(launcher.MEASURING_BUILTINS.length).toBeGreaterThan(10);
    for (const name of launcher.MEASURING_BUILTINS) expect(isBuiltin(name), name).toBe(true);
  });
});

describe("relaunching node dist/cli/main.js", () => {
  it.each<[string[], NodeJS.ProcessEnv, boolean]>([
    [["node", "main.js", "run"], {}, true],
    [["node", "main.js", "control"], {}, true],
    [["node", "main.js", "run"], { UV_THREADPOOL_SIZE: "8" }, false], // the user's (or the launcher's) size
    [["node", "main.js", "history"], {}, false],
    [["node", "main.js"], {}, false],
  ])("%j with %j: %s", (argv, env, yes) => {
    expect(needsRelaunch(argv, env)).toBe(yes);
  });
});
