/**
 * The README stays a first screen (under 10 KB) and every relative link in it and in docs/
 * resolves: the file exists and, for `#anchor`, a heading of that name is in it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The headings of a Markdown page, outside fenced code. */
function anchorsOf(page: string): Set<string> {
  const out = new Set<string>();
  let code = false;
  for (const line of readFileSync(join(ROOT, page), "utf8").split("\n")) {
    if (line.startsWith("```")) code = !code;
    const m = !code && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(slug(m[1]!));
  }
  return out;
}

/** Relative links `[text](target)` of a page, outside fenced code. */
function linksOf(page: string): string[] {
  const out: string[] = [];
  let code = false;
  for (const line of readFileSync(join(ROOT, page), "utf8").split("\n")) {
    if (line.startsWith("```")) code = !code;
    if (code) continue;
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1]!)) out.push(m[1]!);
  }
  return out;
}

describe("the documentation", () => {
  it("keeps the README under 10 KB", () => {
    expect(statSync(join(ROOT, "README.md")).size).toBeLessThan(10 * 1024);
  });

  it.each(PAGES)("%s: every relative link resolves to a file and a heading", (page) => {
    const broken: string[] = [];
    for (const link of linksOf(page)) {
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path === "" ? page : join(dirname(page), path);
      if (!existsSync(join(ROOT, target))) broken.push(`${link}: no file ${target}`);
      else if (anchor && target.endsWith(".md") && !anchorsOf(target).has(anchor)) broken.push(`${link}: no heading #${anchor} in ${target}`);
    }
    expect(broken, `${page} has broken links`).toEqual([]);
  });
});
