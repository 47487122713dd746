/**
 * The JSON target-list format (also the format of the bundled lists in `targets/`):
 *
 * ```json
 * { "name": "wechat", "description": "...",
 *   "sources": [{ "title": "...", "url": "https://...", "note": "..." }],
 *   "canary": "https://example.org/",
 *   "endpoints": [{ "target": "https://weixin.qq.com/", "service": "WeChat",
 *                   "role": "web front", "source": 0 }] }
 * ```
 *
 * Only `endpoints` is required, unless the list has `include`: the names of bundled lists
 * whose endpoints come first (so `ru-2017` is the lists of the services Russia blocked, not a
 * copy of them). An endpoint is an object (only `target` required; `source` is an index into
 * `sources` or a free-text note) or a plain target string. A top-level array is read as the
 * endpoints alone. Unknown keys are errors, so typos never pass silently.
 */
import { quote } from "../base/read-file.js";
import { pointerSegment, type JsonLines } from "./json-lines.js";

/** One endpoint read from a list, before target parsing. */
export interface ListEntry {
  text: string;
  service: string | undefined;
  /** Line of the entry (of its `target` member when there is one). */
  line: number | undefined;
  /** What the endpoint is for ("web front", "client long connection"). */
  role?: string;
  /** Index into the list's `sources`, or a free-text note. */
  source?: number | string;
}

/** One entry of a list's `sources`: where its endpoints were found. */
export interface ListSource {
  title: string;
  url: string;
  note?: string;
}

/** A list document after shape checks; `problems` lists every shape error found. */
export interface ListDocument {
  name?: string;
  description?: string;
  canary?: { text: string; line: number | undefined };
  /** Same length and order as the document's `sources` (an invalid one is also a problem). */
  sources: ListSource[];
  /** Bundled lists named by `include`, in order. */
  include: { name: string; line: number | undefined }[];
  entries: ListEntry[];
  problems: string[];
}

const LIST_KEYS = ["name", "description", "sources", "canary", "include", "endpoints"];
const SOURCE_KEYS = ["title", "url", "note"];
const ENDPOINT_KEYS = ["target", "service", "role", "source"];

/** Checks the shape of a parsed list document, collecting every problem with its line. */
export function readListDocument(value: unknown, where: JsonLines, file: string): ListDocument {
  const doc: ListDocument = { sources: [], include: [], entries: [], problems: [] };
  const at = (pointer: string): string => {
    const line = where.lines.get(pointer);
    return line === undefined ? file : `${file}:${line}`;
  };
  const problem = (pointer: string, text: string): void => void doc.problems.push(`${at(pointer)}: ${text}`);
  for (const d of where.duplicateKeys) {
    doc.problems.push(`${file}:${d.line}: key "${lastSegment(d.pointer)}" repeats (first at line ${d.firstLine})`);
  }

  if (Array.isArray(value)) {
    readEndpoints(value, "", 0, doc, where, problem);
    return doc;
  }
  if (!isObject(value)) {
    problem("", `a target list must be a JSON object or array, not ${typeName(value)}`);
    return doc;
  }
  unknownKeys(value, "", LIST_KEYS, "the list", problem);
  for (const key of ["name", "description", "canary"] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== "string" || v.trim() === "") {
      problem(`/${key}`, mustBe(`"${key}"`, "a non-empty string", v));
    } else if (key === "canary") {
      doc.canary = { text: v, line: where.lines.get("/canary") };
    } else {
      doc[key] = v;
    }
  }
  const sources = value.sources;
  if (sources !== undefined) {
    if (!Array.isArray(sources)) problem("/sources", mustBe('"sources"', "an array", sources));
    else doc.sources = readSources(sources, problem);
  }
  const include = value.include;
  if (include !== undefined) readInclude(include, doc, where, problem);
  const endpoints = value.endpoints;
  if (endpoints === undefined) {
    if (include === undefined) problem("", 'missing "endpoints" (the list of targets to measure)');
  } else if (!Array.isArray(endpoints)) {
    problem("/endpoints", mustBe('"endpoints"', "an array", endpoints));
  } else {
    readEndpoints(endpoints, "/endpoints", doc.sources.length, doc, where, problem);
  }
  return doc;
}

type Problem = (pointer: string, text: string) => void;

/** A list name as `include` may give it: a bundled list's file name without `.json`. */
const LIST_NAME = /^[a-z0-9][a-z0-9._-]*$/;

