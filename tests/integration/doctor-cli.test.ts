/**
 * The real built `reachprobe doctor`, as a user runs it, against files and loopback servers
 * the test makes: a fresh directory, a database made by a real loopback run, a corrupt one, one
 * from a newer reachprobe, stale and live locks, a control helper with a token, a UDP resolver
 * and a DoH endpoint trusted through NODE_EXTRA_CA_CERTS. Every server is on 127.0.0.1, and
 * every invocation names its database and servers (or none): the doctor contacts nothing else.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlServer, type ControlServer } from "../../src/control/server.js";
import { hashHostname, processStartTime } from "../../src/base/process-identity.js";
import { CURRENT_SCHEMA_VERSION } from "../../src/store/schema.js";
import type { Check } from "../../src/doctor/check.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { runCli, type CliResult } from "../helpers/cli.js";
import { closeAll, dnsServer, dohServer, tcpServer } from "../helpers/servers.js";

let ca: TestCa;
let dir: string;
let goodDb: string;
let dns: { port: number; queries: string[] };
let doh: { port: number; methods: string[] };
let helper: ControlServer;
const HOST_HASH = hashHostname(hostname());

interface Report {
  ok: boolean;
  checks: Check[];
}

/**
 * Runs the doctor in `cwd` (a temp directory: no config file of the developer's is picked up)
 * with no environment variable that could point it at a real server.
 */
function doctor(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  return runCli(["doctor", ...args], { cwd: opts.cwd ?? dir, env: { REACHPROBE_CONFIG: undefined, NODE_EXTRA_CA_CERTS: undefined, ...opts.env } });
}

async function doctorJson(args: string[], opts: Parameters<typeof doctor>[1] = {}): Promise<{ r: CliResult; report: Report; line: (id: string) => Check }> {
  const r = await doctor([...args, "--json"], opts);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  const line = (id: string) => {
    const c = report.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no "${id}" line in ${report.checks.map((x) => x.id).join(", ")}`);
    return c;
  };
  return { r, report, line };
}

/** The pid of a process that has exited: a lock or run left by it is stale. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid!;
  await new Promise((resolve) => child.on("close", resolve));
  return pid;
}

beforeAll(async () => {
  ca = makeTestCa();
  dir = mkdtempSync(join(tmpdir(), "reachprobe-doctor-"));
  dns = await dnsServer({ "probe.test": { a: ["127.0.0.1"] }, "silent.test": { drop: true } });
  doh = await dohServer({ "probe.test": ["127.0.0.1"] }, ca.issue(["127.0.0.1"]));
  helper = await startControlServer({ host: "127.0.0.1", token: "right-token", systemResolver: false, resolvers: [{ host: "127.0.0.1", port: dns.port }] });

  // A database made the way users make one: a real run, against a loopback TCP target.
  const target = await tcpServer((s) => s.end());
  goodDb = join(dir, "good.db");
  const run = await runCli(["run", "--no-system-resolver", "--resolver", `127.0.0.1:${dns.port}`, "--no-canary", "--timeout", "1000", "--db", goodDb, `tcp://127.0.0.1:${target}`], { cwd: dir, env: { REACHPROBE_CONFIG: undefined } });
  if (!existsSync(goodDb)) throw new Error(`the setup run made no database (exit ${run.code}):\n${run.stderr}`);
});

afterAll(async () => {
  await helper?.close();
  await closeAll();
});

