/**
 * `reachprobe doctor`: checks what a run depends on (the database, its lock, TLS trust, the
 * clock, Node, the open-file limit, and the configured control, DoH and resolvers) and says
 * what to fix. It contacts only the servers configured, and nothing at all when none is.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { Command, Option } from "commander";
import { configOption, locateForCommand, noConfigOption } from "../config/apply.js";
import { ConfigError } from "../config/errors.js";
import { checkConfigText, readConfigText } from "../config/read.js";
import { SYMBOL, doctorExitCode, tally, type Check } from "../doctor/check.js";
import { defaultDeps, runDoctor, type DoctorSettings } from "../doctor/doctor.js";
import { judgeConfig, mergeConfig, type ConfigOutcome, type FileSetting } from "../doctor/settings.js";
import { DEFAULT_PROBE_CONFIG } from "../probes/config.js";
import { runOptions } from "./run-options.js";
import { UsageError } from "../base/errors.js";
import { positiveInt } from "../base/positive-int.js";
import { collect, parseControlUrl, parseDohUrl, parseResolver } from "./options.js";
import { VERSION } from "../base/package-info.js";
import { dbOption } from "./db-option.js";
import { durationIn } from "../base/duration.js";
import { paintFor, useColor, type Paint } from "./style.js";

/** The parsed flags of `doctor`. */
interface DoctorFlags {
  config?: string | false;
  db: string;
  control?: string;
  controlToken?: string;
  doh?: string[];
  resolver?: Array<{ host: string; port: number }>;
  dohProbeName: string;
  timeout: number;
  concurrency: number;
  full?: boolean;
  json?: boolean;
}

/** The doctor's exit codes, as printed by `--help`. */
export const DOCTOR_EXIT_HELP = `Exit codes:
  0  nothing to fix (warnings, marked !, are allowed)
  1  something must be fixed (a line marked ✗)
  2  usage error`;

/** Builds the `doctor` command. */
export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check the database, its lock, TLS trust, the clock, Node, and the configured control, DoH and resolvers; say what to fix")
    .addOption(dbOption("the SQLite database a run would use"))
    .addOption(new Option("--control <url>", "the control helper to check (GET / and an empty POST /, which measures nothing)").env("REACHPROBE_CONTROL").argParser(parseControlUrl))
    .addOption(new Option("--control-token <token>", "bearer token for the control helper").env("REACHPROBE_CONTROL_TOKEN"))
    .option("--doh <url>", "a DNS-over-HTTPS endpoint to check with one query; repeatable", collect(parseDohUrl))
    .option("--resolver <ip[:port]>", "a UDP resolver to check with one query; repeatable", collect(parseResolver))
    .option("--doh-probe-name <name>", "the name asked of each DoH endpoint and resolver (sent only to them)", parseProbeName, "example.com")
    .option("--timeout <duration>", "time each server has to answer (as a run's step timeout; 5s, 1500ms, a bare number is ms)", durationIn("--timeout", "ms", 1, 600_000), DEFAULT_PROBE_CONFIG.stepTimeoutMs)
    .option("-j, --concurrency <n>", "the run concurrency the open-file limit is judged against", positiveInt("--concurrency", 1, 4096), 16)
    .option("--full", "run SQLite's full integrity_check instead of quick_check (slower on big files)")
    .option("--json", "print the checks as one JSON document")
    .addOption(configOption())
    .addOption(noConfigOption())
    .addHelpText(
      "after",
      `\nEach line is ✓ (fine), ! (worth knowing), ✗ (must be fixed) or - (not configured, not checked),\nfollowed by what to do. Only the servers given (by flags, their environment variables or the\nconfig file a run would read) are contacted; with none, nothing is.\n\n${DOCTOR_EXIT_HELP}\n\nExamples:\n  reachprobe doctor\n  reachprobe doctor --db /var/lib/reachprobe/results.db --control https://control.example.org/ --resolver 192.0.2.53`,
    )
    .action(async (flags: DoctorFlags, command: Command) => {
      process.exitCode = await doctorMain(flags, command);
    });
}

