/**
 * The doctor's pure judgements, table-driven: Node's version, the open-file limit, the clock,
 * the database facts, and what configured servers answered. Each row is what a user would read.
 */
import { describe, expect, it, test } from "vitest";
import { ago, doctorExitCode, type Check } from "../../src/doctor/check.js";
import { judgeClock } from "../../src/doctor/clock.js";
import { judgeDatabase, type DatabaseFacts } from "../../src/doctor/database.js";
import { failureAdvice, judgeControl, judgeDns, type ControlFacts, type DnsFacts } from "../../src/doctor/endpoints.js";
import { judgeFdLimit, judgeNodeVersion, parseOpenFilesLimit } from "../../src/doctor/runtime.js";
import { KNOWN_FAILURES } from "../../src/net/failures.js";

const NOW = new Date("2026-11-29T12:00:00Z");

describe("judgeNodeVersion", () => {
  test.each([
    ["20.18.0", ">=20.18", "ok"],
    ["20.20.2", ">=20.18", "ok"],
    ["22.1.0", ">=20.18", "ok"],
    ["20.17.9", ">=20.18", "fail"],
    ["18.20.4", ">=20.18", "fail"],
    ["v20.18.1", ">= 20.18.1", "ok"],
    ["20.18.0", ">=20.18.1", "fail"],
    ["20.18.0", "^20 || ^22", "ok"],
    ["20.18.0", undefined, "ok"],
  ] as const)("Node %s against %s -> %s", (version, engines, status) => {
    const c = judgeNodeVersion(version, engines);
    expect(c.status, c.message).toBe(status);
    if (status === "fail") expect(c.fix).toMatch(/install Node 20\.18/);
  });
});

describe("the open-file limit", () => {
  const LIMITS = "Limit                     Soft Limit           Hard Limit           Units     \nMax processes             96364                96364                processes \nMax open files            1024                 524288               files     \n";
  it("reads soft and hard from /proc/self/limits", () => {
    expect(parseOpenFilesLimit(LIMITS)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit("Max open files            unlimited            unlimited            files")).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFilesLimit("nothing here")).toBeNull();
  });
  test.each([
    [{ soft: 1024, hard: 524288 }, 16, "ok", null],
    [{ soft: 1024, hard: 524288 }, 512, "warn", /ulimit -n 4640.*--concurrency 110 or less/],
    [{ soft: 1024, hard: 2048 }, 512, "warn", /raise the hard limit .* to at least 4640/],
    [{ soft: Infinity, hard: Infinity }, 4096, "ok", null],
    [null, 16, "skip", null],
  ] as const)("%j at concurrency %i -> %s", (limit, concurrency, status, fix) => {
    const c = judgeFdLimit(limit, concurrency, 9);
    expect(c.status, c.message).toBe(status);
    if (fix) expect(c.fix).toMatch(fix);
  });
});