describe("reachprobe doctor with nothing configured", () => {
  it("warns that a run refuses a database whose directory is missing, unless --create-dirs", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "reachprobe-doctor-fresh-"));
    const { r, line } = await doctorJson(["--db", "sub/dir/r.db"], { cwd: fresh });
    expect(r.code).toBe(0);
    expect(line("database")).toMatchObject({ status: "warn", message: expect.stringContaining(`its directory ${fresh}/sub/dir does not exist: a run refuses it (exit 2)`), fix: expect.stringContaining("--create-dirs") });
    expect(readdirSync(fresh)).toEqual([]);
  });

  it("says a fresh directory's database will be created, contacts nothing, creates nothing, and exits 0", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "reachprobe-doctor-fresh-"));
    const before = dns.queries.length;
    // The default database is the checkout's, whatever the directory (docs/database.md): name one here.
    const r = await doctor(["--db", "reachprobe.db"], { cwd: fresh });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`✓ database +no database yet: it will be created at ${fresh}/reachprobe\\.db by the first run`));
    expect(r.stdout).toMatch(/✓ lock +no lock/);
    expect(r.stdout).toMatch(/- control +no control helper configured \(--control\): nothing contacted/);
    expect(r.stdout).toMatch(/- doh +no DoH endpoint configured \(--doh\): nothing contacted/);
    expect(r.stdout).toMatch(/- resolver +no UDP resolver configured \(--resolver\): nothing contacted/);
    expect(r.stdout).toMatch(/✓ node +Node \d+\.\d+\.\d+/);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("Nothing to fix.");
    expect(r.stderr).toBe("");
    expect(readdirSync(fresh)).toEqual([]);
    expect(dns.queries.length).toBe(before);
  });

  it("prints the same checks as data with --json", async () => {
    const { r, report, line } = await doctorJson([], { cwd: mkdtempSync(join(tmpdir(), "reachprobe-doctor-fresh-")) });
    expect(r.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(["config", "network", "node", "fd-limit", "clock", "ca.bundled", "ca.extra", "database", "lock", "control", "doh", "resolver"]);
    expect(line("control").status).toBe("skip");
    expect(line("database").details).toMatchObject({ kind: "absent" });
  });

  it("rejects a bad flag value with exit code 2", async () => {
    const r = await doctor(["--resolver", "not-an-address"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resolver must be IP or IP:PORT/);
  });
});

describe("the config file a run would read", () => {
  it("checks the database and servers it names, with flags still winning", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "reachprobe-doctor-config-"));
    writeFileSync(join(cwd, "reachprobe.config.json"), JSON.stringify({ db: "c.db", resolver: [`127.0.0.1:${dns.port}`], control: helper.url, controlToken: "right-token", concurrency: 8, list: "wechat" }));
    const { r, line } = await doctorJson(["--doh-probe-name", "probe.test"], { cwd });
    expect(r.code, r.stdout).toBe(0);
    expect(line("config").message).toBe("reachprobe.config.json (default): 6 keys; checking with its db, resolver, control, controlToken, concurrency");
    expect(line("database").message).toBe(`no database yet: it will be created at ${cwd}/c.db by the first run`);
    expect(line("resolver").message).toMatch(/answered probe\.test A with 127\.0\.0\.1/);
    expect(line("control").message).toMatch(/token accepted/);
    expect(line("fd-limit").message).toMatch(/--concurrency 8/);

    const flagged = await doctorJson(["--db", join(cwd, "flag.db"), "--control-token", "wrong-token", "--doh-probe-name", "probe.test"], { cwd });
    expect(flagged.line("database").message).toMatch(/flag\.db by the first run/);
    expect(flagged.line("control").message).toMatch(/token wrong/);

    const ignored = await doctorJson(["--no-config"], { cwd });
    expect(ignored.line("config").message).toMatch(/--no-config/);
    expect(ignored.line("resolver").status).toBe("skip");
  });

  it("marks a config file a run would refuse ✗, and still checks the rest", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "reachprobe-doctor-config-"));
    const path = join(cwd, "bad.json");
    writeFileSync(path, JSON.stringify({ timout: 5000, db: "x.db" }));
    const { r, line } = await doctorJson([], { cwd, env: { REACHPROBE_CONFIG: path } });
    expect(r.code).toBe(1);
    expect(line("config")).toMatchObject({ status: "fail" });
    expect(line("config").message).toMatch(/unknown key "timout" \(did you mean "timeout"\?\)/);
    expect(line("database").message).toContain(join(cwd, "x.db"));
  });

  it("marks a --config naming a missing file ✗", async () => {
    const { r, line } = await doctorJson(["--config", "nowhere.json"], { cwd: mkdtempSync(join(tmpdir(), "reachprobe-doctor-config-")) });
    expect(r.code).toBe(1);
    expect(line("config").message).toMatch(/nowhere\.json: no such config file/);
  });
});

