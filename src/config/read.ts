/**
 * Finding and reading a config file: JSON syntax (with line and column), unknown keys (with a
 * suggestion), JSON types, and each value checked by the parser of the flag it stands for, so
 * that `"timeout": 0` fails exactly as `--timeout 0` does. Every problem is collected, and a
 * file with any problem gives a ConfigError and no settings.
 */
import { existsSync, statSync } from "node:fs";
import { quote, readFileCapped, ReadFileError } from "../base/read-file.js";
import { dirname, isAbsolute, resolve } from "node:path";
import type { Command, Option } from "commander";
import { parsePublicRanges } from "../net/bogons.js";
import { positiveInt } from "../base/positive-int.js";
import { durationMs } from "../base/duration.js";
import { JsonScanError, lineColumn, scanJsonLines, type JsonLines } from "../targets/json-lines.js";
import { parseTarget } from "../targets/parse.js";
import { ConfigError } from "./errors.js";
import { CONFIG_KEYS, IGNORED_KEYS, flagOf, isConfigKey, specOf, suggestKey, type ConfigKey } from "./keys.js";

/** The file name looked for in the working directory. */
export const DEFAULT_CONFIG_NAME = "reachprobe.config.json";

/** The environment variable naming a config file. */
export const CONFIG_ENV = "REACHPROBE_CONFIG";

/** Where a config file was found, and how it was named. */
export interface ConfigLocation {
  /** The path as given (or `reachprobe.config.json`), as messages show it. */
  path: string;
  /** The path made absolute against the working directory. */
  absolute: string;
  /** What named it: a flag, the environment, a command argument, or the default name. */
  origin: "--config" | "REACHPROBE_CONFIG" | "argument" | "default";
}

/** One setting of a valid config file. */
export interface ConfigSetting {
  key: ConfigKey;
  /** The value as written, with relative paths made absolute: what `config show` prints. */
  json: unknown;
  /** The value the flag's parser gives (what the command's option is set to); undefined means unset. */
  value: unknown;
}

/** A config file that passed every check. */
export interface LoadedConfig {
  /** The path as messages show it. */
  path: string;
  /** The directory that relative paths in the file are resolved against. */
  dir: string;
  /** Its settings in file order, without `$schema`. */
  settings: ConfigSetting[];
}

/**
 * Picks the config file: `explicit` (from `--config` or a command argument) if given, else
 * `$REACHPROBE_CONFIG`, else `./reachprobe.config.json` when it exists. A named file that does
 * not exist is an error; a missing default file means no config (null).
 */
export function locateConfig(
  explicit: { path: string; origin: ConfigLocation["origin"] } | null,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): ConfigLocation | null {
  let named = explicit;
  if (named === null && env[CONFIG_ENV] !== undefined) named = { path: env[CONFIG_ENV] ?? "", origin: "REACHPROBE_CONFIG" };
  if (named === null) {
    const absolute = resolve(cwd, DEFAULT_CONFIG_NAME);
    return existsSync(absolute) ? { path: DEFAULT_CONFIG_NAME, absolute, origin: "default" } : null;
  }
  const from = named.origin === "REACHPROBE_CONFIG" ? `${CONFIG_ENV} is set` : named.origin === "--config" ? "--config was given" : "it was given";
  if (named.path.trim() === "") {
    throw new ConfigError([named.origin === "REACHPROBE_CONFIG" ? `${CONFIG_ENV} is empty: set it to a config file's path, or unset it` : "the config file path is empty"]);
  }
  const absolute = resolve(cwd, named.path);
  let isDir = false;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch {
    throw new ConfigError([`${named.path}: no such config file (${from}); create one with "reachprobe config init ${named.path}"`]);
  }
  if (isDir) throw new ConfigError([`${named.path}: is a directory, not a config file (${from})`]);
  return { path: named.path, absolute, origin: named.origin };
}

