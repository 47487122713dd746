/** A Citizen Lab test-list CSV as a target list (the rows are read by citizenlab.ts), with its category filter. */
import { basename } from "node:path";
import { readCitizenLabRows, rowSourceNote, urlToTargetText } from "./citizenlab.js";
import { Collector } from "./collector.js";
import { TargetError } from "./errors.js";
import type { LoadOptions, TargetListDetails } from "./target-list.js";

/** Options for a CSV: the category filter, and the legend beside the file to check its codes against. */
export interface CsvOptions extends LoadOptions {
  legend?: { file: string; codes: Map<string, string> };
}

/** Parses a Citizen Lab CSV (BOM already removed); `file` names it in messages. */
export function parseCsvList(text: string, file: string, options: CsvOptions): TargetListDetails {
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
export function csvCategories(text: string, file: string): string[] {
  return [...new Set(readCitizenLabRows(text, file).rows.map((r) => r.categoryCode))].sort();
}
