/** The one CSV reader (src/base/csv.ts), on the shapes the formats reachprobe reads take. */
import { describe, expect, test } from "vitest";
import { CsvError, parseCsv } from "../../src/base/csv.js";

describe("parseCsv", () => {
  test("plain rows, with the line each starts on", () => {
    expect(parseCsv("a,b,c\n1,2,3\n")).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "2", "3"] },
    ]);
  });

  const cases: Array<[string, string, string[][]]> = [
    ["quoted field with a comma", 'x,"a,b",y', [["x", "a,b", "y"]]],
    ["doubled quotes", '"say ""hi""",2', [['say "hi"', "2"]]],
    ["empty quoted field", '"",b', [["", "b"]]],
    ["empty fields", ",,", [["", "", ""]]],
    ["trailing comma", "a,b,", [["a", "b", ""]]],
    ["CRLF line ends", "a,b\r\nc,d\r\n", [["a", "b"], ["c", "d"]]],
    ["no final line break", "a,b\nc,d", [["a", "b"], ["c", "d"]]],
    ["CRLF and LF kept inside quotes", '"one\r\ntwo\nthree",x', [["one\r\ntwo\nthree", "x"]]],
    ["a lone CR is text", "a\rb,c", [["a\rb", "c"]]],
    ["blank lines are skipped", "a\n\n\nb\n", [["a"], ["b"]]],
    ["leading BOM dropped", "\ufeffname,x", [["name", "x"]]],
    ["spaces are kept", " a , b ", [[" a ", " b "]]],
    ["non-ASCII text", "Доступ,ограничен", [["Доступ", "ограничен"]]],
  ];
  test.each(cases)("%s", (_label, text, want) => {
    expect(parseCsv(text).map((r) => r.fields)).toEqual(want);
  });

  test("line numbers count the line breaks inside quoted fields", () => {
    const rows = parseCsv('h1,h2\r\n"multi\r\nline\r\nfield",x\r\nnext,row\r\n');
    expect(rows.map((r) => r.line)).toEqual([1, 2, 5]);
  });

  test("an unterminated quote names the line where the field opened", () => {
    expect(() => parseCsv('a,b\nc,"never closed\nmore\n')).toThrow(CsvError);
    expect(() => parseCsv('a,b\nc,"never closed\nmore\n')).toThrow(/^line 2: a quoted field is never closed/);
  });

  test("text after a closing quote is an error naming the line", () => {
    expect(() => parseCsv('a\n"x"y,z\n')).toThrow(/^line 2: unexpected text after a closing quote/);
  });

  test("a quote inside a field that does not start with one is an error naming the line: a stray quote is refused, not guessed at", () => {
    expect(() => parseCsv('a,b\nc,d\nab"c,d\n')).toThrow(/^line 3: a quote inside a field that does not start with one/);
  });

  test("a row after a record with a line break inside a quoted field keeps its own line", () => {
    expect(() => parseCsv('a\n"two\nlines",b\nx"y\n')).toThrow(/^line 4: /);
  });
});