/** The most a config file may hold: a few dozen settings take a few KiB. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** Reads and checks a config file against `command`'s options (those of `reachprobe run`). */
export async function readConfigFile(location: ConfigLocation, command: Command): Promise<LoadedConfig> {
  return parseConfigText(await readConfigText(location), location.path, command, dirname(location.absolute));
}

/** A config file's text; a ConfigError when it cannot be read. */
export async function readConfigText(location: ConfigLocation): Promise<string> {
  try {
    return await readFileCapped(location.absolute, MAX_CONFIG_BYTES);
  } catch (err) {
    const why = err instanceof ReadFileError ? err.why : (err as Error).message;
    throw new ConfigError([`${location.path}: cannot read the config file: ${why}`]);
  }
}

/**
 * Checks a config file's text. `path` names it in messages; relative paths in values are
 * resolved against `dir`. Values are parsed by `command`'s option of the same name when it has
 * one. Throws a ConfigError listing every problem.
 */
export function parseConfigText(text: string, path: string, command: Command, dir = dirname(resolve(path))): LoadedConfig {
  const { config, problems } = checkConfigText(text, path, command, dir);
  if (problems.length > 0) throw new ConfigError(problems, path);
  return config;
}

/** Like parseConfigText, but returns the problems next to the settings that passed. */
export function checkConfigText(text: string, path: string, command: Command, dir = dirname(resolve(path))): { config: LoadedConfig; problems: string[] } {
  const body = text.replace(/^\uFEFF/, "");
  const settings: ConfigSetting[] = [];
  const config: LoadedConfig = { path, dir, settings };
  let where: JsonLines;
  let doc: unknown;
  try {
    where = scanJsonLines(body);
    doc = JSON.parse(body);
  } catch (err) {
    return { config, problems: [syntaxProblem(body, path, err)] };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    const got = doc === null ? "null" : Array.isArray(doc) ? "an array" : `a ${typeof doc}`;
    return { config, problems: [`${path}: must hold one JSON object of settings, such as {"timeout": 10000}; it holds ${got}`] };
  }
  const problems: string[] = [];
  for (const dup of where.duplicateKeys) {
    if (dup.pointer.indexOf("/", 1) !== -1) continue; // only top-level keys matter; nested values are type errors anyway
    problems.push(`${path}:${dup.line}: ${JSON.stringify(unpointer(dup.pointer))} is given twice (first on line ${dup.firstLine}); JSON keeps only the last`);
  }
  for (const [key, raw] of Object.entries(doc as Record<string, unknown>)) {
    if (IGNORED_KEYS.includes(key)) continue;
    if (!isConfigKey(key)) {
      problems.push(`${path}: unknown key ${JSON.stringify(key)}${suggestKey(key)}`);
      continue;
    }
    const found = new ValueChecker(key, command, dir).check(raw);
    if ("problems" in found) problems.push(...found.problems.map((p) => `${path}: ${p}`));
    else settings.push({ key, json: found.json, value: found.value });
  }
  return { config, problems };
}

/** `path:line:column: invalid JSON: reason`, with a hint for the usual slips (comments, trailing commas). */
function syntaxProblem(text: string, path: string, err: unknown): string {
  if (!(err instanceof JsonScanError)) return `${path}: invalid JSON: ${(err as Error).message}`;
  const { line, column } = lineColumn(text, err.offset);
  const at = text.slice(err.offset);
  let hint = "";
  if (at.startsWith("//") || at.startsWith("/*") || at.startsWith("#")) hint = " (JSON cannot hold comments)";
  else if (/^[}\]]/.test(at) && /,\s*$/.test(text.slice(0, err.offset))) hint = " (remove the comma after the last entry)";
  else if (at.startsWith("'")) hint = " (JSON strings take double quotes)";
  return `${path}:${line}:${column}: invalid JSON: ${err.message}${hint}`;
}

