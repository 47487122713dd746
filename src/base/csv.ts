/**
 * The one CSV reader (RFC 4180, through csv-parse): quoted fields, doubled quotes inside them,
 * CRLF or LF line ends (mixed too), line breaks inside quoted fields, a leading BOM, blank lines
 * skipped. Each row keeps the line it starts on, for error messages; a syntax error stops the
 * read with a `CsvError` naming the line of the record it is in. Pure: it parses a string that
 * the caller has read.
 */
import { createRequire } from "node:module";
import type { Options } from "csv-parse/sync";
import { UsageError } from "./errors.js";

type Parse = typeof import("csv-parse/sync").parse;
let parse: Parse | null = null;

/**
 * csv-parse, loaded at the first CSV read: a run of the bundled fingerprints (dist's
 * precompiled copy, fingerprints/load.ts) and a plain list of URLs reads none, and loading it
 * cost every start 8-12 ms of CPU. Its CommonJS build, required synchronously.
 */
function csvParse(): Parse {
  parse ??= (createRequire(import.meta.url)("csv-parse/sync") as { parse: Parse }).parse;
  return parse;
}

/** One CSV record and the 1-based line of the text where it starts. */
export interface CsvRow {
  line: number;
  fields: string[];
}

/** A CSV syntax error; `line` is 1-based, `code` is `E_CSV`, `reason` is the message without the line. */
export class CsvError extends UsageError {
  readonly line: number;
  readonly reason: string;
  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`, "E_CSV");
    this.line = line;
    this.reason = reason;
  }
}

interface ParsedRecord {
  record: string[];
  info: { bytes: number };
}

const REASONS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field is never closed (a '\"' is missing)",
  CSV_INVALID_CLOSING_QUOTE: 'unexpected text after a closing quote (a quote inside a field is written "")',
  INVALID_OPENING_QUOTE: 'a quote inside a field that does not start with one (quote the whole field, and write the quote as "")',
};

/**
 * Line numbers from byte offsets. QUIRK: csv-parse's own line count (`info.lines`) counts a CRLF
 * inside a quoted field as two lines (seen: a record on lines 2-4 reported as ending on line 6),
 * so lines are counted here from where each record ends (`info.bytes`, offsets into the UTF-8 text).
 */
class LineCounter {
  private pos = 0;
  private line = 1;
  constructor(private readonly buf: Buffer) {}
  /** The line of the next record: the first after `pos` that is not blank. */
  next(): number {
    while (this.pos < this.buf.length && (this.buf[this.pos] === 0x0a || this.buf[this.pos] === 0x0d)) {
      if (this.buf[this.pos] === 0x0a) this.line++;
      this.pos++;
    }
    return this.line;
  }
  /** Moves past a record that ends at byte `end` (its delimiter included). */
  advance(end: number): void {
    for (; this.pos < end; this.pos++) if (this.buf[this.pos] === 0x0a) this.line++;
  }
}

/** Splits CSV text into rows of fields; throws a `CsvError` naming the line of a syntax error. */
export function parseCsv(text: string): CsvRow[] {
  const buf = Buffer.from(text.replace(/^\uFEFF/, ""), "utf8");
  const lines = new LineCounter(buf);
  const rows: CsvRow[] = [];
  try {
    csvParse()(buf, {
      record_delimiter: ["\r\n", "\n"],
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      on_record: (r: ParsedRecord) => {
        rows.push({ line: lines.next(), fields: r.record });
        lines.advance(r.info.bytes);
        return null;
      },
    } as unknown as Options);
    return rows;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    throw new CsvError(lines.next(), REASONS[code] ?? (err as Error).message);
  }
}
