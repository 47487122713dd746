/** The command line of a scheduled run: what cron, systemd and the daemon start. */
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { LAUNCHER } from "../base/package-info.js";

/**
 * Absolute path of the command a scheduled or daemon run starts: the launcher bin/reachprobe.cjs
 * (not main.js: it sizes libuv's thread pool before Node loads anything, docs/commands.md "Thread pool"),
 * symlinks resolved (npx and npm link go through them).
 */
export function cliPath(): string {
  const p = LAUNCHER;
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * The arguments a scheduled run gets after `reachprobe run`: the user's (after `--`, a leading
 * `run` dropped), or `--quiet` with the config file when there is one (--config,
 * $REACHPROBE_CONFIG, or reachprobe.config.json in `cwd`), made absolute.
 */
export function scheduledRunArgs(given: string[], config: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string[] {
  if (given.length > 0) return given[0] === "run" ? given.slice(1) : [...given];
  const path = config ?? env.REACHPROBE_CONFIG ?? (existsSync(join(cwd, "reachprobe.config.json")) ? "reachprobe.config.json" : undefined);
  return path ? ["--quiet", "--config", resolve(cwd, path)] : ["--quiet"];
}

/**
 * The arguments of the `reachprobe changes --quiet --last-run` that follows each scheduled run:
 * the database the run writes (its --db, else the config file's `db`, else the default, which
 * both find alike); null when the runs store nothing (--no-store). `configDb` is the config
 * file's `db` setting, absolute, when there is one.
 */
export function scheduledChangesArgs(runArgs: readonly string[], configDb: string | null): string[] | null {
  if (runArgs.includes("--no-store")) return null;
  for (let i = 0; i < runArgs.length; i++) {
    const a = runArgs[i]!;
    if (a === "--db" && runArgs[i + 1] !== undefined) return ["--db", runArgs[i + 1]!];
    if (a.startsWith("--db=")) return ["--db", a.slice(5)];
  }
  return configDb ? ["--db", configDb] : [];
}
