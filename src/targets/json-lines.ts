/**
 * Where things are in a JSON text: a small strict JSON scanner that records the line of every
 * value and object member (by JSON pointer), so that errors about a list entry can name its
 * line, and that finds the offset of a syntax error when the SyntaxError message lacks one.
 */

import { UsageError } from "../base/errors.js";

/** A JSON syntax error at a character offset of the scanned text. */
export class JsonScanError extends UsageError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message, "E_JSON");
  }
}

/** Lines (1-based) by JSON pointer: a member's pointer gives the line of its key. */
export interface JsonLines {
  lines: Map<string, number>;
  /** Members repeated within one object (JSON.parse silently keeps the last). */
  duplicateKeys: { pointer: string; line: number; firstLine: number }[];
}

/** Converts a character offset into a 1-based line and column. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf("\n");
  return { line: before.split("\n").length, column: offset - lastBreak };
}

/** Scans valid-or-not JSON text; throws JsonScanError at the first syntax error. */
export function scanJsonLines(text: string): JsonLines {
  const scanner = new Scanner(text);
  scanner.value("");
  scanner.skipSpace();
  if (scanner.pos < text.length) throw new JsonScanError("unexpected text after the JSON value", scanner.pos);
  return { lines: scanner.lines, duplicateKeys: scanner.duplicates };
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

class Scanner {
  pos = 0;
  readonly lines = new Map<string, number>();
  readonly duplicates: JsonLines["duplicateKeys"] = [];
  private line = 1;

  constructor(private readonly text: string) {}

  skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === "\n") {
        this.line++;
      } else if (c !== " " && c !== "\t" && c !== "\r") {
        return;
      }
      this.pos++;
    }
  }

  private fail(what: string): never {
    const found = this.text[this.pos];
    throw new JsonScanError(found === undefined ? `unexpected end of input, ${what}` : what, this.pos);
  }

  value(pointer: string): void {
    this.skipSpace();
    this.lines.set(pointer, this.line);
    const c = this.text[this.pos];
    if (c === "{") return this.object(pointer);
    if (c === "[") return this.array(pointer);
    if (c === '"') return void this.string();
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    num.lastIndex = this.pos;
    if (num.exec(this.text)) {
      this.pos = num.lastIndex;
      return;
    }
    this.fail("expected a value");
  }

  private object(pointer: string): void {
    this.pos++;
    const seen = new Map<string, number>();
    this.skipSpace();
    if (this.text[this.pos] === "}") return void this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail("expected a double-quoted property name");
      const keyLine = this.line;
      const key = this.string();
      const member = `${pointer}/${pointerSegment(key)}`;
      const first = seen.get(key);
      if (first !== undefined) this.duplicates.push({ pointer: member, line: keyLine, firstLine: first });
      seen.set(key, keyLine);
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("expected ':' after a property name");
      this.pos++;
      this.value(member);
      this.lines.set(member, keyLine);
      this.skipSpace();
      const c = this.text[this.pos];
      if (c !== "}" && c !== ",") this.fail("expected ',' or '}' after a property value");
      this.pos++;
      if (c === "}") return;
    }
  }

  private array(pointer: string): void {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === "]") return void this.pos++;
    for (let i = 0; ; i++) {
      this.value(`${pointer}/${i}`);
      this.skipSpace();
      const c = this.text[this.pos];
      if (c !== "]" && c !== ",") this.fail("expected ',' or ']' after an array element");
      this.pos++;
      if (c === "]") return;
    }
  }

  /** Scans a string literal at `pos` and returns its decoded value. */
  private string(): string {
    const start = this.pos++;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail("unterminated string");
      if (c === '"') break;
      if (c < " ") this.fail("control character in a string (escape it)");
      if (c === "\\") {
        const e = this.text[this.pos + 1] ?? "";
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail("bad \\u escape");
          this.pos += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e) || e === "") this.fail("bad escape in a string");
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }
}