function unpointer(pointer: string): string {
  return pointer.slice(1).replace(/~1/g, "/").replace(/~0/g, "~");
}

type Checked = { json: unknown; value: unknown } | { problems: string[] };

/** Checks one key's value: its JSON type, then the flag's parser. */
class ValueChecker {
  private readonly label: string;
  /** The option whose parser checks values, when the command has one (not the `--no-` one). */
  private readonly option: Option | undefined;

  constructor(
    private readonly key: ConfigKey,
    command: Command,
    private readonly dir: string,
  ) {
    this.label = JSON.stringify(key);
    this.option = command.options.find((o) => o.attributeName() === key && !o.negate && (o.required || o.optional));
  }

  check(raw: unknown): Checked {
    try {
      return this.checkOrThrow(raw);
    } catch (err) {
      if (err instanceof Problems) return { problems: err.problems };
      throw err;
    }
  }

  private checkOrThrow(raw: unknown): { json: unknown; value: unknown } {
    const spec = specOf(this.key);
    switch (spec.kind) {
      case "boolean":
        if (typeof raw !== "boolean") this.typeError("true or false", raw);
        return { json: raw, value: raw };
      case "integer":
        return this.integer(raw);
      case "duration": {
        if (typeof raw !== "number" && typeof raw !== "string") this.typeError('a duration such as "5s" or "1500ms", or a number in the flag\'s unit', raw);
        return { json: raw, value: this.parse(String(raw), this.label, raw) };
      }
      case "string": {
        const s = this.string(raw, this.label, "a string");
        const json = spec.paths ? resolve(this.dir, s) : s;
        return { json, value: this.parse(json, this.label, raw) };
      }
      case "strings": {
        if (!Array.isArray(raw)) this.typeError(`an array of strings, such as [${JSON.stringify(typeof raw === "string" ? raw : "...")}]`, raw);
        return this.items(raw as unknown[]);
      }
      case "string-or-strings": {
        const list = typeof raw === "string" ? [raw] : Array.isArray(raw) ? (raw as unknown[]) : this.typeError("a path or an array of paths", raw);
        return this.items(list);
      }
      case "comma-list": {
        const list = typeof raw === "string" ? [raw] : Array.isArray(raw) ? (raw as unknown[]) : this.typeError('a string or an array of strings, such as "192.0.2.0/24,198.51.100.0/24"', raw);
        const items = list.map((v, i) => this.string(v, Array.isArray(raw) ? `${this.label}[${i}]` : this.label, "a string"));
        const joined = (spec.paths === "fingerprints" ? items.flatMap((s) => s.split(",")).map((s) => this.fingerprintItem(s)) : items).join(",");
        if (this.key === "publicRanges") this.guard(this.label, raw, () => parsePublicRanges(joined));
        return { json: joined, value: this.parse(joined, this.label, raw) };
      }
      case "string-or-false": {
        if (raw === false) return { json: false, value: false };
        const s = this.string(raw, this.label, "a target (a string) or false");
        this.guard(this.label, raw, () => parseTarget(s));
        return { json: s, value: this.parse(s, this.label, raw) };
      }
      case "boolean-or-duration":
        if (raw === true) return { json: true, value: true };
        if (raw === false) return { json: false, value: undefined };
        if (typeof raw !== "number" && typeof raw !== "string") this.typeError('true, false, a duration such as "30m" or a number of seconds', raw);
        // On the command line a word that is not a duration is the next target (--wait then
        // waits the default time); here it can only be a mistake.
        if (typeof raw === "string" && durationMs(raw, "s") === null) this.fail(`${this.label} must be true, false, a duration such as "30m" or a number of seconds, not ${JSON.stringify(raw)}`);
        return { json: raw, value: this.parse(String(raw), this.label, raw) };
    }
  }

