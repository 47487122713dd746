/**
 * Relaunching `node dist/cli/main.js run ...` through bin/reachprobe.cjs, so that libuv's thread
 * pool gets its size (see that file): by the time main.js runs, the ESM loader has started the
 * pool with UV_THREADPOOL_SIZE as it was when node started, and it cannot grow.
 */
import { LAUNCHER } from "../base/package-info.js";

/** Commands that need a sized pool; bin/reachprobe.cjs sizes the pool for the same ones (a unit test checks). */
export const POOL_COMMANDS: readonly string[] = ["run", "control"];

/**
 * True when this process must relaunch itself: a command that resolves names at scale, started
 * neither through the launcher nor with a UV_THREADPOOL_SIZE of the user's (both set it before
 * node started; the launcher always does for these commands, so the child never relaunches).
 */
export function needsRelaunch(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return POOL_COMMANDS.includes(argv[2] ?? "") && !env.UV_THREADPOOL_SIZE;
}

/** Set in the child's environment: it was relaunched, and must not outlive this process. */
const RELAUNCHED = "REACHPROBE_RELAUNCHED";

/** Signals passed on to the child (SIGKILL and SIGSTOP cannot be caught; SIGUSR1 starts Node's inspector). */
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"];

/**
 * Runs the same command through the launcher and ends this process as the child ended: its exit
 * code, or killed by its signal. Never resolves.
 */
export async function relaunch(): Promise<never> {
  // Loaded here: every start checks needsRelaunch, few relaunch (issue 9's start-up CPU).
  const { spawn } = await import("node:child_process");
  // detached: in its own process group the child gets a terminal's Ctrl-C once, forwarded from
  // here, not twice (a second SIGINT makes a run quit at once).
  // The IPC channel is how the child learns that this process died of a signal it could not pass
  // on (kill -9, the OOM killer): see followParent.
  const child = spawn(process.execPath, [...process.execArgv, LAUNCHER, ...process.argv.slice(2)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    detached: true,
    env: { ...process.env, [RELAUNCHED]: "1" },
  });
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

/**
 * In a relaunched child: dies at once, as by kill -9, when the process that relaunched it dies
 * without passing a signal on (SIGKILL cannot be caught), so that `kill -9` on the command
 * still stops the run (what it finished is stored; its lock is left stale, as after any kill -9).
 */
export function followParent(): void {
  if (process.env[RELAUNCHED] !== "1" || !process.channel) return;
  delete process.env[RELAUNCHED];
  // The channel must not keep the run alive once its work is done.
  process.channel.unref();
  process.once("disconnect", () => process.kill(process.pid, "SIGKILL"));
}
