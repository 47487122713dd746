/**
 * Applying a config file to the real `reachprobe run` command as commander parsed it:
 * flag > environment variable > config file > default, negatable and repeatable flags, the
 * targets, and how the file is found (--config, REACHPROBE_CONFIG, ./reachprobe.config.json).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { runOptions } from "../../src/cli/run-options.js";
import { applyConfigFile, configOption, effectiveSettings, locateForCommand, MASK, noConfigOption, type AppliedConfig } from "../../src/config/apply.js";
import { ConfigError } from "../../src/config/errors.js";
import { locateConfig } from "../../src/config/read.js";

let dir: string;
const savedEnv = { ...process.env };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-config-"));
});

afterEach(() => {
  for (const k of ["REACHPROBE_DB", "REACHPROBE_CONFIG", "REACHPROBE_CONTROL_TOKEN", "REACHPROBE_NETWORK_LABEL", "REACHPROBE_PUBLIC_RANGES"]) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

/** Writes a config file in its own folder and returns its path. */
function writeConfig(doc: unknown, name = "reachprobe.config.json"): string {
  const sub = mkdtempSync(join(dir, "c-"));
  const path = join(sub, name);
  writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
  return path;
}

/** The real run command with --config/--no-config (added here until run.ts has them). */
function run(): Command {
  const cmd = runOptions();
  if (!cmd.options.some((o) => o.long === "--config")) cmd.addOption(configOption()).addOption(noConfigOption());
  return cmd.exitOverride();
}

