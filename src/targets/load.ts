/**
 * Loading target lists: user files (JSON, text or Citizen Lab CSV) and the lists bundled in
 * `targets/`. Every invalid entry is reported with its file and line, all at once, in one
 * TargetError; a list with any error loads nothing, so a run never measures half of what was
 * asked.
 */
import { PACKAGE_ROOT } from "../base/package-info.js";
import { readFileSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { firstProblems, ProblemList, quote, readFileCapped, ReadFileError } from "../base/read-file.js";
import { basename, dirname, extname, join, sep } from "node:path";
import { LEGEND_FILE, isCitizenLabHeader, readCitizenLabRows, readLegend, rowSourceNote, urlToTargetText } from "./citizenlab.js";
import { TargetError } from "./errors.js";
import { JsonScanError, lineColumn, scanJsonLines, type JsonLines } from "./json-lines.js";
import { readListDocument, type ListSource } from "./list-format.js";
import { parseTarget } from "./parse.js";
import type { Target } from "./target.js";

export type { ListSource } from "./list-format.js";

/** What a loaded list gives the runner. */
export interface TargetList {
  targets: Target[];
  /** A target expected to be reachable everywhere, checked to tell "offline" from "blocked". */
  canary?: Target;
  name?: string;
  description?: string;
}

/** One endpoint with what the list says about it, for `reachprobe targets show`. */
export interface ListEndpoint {
  target: Target;
  /** What the endpoint is for ("web front", "client: data centre 2"). */
  role?: string;
  /** Where it was found: an entry of the list's `sources`, or a note. */
  source?: ListSource | { note: string };
}

/** A list with its endpoints' roles and sources (`targets` holds the same endpoints, in order). */
export interface TargetListDetails extends TargetList {
  endpoints: ListEndpoint[];
  /** Every source cited by the list or by the lists it includes, without repeats. */
  sources: ListSource[];
  /** Bundled lists it includes, in order. */
  include: string[];
}

/** A target file's format. */
export type ListFormat = "json" | "text" | "csv";

/** Options for loading target files. */
export interface LoadOptions {
  /**
   * Keep only Citizen Lab CSV rows with these category codes (case-insensitive). Codes are
   * checked against the category legend beside the CSV when there is one.
   */
  categories?: readonly string[];
}

/** Summary of one bundled list, for `reachprobe targets`. */
export interface BundledListInfo {
  name: string;
  description: string;
  services: string[];
  endpoints: number;
  /** Bundled lists it includes (empty for a list of its own endpoints). */
  include: string[];
}

/** Directory holding the bundled lists (`<package root>/targets/`). */
export const BUNDLED_DIR = join(PACKAGE_ROOT, "targets") + sep;

/**
 * Loads a target file: JSON, text, or a Citizen Lab test-list CSV (see detectFormat).
 * With `categories`, only the CSV rows of those categories are kept (an error for other formats).
 */
export async function loadTargetFile(path: string, options: LoadOptions = {}): Promise<TargetList> {
  return plain(await loadTargetFileDetails(path, options));
}

/** Like loadTargetFile, keeping each endpoint's role and source. */
export async function loadTargetFileDetails(path: string, options: LoadOptions = {}): Promise<TargetListDetails> {
  const text = await readTargetFile(path);
  const format = detectFormat(path, text);
  const categories = options.categories;
  if (categories !== undefined && categories.length > 0 && format !== "csv") {
    throw new TargetError(`--category filters Citizen Lab CSV files, and ${path} is a ${format === "json" ? "JSON" : "text"} list`);
  }
  const legend = format === "csv" && categories !== undefined && categories.length > 0 ? await readLegendBeside(path) : undefined;
  const details = parseDetailed(text, path, format, [], { ...options, ...(legend ? { legend } : {}) });
  if (format === "csv" && categories !== undefined && categories.length > 0 && details.targets.length === 0) {
    throw new TargetError(`${path}: no rows with category ${categories.join(" or ")} (it has ${firstProblems(csvCategories(text, path), 40, undefined, "code").join(", ")})`);
  }
  return details;
}

/**
 * Loads several target files as one list, in order; a target in more than one file is kept
 * where it first appears. `categories` filters the CSV files among them (the others load
 * whole); it is an error when none is a CSV, or when the filter leaves no target at all.
 */
export async function loadTargetFiles(paths: readonly string[], options: LoadOptions = {}): Promise<TargetList> {
  const categories = options.categories ?? [];
  const targets: Target[] = [];
  const seen = new Set<string>();
  let anyCsv = false;
  const messages = new Set<string>();
  const problems = new ProblemList();
  for (const path of paths) {
    const text = await readTargetFile(path);
    const format = detectFormat(path, text);
    anyCsv ||= format === "csv";
    const filter = format === "csv" && categories.length > 0;
    const legend = filter ? await readLegendBeside(path) : undefined;
    try {
      const list = parseDetailed(text, path, format, [], filter ? { categories, ...(legend ? { legend } : {}) } : {});
      for (const t of list.targets) if (!seen.has(t.input) && seen.add(t.input)) targets.push(t);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      if (!messages.has(err.message)) problems.addAll(err.problems);
      messages.add(err.message);
    }
  }
  if (messages.size > 0) throw new TargetError([...messages].join("\n"), problems.kept);
  if (categories.length > 0 && !anyCsv) {
    throw new TargetError(`--category filters Citizen Lab CSV files, and no --file is one (${paths.join(", ") || "none given"})`);
  }
  if (categories.length > 0 && targets.length === 0) {
    throw new TargetError(`no rows with category ${categories.join(" or ")} in ${paths.join(", ")}`);
  }
  return { targets };
}

/** The most a target file may hold: 100,000 targets take 2 to 5 MiB. */
export const MAX_TARGET_FILE_BYTES = 16 << 20;

async function readTargetFile(path: string): Promise<string> {
  try {
    return await readFileCapped(path, MAX_TARGET_FILE_BYTES);
  } catch (err) {
    throw new TargetError(`cannot read target file ${path}: ${err instanceof ReadFileError ? err.why : String(err)}`);
  }
}

/** The category legend beside a CSV (`00-LEGEND-new_category_codes.csv`), when there is one. */
async function readLegendBeside(csvPath: string): Promise<{ file: string; codes: Map<string, string> } | undefined> {
  const file = join(dirname(csvPath), LEGEND_FILE);
  if (basename(csvPath) === LEGEND_FILE) return undefined;
  let text: string;
  try {
    text = await readFileCapped(file, MAX_TARGET_FILE_BYTES);
  } catch {
    return undefined; // no legend: the filter is applied without checking the codes
  }
  const codes = readLegend(text, file);
  return codes === undefined ? undefined : { file, codes };
}

/**
 * Picks the format: by extension (`.json`; `.csv`; `.txt`/`.list` are text), else a first line
 * naming the `url` and `category_code` columns means a Citizen Lab CSV, else the first
 * non-space character (`{` or `[` means JSON).
 */
export function detectFormat(path: string, text: string): ListFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".csv") return "csv";
  if (ext === ".txt" || ext === ".list") return "text";
  const body = text.replace(/^\uFEFF/, "");
  if (isCitizenLabHeader(body.split(/\r?\n/, 1)[0] ?? "")) return "csv";
  const first = body.trimStart()[0];
  return first === "{" || first === "[" ? "json" : "text";
}

