/** The package's own name and version, read once from package.json. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// src/cli and dist/cli both sit two levels below the package root.
/** Absolute path of the package root (where package.json, targets/ and data/ are). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The version in package.json. */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Absolute path of the launcher, bin/reachprobe.cjs: the `reachprobe` command as users start it. */
export const LAUNCHER = fileURLToPath(new URL("../../bin/reachprobe.cjs", import.meta.url));
