/**
 * Which file `--db` names, as a user meets it: another application's SQLite file is refused
 * untouched (PRAGMA application_id, or its tables), a database from before the id is adopted,
 * a new one gets the id, and a missing directory is an error unless --create-dirs.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLICATION_ID } from "../../src/store/application-id.js";
import { defaultDbPath } from "../../src/store/db-path.js";
import { Store } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";

let dir: string;
let server: Server;
let target: string;
const run = (db: string, ...extra: string[]) => runCli(["run", "--no-notice", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--db", db, ...extra, target]);
const appId = (file: string) => {
  const c = new Database(file, { readonly: true });
  try {
    return c.pragma("application_id", { simple: true }) as number;
  } finally {
    c.close();
  }
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-db-file-"));
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  target = `tcp://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("another application's SQLite file", () => {
  it("is refused untouched when it holds other tables", async () => {
    const file = join(dir, "other-app.sqlite");
    const c = new Database(file);
    c.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine')");
    c.close();
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} is not a reachprobe database: it holds another application's tables (notes) and none of reachprobe's; it was not changed.`);
    const after = new Database(file, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toEqual(["notes"]);
    expect(after.pragma("journal_mode", { simple: true })).toBe("delete");
    after.close();
    for (const command of ["history", "runs"]) {
      const read = await runCli([command, "--db", file]);
      expect(read.code, command).toBe(1);
      expect(read.stderr, command).toContain("is not a reachprobe database");
    }
  });

  it("is refused by its application_id, even when empty", async () => {
    const file = join(dir, "tagged.sqlite");
    const c = new Database(file);
    c.pragma("application_id = 1598903374"); // Fossil's
    c.close();
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} is not a reachprobe database: it belongs to another application (its application_id is 0x5f4d544e`);
    expect(appId(file)).toBe(1598903374);
  });
});

describe("our databases", () => {
  it("a new one carries reachprobe's application_id", async () => {
    const file = join(dir, "new.db");
    expect((await run(file)).code).toBe(0);
    expect(appId(file)).toBe(APPLICATION_ID);
  });

  it("one made before the id was written is adopted, not refused", async () => {
    const file = join(dir, "old.db");
    Store.open(file).close();
    const c = new Database(file);
    c.pragma("application_id = 0");
    c.close();
    expect((await runCli(["runs", "--db", file])).code, "read-only: accepted as it is").toBe(0);
    expect(appId(file)).toBe(0);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    expect(appId(file)).toBe(APPLICATION_ID);
  });
});

describe("a missing directory", () => {
  it("is an error naming it, and nothing is created", async () => {
    const file = join(dir, "typo", "deeper", "x.db");
    const r = await run(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the directory of --db ${file} does not exist (${join(dir, "typo", "deeper")}): create it (mkdir -p ${join(dir, "typo", "deeper")}), or add --create-dirs`);
    expect(existsSync(join(dir, "typo"))).toBe(false);
  });

  it("is created with --create-dirs, by run and by merge", async () => {
    const file = join(dir, "made", "x.db");
    expect((await run(file, "--create-dirs")).code).toBe(0);
    expect(existsSync(file)).toBe(true);
    const merged = join(dir, "made2", "sub", "m.db");
    expect((await runCli(["merge", "--db", merged, file])).code).toBe(2);
    expect(existsSync(join(dir, "made2"))).toBe(false);
    const ok = await runCli(["merge", "--create-dirs", "--db", merged, file]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe("the default database", () => {
  it("is data/reachprobe.db in a checkout, else under $XDG_DATA_HOME (or ~/.local/share), whatever the working directory", () => {
    const checkout = join(dir, "clone");
    mkdirSync(join(checkout, ".git"), { recursive: true });
    expect(defaultDbPath({}, checkout)).toBe(join(checkout, "data", "reachprobe.db"));
    const installed = join(dir, "node_modules", "reachprobe");
    mkdirSync(installed, { recursive: true });
    expect(defaultDbPath({ XDG_DATA_HOME: "/xdg/data" }, installed)).toBe("/xdg/data/reachprobe/reachprobe.db");
    expect(defaultDbPath({ XDG_DATA_HOME: "relative/ignored" }, installed, () => "/home/u")).toBe("/home/u/.local/share/reachprobe/reachprobe.db");
    expect(defaultDbPath({}, installed, () => "/home/u")).toBe("/home/u/.local/share/reachprobe/reachprobe.db");
  });

  it("is said in --help, the same from any directory", async () => {
    const here = await runCli(["history", "--help"], { cwd: dir });
    expect(here.stdout.replace(/\s+/g, " ")).toContain("default: data/reachprobe.db in a reachprobe checkout, else $XDG_DATA_HOME/reachprobe/reachprobe.db (~/.local/share/reachprobe/reachprobe.db)");
    expect(here.stdout.replace(/\s+/g, " ")).toContain(`(default: "${defaultDbPath()}"`);
    const missing = await runCli(["history"], { cwd: dir });
    expect(missing.stderr).not.toContain("no database at data/reachprobe.db");
  });
});