/**
 * Parses a list already read into memory; `file` names it in messages.
 *
 * Text format: one target per line; blank lines are ignored; a line whose first non-space
 * character is `#` is a comment, and whitespace followed by `#` starts a trailing comment.
 * A comment line `# service: NAME` sets the service of the targets after it (until the next
 * such line; `# service:` alone goes back to "(none)"). JSON format: see list-format.ts; an
 * `include` names bundled lists, read from `targets/`. CSV: see citizenlab.ts.
 */
export function parseTargetList(text: string, file: string, format: ListFormat, options: LoadOptions = {}): TargetList {
  return plain(parseDetailed(text, file, format, [], options));
}

interface ParseOptions extends LoadOptions {
  legend?: { file: string; codes: Map<string, string> };
}

function parseDetailed(text: string, file: string, format: ListFormat, including: string[], options: ParseOptions): TargetListDetails {
  const body = text.replace(/^\uFEFF/, "");
  if (format === "json") return fromJson(body, file, including);
  if (format === "csv") return fromCsv(body, file, options);
  return fromText(body, file);
}

/** Drops the details, so that the runner gets exactly a TargetList. */
function plain(d: TargetListDetails): TargetList {
  return {
    targets: d.targets,
    ...(d.canary === undefined ? {} : { canary: d.canary }),
    ...(d.name === undefined ? {} : { name: d.name }),
    ...(d.description === undefined ? {} : { description: d.description }),
  };
}

