/**
 * Relaunching `node dist/cli/main.js run ...` through bin/reachprobe.cjs, so that libuv's thread
 * pool gets its size (see that file): by the time main.js runs, the ESM loader has started the
 * pool with UV_THREADPOOL_SIZE as it was when node started, and it cannot grow.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Commands that need a sized pool; bin/reachprobe.cjs sizes the pool for the same ones (a unit test checks). */
export const POOL_COMMANDS: readonly string[] = ["run", "control"];

/** Absolute path of the launcher, next to dist/ in the package. */
export const LAUNCHER = fileURLToPath(new URL("../../bin/reachprobe.cjs", import.meta.url));

/**
 * True when this process must relaunch itself: a command that resolves names at scale, started
 * neither through the launcher nor with a UV_THREADPOOL_SIZE of the user's (both set it before
 * node started; the launcher always does for these commands, so the child never relaunches).
 */
export function needsRelaunch(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return POOL_COMMANDS.includes(argv[2] ?? "") && !env.UV_THREADPOOL_SIZE;
}

/** Signals passed on to the child (SIGKILL and SIGSTOP cannot be caught; SIGUSR1 starts Node's inspector). */
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"];

/**
 * Runs the same command through the launcher and ends this process as the child ended: its exit
 * code, or killed by its signal. Never resolves.
 */
export function relaunch(): Promise<never> {
  // detached: in its own process group the child gets a terminal's Ctrl-C once, forwarded from
  // here, not twice (a second SIGINT makes a run quit at once).
  const child = spawn(process.execPath, [...process.execArgv, LAUNCHER, ...process.argv.slice(2)], { stdio: "inherit", detached: true });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise<never>(() => {
    child.once("error", (err) => {
      process.stderr.write(`reachprobe: cannot start ${LAUNCHER}: ${err.message}\n`);
      process.exit(1);
    });
    child.once("exit", (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      if (signal) process.kill(process.pid, signal);
      // A signal whose default action is not to end (or that was ignored) falls through here.
      process.exit(code ?? 1);
    });
  });
}
