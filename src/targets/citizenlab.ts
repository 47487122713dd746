/**
 * Citizen Lab test lists (github.com/citizenlab/test-lists, the lists OONI Probe measures):
 * CSV files with the header `url,category_code,category_description,date_added,source,notes`,
 * one URL a row. This file reads the CSV text into rows; load.ts turns rows into targets.
 *
 * Choices, each tested:
 * - A row's service is its `category_code` (`NEWS`, `COMT`...), so a run summarises by
 *   category: "NEWS: 12 of 579 endpoints blocked". The category description is the row's role.
 * - A fragment (`#...`) is cut from the URL: it is never sent to a server, and real lists carry
 *   some (`https://www.ted.com/#/`, single-page-app routes). The strict target parser refuses
 *   fragments in hand-written lists; here the row is kept, without its fragment.
 * - A non-ASCII host name is converted to its `xn--` (punycode) form.
 * - Every other invalid row is an error naming `file:line`: nothing is dropped silently.
 */
import { UsageError } from "../base/errors.js";
import { quote } from "../base/read-file.js";
import { domainToASCII } from "node:url";
import { CsvError, parseCsv, type CsvRow } from "../base/csv.js";

/** Columns a file must have to be read as a Citizen Lab test list. */
export const REQUIRED_COLUMNS = ["url", "category_code"] as const;

/** The category legend that sits beside the lists in the test-lists repository. */
export const LEGEND_FILE = "00-LEGEND-new_category_codes.csv";

/** One data row of a test list, by column name. */
export interface CitizenLabRow {
  line: number;
  url: string;
  categoryCode: string;
  categoryDescription: string;
  dateAdded: string;
  source: string;
  notes: string;
}

/** Rows read from a test list, and every problem found (each `file:line: ...`). */
export interface CitizenLabRows {
  rows: CitizenLabRow[];
  problems: string[];
}

/** The file's CSV records; a syntax error is a problem naming `file:line`, and ends the read there. */
function readCsv(text: string, file: string): { records: CsvRow[]; problems: string[] } {
  try {
    return { records: parseCsv(text), problems: [] };
  } catch (err) {
    if (err instanceof CsvError) return { records: [], problems: [`${file}:${err.line}: ${err.reason}`] };
    throw err;
  }
}

/** True when `firstLine` is a test-list header: it names the `url` and `category_code` columns. */
export function isCitizenLabHeader(firstLine: string): boolean {
  const names = firstLine.replace(/^\uFEFF/, "").split(",").map((n) => n.trim().toLowerCase());
  return REQUIRED_COLUMNS.every((c) => names.includes(c));
}

/** Reads a test list's rows by their header; a row with the wrong number of fields is a problem. */
export function readCitizenLabRows(text: string, file: string): CitizenLabRows {
  const { records, problems } = readCsv(text, file);
  const header = records[0];
  if (header === undefined) {
    return { rows: [], problems: [...problems, `${file}: empty file (a Citizen Lab test list starts with the header line url,category_code,...)`] };
  }
  const names = header.fields.map((n) => n.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    return {
      rows: [],
      problems: [
        ...problems,
        `${file}:${header.line}: not a Citizen Lab test list: the header has no ${missing.map((m) => `"${m}"`).join(" or ")} column ` +
          `(expected url,category_code,category_description,date_added,source,notes; found ${quote(header.fields.join(","))})`,
      ],
    };
  }
  const col = (name: string): number => names.indexOf(name);
  const at = (r: CsvRow, name: string): string => (col(name) < 0 ? "" : (r.fields[col(name)] ?? "").trim());
  const rows: CitizenLabRow[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.fields.length) {
      problems.push(
        `${file}:${r.line}: has ${r.fields.length} field${r.fields.length === 1 ? "" : "s"}, the header has ${header.fields.length} ` +
          `(quote a field that contains a comma)`,
      );
      continue;
    }
    const row: CitizenLabRow = {
      line: r.line,
      url: at(r, "url"),
      categoryCode: at(r, "category_code").toUpperCase(),
      categoryDescription: at(r, "category_description"),
      dateAdded: at(r, "date_added"),
      source: at(r, "source"),
      notes: at(r, "notes"),
    };
    if (row.categoryCode === "") {
      problems.push(`${file}:${r.line}: ${quote(row.url)} has no category_code (every test-list row has one, e.g. NEWS)`);
      continue;
    }
    rows.push(row);
  }
  return { rows, problems };
}

/**
 * The text of a row's URL as a target: without its fragment, and with a non-ASCII host in
 * its punycode form. Anything else wrong is left for the target parser to report.
 */
export function urlToTargetText(url: string): string {
  const hash = url.indexOf("#");
  const noFragment = hash < 0 ? url : url.slice(0, hash);
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?]*)(.*)$/is.exec(noFragment);
  if (!m) return noFragment;
  const [, scheme = "", authority = "", rest = ""] = m;
  if (!/[^\u0000-\u007f]/u.test(authority) || authority.includes("@") || authority.startsWith("[")) return noFragment;
  const colon = authority.lastIndexOf(":");
  const host = colon < 0 ? authority : authority.slice(0, colon);
  const port = colon < 0 ? "" : authority.slice(colon);
  const ascii = domainToASCII(host);
  return ascii === "" ? noFragment : `${scheme}${ascii}${port}${rest}`;
}

/**
 * Parses a `--category` value: comma-separated codes, case-insensitive, returned upper-case.
 * Throws an Error naming the bad part (the CLI turns it into a usage error).
 */
export function parseCategoryCodes(value: string): string[] {
  const codes = value.split(",").map((c) => c.trim().toUpperCase());
  const bad = codes.find((c) => !/^[A-Z0-9_-]+$/.test(c));
  if (bad !== undefined) {
    throw new UsageError(`--category takes category codes separated by commas (e.g. NEWS,HUMR), not ${quote(value)}`);
  }
  return [...new Set(codes)];
}

/** Reads a legend's codes (`New Code` column) with their descriptions; undefined when it has none. */
export function readLegend(text: string, file: string): Map<string, string> | undefined {
  const { records } = readCsv(text, file);
  const header = records[0];
  if (header === undefined) return undefined;
  const names = header.fields.map((n) => n.trim().toLowerCase());
  const code = names.indexOf("new code");
  const desc = names.indexOf("category description");
  if (code < 0) return undefined;
  const legend = new Map<string, string>();
  for (const r of records.slice(1)) {
    const c = (r.fields[code] ?? "").trim().toUpperCase();
    if (c !== "") legend.set(c, desc < 0 ? "" : (r.fields[desc] ?? "").trim());
  }
  return legend.size === 0 ? undefined : legend;
}

/** A note for `targets show`: where a row came from, in the list's own words. */
export function rowSourceNote(row: CitizenLabRow, file: string): string {
  const parts = [`Citizen Lab test list ${file}:${row.line}`];
  const added = [row.source && `added by ${row.source}`, row.dateAdded && `on ${row.dateAdded}`].filter(Boolean).join(" ");
  if (added !== "") parts.push(added);
  if (row.notes !== "") parts.push(`notes: ${row.notes}`);
  return parts.join(", ");
}
