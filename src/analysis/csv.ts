/**
 * A small RFC 4180 CSV parser: quoted fields, doubled quotes inside them, CRLF or LF line ends,
 * line breaks inside quoted fields. Each row keeps the line it starts on, for error messages.
 * Pure: it parses a string that the caller has read.
 */

/** One CSV record and the 1-based line of the text where it starts. */
export interface CsvRow {
  line: number;
  fields: string[];
}

/** A CSV syntax error; `line` is 1-based, `code` is `E_CSV`. */
export class CsvError extends Error {
  readonly code = "E_CSV";
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "CsvError";
    this.line = line;
  }
}

/**
 * Splits CSV text into rows of fields. Blank lines are skipped, a leading BOM is dropped, and a
 * quote that opens a field must close it (an unterminated quote or text after a closing quote
 * throws a `CsvError` naming the line). A quote in the middle of an unquoted field is kept as
 * text, as most writers and readers do.
 */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const n = s.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const rowLine = line;
    const fields: string[] = [];
    let endOfRow = false;
    while (!endOfRow) {
      let field = "";
      if (s[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new CsvError(quoteLine, "a quoted field is never closed (missing \")");
          const c = s[i];
          if (c === '"') {
            if (s[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          i++;
        }
        const next = s[i];
        if (i < n && next !== "," && next !== "\n" && !(next === "\r" && s[i + 1] === "\n")) {
          throw new CsvError(line, `unexpected text after a closing quote: ${JSON.stringify(s.slice(i, i + 20))}`);
        }
      } else {
        let j = i;
        while (j < n && s[j] !== "," && s[j] !== "\n" && !(s[j] === "\r" && s[j + 1] === "\n")) j++;
        field = s.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (i >= n) endOfRow = true;
      else if (s[i] === ",") i++;
      else {
        i += s[i] === "\r" ? 2 : 1;
        line++;
        endOfRow = true;
      }
    }
    // A line with nothing on it is not a record (RFC 4180 leaves it undefined; skipping is kind).
    if (!(fields.length === 1 && fields[0] === "")) rows.push({ line: rowLine, fields });
  }
  return rows;
}
