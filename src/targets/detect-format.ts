/** Telling a target file's format (JSON, text or Citizen Lab CSV) from its name and first line. */
import { extname } from "node:path";
import { isCitizenLabHeader } from "./citizenlab.js";

/** A target file's format. */
export type ListFormat = "json" | "text" | "csv";

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

