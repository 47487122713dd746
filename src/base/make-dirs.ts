/** `mkdir -p` that fails with a clear error instead of spinning (the store, the run lock, schedule, notices). */
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Creates `dir` and its missing parents, one level at a time.
 * QUIRK: Node 20's `mkdirSync(dir, { recursive: true })` loops forever at full CPU on a path
 * like /proc/1/nope/x (the parent exists, mkdir answers ENOENT, and it retries): seen with
 * `--db /proc/1/nope/x.db`. Here each missing level is made once, and any failure is thrown.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let cur = resolve(dir);
  for (;;) {
    try {
      if (!statSync(cur).isDirectory()) throw Object.assign(new Error(`cannot create directory ${resolve(dir)}: ${cur} is not a directory`), { code: "ENOTDIR" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    missing.push(cur);
    const parent = dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EEXIST" && isDirectory(d)) continue; // made by another process meanwhile
      throw Object.assign(new Error(`cannot create directory ${d}: ${e.code ?? e.message}`), { code: e.code });
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
