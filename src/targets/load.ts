/**
 * Loading target lists: user files (JSON or text) and the lists bundled in `targets/`.
 * Every invalid entry is reported with its file and line, all at once, in one TargetError;
 * a list with any error loads nothing, so a run never measures half of what was asked.
 */
import { readFile, readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TargetError } from "./errors.js";
import { JsonScanError, lineColumn, scanJsonLines, type JsonLines } from "./json-lines.js";
import { readListDocument } from "./list-format.js";
import { parseTarget } from "./parse.js";
import type { Target } from "./target.js";

/** What a loaded list gives the runner. */
export interface TargetList {
  targets: Target[];
  /** A target expected to be reachable everywhere, checked to tell "offline" from "blocked". */
  canary?: Target;
  name?: string;
  description?: string;
}

/** A target file's format. */
export type ListFormat = "json" | "text";

/** Summary of one bundled list, for `reachprobe list`-style output. */
export interface BundledListInfo {
  name: string;
  description: string;
  services: string[];
  endpoints: number;
}

// src/targets/ and dist/targets/ both sit two levels below the package root.
const PACKAGE_ROOT = new URL("../../", import.meta.url);

/** Directory holding the bundled lists (`<package root>/targets/`). */
export const BUNDLED_DIR = fileURLToPath(new URL("targets/", PACKAGE_ROOT));

/** Loads a target file; `.json` (or, for other extensions, a first character `{` or `[`) means JSON. */
export async function loadTargetFile(path: string): Promise<TargetList> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(err);
    throw new TargetError(`cannot read target file ${path}: ${why}`);
  }
  return parseTargetList(text, path, detectFormat(path, text));
}

/** Picks the format: by extension (`.json`; `.txt`/`.list` are text), else by the first non-space character. */
export function detectFormat(path: string, text: string): ListFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".txt" || ext === ".list") return "text";
  const first = text.replace(/^\uFEFF/, "").trimStart()[0];
  return first === "{" || first === "[" ? "json" : "text";
}

/**
 * Parses a list already read into memory; `file` names it in messages.
 *
 * Text format: one target per line; blank lines are ignored; a line whose first non-space
 * character is `#` is a comment, and whitespace followed by `#` starts a trailing comment.
 * A comment line `# service: NAME` sets the service of the targets after it (until the next
 * such line; `# service:` alone goes back to "(none)"). JSON format: see list-format.ts.
 */
export function parseTargetList(text: string, file: string, format: ListFormat): TargetList {
  const body = text.replace(/^\uFEFF/, "");
  return format === "json" ? fromJson(body, file) : fromText(body, file);
}

/** Collects parsed targets and problems, rejecting repeats of one canonical input. */
class Collector {
  readonly targets: Target[] = [];
  readonly problems: string[] = [];
  private readonly firstSeen = new Map<string, string>();

  add(text: string, service: string | undefined, origin: string): void {
    const target = this.parse(text, service, origin);
    if (target === undefined) return;
    const first = this.firstSeen.get(target.input);
    if (first !== undefined) {
      this.problems.push(`${origin}: duplicate target ${JSON.stringify(target.input)} (first at ${first})`);
      return;
    }
    this.firstSeen.set(target.input, origin);
    this.targets.push(target);
  }

  parse(text: string, service: string | undefined, origin: string): Target | undefined {
    try {
      return parseTarget(text, service ?? "(none)", origin);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      this.problems.push(err.message);
      return undefined;
    }
  }

  finish(file: string, list: Omit<TargetList, "targets">): TargetList {
    const n = this.problems.length;
    if (n > 0) {
      const head = `${file}: ${n} problem${n === 1 ? "" : "s"}, no targets loaded:`;
      throw new TargetError(`${head}\n  ${this.problems.join("\n  ")}`, this.problems);
    }
    return { ...list, targets: this.targets };
  }
}