/** Parses `argv` as `reachprobe run ARGV` and applies the config file as the action would. */
async function parse(argv: string[], env: Record<string, string> = {}): Promise<{ cmd: Command; opts: Record<string, unknown>; applied: AppliedConfig }> {
  for (const k of Object.keys(env)) process.env[k] = env[k];
  const cmd = run();
  let applied: AppliedConfig | undefined;
  cmd.action(async (targets: string[], _flags: unknown, c: Command) => {
    applied = await applyConfigFile(c, targets);
  });
  await cmd.parseAsync(argv, { from: "user" });
  return { cmd, opts: cmd.opts(), applied: applied! };
}

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => new Error("expected a ConfigError, it resolved"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe("precedence: flag > environment variable > config file > default", () => {
  it("a config value replaces the default and says so", async () => {
    const path = writeConfig({ timeout: 5000 });
    const { cmd, opts } = await parse(["--config", path]);
    expect(opts.timeout).toBe(5000);
    expect(cmd.getOptionValueSource("timeout")).toBe("config");
    expect(opts.concurrency).toBe(16);
    expect(cmd.getOptionValueSource("concurrency")).toBe("default");
  });

  it("a flag beats the config file", async () => {
    const path = writeConfig({ timeout: 5000, concurrency: 4 });
    const { cmd, opts } = await parse(["--config", path, "--timeout", "3000"]);
    expect(opts.timeout).toBe(3000);
    expect(cmd.getOptionValueSource("timeout")).toBe("cli");
    expect(opts.concurrency).toBe(4);
  });

  it("an environment variable beats the config file, and a flag beats both", async () => {
    const path = writeConfig({ db: "from-config.db", networkLabel: "config label" });
    const a = await parse(["--config", path], { REACHPROBE_DB: "/env/from-env.db" });
    expect(a.opts.db).toBe("/env/from-env.db");
    expect(a.cmd.getOptionValueSource("db")).toBe("env");
    expect(a.opts.networkLabel).toBe("config label");
    const b = await parse(["--config", path, "--db", "/cli.db"], { REACHPROBE_DB: "/env/from-env.db", REACHPROBE_NETWORK_LABEL: "env label" });
    expect(b.opts.db).toBe("/cli.db");
    expect(b.opts.networkLabel).toBe("env label");
  });

  it("the config file's relative db is resolved against its folder", async () => {
    const path = writeConfig({ db: "data/results.db" });
    const { opts } = await parse(["--config", path]);
    expect(opts.db).toBe(join(path, "..", "data", "results.db"));
  });

  it("negatable flags: false in the file turns off; --no-x on the command line beats true in the file", async () => {
    const off = writeConfig({ store: false, systemResolver: false, canary: false, notice: false, resolver: ["127.0.0.1:5353"] });
    const a = await parse(["--config", off]);
    expect({ store: a.opts.store, systemResolver: a.opts.systemResolver, canary: a.opts.canary, notice: a.opts.notice }).toEqual({ store: false, systemResolver: false, canary: false, notice: false });
    const on = writeConfig({ store: true, systemResolver: true, canary: "https://example.com/" });
    const b = await parse(["--config", on, "--no-store", "--no-system-resolver", "--no-canary"]);
    expect({ store: b.opts.store, systemResolver: b.opts.systemResolver, canary: b.opts.canary }).toEqual({ store: false, systemResolver: false, canary: false });
    const c = await parse(["--config", off, "--canary", "https://example.org/"]);
    expect(c.opts.canary).toBe("https://example.org/");
  });

  it("repeatable flags: the file's list, replaced (not extended) by the command line's", async () => {
    const path = writeConfig({ resolver: ["192.0.2.1", "192.0.2.2:5353"], doh: ["https://doh.example/dns-query"] });
    const a = await parse(["--config", path]);
    expect(a.opts.resolver).toEqual([
      { host: "192.0.2.1", port: 53 },
      { host: "192.0.2.2", port: 5353 },
    ]);
    expect(a.opts.doh).toEqual(["https://doh.example/dns-query"]);
    const b = await parse(["--config", path, "--resolver", "198.51.100.1"]);
    expect(b.opts.resolver).toEqual([{ host: "198.51.100.1", port: 53 }]);
    expect(b.opts.doh).toEqual(["https://doh.example/dns-query"]);
  });

  it("--wait: true, a duration, a number of seconds, or false (do not wait)", async () => {
    expect((await parse(["--config", writeConfig({ wait: true })])).opts.wait).toBe(true);
    expect((await parse(["--config", writeConfig({ wait: 90 })])).opts.wait).toBe(90);
    expect((await parse(["--config", writeConfig({ wait: "30m" })])).opts.wait).toBe(1800);
    expect((await parse(["--config", writeConfig({ wait: false })])).opts.wait).toBeUndefined();
    expect((await parse(["--config", writeConfig({ wait: 90 }), "--wait", "5"])).opts.wait).toBe(5);
  });
});

describe("what to probe", () => {
  const doc = { targets: ["a.example", "b.example"], list: "wechat", file: "mine.txt" };

  it("the file's targets, list and files are used when the command line names none", async () => {
    const path = writeConfig(doc);
    const { opts, applied } = await parse(["--config", path]);
    expect(applied.targets).toEqual(["a.example", "b.example"]);
    expect(opts.list).toBe("wechat");
    expect(opts.file).toEqual([join(path, "..", "mine.txt")]);
  });

  for (const argv of [["c.example"], ["--list", "wechat"], ["--file", "other.txt"]]) {
    it(`"run ${argv.join(" ")}" leaves out all of the file's targets, list and files`, async () => {
      const path = writeConfig(doc);
      const { cmd, opts, applied } = await parse(["--config", path, ...argv]);
      expect(applied.targets).toEqual(argv[0] === "c.example" ? ["c.example"] : []);
      expect(opts.file).toEqual(argv[0] === "--file" ? ["other.txt"] : undefined);
      expect(opts.list).toBe(argv[0] === "--list" ? "wechat" : undefined);
      expect(cmd.getOptionValueSource("list")).not.toBe("config");
    });
  }
});

describe("finding the file", () => {
  it("--config names a file that must exist", async () => {
    const err = await configError(parse(["--config", join(dir, "missing.json")]));
    expect(err.message).toMatch(/missing\.json: no such config file \(--config was given\)/);
  });

  it("REACHPROBE_CONFIG names a file that must exist, and --config beats it", async () => {
    const err = await configError(parse([], { REACHPROBE_CONFIG: join(dir, "gone.json") }));
    expect(err.message).toMatch(/gone\.json: no such config file \(REACHPROBE_CONFIG is set\)/);
    const path = writeConfig({ concurrency: 3 });
    expect((await parse([], { REACHPROBE_CONFIG: path })).opts.concurrency).toBe(3);
    const other = writeConfig({ concurrency: 5 });
    expect((await parse(["--config", other], { REACHPROBE_CONFIG: path })).opts.concurrency).toBe(5);
  });

  it("./reachprobe.config.json is read when present, silently skipped when absent", () => {
    const cwd = mkdtempSync(join(dir, "cwd-"));
    expect(locateConfig(null, cwd, {})).toBeNull();
    writeFileSync(join(cwd, "reachprobe.config.json"), "{}");
    expect(locateConfig(null, cwd, {})).toEqual({ path: "reachprobe.config.json", absolute: join(cwd, "reachprobe.config.json"), origin: "default" });
    expect(() => locateConfig(null, cwd, { REACHPROBE_CONFIG: "" })).toThrow(/REACHPROBE_CONFIG is empty/);
  });

  it("--no-config reads nothing, not even REACHPROBE_CONFIG", async () => {
    const path = writeConfig({ concurrency: 3 });
    const { opts, applied } = await parse(["--no-config"], { REACHPROBE_CONFIG: path });
    expect(opts.concurrency).toBe(16);
    expect(applied.configPath).toBeNull();
  });

  it("a directory is not a config file", () => {
    const sub = join(dir, "a-dir");
    mkdirSync(sub, { recursive: true });
    expect(() => locateConfig({ path: sub, origin: "--config" })).toThrow(/is a directory/);
  });

  it("an invalid file stops before anything is set", async () => {
    const path = writeConfig({ timeout: 5000, concurrency: "many" });
    const err = await configError(parse(["--config", path]));
    expect(err.problems).toEqual([`${path}: "concurrency" must be a whole number from 1 to 4096, got "many"`]);
    const cmd = run();
    await cmd.action(() => {}).parseAsync(["--config", path], { from: "user" });
    await expect(applyConfigFile(cmd, [], locateForCommand(cmd))).rejects.toThrow(ConfigError);
    expect(cmd.opts().timeout).toBe(10_000);
  });
});

describe("effective settings (config show)", () => {
  it("masks the token, says where each value came from, prints resolvers as written", async () => {
    const path = writeConfig({ controlToken: "s3cret-token", resolver: ["[2001:db8::1]:53"], control: "https://user:pw@control.example/" });
    const { cmd, applied } = await parse(["--config", path], { REACHPROBE_DB: "/env.db" });
    const s = effectiveSettings(cmd, applied);
    expect(s.controlToken).toEqual({ value: MASK, source: "config" });
    expect(s.control.value).toBe(`https://user:${MASK}@control.example/`);
    expect(s.resolver).toEqual({ value: ["[2001:db8::1]:53"], source: "config" });
    expect(s.db).toEqual({ value: "/env.db", source: "env" });
    expect(s.timeout).toEqual({ value: 10_000, source: "default" });
    expect(s.list).toEqual({ value: null, source: "unset" });
    expect(JSON.stringify(s)).not.toContain("s3cret");
  });
});
