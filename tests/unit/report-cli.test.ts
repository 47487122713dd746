/**
 * `reachprobe report` as a cron job sees it: its exit codes, that it never creates or changes
 * a database, and that the HTML file appears whole or not at all.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { reportMain, type ReportFlags } from "../../src/cli/report.js";
import { writeFileAtomically } from "../../src/report/report-file.js";
import { Store } from "../../src/store/store.js";
import { seedRun } from "../helpers/seed.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-report-cli-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(flags: Partial<ReportFlags>): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await reportMain(
    { html: join(dir, "report.html"), db: join(dir, "r.db"), ...flags },
    { now: () => new Date("2025-05-20T12:00:00Z"), stderr: { write: (t: string) => (stderr += t) } },
  );
  return { code, stderr };
}

function makeDb(path: string): void {
  const s = Store.open(path, { hostname: "t" });
  const ok = { status: "ok" as const, layer: null, failure: null, evidence: [] };
  seedRun(s, { at: "2025-05-18T10:00:00Z", network: { label: "lab" }, version: "t", rows: [["https://a.test/", "S", ok, { startedAt: "2025-05-18T10:00:01Z", finishedAt: "2025-05-18T10:00:02Z", durationMs: 1000 }]] });
  s.close();
}

describe("reportMain", () => {
  test("writes the page and exits 0, saying where on stderr", async () => {
    makeDb(join(dir, "r.db"));
    const r = await run({});
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^reachprobe: wrote .*report\.html \(1 network, 1 run, 0 changes; \d+ KiB\)\n$/);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("https://a.test/");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("an empty database still gives a page (exit 0)", async () => {
    Store.open(join(dir, "r.db")).close();
    const r = await run({});
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("the database has no runs yet");
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("No measurements yet");
  });

  test("a missing database exits 1, and neither it nor the page is created", async () => {
    const r = await run({ db: join(dir, "nowhere", "missing.db") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no database at .*missing\.db: measure first/);
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
    expect(existsSync(join(dir, "report.html"))).toBe(false);
  });

  test("a file that is not a database exits 1 and is left as it was", async () => {
    writeFileSync(join(dir, "r.db"), "not a database at all, just text that is long enough to have a header".repeat(4));
    const before = readFileSync(join(dir, "r.db"));
    const r = await run({});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an SQLite database/);
    expect(readFileSync(join(dir, "r.db"))).toEqual(before);
    expect(existsSync(join(dir, "report.html"))).toBe(false);
  });

  test("a bad --since is a usage error (exit 2) naming the flag", async () => {
    makeDb(join(dir, "r.db"));
    const r = await run({ since: "last tuesday" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since must be/);
    expect(existsSync(join(dir, "report.html"))).toBe(false);
  });

  test("--since and --network are applied", async () => {
    makeDb(join(dir, "r.db"));
    expect((await run({ since: "1d" })).stderr).toContain("no run matches");
    expect((await run({ since: "2025-05-18", network: "lab" })).stderr).toContain("1 network, 1 run");
    expect((await run({ network: "LAB" })).stderr, "any case").toContain("1 network, 1 run");
    expect(await run({ network: "elsewhere" })).toEqual({ code: 2, stderr: 'reachprobe: --network: no network "elsewhere" in the database (known: lab)\n' });
  });

  test("a page that cannot be written exits 1 and leaves no temporary file", async () => {
    makeDb(join(dir, "r.db"));
    const r = await run({ html: join(dir, "no-such-dir", "report.html") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not write .*no-such-dir.*report\.html/);
    expect(readdirSync(dir)).not.toContain("no-such-dir");
  });
});

describe("writeFileAtomically", () => {
  const big = (n: number) => "x".repeat(n);

  test("an error while producing the page leaves the old file untouched and no temporary file", async () => {
    const path = join(dir, "page.html");
    writeFileSync(path, "old report");
    function* failing(): Generator<string> {
      yield big(300_000);
      yield big(300_000);
      throw new Error("the database went away");
    }
    await expect(writeFileAtomically(path, failing())).rejects.toThrow("the database went away");
    expect(readFileSync(path, "utf8")).toBe("old report");
    expect(readdirSync(dir)).toEqual(["page.html"]);
  });

  test("stopped between writes (a signal): nothing written, no temporary file", async () => {
    const path = join(dir, "page.html");
    let produced = 0;
    function* chunks(): Generator<string> {
      for (let i = 0; i < 10; i++) {
        produced++;
        yield big(300_000);
      }
    }
    const outcome = await writeFileAtomically(path, chunks(), () => produced >= 2);
    expect(outcome).toEqual({ written: false });
    expect(produced).toBeLessThan(10);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("writes every chunk, multi-byte text included, and counts bytes", async () => {
    const path = join(dir, "page.html");
    const text = ["<p>", "Москва → 北京 ✓", big(600_000), "</p>"];
    const outcome = await writeFileAtomically(path, text);
    expect(readFileSync(path, "utf8")).toBe(text.join(""));
    expect(outcome).toEqual({ written: true, bytes: Buffer.byteLength(text.join("")) });
  });
});