describe("judgeClock", () => {
  const floors = [{ what: "this reachprobe's release", at: new Date("2026-11-01T00:00:00Z") }];
  test.each([
    ["a sane clock", NOW, null, "ok", /looks right/],
    ["1970 (no battery, no NTP)", new Date(0), null, "warn", /1970-01-01 00:00 UTC, before this reachprobe's release.*not yet valid/],
    ["the year 2100", new Date("2100-01-01T00:00:00Z"), null, "warn", /more than 20 years after/],
    ["behind the last run", NOW, new Date("2026-11-29T13:00:00Z"), "warn", /earlier than the last run/],
    ["a minute behind the last run (another machine's clock)", NOW, new Date("2026-11-29T12:01:00Z"), "ok", /looks right/],
  ] as const)("%s -> %s", (_name, now, lastRunAt, status, message) => {
    const c = judgeClock({ now, floors, lastRunAt });
    expect(c.status, c.message).toBe(status);
    expect(c.message).toMatch(message);
    if (status === "warn") expect(c.fix).toMatch(/timedatectl set-ntp true/);
  });

  it("compares with the newest floor", () => {
    const c = judgeClock({ now: new Date("2025-06-01T00:00:00Z"), floors: [...floors.map((f) => ({ ...f, at: new Date("2024-01-01T00:00:00Z") })), { what: "the newest of Node's bundled CA certificates", at: new Date("2025-07-01T00:00:00Z") }] });
    expect(c.message).toMatch(/before the newest of Node's bundled CA certificates/);
  });
});

describe("judgeDatabase", () => {
  const file = (f: Partial<DatabaseFacts>): DatabaseFacts => ({
    path: "data/r.db",
    absolutePath: "/w/data/r.db",
    kind: "file",
    sizeBytes: 40960,
    writable: { file: true, dir: true },
    userVersion: 1,
    tables: ["measurements", "runs"],
    integrity: { pragma: "quick_check", problems: ["ok"] },
    journalMode: "wal",
    runs: { total: 3, last: { id: "r3", startedAt: "2026-11-29T09:00:00.000Z", finishedAt: "2026-11-29T09:01:00.000Z", state: "completed" }, running: [] },
    ...f,
  });
  const ctx = { currentVersion: 1, now: NOW };
  const line = (checks: Check[], id: string) => checks.find((c) => c.id === id);

  // [case, facts, id of the line, status, message, fix]
  const cases: Array<[string, DatabaseFacts, string, string, RegExp, RegExp | null]> = [
    ["absent, creatable (the default)", { path: "data/r.db", absolutePath: "/w/data/r.db", kind: "absent", createIn: { dir: "/w", isDir: true, writable: true }, isDefault: true }, "database", "ok", /will be created at \/w\/data\/r\.db by the first run/, null],
    ["absent, its directory too (not the default)", { path: "data/r.db", absolutePath: "/w/data/r.db", kind: "absent", createIn: { dir: "/w", isDir: true, writable: true } }, "database", "warn", /its directory \/w\/data does not exist: a run refuses it/, /mkdir -p \/w\/data.*--create-dirs/],
    ["absent, in an existing directory", { path: "r.db", absolutePath: "/w/r.db", kind: "absent", createIn: { dir: "/w", isDir: true, writable: true } }, "database", "ok", /will be created at \/w\/r\.db by the first run/, null],
    ["absent, read-only directory", { path: "data/r.db", absolutePath: "/w/data/r.db", kind: "absent", createIn: { dir: "/w", isDir: true, writable: false } }, "database", "fail", /\/w is not writable/, /--db PATH/],
    ["absent, a file in the way", { path: "data/r.db", absolutePath: "/w/data/r.db", kind: "absent", createIn: { dir: "/w/data", isDir: false, writable: false } }, "database", "fail", /\/w\/data is not a directory/, /--db PATH/],
    ["a directory", { path: "data", absolutePath: "/w/data", kind: "not-a-file" }, "database", "fail", /not a file/, /--db/],
    ["garbage bytes", file({ openError: { code: "SQLITE_NOTADB", message: "file is not a database" } }), "database", "fail", /not an SQLite database/, /mv data\/r\.db data\/r\.db\.broken/],
    ["corrupt", file({ openError: { code: "SQLITE_CORRUPT", message: "database disk image is malformed" } }), "database", "fail", /corrupt/, /\.recover/],
    ["busy", file({ openError: { code: "SQLITE_BUSY", message: "database is locked" } }), "database", "warn", /locked by another process/, /try again/],
    ["not writable", file({ writable: { file: false, dir: true } }), "database", "fail", /cannot be written: the file is not writable/, /chown/],
    ["healthy", file({}), "database", "ok", /data\/r\.db \(40\.0 KiB, opens read-only\)/, null],
    ["current schema", file({}), "database.schema", "ok", /schema version 1 \(current\)/, null],
    ["newer schema", file({ userVersion: 7 }), "database.schema", "fail", /schema version 7: made by a newer reachprobe \(this one knows versions up to 1\)/, /upgrade reachprobe/],
    ["an empty file", file({ userVersion: 0, tables: [], journalMode: "rollback", runs: undefined }), "database.schema", "ok", /empty database: the next run creates the tables/, null],
    ["no schema version but our tables", file({ userVersion: 0, tables: ["measurements", "runs"], ownership: { is: "adoptable" }, runs: undefined }), "database.schema", "warn", /may not be a reachprobe database/, /right file/],
    ["someone else's database", file({ userVersion: 0, tables: ["users"], ownership: { is: "foreign", message: "x.db is not a reachprobe database: it holds another application's tables (users) and none of reachprobe's; it was not changed. Name another file with --db." }, runs: undefined }), "database.schema", "fail", /^x\.db is not a reachprobe database: it holds another application's tables \(users\) and none of reachprobe's; it was not changed$/, /runs refuse this one/],
    ["tables missing", file({ tables: ["runs"] }), "database.schema", "fail", /measurements are missing/, /not a reachprobe database/],
    ["quick_check ok", file({}), "database.integrity", "ok", /quick_check: ok \(--full/, null],
    ["integrity_check ok", file({ integrity: { pragma: "integrity_check", problems: ["ok"] } }), "database.integrity", "ok", /^integrity_check: ok$/, null],
    ["damaged pages", file({ integrity: { pragma: "quick_check", problems: ["*** in database main ***\nPage 5: btreeInitPage() returns error code 11", "row 3 missing from index"] } }), "database.integrity", "fail", /found 2 problems/, /\.recover/],
    ["a check that cannot finish", file({ integrity: { pragma: "quick_check", error: { code: "SQLITE_CORRUPT", message: "database disk image is malformed" } } }), "database.integrity", "fail", /could not finish/, /backup/],
    ["WAL", file({}), "database.journal", "ok", /WAL mode/, null],
    ["not WAL", file({ journalMode: "rollback" }), "database.journal", "warn", /a rollback journal, not WAL/, /next run switches it to WAL/],
    ["the last run", file({}), "database.runs", "ok", /3 runs; the last started 2026-11-29 09:00 UTC \(3 h ago\) and is completed/, null],
    ["no runs", file({ runs: { total: 0, last: null, running: [] } }), "database.runs", "ok", /no runs yet/, null],
    ["a failed last run", file({ runs: { total: 1, last: { id: "a", startedAt: "2026-11-29T09:00:00Z", finishedAt: null, state: "failed" }, running: [] } }), "database.runs", "warn", /is failed/, /--log-level debug/],
    [
      "runs stuck with dead pids",
      file({ runs: { total: 3, last: null, running: [{ id: "a", startedAt: "x", finishedAt: null, state: "running", pid: 11, alive: false }, { id: "b", startedAt: "x", finishedAt: null, state: "running", pid: 12, alive: false }] } }),
      "database.runs",
      "warn",
      /2 runs stuck in 'running' whose process is gone \(pid 11, 12\)/,
      /next run marks them interrupted/,
    ],
    ["a run in progress", file({ runs: { total: 1, last: null, running: [{ id: "a", startedAt: "x", finishedAt: null, state: "running", pid: 11, alive: true }] } }), "database.runs", "ok", /1 run in progress \(pid 11\)/, null],
    ["another machine's run", file({ runs: { total: 1, last: null, running: [{ id: "a", startedAt: "x", finishedAt: null, state: "running", pid: 11, alive: null }] } }), "database.runs", "ok", /another machine/, null],
  ];
  test.each(cases)("%s", (_name, facts, id, status, message, fix) => {
    const checks = judgeDatabase(facts, ctx);
    const c = line(checks, id);
    expect(c, `no ${id} line in ${JSON.stringify(checks)}`).toBeDefined();
    expect(c!.status, c!.message).toBe(status);
    expect(c!.message).toMatch(message);
    if (fix) expect(c!.fix).toMatch(fix);
    else expect(c!.fix).toBeUndefined();
  });

  it("says an older schema will be upgraded by the next run", () => {
    const c = line(judgeDatabase(file({ userVersion: 1 }), { currentVersion: 2, now: NOW }), "database.schema")!;
    expect(c.status).toBe("warn");
    expect(c.message).toMatch(/older than this reachprobe's 2: it will be upgraded by the next run/);
  });

  it("stops after the file line when the file cannot be read", () => {
    expect(judgeDatabase(file({ openError: { code: "SQLITE_NOTADB", message: "x" } }), ctx).map((c) => c.id)).toEqual(["database"]);
  });

  it("says nothing of journal and runs for an empty file", () => {
    expect(judgeDatabase(file({ userVersion: 0, tables: [], journalMode: "rollback", runs: undefined }), ctx).map((c) => c.id)).toEqual(["database", "database.schema", "database.integrity"]);
  });
});

describe("judgeControl", () => {
  const base: ControlFacts = { url: "http://127.0.0.1:9/", tokenGiven: true, timeoutMs: 2000, health: { status: 200, body: { ok: true, version: "0.1.0" }, latencyMs: 3.2 }, auth: { status: 400 } };
  test.each([
    ["a reachprobe helper that takes the token", {}, "ok", /reachprobe control 0\.1\.0, token accepted, in 3 ms/, null],
    ["no token needed", { tokenGiven: false }, "ok", /no token needed/, null],
    ["a newer helper", { health: { status: 200, body: { ok: true, version: "0.2.0" }, latencyMs: 3 } }, "ok", /0\.2\.0 \(this reachprobe is 0\.1\.0\)/, null],
    ["a wrong token", { auth: { status: 401 } }, "fail", /refuses requests \(HTTP 401\): token wrong/, /token is wrong/],
    ["a missing token", { tokenGiven: false, auth: { status: 401 } }, "fail", /token missing/, /pass --control-token/],
    ["GET / itself refused", { health: { status: 401, body: null, latencyMs: 1 } }, "fail", /HTTP 401/, /token/],
    ["OONI's helper (no health answer)", { health: { status: 404, body: null, latencyMs: 5 } }, "warn", /not as reachprobe's helper/, /OONI/],
    ["not a helper at all", { health: { status: 200, body: null, latencyMs: 5 }, auth: { status: 405 } }, "fail", /not a control helper/, /POST \//],
    ["busy", { auth: { status: 503 } }, "warn", /busy/, /--max-concurrent/],
    ["nothing listening", { health: { failure: "connection_refused", latencyMs: 1 }, auth: undefined }, "fail", /nothing listens there/, /running/],
    ["a timeout", { health: { failure: "generic_timeout_error", latencyMs: 2000 }, auth: undefined }, "fail", /no answer within 2000 ms/, /censors block controls too/],
    ["an untrusted certificate", { health: { failure: "ssl_unknown_authority", latencyMs: 1 }, auth: undefined }, "fail", /not trust/, /NODE_EXTRA_CA_CERTS/],
  ] as const)("%s -> %s", (_name, change, status, message, fix) => {
    const c = judgeControl({ ...base, ...(change as Partial<ControlFacts>) }, "0.1.0");
    expect(c.status, c.message).toBe(status);
    expect(c.message).toMatch(message);
    if (fix) expect(c.fix).toMatch(fix);
    else expect(c.fix).toBeUndefined();
  });
});

describe("judgeDns", () => {
  const base: DnsFacts = { kind: "resolver", server: "127.0.0.1:53", name: "example.com", timeoutMs: 1000, latencyMs: 4, rcode: "NOERROR", addresses: ["192.0.2.1"], failure: null };
  test.each([
    ["an answer", {}, "ok", /resolver 127\.0\.0\.1:53: answered example\.com A with 192\.0\.2\.1 in 4 ms/],
    ["NXDOMAIN (the server works)", { rcode: "NXDOMAIN", addresses: [], failure: "dns_nxdomain_error" }, "ok", /NXDOMAIN: example\.com does not exist there, but the server works/],
    ["SERVFAIL", { rcode: "SERVFAIL", addresses: [], failure: "dns_servfail_error" }, "warn", /answers, but with SERVFAIL/],
    ["REFUSED", { rcode: "REFUSED", addresses: [], failure: "dns_refused_error" }, "warn", /REFUSED/],
    ["no answer", { rcode: null, addresses: [], failure: "generic_timeout_error" }, "fail", /no answer within 1000 ms/],
    ["ICMP port unreachable", { rcode: null, addresses: [], failure: "connection_refused" }, "fail", /nothing listens/],
    ["garbage", { rcode: null, addresses: [], failure: "unknown_failure: malformed dns response (undecodable (24 bytes))" }, "fail", /not DNS/],
    ["a DoH 404", { kind: "doh", server: "https://127.0.0.1:1/x", rcode: null, addresses: [], failure: "http_request_failed" }, "fail", /DoH https:\/\/127\.0\.0\.1:1\/x: it answered with an HTTP error/],
  ] as const)("%s -> %s", (_name, change, status, message) => {
    const c = judgeDns({ ...base, ...(change as Partial<DnsFacts>) });
    expect(c.status, c.message).toBe(status);
    expect(c.message).toMatch(message);
    expect(c.id).toBe((change as Partial<DnsFacts>).kind ?? "resolver");
    if (status !== "ok") expect(c.fix).toBeTruthy();
  });
});

describe("failureAdvice", () => {
  it("says something and suggests something for every known failure", () => {
    for (const f of KNOWN_FAILURES) {
      const a = failureAdvice(f, 1000);
      expect(a.meaning.length, f).toBeGreaterThan(0);
      expect(a.fix.length, f).toBeGreaterThan(0);
    }
  });
});

describe("the exit code and the wording of times", () => {
  const c = (status: Check["status"]): Check => ({ id: "x", status, message: "" });
  test.each([
    [[], 0],
    [[c("ok"), c("skip")], 0],
    [[c("ok"), c("warn")], 0],
    [[c("warn"), c("fail")], 1],
  ] as const)("%j -> %i", (checks, code) => expect(doctorExitCode(checks)).toBe(code));

  test.each([
    [new Date("2026-11-29T11:59:30Z"), "just now"],
    [new Date("2026-11-29T11:10:00Z"), "50 min ago"],
    [new Date("2026-11-28T12:00:00Z"), "24 h ago"],
    [new Date("2026-11-20T12:00:00Z"), "9 days ago"],
    [new Date("2026-11-29T13:00:00Z"), "in the future"],
  ])("%s is %s", (then, text) => expect(ago(then, NOW)).toBe(text));
});
