/**
 * Where the results database is when --db (or $REACHPROBE_DB) does not say (docs/database.md,
 * "Where it is"), and the rule for its directory: only the default's is created unasked.
 */
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../base/errors.js";
import { makeDirs } from "../base/make-dirs.js";
import { PACKAGE_ROOT } from "../base/package-info.js";

/** True when reachprobe runs from a git checkout (a clone), not from an installed package. */
export function isCheckout(root: string = PACKAGE_ROOT): boolean {
  return existsSync(join(root, ".git"));
}

/**
 * The default database, absolute, the same whatever the working directory: `data/reachprobe.db`
 * in the checkout reachprobe runs from, else `$XDG_DATA_HOME/reachprobe/reachprobe.db`
 * (`~/.local/share/reachprobe/reachprobe.db`).
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env, root: string = PACKAGE_ROOT, home: () => string = homedir): string {
  if (isCheckout(root)) return join(root, "data", "reachprobe.db");
  const data = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith("/") ? env.XDG_DATA_HOME : join(home(), ".local", "share");
  return join(data, "reachprobe", "reachprobe.db");
}

/** How --help states the default. */
export function defaultDbHelp(): string {
  return `${defaultDbPath()}: data/reachprobe.db in a checkout, else $XDG_DATA_HOME/reachprobe/reachprobe.db (~/.local/share/...)`;
}

/**
 * Makes sure the directory of the database `path` exists before a command writes it: created
 * when `create` (the default database's, or --create-dirs), else a UsageError that names it and
 * says how to go on: a mistyped --db must not leave new directories behind.
 */
export function ensureDbDir(path: string, create: boolean): void {
  if (path === ":memory:" || path === "") return;
  const dir = dirname(resolve(path));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing: below
  }
  if (isDir) return;
  if (create) {
    makeDirs(dir);
    return;
  }
  throw new UsageError(`the directory of --db ${path} does not exist (${dir}): create it (mkdir -p ${dir}), or add --create-dirs, or check the path`, "E_DB_DIR");
}
