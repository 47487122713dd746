/**
 * The JSON list format (see list-format.ts for its fields): its targets, canary and sources, with
 * the bundled lists it names in `include` read from `targets/`.
 */
import { basename } from "node:path";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProblemList } from "../base/read-file.js";
import { BUNDLED_DIR, bundledListNamesSync } from "./bundled-dir.js";
import { Collector } from "./collector.js";
import { TargetError } from "./errors.js";
import { JsonScanError, lineColumn, scanJsonLines, type JsonLines } from "./json-lines.js";
import { readListDocument, type ListSource } from "./list-format.js";
import type { Target } from "./target.js";
import type { ListEndpoint, TargetListDetails } from "./target-list.js";

/**
 * Parses a JSON list (BOM already removed); `file` names it in messages, `including` holds the
 * bundled lists being read around it (to find cycles).
 */
export function parseJsonList(text: string, file: string, including: string[]): TargetListDetails {
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
  const c = new Collector(basename(file));
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
    return parseJsonList(text.replace(/^\uFEFF/, ""), `targets/${name}.json`, [...including, name]);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    problems.addAll(err.problems);
    return undefined;
  }
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
