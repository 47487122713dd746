/** src/store/sqlite-addon.ts: the store opens SQLite with better-sqlite3's addon named, not found through `bindings`. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { withAddon } from "../../src/store/sqlite-addon.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

describe("better-sqlite3's addon", () => {
  it("is named where npm's install put it, and a caller's own choice is kept", () => {
    const options = withAddon({ readonly: true });
    expect(options.readonly).toBe(true);
    expect(String(options.nativeBinding)).toMatch(/better-sqlite3[/\\]build[/\\]Release[/\\]better_sqlite3\.node$/);
    expect(existsSync(String(options.nativeBinding))).toBe(true);
    expect(withAddon({ nativeBinding: "/elsewhere/x.node" }).nativeBinding).toBe("/elsewhere/x.node");
  });

  it("opening a store (the build's) never loads the `bindings` package", () => {
    const store = pathToFileURL(resolve(ROOT, "dist/store/store.js")).href;
    const script = `const { Store } = await import(${JSON.stringify(store)});
const s = Store.open(":memory:");
s.close();
const { createRequire } = await import("node:module");
console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\\\/]bindings[\\\\/]/.test(k))));`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual([]);
  });
});
