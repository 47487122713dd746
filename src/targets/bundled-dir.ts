/** Where the bundled lists are (`<package root>/targets/`) and which there are. */
import { readdirSync } from "node:fs";
import { join, sep } from "node:path";
import { PACKAGE_ROOT } from "../base/package-info.js";

/** Directory holding the bundled lists (`<package root>/targets/`). */
export const BUNDLED_DIR = join(PACKAGE_ROOT, "targets") + sep;

/** Names of the bundled lists, sorted, read synchronously (for an `include`). */
export function bundledListNamesSync(): string[] {
  try {
    return readdirSync(BUNDLED_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