/** Collects parsed targets and problems, rejecting repeats of one canonical input. */
class Collector {
  readonly targets: Target[] = [];
  readonly endpoints: ListEndpoint[] = [];
  readonly problems = new ProblemList();
  private readonly firstSeen = new Map<string, string>();

  add(text: string, service: string | undefined, origin: string, about: Omit<ListEndpoint, "target"> = {}): void {
    const target = this.parse(text, service, origin);
    if (target !== undefined) this.addTarget(target, origin, about);
  }

  addTarget(target: Target, origin: string, about: Omit<ListEndpoint, "target"> = {}): void {
    const first = this.firstSeen.get(target.input);
    if (first !== undefined) {
      this.problems.add(`${origin}: duplicate target ${quote(target.input)} (first at ${first})`);
      return;
    }
    this.firstSeen.set(target.input, origin);
    this.targets.push(target);
    this.endpoints.push({ target, ...about });
  }

  parse(text: string, service: string | undefined, origin: string): Target | undefined {
    try {
      return parseTarget(text, service ?? "(none)", origin);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      this.problems.add(err.message);
      return undefined;
    }
  }

  finish(file: string, list: Omit<TargetListDetails, "targets" | "endpoints">): TargetListDetails {
    const n = this.problems.count;
    if (n > 0) {
      const head = `${file}: ${n} problem${n === 1 ? "" : "s"}, no targets loaded:`;
      throw new TargetError(`${head}\n  ${this.problems.lines().join("\n  ")}`, this.problems.kept);
    }
    return { ...list, targets: this.targets, endpoints: this.endpoints };
  }
}

function fromText(text: string, file: string): TargetListDetails {
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
  if (c.targets.length === 0 && c.problems.count === 0) {
    c.problems.add(`${file}: no targets (write one per line; "#" starts a comment)`);
  }
  return c.finish(file, { sources: [], include: [] });
}

function fromJson(text: string, file: string, including: string[]): TargetListDetails {
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
  c.problems.addAll(doc.problems);
  const origin = (line: number | undefined): string => (line === undefined ? file : `${file}:${line}`);
  const sources = new SourceSet();
  let includedCanary: Target | undefined;
  for (const inc of doc.include) {
    const included = loadIncluded(inc.name, origin(inc.line), including, c.problems);
    if (included === undefined) continue;
    includedCanary ??= included.canary;
    sources.addAll(included.sources);
    for (const e of included.endpoints) c.addTarget(e.target, e.target.origin ?? `list:${inc.name}`, about(e));
  }
  sources.addAll(doc.sources);
  for (const entry of doc.entries) {
    const source = entry.source === undefined ? undefined : typeof entry.source === "string" ? { note: entry.source } : doc.sources[entry.source];
    c.add(entry.text, entry.service, origin(entry.line), {
      ...(entry.role === undefined ? {} : { role: entry.role }),
      ...(source === undefined ? {} : { source }),
    });
  }
  const canary = (doc.canary && c.parse(doc.canary.text, undefined, origin(doc.canary.line))) ?? includedCanary;
  return c.finish(file, {
    sources: sources.list,
    include: doc.include.map((i) => i.name),
    ...(canary === undefined ? {} : { canary }),
    ...(doc.name === undefined ? {} : { name: doc.name }),
    ...(doc.description === undefined ? {} : { description: doc.description }),
  });
}

/** Identifies a source: two lists citing one page for different reasons keep both notes. */
export function sourceKey(s: ListSource): string {
  return `${s.title}\n${s.url}\n${s.note ?? ""}`;
}

function about(e: ListEndpoint): Omit<ListEndpoint, "target"> {
  return { ...(e.role === undefined ? {} : { role: e.role }), ...(e.source === undefined ? {} : { source: e.source }) };
}

/** Sources in order (included lists' first, then the list's own), each once. */
class SourceSet {
  readonly list: ListSource[] = [];
  private readonly keys = new Set<string>();
  add(s: ListSource): void {
    const key = sourceKey(s);
    if (!this.keys.has(key) && this.keys.add(key)) this.list.push(s);
  }
  addAll(list: readonly ListSource[]): void {
    for (const s of list) this.add(s);
  }
}