  /** A JSON number through the flag's parser: `"timeout": "10s"` fails with the flag's own message. */
  private integer(raw: unknown): { json: unknown; value: unknown } {
    if (typeof raw !== "number" && typeof raw !== "string") this.typeError("a number", raw);
    const parse = this.option?.parseArg ?? positiveInt(flagOf(this.key), 0);
    let value: unknown;
    try {
      value = parse(String(raw), undefined);
    } catch (err) {
      this.fail(this.flagMessage(err, this.label, raw));
    }
    if (typeof raw === "string") this.fail(`${this.label} must be a number, not a string: write ${raw.trim()} without quotes`);
    return { json: raw, value };
  }

  /** Array items through the flag's parser, one repetition of the flag each. */
  private items(list: unknown[]): { json: unknown; value: unknown } {
    const spec = specOf(this.key);
    const problems: string[] = [];
    const json: string[] = [];
    let value: unknown = undefined;
    list.forEach((v, i) => {
      const label = `${this.label}[${i}]`;
      try {
        const s = this.string(v, label, "a string");
        const item = spec.paths ? resolve(this.dir, s) : s;
        json.push(item);
        if (this.key === "targets") this.guard(label, v, () => parseTarget(item));
        const parse = this.option?.parseArg;
        if (parse) {
          const prev = value;
          value = this.guard(label, v, () => parse(item, prev));
        } else {
          value = [...((value as string[] | undefined) ?? []), item];
        }
      } catch (err) {
        if (!(err instanceof Problems)) throw err;
        problems.push(...err.problems);
      }
    });
    if (problems.length > 0) throw new Problems(problems);
    return { json, value: value ?? [] };
  }

  private string(v: unknown, label: string, what: string): string {
    if (typeof v !== "string") this.typeError(what, v, label);
    if (v.trim() === "") this.fail(`${label} must not be empty`);
    return v;
  }

  /** Runs the option's parser on a string, if the option has one. */
  private parse(s: string, label: string, raw: unknown): unknown {
    const option = this.option;
    if (!option?.parseArg) return s;
    if (option.argChoices && !option.argChoices.includes(s)) {
      this.fail(`${label} must be one of ${option.argChoices.join(", ")}; got ${JSON.stringify(raw)}`);
    }
    const parse = option.parseArg;
    return this.guard(label, raw, () => parse(s, undefined));
  }

  /** Runs `fn`, turning what it throws into a problem about `label`. */
  private guard<T>(label: string, raw: unknown, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      this.fail(this.flagMessage(err, label, raw));
    }
  }

  /** A parser's message, about the key instead of the flag: `--timeout must ...` becomes `"timeout" must ...`. */
  private flagMessage(err: unknown, label: string, raw: unknown): string {
    if (!(err instanceof Error)) throw err;
    const flag = this.option?.long ?? flagOf(this.key);
    let msg = err.message.startsWith(flag) ? `${label}${err.message.slice(flag.length)}` : `${label}: ${err.message}`;
    if (typeof raw !== "string") msg = msg.replace(`got "${String(raw)}"`, `got ${show(raw)}`);
    return msg;
  }

  private fingerprintItem(item: string): string {
    const s = item.trim();
    if (s === "" || s === "bundled") return s;
    if (s.startsWith("ooni:")) return s.length > "ooni:".length ? `ooni:${resolve(this.dir, s.slice("ooni:".length))}` : s;
    return isAbsolute(s) ? s : resolve(this.dir, s);
  }

  private typeError(what: string, v: unknown, label = this.label): never {
    const hint = v === null ? " (leave the key out for the default)" : "";
    this.fail(`${label} must be ${what}, got ${show(v)}${hint}`);
  }

  private fail(problem: string): never {
    throw new Problems([problem]);
  }
}

/** Problems found in one value (internal to the checker). */
class Problems extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

/** A JSON value in a message, cut short when long. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Every key, for help texts. */
export const CONFIG_KEY_NAMES: readonly string[] = Object.keys(CONFIG_KEYS);
