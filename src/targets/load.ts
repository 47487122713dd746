/**
 * Loading target lists: user files (JSON, text or Citizen Lab CSV) and the lists bundled in
 * `targets/`. Every invalid entry is reported with its file and line, all at once, in one
 * TargetError; a list with any error loads nothing, so a run never measures half of what was
 * asked. The formats are parsed in text-list.ts, json-list.ts and csv-list.ts; this file reads
 * the files and is the one import for callers.
 */
import { basename, dirname, join } from "node:path";
import { firstProblems, ProblemList, readFileCapped, ReadFileError } from "../base/read-file.js";
import { LEGEND_FILE, readLegend } from "./citizenlab.js";
import { csvCategories, parseCsvList, type CsvOptions } from "./csv-list.js";
import { detectFormat, type ListFormat } from "./detect-format.js";
import { TargetError } from "./errors.js";
import { parseJsonList } from "./json-list.js";
import type { Target } from "./target.js";
import { plain, type LoadOptions, type TargetList, type TargetListDetails } from "./target-list.js";
import { parseTextList } from "./text-list.js";

export type { ListSource } from "./list-format.js";
export type { BundledListInfo, ListEndpoint, LoadOptions, TargetList, TargetListDetails } from "./target-list.js";
export { detectFormat, type ListFormat } from "./detect-format.js";
export { sourceKey } from "./json-list.js";
export { BUNDLED_DIR } from "./bundled-dir.js";
export { bundledListNames, listBundled, loadBundledList, loadBundledListDetails } from "./bundled.js";

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
  // The first JSON list that declares a canary gives it, as a bundled list does.
  let canary: Target | undefined;
  for (const path of paths) {
    const text = await readTargetFile(path);
    const format = detectFormat(path, text);
    anyCsv ||= format === "csv";
    const filter = format === "csv" && categories.length > 0;
    const legend = filter ? await readLegendBeside(path) : undefined;
    try {
      const list = parseDetailed(text, path, format, [], filter ? { categories, ...(legend ? { legend } : {}) } : {});
      for (const t of list.targets) if (!seen.has(t.input) && seen.add(t.input)) targets.push(t);
      canary ??= list.canary;
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
  return { targets, ...(canary ? { canary } : {}) };
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
 * Parses a list already read into memory; `file` names it in messages. The formats: text-list.ts,
 * json-list.ts (fields in list-format.ts; an `include` names bundled lists, read from `targets/`)
 * and csv-list.ts (rows in citizenlab.ts).
 */
export function parseTargetList(text: string, file: string, format: ListFormat, options: LoadOptions = {}): TargetList {
  return plain(parseDetailed(text, file, format, [], options));
}

/** Parses in `format`, keeping roles and sources; the BOM is dropped here for every format. */
function parseDetailed(text: string, file: string, format: ListFormat, including: string[], options: CsvOptions): TargetListDetails {
  const body = text.replace(/^\uFEFF/, "");
  if (format === "json") return parseJsonList(body, file, including);
  if (format === "csv") return parseCsvList(body, file, options);
  return parseTextList(body, file);
}