/** Checks `--doh-probe-name`: a DNS name, as it goes on the wire. */
function parseProbeName(v: string): string {
  const name = v.trim().replace(/\.$/, "");
  if (name === "" || name.length > 253 || !name.split(".").every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l))) {
    throw new UsageError(`--doh-probe-name must be a DNS name such as example.com, got "${v}"`);
  }
  return name;
}

function engines(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { engines?: { node?: string } };
    return pkg.engines?.node;
  } catch {
    return undefined;
  }
}

/**
 * Finds and checks the config file as a run would (its values through run's own flag parsers);
 * a file with problems is reported, not fatal: the settings that passed are still used.
 */
async function readConfig(command: Command): Promise<{ outcome: ConfigOutcome; settings: FileSetting[] }> {
  try {
    const location = locateForCommand(command);
    if (location === null) return { outcome: { kind: command.getOptionValue("config") === false ? "disabled" : "none" }, settings: [] };
    const checked = checkConfigText(await readConfigText(location), location.path, runOptions(), dirname(location.absolute));
    const settings = checked.config.settings;
    return { outcome: { kind: "read", path: location.path, origin: location.origin, keys: settings.map((s) => s.key), fromFile: [], problems: checked.problems }, settings };
  } catch (err) {
    if (err instanceof ConfigError) return { outcome: { kind: "unreadable", problem: err.problems.join("; ") }, settings: [] };
    throw err;
  }
}

async function doctorMain(flags: DoctorFlags, command: Command): Promise<number> {
  const config = await readConfig(command);
  const merged = mergeConfig(
    { db: flags.db, control: flags.control, controlToken: flags.controlToken, doh: flags.doh ?? [], resolver: flags.resolver ?? [], concurrency: flags.concurrency, timeout: flags.timeout },
    (key) => command.getOptionValueSource(key),
    config.settings,
  );
  if (config.outcome.kind === "read") config.outcome.fromFile = merged.fromFile;
  const m = merged.settings;
  const settings: DoctorSettings = {
    db: m.db,
    ...(m.control ? { control: m.control } : {}),
    ...(m.controlToken ? { controlToken: m.controlToken } : {}),
    doh: m.doh,
    resolvers: m.resolver,
    dohProbeName: flags.dohProbeName,
    timeoutMs: m.timeout,
    concurrency: m.concurrency,
    full: flags.full === true,
  };
  const checks = [judgeConfig(config.outcome), ...(await runDoctor(settings, defaultDeps(VERSION, engines())))];
  const code = doctorExitCode(checks);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ version: VERSION, ok: code === 0, counts: tally(checks), checks }, null, 2)}\n`);
  } else {
    process.stdout.write(renderChecks(checks, settings, paintFor(useColor(process.stdout))));
  }
  return code;
}

/** The human report: a heading, one line a check with what to do under it, and a closing count. */
export function renderChecks(checks: readonly Check[], s: DoctorSettings, paint: Paint): string {
  const colour = { ok: paint.green, warn: paint.yellow, fail: paint.red, skip: paint.gray } as const;
  const width = Math.max(...checks.map((c) => c.id.length));
  const lines = [`reachprobe doctor ${VERSION}: database ${s.db}`, ""];
  for (const c of checks) {
    lines.push(`${colour[c.status](SYMBOL[c.status])} ${c.id.padEnd(width)}  ${c.message}`);
    if (c.fix && (c.status === "warn" || c.status === "fail")) lines.push(`  ${" ".repeat(width)}  ${paint.bold("→")} ${c.fix}`);
  }
  const n = tally(checks);
  const parts: string[] = [];
  if (n.fail > 0) parts.push(paint.red(`${n.fail} to fix`));
  if (n.warn > 0) parts.push(paint.yellow(`${n.warn} ${n.warn === 1 ? "warning" : "warnings"}`));
  lines.push("", parts.length > 0 ? `${parts.join(", ")}.` : paint.green("Nothing to fix."));
  return `${lines.join("\n")}\n`;
}
