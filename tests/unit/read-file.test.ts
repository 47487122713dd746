/**
 * Bounded input: files a user names are read with a byte cap (a device or an endless pipe
 * fails fast), quotes of bad input are cut, and problem lists print the first few and a count.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firstProblems, formatBytes, ProblemList, quote, readFileCapped, ReadFileError } from "../../src/base/read-file.js";
import { parseTargetList } from "../../src/targets/load.js";
import { TargetError } from "../../src/targets/errors.js";

const dir = mkdtempSync(join(tmpdir(), "reachprobe-read-"));

describe("readFileCapped", () => {
  it("reads a file within the cap", async () => {
    writeFileSync(join(dir, "small.txt"), "tcp://127.0.0.1:9\n");
    expect(await readFileCapped(join(dir, "small.txt"), 100)).toBe("tcp://127.0.0.1:9\n");
  });

  it("refuses a larger regular file by its size, before reading it", async () => {
    const big = join(dir, "sparse.txt");
    writeFileSync(big, "");
    truncateSync(big, 5 * 2 ** 30); // 5 GiB, sparse: reading it would take minutes
    await expect(readFileCapped(big, 1 << 20)).rejects.toThrow(/^it is 5120 MiB; reachprobe reads at most 1 MiB from such a file$/);
  });

  it("stops reading an endless device after the cap", async () => {
    const err = await readFileCapped("/dev/zero", 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadFileError);
    expect((err as ReadFileError).code).toBe("E_TOO_LARGE");
    expect((err as Error).message).toMatch(/not a regular file and gave more than 1 MiB/);
  });

  it("says what is wrong with a missing file or a directory", async () => {
    await expect(readFileCapped(join(dir, "nope"), 10)).rejects.toThrow(/^no such file$/);
    await expect(readFileCapped(dir, 10)).rejects.toThrow(/^it is a directory$/);
  });
});

describe("messages about bad input", () => {
  it("quotes at most 100 characters, saying how long the text was", () => {
    expect(quote("short")).toBe('"short"');
    expect(quote("x".repeat(5000))).toBe(`"${"x".repeat(100)}"... (5000 characters)`);
    expect(quote({ a: "y".repeat(500) })).toMatch(/^\{"a":"y+\.\.\. \(cut\)$/);
  });

  it("lists the first 20 problems, each on one short line, then a count", () => {
    const lines = firstProblems(Array.from({ length: 1000 }, (_, i) => `line ${i}: bad\nsecond line ${"z".repeat(1000)}`));
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^line 0: bad second line z+\.\.\. \(cut\)$/);
    expect(lines[0]!.length).toBeLessThan(420);
    expect(lines[20]).toBe("... and 980 more problems");
  });

  it("keeps the first 1000 problems of a million and counts the rest", () => {
    const list = new ProblemList();
    for (let i = 0; i < 1_000_000; i++) list.add(`p${i}`);
    expect(list.kept).toHaveLength(1000);
    expect(list.lines().at(-1)).toBe("... and 999980 more problems");
  });

  it("a target list with 100,000 bad lines says so in 22 lines, and a 1 MB line is not echoed", () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `bad target ${i}`).join("\n") + `\nhttps://${"a".repeat(1 << 20)}/\n`;
    let err: unknown;
    try {
      parseTargetList(text, "list.txt", "text");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TargetError);
    const message = (err as Error).message;
    expect(message.split("\n")).toHaveLength(22);
    expect(message.split("\n")[0]).toBe("list.txt: 100001 problems, no targets loaded:");
    expect(message).toMatch(/\n {2}\.\.\. and 99981 more problems$/);
    expect(message.length).toBeLessThan(5000);
  });

  it("formats sizes", () => {
    expect([formatBytes(300), formatBytes(4096), formatBytes(16 << 20), formatBytes(3 * (1 << 20) + 1)]).toEqual(["300 bytes", "4 KiB", "16 MiB", "3.0 MiB"]);
  });
});
