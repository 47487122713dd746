/**
 * No test, benchmark or lab script may reach a default third party (the public resolvers, the
 * default canary) by accident. Three guards: runCli refuses a `reachprobe run` that could
 * (assertNoDefaultThirdParties, checked here); commands under test get an empty config
 * directory, so no consent the developer gave applies; and every file that launches `run` is
 * read here for the flags that keep the defaults out.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { assertNoDefaultThirdParties, hermeticEnv, TEST_CONFIG_HOME } from "../helpers/cli.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("assertNoDefaultThirdParties", () => {
  it.each([
    [["run", "--no-canary", "https://127.0.0.1/"]],
    [["run", "--canary", "http://127.0.0.1:9/", "--yes", "--no-dns-control", "https://127.0.0.1/"]],
    [["run", "--no-canary", "--yes", "--resolver", "127.0.0.1:53", "http://a.test/"]],
    [["daemon", "--every", "1h", "--", "run", "--no-canary", "--db", "x.db"]],
    [["history", "--since", "1d"]],
    [["run", "--help"]],
  ])("lets %j through", (args) => {
    expect(() => assertNoDefaultThirdParties(args)).not.toThrow();
  });

  it.each([
    [["run", "https://127.0.0.1/"], /name the canary/],
    [["run", "--no-system-resolver", "--resolver", "127.0.0.1:53", "http://a.test/"], /name the canary/],
    [["run", "--no-canary", "--yes", "https://127.0.0.1/"], /--yes consents to the default public resolvers/],
    [["schedule", "--every", "1h", "--", "run", "--db", "x.db"], /name the canary/],
  ])("refuses %j", (args, message) => {
    expect(() => assertNoDefaultThirdParties(args)).toThrow(message);
  });

  it("reads the config file the run would read", () => {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-guard-"));
    writeFileSync(join(dir, "reachprobe.config.json"), JSON.stringify({ canary: false, resolver: ["127.0.0.1:53"] }));
    expect(() => assertNoDefaultThirdParties(["run", "--yes", "http://a.test/"], { cwd: dir })).not.toThrow();
    expect(() => assertNoDefaultThirdParties(["run", "--no-config", "--yes", "http://a.test/"], { cwd: dir })).toThrow(/--yes consents/);
  });

  it("commands under test remember nothing of the developer's consent", () => {
    expect(hermeticEnv().XDG_CONFIG_HOME).toBe(TEST_CONFIG_HOME);
    expect(readdirSync(TEST_CONFIG_HOME)).toEqual([]);
  });
});

/** Every test, benchmark and lab script, relative to the repository. */
function scripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" || e.name === "samples" ? [] : scripts(path);
    return /\.(ts|mjs)$/.test(e.name) ? [relative(ROOT, path)] : [];
  });
}

/** Files that launch `reachprobe run`, or `daemon`, which launches it (a "run" argument next to the CLI, its launcher or a runner). */
const launchesRun = (text: string) => /"(run|daemon)"/.test(text) && /runCli|startCli|onTerminal|LAUNCHER|\bCLI\b|runClient|lab\.cli/.test(text);

/** Files that launch run without naming a canary, and why that sends nothing out. */
const EXEMPT = new Map([
  // A bundled list's own canary (www.example.com) in the lab's namespace, which has no route out.
  ["tests/lab/demo.mjs", "lab namespace"],
  // Only `daemon` command lines that are usage errors: no run starts.
  ["tests/unit/schedule-install.test.ts", "usage errors only"],
  // Its runs are runs.mjs's (which names the lab's canary); its own "run" is vitest's, for the goldens.
  ["tests/lab/regen-fixtures.mjs", "runs through runs.mjs"],
]);
const SELF = relative(ROOT, fileURLToPath(import.meta.url));

describe("every file that launches reachprobe run", () => {
  const files = [...scripts(join(ROOT, "tests")), ...scripts(join(ROOT, "bench"))].filter((f) => f !== SELF);
  const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));

  it("finds the launchers (the scan is not empty)", () => {
    expect([...texts].filter(([, t]) => launchesRun(t)).length).toBeGreaterThan(15);
  });

  it("names the canary (--no-canary, --canary or the config key)", () => {
    const bad = [...texts].filter(([f, t]) => launchesRun(t) && !EXEMPT.has(f) && !/--no-canary|--canary|\bcanary: false/.test(t)).map(([f]) => f);
    expect(bad, "these launch `reachprobe run` and never say which canary: the default one is a real site").toEqual([]);
  });

  it("passes --yes only with --no-dns-control or its own --doh/--resolver", () => {
    const bad = [...texts].filter(([, t]) => /["']--yes["']/.test(t) && !/--no-dns-control|["']--doh["']|["']--resolver["']/.test(t)).map(([f]) => f);
    expect(bad, "--yes consents to the default public resolvers").toEqual([]);
  });
});
