/**
 * Citizen Lab test-list CSVs: the project's samples (tests/samples/citizenlab) and, when
 * ../shared/data is there, the real global, ru and cn lists load whole, with the row counts
 * asserted here; `--category` filters; a bad row names its file and line. Only files are
 * read: no target is ever probed.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCategoryCodes, urlToTargetText } from "../../src/targets/citizenlab.js";
import { TargetError } from "../../src/targets/errors.js";
import { detectFormat, loadTargetFile, loadTargetFileDetails, loadTargetFiles, parseTargetList } from "../../src/targets/load.js";

import { sharedTag, SAMPLES, sharedData } from "../helpers/shared-data.js";

const LISTS = sharedData("citizenlab-test-lists/");
const csv = (name: string): string => join(LISTS!, name);
const sample = (name: string): string => join(SAMPLES, "citizenlab", name);

/** Rows of each real list (lines minus the header), measured on commit 7f01e430 of citizenlab/test-lists. */
const ROWS = { "global.csv": 1722, "ru.csv": 1093, "cn.csv": 594 } as const;

async function targetErrorAsync(p: Promise<unknown>): Promise<TargetError> {
  const err = await p.then(
    () => new Error("expected a TargetError, the promise resolved"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TargetError);
  return err as TargetError;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-citizenlab-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const HEADER = "url,category_code,category_description,date_added,source,notes";

describe("Citizen Lab lists (the project's samples)", () => {
  it("loads every row, the category code as service, the description as role, the source and date as a note", async () => {
    const list = await loadTargetFileDetails(sample("zz.csv"));
    expect(list.targets.map((t) => t.service)).toEqual(["NEWS", "NEWS", "HUMR", "POLR", "COMT", "CTRL", "GRP", "NEWS"]);
    expect(list.targets[0]?.origin).toBe(`${sample("zz.csv")}:2`);
    expect(list.endpoints[0]?.role).toBe("News Media");
    expect(list.endpoints[0]?.source).toEqual({ note: "Citizen Lab test list zz.csv:2, added by reachprobe on 2020-01-15, notes: written for the tests" });
  });

  it("keeps a row whose URL has a fragment, without the fragment, and an odd port", async () => {
    const zz = await loadTargetFile(sample("zz.csv"));
    const at = (line: number): string | undefined => zz.targets.find((t) => t.origin === `${sample("zz.csv")}:${line}`)?.input;
    expect(at(4)).toBe("https://rights.example.org/reports/"); // #latest
    expect(at(5)).toBe("http://forum.example.com:8081/board/"); // an odd port, and #/
  });

  it("loads two lists as one, keeping the first of a URL listed in both", async () => {
    const all = await loadTargetFiles([sample("zz.csv"), sample("yy.csv")]);
    expect(all.targets).toHaveLength(8 + 3 - 1);
    expect(all.targets.find((t) => t.input === "https://shared.example.org/")?.origin).toBe(`${sample("zz.csv")}:9`);
  });

  it("filters by category, case-insensitively", async () => {
    const news = await loadTargetFile(sample("zz.csv"), { categories: ["news"] });
    expect(news.targets.map((t) => t.input)).toEqual(["https://news.example.org/", "https://daily.example.net/world/", "https://shared.example.org/"]);
    const two = await loadTargetFile(sample("zz.csv"), { categories: ["NEWS", "HUMR"] });
    expect(two.targets).toHaveLength(4);
  });

  it("refuses an unknown category, listing the codes of the legend beside the CSV", async () => {
    const err = await targetErrorAsync(loadTargetFile(sample("zz.csv"), { categories: ["NEWS", "NEWZ"] }));
    expect(err.message).toBe(`--category: unknown category code NEWZ (valid codes, from ${sample("00-LEGEND-new_category_codes.csv")}: COMT, CTRL, GRP, HUMR, NEWS, POLR)`);
  });

  it("without a legend beside the CSV, filters without checking the codes", async () => {
    const copy = join(dir, "zz-copy.csv");
    copyFileSync(sample("zz.csv"), copy);
    expect((await loadTargetFile(copy, { categories: ["NEWS"] })).targets).toHaveLength(3);
    const err = await targetErrorAsync(loadTargetFile(copy, { categories: ["NEWZ"] }));
    expect(err.message).toBe(`${copy}: no rows with category NEWZ (it has COMT, CTRL, GRP, HUMR, NEWS, POLR)`);
  });

  it("across files, filters the CSVs and loads the other files whole", async () => {
    const mine = write("mine.txt", "# service: Mine\nexample.org\nhttps://news.example.org/\n");
    const list = await loadTargetFiles([mine, sample("zz.csv")], { categories: ["NEWS"] });
    expect(list.targets).toHaveLength(2 + 3 - 1); // news.example.org is NEWS in zz.csv too: kept once, as Mine's
    expect(list.targets.find((t) => t.input === "https://news.example.org/")?.service).toBe("Mine");
  });

  it("across files, a category one file lacks is fine while another has it", async () => {
    const ctrl = await loadTargetFiles([sample("yy.csv"), sample("zz.csv")], { categories: ["CTRL"] });
    expect(ctrl.targets.map((t) => t.origin)).toEqual([`${sample("zz.csv")}:7`]);
    const err = await targetErrorAsync(loadTargetFiles([sample("yy.csv")], { categories: ["CTRL"] }));
    expect(err.message).toBe(`no rows with category CTRL in ${sample("yy.csv")}`);
  });
});

describe.skipIf(!LISTS)(`the real Citizen Lab lists ${sharedTag(LISTS)}`, () => {
  it.each(Object.entries(ROWS))("%s loads every row, the category code as service", async (name, rows) => {
    const list = await loadTargetFileDetails(csv(name));
    expect(list.targets).toHaveLength(rows);
    expect(list.targets.every((t) => /^[A-Z]+$/.test(t.service)), "every service is a category code").toBe(true);
    expect(list.targets[0]?.origin).toBe(`${csv(name)}:2`);
    expect(list.endpoints[0]?.role).toMatch(/\w/); // the category description
    expect(list.endpoints[0]?.source).toEqual({ note: expect.stringMatching(new RegExp(`^Citizen Lab test list ${name}:2, added by `)) });
  });

  it("keeps a row whose URL has a fragment, without the fragment (12 such rows in the three lists)", async () => {
    const cn = await loadTargetFile(csv("cn.csv"));
    const at = (line: number): string | undefined => cn.targets.find((t) => t.origin === `${csv("cn.csv")}:${line}`)?.input;
    expect(at(75)).toBe("https://www.ted.com/"); // https://www.ted.com/#/
    expect(at(500)).toBe("https://news.qq.com/zt2020/page/feiyan.htm"); // ...feiyan.htm#news
    expect(at(496)).toBe("http://rescue.sitiits.com:9966/visur/"); // an odd port, and #/
    const global = await loadTargetFile(csv("global.csv"));
    expect(global.targets.find((t) => t.origin === `${csv("global.csv")}:1069`)?.input).toBe(
      "https://icao.maps.arcgis.com/apps/opsdashboard/index.html",
    );
  });

  it("loads the three lists as one, keeping the first of the 10 URLs listed twice", async () => {
    const all = await loadTargetFiles([csv("global.csv"), csv("ru.csv"), csv("cn.csv")]);
    expect(all.targets).toHaveLength(1722 + 1093 + 594 - 10);
    expect(new Set(all.targets.map((t) => t.input)).size).toBe(all.targets.length);
    expect(all.targets.find((t) => t.input === "https://www.ted.com/")?.origin).toBe(`${csv("global.csv")}:1105`);
    expect(all.targets.find((t) => t.input === "https://eurasianet.org/")?.origin).toBe(`${csv("ru.csv")}:174`);
  });

  it("filters by category, case-insensitively: ru.csv NEWS is its 579 news rows", async () => {
    const news = await loadTargetFile(csv("ru.csv"), { categories: ["news"] });
    expect(news.targets).toHaveLength(579);
    expect(new Set(news.targets.map((t) => t.service))).toEqual(new Set(["NEWS"]));
    const two = await loadTargetFile(csv("ru.csv"), { categories: ["NEWS", "HUMR"] });
    expect(two.targets).toHaveLength(579 + 49);
  });

  it("refuses an unknown category, listing the codes of the legend beside the CSV", async () => {
    const err = await targetErrorAsync(loadTargetFile(csv("ru.csv"), { categories: ["NEWS", "NEWZ"] }));
    expect(err.message).toBe(
      `--category: unknown category code NEWZ (valid codes, from ${csv("00-LEGEND-new_category_codes.csv")}: ` +
        "ALDR, ANON, COMM, COMT, CTRL, CULTR, DATE, ECON, ENV, FILE, GAME, GMB, GOVT, GRP, HACK, HATE, HOST, HUMR, IGO, LGBT, MILX, MISC, MMED, NEWS, POLR, PORN, PROV, PUBH, REL, SRCH, XED)",
    );
  });

  it("without a legend beside the CSV, filters without checking the codes", async () => {
    const copy = join(dir, "ru-copy.csv");
    copyFileSync(csv("ru.csv"), copy);
    expect((await loadTargetFile(copy, { categories: ["NEWS"] })).targets).toHaveLength(579);
    const err = await targetErrorAsync(loadTargetFile(copy, { categories: ["NEWZ"] }));
    expect(err.message).toMatch(new RegExp(`^${copy.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: no rows with category NEWZ \\(it has ALDR, ANON, .*, XED\\)$`));
  });

  it("across files, filters the CSVs and loads the other files whole", async () => {
    const mine = write("mine.txt", "# service: Mine\nexample.org\nhttps://www.ng.ru/\n");
    const list = await loadTargetFiles([mine, csv("ru.csv")], { categories: ["NEWS"] });
    expect(list.targets).toHaveLength(2 + 579 - 1); // www.ng.ru is NEWS in ru.csv too: kept once, as Mine's
    expect(list.targets.find((t) => t.input === "https://www.ng.ru/")?.service).toBe("Mine");
  });

  it("across files, a category one file lacks is fine while another has it", async () => {
    const ctrl = await loadTargetFiles([csv("cn.csv"), csv("ru.csv")], { categories: ["CTRL"] });
    expect(ctrl.targets.map((t) => t.origin)).toEqual([expect.stringMatching(/ru\.csv:\d+$/)]);
    const err = await targetErrorAsync(loadTargetFiles([csv("cn.csv")], { categories: ["CTRL"] }));
    expect(err.message).toBe(`no rows with category CTRL in ${csv("cn.csv")}`);
  });
});

describe("CSV rows that cannot be used are errors naming file and line", () => {
  it("reports every bad row at once: a bad URL, a wrong field count, a missing category, a duplicate", async () => {
    const path = write(
      "bad.csv",
      [
        HEADER, // 1
        "https://ok.example.org/,NEWS,News Media,2020-01-01,me,", // 2
        "ftp://files.example.org/,FILE,File-sharing,2020-01-01,me,", // 3
        "https://two.example.org/,NEWS,News Media,2020-01-01", // 4
        "https://three.example.org/,,News Media,2020-01-01,me,", // 5
        'https://ok.example.org/#top,NEWS,News Media,2020-01-01,me,"a note, with a comma"', // 6
        "https://bad host.example.org/,NEWS,News Media,2020-01-01,me,", // 7
      ].join("\n"),
    );
    const err = await targetErrorAsync(loadTargetFile(path));
    expect(err.problems).toEqual([
      `${path}:4: has 4 fields, the header has 6 (quote a field that contains a comma)`,
      `${path}:5: "https://three.example.org/" has no category_code (every test-list row has one, e.g. NEWS)`,
      `${path}:3: "ftp://files.example.org/" has an unknown scheme "ftp" (use https://, http:// or tcp://)`,
      `${path}:6: duplicate target "https://ok.example.org/" (first at ${path}:2)`,
      `${path}:7: "https://bad host.example.org/" contains whitespace (one target per entry)`,
    ]);
    expect(err.message.split("\n")[0]).toBe(`${path}: 5 problems, no targets loaded:`);
  });

  it("reports a bad row even when --category would filter it out", async () => {
    const path = write("bad-other.csv", [HEADER, "https://a.example.org/,NEWS,News Media,,,", "tcp://x,HUMR,Human Rights Issues,,,"].join("\n"));
    const err = await targetErrorAsync(loadTargetFile(path, { categories: ["NEWS"] }));
    expect(err.problems).toEqual([`${path}:3: "tcp://x" needs a port (tcp://host:port)`]);
  });

  it("names the line of an unterminated quote, and a header without the needed columns", () => {
    expect(() => parseTargetList([HEADER, "https://a.example.org/,NEWS,News,,,", '"https://b.example.org/,NEWS,News,,,'].join("\n"), "q.csv", "csv")).toThrow(
      /q\.csv:3: a quoted field is never closed/,
    );
    expect(() => parseTargetList("url,category\nhttps://a.example.org/,NEWS\n", "h.csv", "csv")).toThrow(
      'h.csv:1: not a Citizen Lab test list: the header has no "category_code" column',
    );
  });

  it("converts a non-ASCII host to punycode, keeping its port and path", async () => {
    const path = write("idn.csv", [HEADER, "https://пример.рф:8443/путь?q=1,NEWS,News Media,,,"].join("\r\n"));
    const list = await loadTargetFile(path);
    expect(list.targets.map((t) => [t.input, t.host, t.port])).toEqual([
      ["https://xn--e1afmkfd.xn--p1ai:8443/%D0%BF%D1%83%D1%82%D1%8C?q=1", "xn--e1afmkfd.xn--p1ai", 8443],
    ]);
  });

  it("refuses --category for a JSON or text list", async () => {
    const path = write("plain.txt", "example.org\n");
    const err = await targetErrorAsync(loadTargetFile(path, { categories: ["NEWS"] }));
    expect(err.message).toBe(`--category filters Citizen Lab CSV files, and ${path} is a text list`);
    const err2 = await targetErrorAsync(loadTargetFiles([path], { categories: ["NEWS"] }));
    expect(err2.message).toMatch(/^--category filters Citizen Lab CSV files, and no --file is one/);
  });
});

describe("CSV parsing details", () => {
  it("a CSV syntax error names its file and line, and nothing is loaded", () => {
    expect(() => parseTargetList([HEADER, "https://a.example.org/,NEWS,News,,,", '"https://b.example.org/"x,NEWS,News,,,'].join("\n"), "t.csv", "csv")).toThrow(
      /t\.csv:3: unexpected text after a closing quote/,
    );
  });

  it("detects a test list by its .csv extension or its header line", () => {
    expect(detectFormat("x.CSV", "anything")).toBe("csv");
    expect(detectFormat("list", `${HEADER}\nhttps://a.org/,NEWS,,,,\n`)).toBe("csv");
    expect(detectFormat("list", "\uFEFFURL,Category_Code\n")).toBe("csv");
    expect(detectFormat("list", "url,title\n")).toBe("text");
    expect(detectFormat("list.txt", `${HEADER}\n`)).toBe("text");
  });

  it("turns row URLs into target text", () => {
    expect(urlToTargetText("https://www.ted.com/#/")).toBe("https://www.ted.com/");
    expect(urlToTargetText("http://bücher.de/x#y")).toBe("http://xn--bcher-kva.de/x");
    expect(urlToTargetText("https://ok.org/")).toBe("https://ok.org/");
  });

  it("parses --category values", () => {
    expect(parseCategoryCodes("news, humr,NEWS")).toEqual(["NEWS", "HUMR"]);
    expect(() => parseCategoryCodes("NEWS,")).toThrow(/--category takes category codes separated by commas/);
    expect(() => parseCategoryCodes("NE WS")).toThrow(/not "NE WS"/);
  });
});
