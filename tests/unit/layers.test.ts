/**
 * The layers run one way (docs/design.md): each folder of src/ may import only the folders
 * listed for it here, and nothing below cli/ imports cli/. An import that runs upward fails
 * this test, naming the file, the import and the rule.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** What each folder may import besides itself, bottom first. */
export const ALLOWED: Record<string, readonly string[]> = {
  base: [],
  net: ["base"],
  targets: ["base", "net"],
  probes: ["base", "net", "targets"],
  analysis: ["base", "net", "targets", "probes"],
  fingerprints: ["base", "net", "analysis"],
  geo: ["base", "net"],
  store: ["base", "net", "targets", "probes", "analysis"],
  runner: ["base", "net", "targets", "probes", "analysis"],
  control: ["base", "net", "targets", "probes", "analysis"],
  config: ["base", "net", "targets", "probes", "analysis", "fingerprints"],
  schedule: ["base"],
  export: ["base", "net", "targets", "probes", "analysis", "store"],
  report: ["base", "net", "targets", "probes", "analysis", "store"],
  collector: ["base", "net", "targets", "probes", "analysis", "store"],
  doctor: ["base", "net", "targets", "probes", "analysis", "store", "control", "config", "geo", "fingerprints"],
  cli: ["*"],
};

/** Every .ts file under src/, relative to it. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [relative(SRC, join(dir, e.name))] : []));
}

/** The relative imports of a file (static and dynamic), resolved to paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) out.push(relative(SRC, resolve(SRC, dirname(file), m[1]!)).replace(/\.js$/, ".ts"));
  return out;
}

const folderOf = (path: string): string => (path.includes("/") ? path.split("/")[0]! : "(root)");

/** Every import that breaks a rule, as `file imports target: why`. */
export function violations(files = sources()): string[] {
  const bad: string[] = [];
  for (const file of files) {
    const from = folderOf(file);
    const allowed = ALLOWED[from];
    for (const target of importsOf(file)) {
      const to = folderOf(target);
      if (to === from) continue;
      if (!allowed) bad.push(`${file} imports ${target}: src/${from}/ has no rule in tests/unit/layers.test.ts`);
      else if (!allowed.includes("*") && !allowed.includes(to)) bad.push(`${file} imports ${target}: src/${from}/ may import only ${allowed.join(", ") || "nothing outside itself"}`);
    }
  }
  return bad;
}

describe("layers", () => {
  it("every folder of src/ has a rule", () => {
    const folders = [...new Set(sources().filter((f) => f.includes("/")).map(folderOf))];
    expect(folders.filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  it("no import runs upward", () => {
    expect(violations()).toEqual([]);
  });

  it("one command file does not import another's (shared pieces live below cli/ or in a helper of cli/)", () => {
    const commands = new Set(["run", "control", "history", "changes", "report", "export", "merge", "targets", "config", "schedule", "daemon", "doctor", "runs", "show", "push", "collector"].map((c) => `cli/${c}.ts`));
    const bad = sources()
      .filter((f) => commands.has(f))
      .flatMap((f) => importsOf(f).filter((t) => commands.has(t) && t !== f).map((t) => `${f} imports ${t}`));
    expect(bad).toEqual([]);
  });
});