function readInclude(include: unknown, doc: ListDocument, where: JsonLines, problem: Problem): void {
  if (!Array.isArray(include) || include.length === 0) {
    problem("/include", mustBe('"include"', "a non-empty array of list names", include));
    return;
  }
  include.forEach((name, i) => {
    const p = `/include/${i}`;
    if (typeof name !== "string" || !LIST_NAME.test(name)) {
      problem(p, `include[${i}] must be the name of a bundled list (such as "telegram"), not ${quote(name)}`);
    } else if (doc.include.some((d) => d.name === name)) {
      problem(p, `include[${i}] repeats "${name}"`);
    } else {
      doc.include.push({ name, line: where.lines.get(p) });
    }
  });
}

function readSources(sources: unknown[], problem: Problem): ListSource[] {
  return sources.map((s, i) => {
    const p = `/sources/${i}`;
    const label = `sources[${i}]`;
    if (!isObject(s)) {
      problem(p, mustBe(label, 'an object with "title" and "url"', s));
      return { title: "", url: "" };
    }
    unknownKeys(s, p, SOURCE_KEYS, label, problem);
    for (const key of ["title", "url"]) {
      if (typeof s[key] !== "string" || s[key] === "") {
        problem(s[key] === undefined ? p : `${p}/${key}`, mustBe(`${label}.${key}`, "a non-empty string", s[key]));
      }
    }
    if (typeof s.url === "string" && s.url !== "" && !/^https?:\/\/[^\s/]+/.test(s.url)) {
      problem(`${p}/url`, `${label}.url must be an http(s) URL`);
    }
    if (s.note !== undefined && typeof s.note !== "string") {
      problem(`${p}/note`, mustBe(`${label}.note`, "a string", s.note));
    }
    const source: ListSource = { title: String(s.title ?? ""), url: String(s.url ?? "") };
    if (typeof s.note === "string") source.note = s.note;
    return source;
  });
}

function readEndpoints(
  endpoints: unknown[],
  base: string,
  sourceCount: number,
  doc: ListDocument,
  where: JsonLines,
  problem: Problem,
): void {
  if (endpoints.length === 0) problem(base, "the list has no endpoints");
  endpoints.forEach((e, i) => {
    const p = `${base}/${i}`;
    const label = `endpoints[${i}]`;
    if (typeof e === "string") {
      doc.entries.push({ text: e, service: undefined, line: where.lines.get(p) });
      return;
    }
    if (!isObject(e)) return problem(p, mustBe(label, "a target string or an object", e));
    unknownKeys(e, p, ENDPOINT_KEYS, label, problem);
    if (typeof e.target !== "string") {
      problem(e.target === undefined ? p : `${p}/target`, mustBe(`${label}.target`, "a string", e.target));
    }
    for (const key of ["service", "role"]) {
      const v = e[key];
      if (v !== undefined && (typeof v !== "string" || v.trim() === "")) {
        problem(`${p}/${key}`, mustBe(`${label}.${key}`, "a non-empty string", v));
      }
    }
    const src = e.source;
    const srcOk =
      src === undefined ||
      (typeof src === "string" && src.trim() !== "") ||
      (typeof src === "number" && Number.isInteger(src) && src >= 0 && src < sourceCount);
    if (!srcOk) {
      const range = sourceCount === 0 ? "there are no sources" : `0 to ${sourceCount - 1}`;
      problem(`${p}/source`, `${label}.source must be an index into "sources" (${range}) or a note, not ${quote(src)}`);
    }
    // Parse the target even when other fields are wrong, so its own problems show too.
    if (typeof e.target === "string") {
      const service = typeof e.service === "string" ? e.service : undefined;
      const entry: ListEntry = { text: e.target, service, line: where.lines.get(`${p}/target`) ?? where.lines.get(p) };
      if (typeof e.role === "string") entry.role = e.role;
      if (srcOk && src !== undefined) entry.source = src as number | string;
      doc.entries.push(entry);
    }
  });
}

function unknownKeys(obj: Record<string, unknown>, pointer: string, allowed: string[], label: string, problem: Problem): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      problem(`${pointer}/${pointerSegment(key)}`, `unknown key "${key}" in ${label} (allowed: ${allowed.join(", ")})`);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function mustBe(label: string, what: string, v: unknown): string {
  return v === undefined ? `${label} is missing (${what})` : `${label} must be ${what}, not ${typeName(v)}`;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (v === "" || (typeof v === "string" && v.trim() === "")) return "an empty string";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}

function lastSegment(pointer: string): string {
  return (pointer.split("/").pop() ?? "").replace(/~1/g, "/").replace(/~0/g, "~");
}
