/**
 * Applying a config file to a parsed command (`reachprobe run`): each setting fills an option
 * that neither the command line nor its environment variable set, so the order is
 * flag > environment variable > config file > built-in default.
 */
import { Option, type Command } from "commander";
import { DEFAULT_DNS_OPERATORS, resolverText } from "./defaults.js";
import { ConfigError } from "./errors.js";
import { CONFIG_KEYS, specOf, type ConfigKey } from "./keys.js";
import { CONFIG_ENV, DEFAULT_CONFIG_NAME, locateConfig, readConfigFile, type ConfigLocation, type LoadedConfig } from "./read.js";

/** The `--config <path>` option (also `$REACHPROBE_CONFIG`). */
export function configOption(): Option {
  return new Option("-c, --config <path>", `settings from this JSON file (default: ./${DEFAULT_CONFIG_NAME} if it exists); flags and their environment variables override it`).env(CONFIG_ENV);
}

/** The `--no-config` option: read no config file, not even ./reachprobe.config.json. */
export function noConfigOption(): Option {
  return new Option("--no-config", `read no config file (neither $${CONFIG_ENV} nor ./${DEFAULT_CONFIG_NAME})`);
}

/** Where an option's value came from, as `config show` reports it. */
export type SettingSource = "cli" | "env" | "config" | "default" | "unset";

/** What applying a config file did. */
export interface AppliedConfig {
  /** The config file's path as given, or null when none was read. */
  configPath: string | null;
  /** The targets to probe: the command line's, or the config file's when the command line chose none. */
  targets: string[];
  /** The keys whose values were taken from the file (not overridden). */
  applied: ConfigKey[];
  /** The file read, or null. */
  config: LoadedConfig | null;
}

/**
 * Finds the config file `command` was pointed at (`--config`, `$REACHPROBE_CONFIG`,
 * `./reachprobe.config.json`), or null for none or `--no-config`. Throws a ConfigError when a
 * named file does not exist.
 */
export function locateForCommand(command: Command, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ConfigLocation | null {
  const value: unknown = command.getOptionValue("config");
  if (value === false) return null;
  if (typeof value === "string") {
    return locateConfig({ path: value, origin: command.getOptionValueSource("config") === "env" ? "REACHPROBE_CONFIG" : "--config" }, cwd, env);
  }
  return locateConfig(null, cwd, env);
}

/**
 * Reads the config file for a parsed command and applies it (see applyLoadedConfig). Call it
 * first thing in the command's action, before anything else runs. `cliTargets` are the target
 * arguments given on the command line. Throws a ConfigError (a UsageError: exit code 2) listing
 * every problem in the file.
 */
export async function applyConfigFile(command: Command, cliTargets: string[], location: ConfigLocation | null = locateForCommand(command)): Promise<AppliedConfig> {
  if (location === null) return { configPath: null, targets: cliTargets, applied: [], config: null };
  const config = await readConfigFile(location, command);
  return applyLoadedConfig(command, cliTargets, config);
}

/**
 * Sets each of the file's settings on `command` with source `config`, unless the option's value
 * came from the command line or the environment. The keys choosing what to probe (`targets`,
 * `list`, `file`) go together: when the command line names targets, `--list` or `--file`, the
 * file's choice is left out entirely, so `reachprobe run example.com` probes just that.
 */
export function applyLoadedConfig(command: Command, cliTargets: string[], config: LoadedConfig): AppliedConfig {
  const cliChoseTargets = cliTargets.length > 0 || selectionKeys().some((k) => command.getOptionValueSource(k) === "cli");
  const applied: ConfigKey[] = [];
  let targets = cliTargets;
  for (const s of config.settings) {
    if (specOf(s.key).selection && cliChoseTargets) continue;
    if (s.key === "targets") {
      targets = s.value as string[];
      applied.push(s.key);
      continue;
    }
    const source = command.getOptionValueSource(s.key);
    if (source === "cli" || source === "env") continue;
    command.setOptionValueWithSource(s.key, s.value, "config");
    applied.push(s.key);
  }
  return { configPath: config.path, targets, applied, config };
}

function selectionKeys(): ConfigKey[] {
  return (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => specOf(k).selection && k !== "targets");
}

/** One line of `config show`. */
export interface EffectiveSetting {
  value: unknown;
  source: SettingSource;
}

/** Stands in for a secret in printed settings. */
export const MASK = "********";

/**
 * The settings a command would run with, one per config key, in the file's JSON form: the
 * file's values as written (paths absolute), others from the command's options; secrets masked.
 */
export function effectiveSettings(command: Command, applied: AppliedConfig): Record<ConfigKey, EffectiveSetting> {
  const fromFile = new Map((applied.config?.settings ?? []).map((s) => [s.key, s.json]));
  const out = {} as Record<ConfigKey, EffectiveSetting>;
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    let value: unknown;
    let source: SettingSource;
    if (key === "targets") {
      value = applied.targets;
      source = applied.applied.includes("targets") ? "config" : applied.targets.length > 0 ? "cli" : "unset";
    } else {
      const from = command.getOptionValueSource(key) as SettingSource | undefined;
      const v: unknown = command.getOptionValue(key);
      source = from ?? (v === undefined ? "unset" : "default");
      value = from === "config" && fromFile.has(key) ? fromFile.get(key) : toJson(v);
    }
    if (value === undefined) value = null;
    if (specOf(key).secret && value !== null) value = MASK;
    if (key === "control" && typeof value === "string") value = maskUrl(value);
    out[key] = { value, source };
  }
  // Neither named: the run asks the default public resolvers (with consent; defaults.ts).
  if (out.doh.source === "unset" && out.resolver.source === "unset" && out.dnsControl.value !== false) {
    out.doh = { value: DEFAULT_DNS_OPERATORS.map((o) => o.doh), source: "default" };
    out.resolver = { value: DEFAULT_DNS_OPERATORS.map((o) => resolverText(o.resolver)), source: "default" };
  }
  return out;
}

/** An option value in config-file form: resolvers `{host, port}` back to `host:port`. */
function toJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === "object" && v !== null && "host" in v && "port" in v) {
    const { host, port } = v as { host: string; port: number };
    return `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }
  return v;
}

/** A URL with its password (if any) masked. */
function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === "") return url;
    u.password = MASK;
    return u.href;
  } catch {
    return url;
  }
}

export { ConfigError };
