/**
 * The run lock against the audit's reproductions (issue 13), with real processes: a lock
 * truncated under a live run still keeps a second run out; a lock left by a dead run on another
 * host is taken over once its lease is over and that run is marked interrupted; a symlink to the
 * database shares its lock; a stale lock whose reaper died is still taken over; and a database
 * path that cannot be created fails at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { rowsAtLeast } from "../helpers/db-wait.js";
import { closeAll, stallServer, webServer } from "../helpers/servers.js";
import { hermeticEnv, LAUNCHER, runCli } from "../helpers/cli.js";
import { acquireLock, LEASE_S, LockHeldError, lockPathFor } from "../../src/store/lock.js";

let dir: string;
const ports: Record<string, number> = {};
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-lock-"));
  ports.stall = await stallServer();
  ports.web = await webServer((_req, res) => res.end("<title>fine</title>"));
});
afterAll(closeAll);

const common = ["--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--public-ranges", "127.0.0.1/32"];
const fast = () => `http://127.0.0.1:${ports.web}/`;
const stall = () => `http://127.0.0.1:${ports.stall}/`;

function startRun(args: string[]) {
  const child = spawn(process.execPath, [LAUNCHER, "run", ...args], { env: hermeticEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stderr })));
  return { child, exited, stderr: () => stderr };
}

function query<T>(db: string, sql: string): T[] {
  const c = new Database(db, { readonly: true });
  try {
    return c.prepare(sql).all() as T[];
  } finally {
    c.close();
  }
}

describe("a lock under a live run", () => {
  it("still keeps a second run out after someone truncates it, and --wait then runs after it, never alongside", async () => {
    const db = join(dir, "truncated.db");
    const first = startRun([...common, "--db", db, "--timeout", "3000", "--budget", "3000", fast(), stall()]);
    await rowsAtLeast(db, 1);
    truncateSync(`${db}.lock`, 0);

    const second = await runCli(["run", ...common, "--db", db, fast()]);
    expect(second.code, second.stderr).toBe(6);
    expect(second.stderr).toMatch(/is not readable as a lock \(the file is empty\).*taken over once unchanged for 300 s/);

    const waiting = await runCli(["run", ...common, "--db", db, "--wait", "20", fast()]);
    expect(waiting.code, waiting.stderr).toBe(0);
    expect((await first.exited).code).toBe(4);
    const runs = query<{ started: string; finished: string }>(db, `SELECT (SELECT MIN(started_at) FROM measurements m WHERE m.run_id = runs.id) AS started, finished_at AS finished FROM runs ORDER BY started`);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.started >= runs[0]!.finished, JSON.stringify(runs)).toBe(true);
    expect(existsSync(`${db}.lock`), "the waiting run removed its own lock").toBe(false);
  });
});

describe("a lock from another host", () => {
  function plantForeignRun(db: string, lockAgeS: number): void {
    // A run on another machine (a container recreated after kill -9) that never finished.
    const c = new Database(db);
    c.prepare("UPDATE runs SET state = 'running', finished_at = NULL, hostname_hash = 'bbbbbbbbbbbb', pid = 4242").run();
    c.close();
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: 4242, hostname_hash: "bbbbbbbbbbbb", started_at: "2026-11-29T11:00:00.000Z", proc_start: 7, nonce: "5e0f3b8a-0000-4000-8000-000000000001", lease_s: LEASE_S }));
    const t = new Date(Date.now() - lockAgeS * 1000);
    utimesSync(`${db}.lock`, t, t);
  }

  it("holds while its lease runs, then is taken over and its run marked interrupted", async () => {
    const db = join(dir, "foreign.db");
    expect((await runCli(["run", ...common, "--db", db, fast()])).code).toBe(0);
    plantForeignRun(db, 30);
    const held = await runCli(["run", ...common, "--db", db, fast()]);
    expect(held.code).toBe(6);
    expect(held.stderr).toMatch(/from another machine \(host bbbbbbbbbbbb, pid 4242\); its lock was renewed 3\d s ago and is taken over if not renewed for 300 s/);

    plantForeignRun(db, LEASE_S + 10);
    const next = await runCli(["run", ...common, "--db", db, fast()]);
    expect(next.code, next.stderr).toBe(0);
    expect(query(db, "SELECT state, hostname_hash FROM runs ORDER BY started_at")).toEqual([
      { state: "interrupted", hostname_hash: "bbbbbbbbbbbb" },
      { state: "completed", hostname_hash: expect.not.stringMatching(/^b+$/) },
    ]);
    expect(existsSync(`${db}.lock`)).toBe(false);
  });
});

describe("the lock's name", () => {
  it("is the same for a symlink to the database", async () => {
    const db = join(dir, "real.db");
    const link = join(dir, "link.db");
    symlinkSync(db, link);
    expect(lockPathFor(link)).toBe(lockPathFor(db));
    const first = startRun([...common, "--db", db, "--timeout", "3000", "--budget", "3000", fast(), stall()]);
    await rowsAtLeast(db, 1);
    const second = await runCli(["run", ...common, "--db", link, fast()]);
    expect(second.code, second.stderr).toBe(6);
    expect(second.stderr).toMatch(new RegExp(`another reachprobe run is writing .*real\\.db \\(pid ${first.child.pid}, since `));
    await first.exited;
  });

  it("is the same for a symlink made before the database exists", () => {
    const db = join(dir, "later.db");
    symlinkSync(db, join(dir, "later-link.db"));
    expect(lockPathFor(join(dir, "later-link.db"))).toBe(`${db}.lock`);
  });
});

describe("taking a lock over", () => {
  it("goes ahead when a run died while reaping a stale lock (its marker is judged like a lock)", () => {
    const db = join(dir, "reaped.db");
    const lock = `${db}.lock`;
    const nonce = "5e0f3b8a-0000-4000-8000-000000000002";
    const dead = { pid: 2 ** 22 + 12345, hostname_hash: null, started_at: "2026-11-29T11:00:00.000Z", proc_start: 1 };
    writeFileSync(lock, JSON.stringify({ ...dead, nonce }));
    writeFileSync(`${lock}.reap-${nonce}`, JSON.stringify({ ...dead, nonce: "5e0f3b8a-0000-4000-8000-000000000003" }));
    const held = acquireLock(db);
    expect(JSON.parse(readFileSync(lock, "utf8")).pid).toBe(process.pid);
    expect(existsSync(`${lock}.reap-${nonce}`)).toBe(false);
    held.release();
    expect(existsSync(lock)).toBe(false);
  });

  it("holds off while a live run is reaping the same stale lock", () => {
    const db = join(dir, "reaping.db");
    const lock = `${db}.lock`;
    const nonce = "5e0f3b8a-0000-4000-8000-000000000004";
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12346, started_at: "x", nonce }));
    writeFileSync(`${lock}.reap-${nonce}`, JSON.stringify({ pid: process.pid, nonce: "5e0f3b8a-0000-4000-8000-000000000005" }));
    expect(() => acquireLock(db)).toThrow(LockHeldError);
    expect(JSON.parse(readFileSync(lock, "utf8")).nonce, "the stale lock is left to its reaper").toBe(nonce);
  });

  it("never releases a lock that is no longer its own", () => {
    const db = join(dir, "mine.db");
    const held = acquireLock(db);
    const other = JSON.stringify({ pid: process.pid, nonce: "5e0f3b8a-0000-4000-8000-000000000006" });
    writeFileSync(`${db}.lock.new`, other);
    // Replaced behind its back (a misjudged takeover): release leaves the new one alone.
    renameSync(`${db}.lock.new`, `${db}.lock`);
    held.release();
    expect(readFileSync(`${db}.lock`, "utf8")).toBe(other);
  });
});

describe("a database path that cannot be made", () => {
  it("fails at once with the directory named, instead of spinning", async () => {
    // Without --create-dirs a missing directory is refused before anything is made.
    const refused = await runCli(["run", ...common, "--db", "/proc/1/nope/x.db", fast()], { killAfterMs: 15_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the directory of --db \/proc\/1\/nope\/x\.db does not exist/);
    const r = await runCli(["run", ...common, "--create-dirs", "--db", "/proc/1/nope/x.db", fast()], { killAfterMs: 15_000 });
    expect(r.signal, "killed: it hung").toBe(null);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not open the database: cannot create directory \/proc\/1\/nope: ENOENT/);
  });
});
