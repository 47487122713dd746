/** `reachprobe config`: check, show or start a config file (`reachprobe.config.json`). */
import { firstProblems } from "../base/read-file.js";
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Command } from "commander";
import { defaultDbPath } from "../store/db-path.js";
import { applyLoadedConfig, configOption, effectiveSettings, locateForCommand } from "../config/apply.js";
import { ConfigError } from "../config/errors.js";
import { CONFIG_ENV, CONFIG_KEY_NAMES, DEFAULT_CONFIG_NAME, checkConfigText, locateConfig, readConfigFile, readConfigText, type ConfigLocation, type LoadedConfig } from "../config/read.js";
import { loadFingerprints } from "../fingerprints/load.js";
import { loadBundledList, loadTargetFile } from "../targets/load.js";
import { EXIT } from "./exit-codes.js";
import { UsageError } from "../base/errors.js";
import { runOptions } from "./run-options.js";

const LOOKUP = `The file is PATH if given, else --config PATH, else $${CONFIG_ENV}, else ./${DEFAULT_CONFIG_NAME} if it exists.`;

/** Builds the `config` command and its subcommands. */
export function configCommand(): Command {
  const config = new Command("config")
    .description(`check, show or start a config file (${DEFAULT_CONFIG_NAME}) holding reachprobe run's settings`)
    .addHelpText(
      "after",
      `\nA config file is one JSON object whose keys are reachprobe run's long flags in camelCase\n(--dns-window is "dnsWindow", --no-store is "store": false). Flags and their environment\nvariables override it. Keys:\n  ${CONFIG_KEY_NAMES.join(", ")}\n\nExamples:\n  reachprobe config init\n  reachprobe config check /etc/reachprobe/config.json\n  REACHPROBE_CONFIG=/etc/reachprobe/config.json reachprobe run --quiet`,
    );
  config.addCommand(
    new Command("check")
      .description("check a config file: print \"PATH: ok (...)\" and exit 0, or every problem and exit 2")
      .argument("[path]", "the config file")
      .addOption(configOption())
      .addHelpText("after", `\n${LOOKUP}\nIt also loads the target files, list and fingerprints the file names.`)
      .action(async (path: string | undefined, _opts: unknown, command: Command) => {
        process.exitCode = await checkMain(path, command);
      })
      .exitOverride(),
  );
  config.addCommand(
    new Command("show")
      .description("print, as JSON, the settings reachprobe run would use: the config file over the defaults, with environment variables (secrets masked)")
      .argument("[path]", "the config file")
      .addOption(configOption())
      .addHelpText("after", `\n${LOOKUP}`)
      .action(async (path: string | undefined, _opts: unknown, command: Command) => {
        process.exitCode = await showMain(path, command);
      })
      .exitOverride(),
  );
  config.addCommand(
    new Command("init")
      .description(`write a starter config file with the common settings (never overwrites a file)`)
      .argument("[path]", "where to write it", DEFAULT_CONFIG_NAME)
      .action((path: string) => {
        process.exitCode = initMain(path);
      })
      .exitOverride(),
  );
  return config;
}

/** The file a `config` subcommand is about: its argument, or --config, or the usual lookup. */
function locate(path: string | undefined, command: Command): ConfigLocation | null {
  if (path !== undefined) {
    if (command.getOptionValueSource("config") === "cli") throw new UsageError("give the config file once: as PATH or as --config PATH");
    return locateConfig({ path, origin: "argument" });
  }
  return locateForCommand(command);
}

function noFile(name: string): number {
  process.stderr.write(`reachprobe: no config file: there is no ./${DEFAULT_CONFIG_NAME}, and neither --config nor $${CONFIG_ENV} names one (write one with "reachprobe config init")\n`);
  return EXIT.USAGE;
}

function printProblems(err: unknown): number {
  if (!(err instanceof ConfigError)) throw err;
  for (const p of firstProblems(err.problems)) process.stderr.write(`${p}\n`);
  return EXIT.USAGE;
}

async function checkMain(path: string | undefined, command: Command): Promise<number> {
  let config: LoadedConfig;
  try {
    const location = locate(path, command);
    if (location === null) return noFile("check");
    const checked = checkConfigText(await readConfigText(location), location.path, runOptions(), dirname(location.absolute));
    config = checked.config;
    // What the file names is loaded too, even when other keys are wrong: every problem at once.
    const problems = [...checked.problems, ...(await checkReferences(config))];
    if (problems.length > 0) throw new ConfigError(problems, config.path);
  } catch (err) {
    return printProblems(err);
  }
  const keys = config.settings.map((s) => s.key);
  const n = keys.length;
  process.stdout.write(`${config.path}: ok (${n} key${n === 1 ? "" : "s"}${n > 0 ? `: ${keys.join(", ")}` : ""})\n`);
  return EXIT.OK;
}

/** Loads what the file names (list, target files, fingerprints), as a run would, and returns the problems. */
async function checkReferences(config: LoadedConfig): Promise<string[]> {
  const problems: string[] = [];
  const about = (key: string, err: unknown) => problems.push(`${config.path}: ${JSON.stringify(key)}: ${(err as Error).message}`);
  for (const s of config.settings) {
    try {
      if (s.key === "list") await loadBundledList(s.value as string);
      if (s.key === "fingerprints") await loadFingerprints(s.value as string);
    } catch (err) {
      about(s.key, err);
    }
    if (s.key === "file") {
      for (const f of s.value as string[]) {
        try {
          await loadTargetFile(f);
        } catch (err) {
          about(s.key, err);
        }
      }
    }
  }
  return problems;
}

async function showMain(path: string | undefined, command: Command): Promise<number> {
  // The real run command, parsed with no arguments: its defaults and environment variables.
  const run = runOptions()
    .exitOverride()
    .action(() => {});
  await run.parseAsync([], { from: "user" });
  let doc: unknown;
  try {
    const location = locate(path, command);
    const config = location === null ? null : await readConfigFile(location, run);
    const applied = config === null ? { configPath: null, targets: [], applied: [], config: null } : applyLoadedConfig(run, [], config);
    doc = { configFile: location?.absolute ?? null, settings: effectiveSettings(run, applied) };
  } catch (err) {
    return printProblems(err);
  }
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  return EXIT.OK;
}

/** The starter file: the common keys with the defaults of `reachprobe run`. */
export function starterConfig(run: Command = runOptions()): Record<string, unknown> {
  const dflt = (key: string): unknown => run.options.find((o) => o.attributeName() === key && !o.negate)?.defaultValue;
  return {
    list: "wechat",
    db: dflt("db") ?? defaultDbPath(),
    timeout: dflt("timeout"),
    concurrency: dflt("concurrency"),
    logLevel: dflt("logLevel"),
  };
}

function initMain(path: string): number {
  const starter = starterConfig();
  try {
    writeFileSync(path, `${JSON.stringify(starter, null, 2)}\n`, { flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      process.stderr.write(`reachprobe: ${path} already exists; it is left as it is (remove it first, or give another path)\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`reachprobe: cannot write ${path}: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  process.stdout.write(`wrote ${path} (${Object.keys(starter).join(", ")}); relative paths in it are relative to its folder.\nEdit it, then: reachprobe config check ${path}\n`);
  return EXIT.OK;
}