/** Reads the bundled list `name` for an `include`; its problems join the including list's. */
function loadIncluded(name: string, where: string, including: string[], problems: ProblemList): TargetListDetails | undefined {
  const names = bundledListNamesSync();
  if (!names.includes(name)) {
    problems.add(`${where}: include "${name}" is not a bundled list (available: ${names.join(", ") || "none"})`);
    return undefined;
  }
  if (including.includes(name)) {
    problems.add(`${where}: include "${name}" makes a cycle (${[...including, name].join(" -> ")})`);
    return undefined;
  }
  try {
    const text = readFileSync(join(BUNDLED_DIR, `${name}.json`), "utf8");
    return fromJson(text.replace(/^\uFEFF/, ""), `targets/${name}.json`, [...including, name]);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    problems.addAll(err.problems);
    return undefined;
  }
}

function fromCsv(text: string, file: string, options: ParseOptions): TargetListDetails {
  const { rows, problems } = readCitizenLabRows(text, file);
  const c = new Collector();
  c.problems.addAll(problems);
  const wanted = options.categories === undefined || options.categories.length === 0 ? undefined : new Set(options.categories.map((x) => x.toUpperCase()));
  if (wanted !== undefined && options.legend !== undefined) {
    const unknown = [...wanted].filter((code) => !options.legend?.codes.has(code));
    if (unknown.length > 0) {
      const valid = [...options.legend.codes.keys()].sort().join(", ");
      throw new TargetError(
        `--category: unknown category code${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")} (valid codes, from ${options.legend.file}: ${valid})`,
      );
    }
  }
  for (const row of rows) {
    c.add(urlToTargetText(row.url), row.categoryCode, `${file}:${row.line}`, {
      ...(row.categoryDescription === "" ? {} : { role: row.categoryDescription }),
      source: { note: rowSourceNote(row, basename(file)) },
    });
  }
  if (rows.length === 0 && c.problems.count === 0) c.problems.add(`${file}: no rows after the header`);
  // Every row is checked (and duplicates found) before filtering, so a broken file is
  // reported whatever the filter keeps.
  const all = c.finish(file, { sources: [], include: [] });
  if (wanted === undefined) return all;
  const endpoints = all.endpoints.filter((e) => wanted.has(e.target.service));
  return { ...all, endpoints, targets: endpoints.map((e) => e.target) };
}

/** The category codes used in a CSV, sorted, for messages. */
function csvCategories(text: string, file: string): string[] {
  return [...new Set(readCitizenLabRows(text, file).rows.map((r) => r.categoryCode))].sort();
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
  return bundledListNamesSync();
}

function bundledListNamesSync(): string[] {
  try {
    return readdirSync(BUNDLED_DIR)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** Loads the bundled list `name` (`targets/<name>.json`); each target's origin is `list:<name>`. */
export async function loadBundledList(name: string): Promise<TargetList> {
  return plain(await loadBundledListDetails(name));
}

/** Like loadBundledList, keeping each endpoint's role and source, and the list's sources. */
export async function loadBundledListDetails(name: string): Promise<TargetListDetails> {
  const names = await bundledListNames();
  if (!names.includes(name)) {
    throw new TargetError(`unknown list ${JSON.stringify(name)} (available: ${names.join(", ") || "none"})`);
  }
  const text = await readFile(join(BUNDLED_DIR, `${name}.json`), "utf8");
  const list = fromJson(text.replace(/^\uFEFF/, ""), `targets/${name}.json`, [name]);
  const origin = `list:${name}`;
  const targets = list.targets.map((t) => ({ ...t, origin }));
  return {
    ...list,
    name: list.name ?? name,
    targets,
    endpoints: list.endpoints.map((e, i) => ({ ...e, target: targets[i] ?? e.target })),
    ...(list.canary === undefined ? {} : { canary: { ...list.canary, origin } }),
  };
}

/** Name, description, services and endpoint count of every bundled list. */
export async function listBundled(): Promise<BundledListInfo[]> {
  const out: BundledListInfo[] = [];
  for (const name of await bundledListNames()) {
    const list = await loadBundledListDetails(name);
    const services = [...new Set(list.targets.map((t) => t.service))].sort();
    out.push({ name, description: list.description ?? "", services, endpoints: list.targets.length, include: list.include });
  }
  return out;
}
