/**
 * Where better-sqlite3's compiled addon is, for `new Database(path, withAddon(options))`.
 * Why: without `nativeBinding`, better-sqlite3 finds its addon through the `bindings` package,
 * which walks the stack and tries a dozen paths at the first open: 3-4 ms of CPU at every start
 * of reachprobe (docs/development.md, "CPU per target"). The addon is where npm's install puts
 * it (build/Release, prebuilt or compiled); when it is not there, better-sqlite3 looks as before.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type Database from "better-sqlite3";

let addon: string | null | undefined;

function addonPath(): string | null {
  if (addon === undefined) {
    try {
      const pkg = createRequire(import.meta.url).resolve("better-sqlite3/package.json");
      const path = join(dirname(pkg), "build", "Release", "better_sqlite3.node");
      addon = existsSync(path) ? path : null;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** `options` with better-sqlite3's addon named, when it is where npm puts it. */
export function withAddon(options: Database.Options = {}): Database.Options {
  const path = addonPath();
  return path === null || options.nativeBinding !== undefined ? options : { ...options, nativeBinding: path };
}