describe("the database", () => {
  it("finds a database made by a real run healthy, and leaves it as it was", async () => {
    const files = readdirSync(dir).sort();
    const { r, line } = await doctorJson(["--db", goodDb]);
    expect(r.code, r.stdout).toBe(0);
    expect(line("database")).toMatchObject({ status: "ok" });
    expect(line("database").message).toMatch(/good\.db \(.*KiB, opens read-only\)/);
    expect(line("database.schema")).toMatchObject({ status: "ok", message: `schema version ${CURRENT_SCHEMA_VERSION} (current)` });
    expect(line("database.integrity")).toMatchObject({ status: "ok" });
    expect(line("database.integrity").message).toMatch(/^quick_check: ok/);
    expect(line("database.journal")).toMatchObject({ status: "ok" });
    expect(line("database.runs").message).toMatch(/^1 run; the last started .* and is completed$/);
    // No -wal or -shm left behind: a doctor run as root must not leave files a cron user cannot open.
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it("runs the full integrity_check with --full", async () => {
    const { line } = await doctorJson(["--db", goodDb, "--full"]);
    expect(line("database.integrity")).toMatchObject({ status: "ok", message: "integrity_check: ok" });
  });

  it("marks a file of garbage bytes ✗ with what to do, and exits 1", async () => {
    const db = join(dir, "garbage.db");
    writeFileSync(db, Buffer.from("this is not an SQLite database, just bytes ".repeat(200)));
    const r = await doctor(["--db", db]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ database +.*garbage\.db is not an SQLite database/);
    expect(r.stdout).toContain(`→ check that --db names the reachprobe database; if it does, the file is damaged: move it aside (mv ${db} ${db}.broken)`);
    expect(r.stdout).not.toMatch(/database\.schema/);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("1 to fix.");
  });

  it("marks a database from a newer reachprobe ✗ and says to upgrade", async () => {
    const db = join(dir, "newer.db");
    copyFileSync(goodDb, db);
    const conn = new Database(db);
    conn.pragma("user_version = 99");
    conn.close();
    const { r, line } = await doctorJson(["--db", db]);
    expect(r.code).toBe(1);
    expect(line("database.schema")).toMatchObject({ status: "fail" });
    expect(line("database.schema").message).toMatch(/schema version 99: made by a newer reachprobe/);
    expect(line("database.schema").fix).toMatch(/upgrade reachprobe/);
  });

  it("fails another application's database as a run would refuse it, and leaves the file as it was", async () => {
    const other = join(dir, "other-app.db");
    const conn = new Database(other);
    conn.pragma("application_id = 0x47504b47");
    conn.exec("CREATE TABLE runs (x); CREATE TABLE measurements (y)");
    conn.close();
    const tablesOnly = join(dir, "tables-only.db");
    const c2 = new Database(tablesOnly);
    c2.exec("CREATE TABLE users (name TEXT)");
    c2.close();
    const before = readFileSync(other);
    for (const [db, message] of [
      [other, /belongs to another application \(its application_id is 0x47504b47, reachprobe's is 0x52505242\)/],
      [tablesOnly, /holds another application's tables \(users\) and none of reachprobe's/],
    ] as const) {
      const { r, line } = await doctorJson(["--db", db]);
      expect(r.code).toBe(1);
      expect(line("database.schema")).toMatchObject({ status: "fail" });
      expect(line("database.schema").message).toMatch(message);
      expect(line("database.schema").fix).toMatch(/runs refuse this one/);
      // And a run does refuse it (docs/database.md: E_FOREIGN_DB, exit 1).
      const run = await runCli(["run", "--db", db, "--no-canary", "--no-system-resolver", "tcp://127.0.0.1:9"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/is not a reachprobe database/);
    }
    expect(readFileSync(other).equals(before)).toBe(true);
  });

  it("counts runs stuck in 'running' whose process is gone, and says the next run marks them", async () => {
    const db = join(dir, "stuck.db");
    copyFileSync(goodDb, db);
    const conn = new Database(db);
    conn.prepare("INSERT INTO runs (id, started_at, state, pid, hostname_hash) VALUES ('stuck-1', '2026-01-01T00:00:00.000Z', 'running', ?, ?)").run(await deadPid(), HOST_HASH);
    conn.close();
    const { r, line } = await doctorJson(["--db", db]);
    expect(r.code).toBe(0);
    expect(line("database.runs")).toMatchObject({ status: "warn" });
    expect(line("database.runs").message).toMatch(/1 run stuck in 'running' whose process is gone/);
    expect(line("database.runs").fix).toMatch(/next run marks them interrupted/);
  });
});

describe("the lock", () => {
  it("calls a lock left by an exited process stale: the next run takes it over", async () => {
    const pid = await deadPid();
    writeFileSync(`${goodDb}.lock`, JSON.stringify({ pid, hostname_hash: HOST_HASH, started_at: new Date().toISOString(), proc_start: 1 }));
    try {
      const r = await doctor(["--db", goodDb]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`! lock +stale lock: pid ${pid} took it .* and is no longer running`));
      expect(r.stdout).toMatch(/→ nothing to do: the next run takes it over/);
    } finally {
      writeFileSync(`${goodDb}.lock`, "");
    }
  });

  it("shows a lock held by a live process with its pid and since when", async () => {
    writeFileSync(`${goodDb}.lock`, JSON.stringify({ pid: process.pid, hostname_hash: HOST_HASH, started_at: new Date(Date.now() - 120_000).toISOString(), proc_start: processStartTime(process.pid) }));
    const { line } = await doctorJson(["--db", goodDb]);
    expect(line("lock")).toMatchObject({ status: "ok" });
    expect(line("lock").message).toMatch(new RegExp(`^held by pid ${process.pid} .*since .* \\(2 min ago\\): a run is in progress$`));
  });

  it.skipIf(processStartTime(process.pid) === null)("calls a lock stale when its pid now belongs to a process that started later", async () => {
    writeFileSync(`${goodDb}.lock`, JSON.stringify({ pid: process.pid, hostname_hash: HOST_HASH, started_at: new Date().toISOString(), proc_start: 1 }));
    const { line } = await doctorJson(["--db", goodDb]);
    expect(line("lock")).toMatchObject({ status: "warn" });
    expect(line("lock").message).toMatch(/now belongs to another process/);
    expect(line("lock").fix).toMatch(/next run takes it over/);
  });

  it("calls an empty lock file unreadable and says how to remove it", async () => {
    writeFileSync(`${goodDb}.lock`, "");
    const { line } = await doctorJson(["--db", goodDb]);
    expect(line("lock")).toMatchObject({ status: "warn" });
    expect(line("lock").fix).toContain(`rm ${goodDb}.lock`);
  });
});

describe("the control helper", () => {
  const db = () => join(dir, "none.db");

  it("reports its version and latency when the token is right", async () => {
    const { r, line } = await doctorJson(["--db", db(), "--control", helper.url, "--control-token", "right-token"]);
    expect(r.code, JSON.stringify(line("control"))).toBe(0);
    expect(line("control")).toMatchObject({ status: "ok" });
    expect(line("control").message).toMatch(/reachprobe control \d+\.\d+\.\d+, token accepted, in \d+ ms$/);
  });

  it("marks a wrong token ✗ and names the token", async () => {
    const r = await doctor(["--db", db(), "--control", helper.url, "--control-token", "wrong-token"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ control +.*HTTP 401\): token wrong/);
    expect(r.stdout).toMatch(/→ the token is wrong: set --control-token/);
  });

  it("marks a missing token ✗ (token from the environment is used when given)", async () => {
    const missing = await doctor(["--db", db(), "--control", helper.url]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/token missing/);
    const fromEnv = await doctor(["--db", db()], { env: { REACHPROBE_CONTROL: helper.url, REACHPROBE_CONTROL_TOKEN: "right-token" } });
    expect(fromEnv.code, fromEnv.stdout).toBe(0);
    expect(fromEnv.stdout).toMatch(/✓ control +.*token accepted/);
  });

  it("says what a refused connection means", async () => {
    const other = await startControlServer({ host: "127.0.0.1", systemResolver: false, resolvers: [] });
    const url = other.url;
    await other.close();
    const { r, line } = await doctorJson(["--db", db(), "--control", url]);
    expect(r.code).toBe(1);
    expect(line("control").message).toMatch(/nothing listens there \(connection refused\)/);
    expect(line("control").fix).toMatch(/server is running/);
  });
});

describe("resolvers and DoH", () => {
  const db = () => join(dir, "none.db");

  it("asks a UDP resolver the --doh-probe-name once and reports the answer", async () => {
    const before = dns.queries.length;
    const { r, line } = await doctorJson(["--db", db(), "--resolver", `127.0.0.1:${dns.port}`, "--doh-probe-name", "probe.test"]);
    expect(r.code).toBe(0);
    expect(line("resolver")).toMatchObject({ status: "ok" });
    expect(line("resolver").message).toMatch(new RegExp(`resolver 127\\.0\\.0\\.1:${dns.port}: answered probe\\.test A with 127\\.0\\.0\\.1 in \\d+ ms`));
    expect(dns.queries.slice(before)).toEqual(["probe.test"]);
  });

  it("marks a resolver that never answers ✗ within --timeout", async () => {
    const t0 = performance.now();
    const { r, line } = await doctorJson(["--db", db(), "--resolver", `127.0.0.1:${dns.port}`, "--doh-probe-name", "silent.test", "--timeout", "400"]);
    expect(r.code).toBe(1);
    expect(line("resolver").message).toMatch(/no answer within 400 ms/);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it("queries a DoH endpoint trusted through NODE_EXTRA_CA_CERTS, and shows the CA", async () => {
    const before = doh.methods.length;
    const { r, line } = await doctorJson(["--db", db(), "--doh", `https://127.0.0.1:${doh.port}/dns-query`, "--doh-probe-name", "probe.test"], { env: { NODE_EXTRA_CA_CERTS: ca.certFile } });
    expect(r.code, JSON.stringify(line("doh"))).toBe(0);
    expect(line("doh").message).toMatch(/answered probe\.test A with 127\.0\.0\.1/);
    expect(doh.methods.slice(before)).toEqual(["POST"]);
    expect(line("ca.extra")).toMatchObject({ status: "ok" });
    expect(line("ca.extra").message).toMatch(/1 certificate \(reachprobe test CA until \d{4}-\d\d-\d\d\)/);
  });

  it("says the DoH certificate is not trusted without the CA", async () => {
    const { r, line } = await doctorJson(["--db", db(), "--doh", `https://127.0.0.1:${doh.port}/dns-query`, "--doh-probe-name", "probe.test"]);
    expect(r.code).toBe(1);
    expect(line("doh").message).toMatch(/ssl_unknown_authority/);
    expect(line("doh").fix).toMatch(/NODE_EXTRA_CA_CERTS/);
  });

  it("marks NODE_EXTRA_CA_CERTS pointing at a missing file ✗", async () => {
    const missing = join(dir, "no-such-ca.pem");
    const r = await doctor(["--db", db()], { env: { NODE_EXTRA_CA_CERTS: missing } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✗ ca.extra`);
    expect(r.stdout).toContain(`NODE_EXTRA_CA_CERTS=${missing} does not exist: Node ignores it`);
    expect(r.stdout).toMatch(/→ point NODE_EXTRA_CA_CERTS at the CA's PEM file/);
  });
});