function fromText(text: string, file: string): TargetList {
  const c = new Collector();
  let service: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === "") return;
    if (trimmed.startsWith("#")) {
      const directive = /^#\s*service\s*:(.*)$/i.exec(trimmed);
      if (directive) service = (directive[1] ?? "").trim() || undefined;
      return;
    }
    const cut = raw.search(/\s#/);
    c.add((cut < 0 ? raw : raw.slice(0, cut)).trim(), service, `${file}:${i + 1}`);
  });
  if (c.targets.length === 0 && c.problems.length === 0) {
    c.problems.push(`${file}: no targets (write one per line; "#" starts a comment)`);
  }
  return c.finish(file, {});
}

function fromJson(text: string, file: string): TargetList {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TargetError(jsonSyntaxMessage(text, file, err instanceof Error ? err.message : String(err)));
  }
  let where: JsonLines;
  try {
    where = scanJsonLines(text);
  } catch {
    where = { lines: new Map(), duplicateKeys: [] }; // cannot happen for valid JSON; lose lines, not the list
  }
  const doc = readListDocument(value, where, file);
  const c = new Collector();
  c.problems.push(...doc.problems);
  const origin = (line: number | undefined): string => (line === undefined ? file : `${file}:${line}`);
  for (const entry of doc.entries) c.add(entry.text, entry.service, origin(entry.line));
  const canary = doc.canary && c.parse(doc.canary.text, undefined, origin(doc.canary.line));
  return c.finish(file, {
    ...(canary === undefined ? {} : { canary }),
    ...(doc.name === undefined ? {} : { name: doc.name }),
    ...(doc.description === undefined ? {} : { description: doc.description }),
  });
}

/** `file:line:column: invalid JSON: reason`, the position taken from V8's message when it has one. */
function jsonSyntaxMessage(text: string, file: string, message: string): string {
  const reason = message
    .replace(/ in JSON at position \d+.*$/s, "")
    .replace(/ \(line \d+ column \d+\)/, "")
    .replace(/, .*is not valid JSON$/s, ""); // drop V8's quote of the text
  const lc = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lc) return `${file}:${lc[1]}:${lc[2]}: invalid JSON: ${reason}`;
  let offset: number | undefined;
  const pos = /at position (\d+)/.exec(message);
  if (pos) offset = Number(pos[1]);
  else if (/Unexpected end of JSON input/.test(message)) offset = text.length;
  else {
    // QUIRK: V8 omits the position for some errors ("Unexpected token ']', "[1,]" is not valid JSON").
    try {
      scanJsonLines(text);
    } catch (err) {
      if (err instanceof JsonScanError) offset = err.offset;
    }
  }
  if (offset === undefined) return `${file}: invalid JSON: ${reason}`;
  const { line, column } = lineColumn(text, offset);
  return `${file}:${line}:${column}: invalid JSON: ${reason}`;
}

/** Names of the bundled lists, sorted. */
export async function bundledListNames(): Promise<string[]> {
  try {
    const files = await readdir(BUNDLED_DIR);
    return files.filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** Loads the bundled list `name` (`targets/<name>.json`); each target's origin is `list:<name>`. */
export async function loadBundledList(name: string): Promise<TargetList> {
  const names = await bundledListNames();
  if (!names.includes(name)) {
    throw new TargetError(`unknown list ${JSON.stringify(name)} (available: ${names.join(", ") || "none"})`);
  }
  const text = await readFile(join(BUNDLED_DIR, `${name}.json`), "utf8");
  const list = parseTargetList(text, `targets/${name}.json`, "json");
  const origin = `list:${name}`;
  return {
    ...list,
    name: list.name ?? name,
    targets: list.targets.map((t) => ({ ...t, origin })),
    ...(list.canary === undefined ? {} : { canary: { ...list.canary, origin } }),
  };
}

/** Name, description, services and endpoint count of every bundled list. */
export async function listBundled(): Promise<BundledListInfo[]> {
  const out: BundledListInfo[] = [];
  for (const name of await bundledListNames()) {
    const list = await loadBundledList(name);
    const services = [...new Set(list.targets.map((t) => t.service))].sort();
    out.push({ name, description: list.description ?? "", services, endpoints: list.targets.length });
  }
  return out;
}
