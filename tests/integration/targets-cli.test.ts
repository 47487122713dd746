/**
 * The real `reachprobe targets` command, as a user runs it: the list of bundled lists, one
 * list's endpoints, a Citizen Lab CSV filtered by category, and the exit code 2 for input
 * errors. It only reads lists: nothing is probed, no host is contacted.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLES } from "../helpers/shared-data.js";
import { runCli } from "../helpers/cli.js";

const LISTS = join(SAMPLES, "citizenlab");
const BUNDLED = ["all", "bbm", "cn-2017", "dropbox", "facebook", "flickr", "google", "icloud", "instagram", "line", "linkedin"];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-targets-cli-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("reachprobe targets", () => {
  it("lists every bundled list with its endpoint count, services and description", async () => {
    const r = await runCli(["targets"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^telegram {2}21 endpoints: Telegram\n {2}Telegram: web fronts/m);
    expect(r.stdout).toMatch(/^ru-2017 {2}72 endpoints, 5 services, includes linkedin, line, bbm, wechat, telegram\n {2}services: BlackBerry Messenger, LINE, LinkedIn, Telegram, WeChat\n/m);
    for (const name of BUNDLED) expect(r.stdout, name).toMatch(new RegExp(`^${name} {2}\\d+ endpoints`, "m"));
  });

  it("prints the same as JSON with --json", async () => {
    const r = await runCli(["targets", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { lists: Array<{ name: string; endpoints: number; services: string[]; description: string; include: string[] }> };
    expect(doc.lists.map((l) => l.name)).toEqual(expect.arrayContaining([...BUNDLED, "nytimes", "pinterest", "ru-2017", "snapchat", "telegram", "twitter", "wechat", "whatsapp", "youtube"]));
    expect(doc.lists.find((l) => l.name === "whatsapp")).toEqual({
      name: "whatsapp",
      endpoints: 19,
      services: ["WhatsApp"],
      description: expect.stringMatching(/^WhatsApp: /),
      include: [],
    });
  });

  it("points `targets NAME` to `targets show NAME`, exit 2", async () => {
    const r = await runCli(["targets", "telegram"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('reachprobe: to see the list "telegram", run: reachprobe targets show telegram\n');
  });
});

describe("reachprobe targets show", () => {
  it("prints a list's endpoints grouped by service, with role and source, and its sources", async () => {
    const r = await runCli(["targets", "show", "telegram"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("telegram: 21 endpoints, 1 service");
    expect(lines).toContain("Telegram (21)");
    expect(r.stdout).toMatch(/^ {2}tcp:\/\/149\.154\.167\.51:443 +client: data centre DC2 \(MTProto\) {2}\[1\]$/m);
    expect(r.stdout).toMatch(/^ {2}\[1\] OONI test specification ts-020: Telegram\n {6}https:\/\/github\.com\/ooni\/spec\/blob\/master\/nettests\/ts-020-telegram\.md$/m);
  });

  it("groups a combined list by service, every endpoint with its source, as JSON", async () => {
    const r = await runCli(["targets", "show", "ru-2017", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      name: string;
      include: string[];
      endpoints: number;
      services: Array<{ service: string; endpoints: Array<{ target: string; role: string | null; source: { url?: string; note?: string } | null }> }>;
      sources: Array<{ title: string; url: string }>;
    };
    expect(doc.name).toBe("ru-2017");
    expect(doc.services.map((s) => s.service)).toEqual(["LinkedIn", "LINE", "BlackBerry Messenger", "WeChat", "Telegram"]);
    const endpoints = doc.services.flatMap((s) => s.endpoints);
    expect(endpoints).toHaveLength(doc.endpoints);
    expect(endpoints.filter((e) => e.role === null || e.source === null)).toEqual([]);
    const urls = new Set(doc.sources.map((s) => s.url));
    expect(endpoints.filter((e) => e.source?.url !== undefined && !urls.has(e.source.url))).toEqual([]);
  });

  it("refuses an unknown list, naming the available ones, exit 2", async () => {
    const r = await runCli(["targets", "show", "myspace"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^reachprobe: unknown list "myspace" \(available: all, bbm, cn-2017, .*, wechat, whatsapp, youtube\)\n$/);
  });

  it("needs a NAME or --file, exit 2", async () => {
    const r = await runCli(["targets", "show"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/which list\? give a NAME/);
  });

  it("shows a Citizen Lab CSV filtered by category: zz.csv NEWS", async () => {
    const r = await runCli(["targets", "show", "--file", join(LISTS, "zz.csv"), "--category", "news", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { endpoints: number; services: Array<{ service: string; endpoints: Array<{ role: string }> }> };
    expect(doc.endpoints).toBe(3);
    expect(doc.services.map((s) => s.service)).toEqual(["NEWS"]);
    expect(new Set(doc.services[0]?.endpoints.map((e) => e.role))).toEqual(new Set(["News Media"]));
  });

  it("refuses an unknown category with the legend's codes, exit 2", async () => {
    const r = await runCli(["targets", "show", "--file", join(LISTS, "zz.csv"), "--category", "NEWZ"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^reachprobe: --category: unknown category code NEWZ \(valid codes, from .*00-LEGEND-new_category_codes\.csv: COMT, CTRL, GRP, HUMR, NEWS, POLR\)\n$/);
  });

  it("names the file and line of a bad CSV row, exit 2", async () => {
    const path = join(dir, "bad.csv");
    writeFileSync(path, "url,category_code,category_description,date_added,source,notes\nhttps://ok.example.org/,NEWS,News Media,,,\nhttps://,NEWS,News Media,,,\n");
    const r = await runCli(["targets", "show", "--file", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`reachprobe: ${path}: 1 problem, no targets loaded:\n  ${path}:3: "https://" has no host\n`);
  });
});
