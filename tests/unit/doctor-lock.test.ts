/**
 * The run lock as runs and the doctor read it (src/store/lock.ts, the one reader): parsed
 * defensively, judged by pid and start time here and by lease for another host, and put in
 * plain words by the doctor, which must agree with what a run would do.
 */
import { describe, expect, it, test } from "vitest";
import { judgeLock, looksLikeReachprobe, type LockInput } from "../../src/doctor/lock.js";
import { canTakeOver, judgeLockFile, LEASE_S, parseLock, type HostView } from "../../src/store/lock.js";

const HERE = "aaaaaaaaaaaa";
const NOW = new Date("2026-11-29T12:00:00Z");
const fresh = NOW.getTime() - 5_000;
const old = NOW.getTime() - (LEASE_S + 60) * 1000;

describe("parseLock", () => {
  const cases: Array<[string, string, { pid?: number; hostname_hash?: string | null; reason?: RegExp }]> = [
    ["the documented shape", `{"pid":123,"hostname_hash":"${HERE}","started_at":"2026-11-29T11:00:00.000Z","proc_start":98765,"nonce":"0f1e2d3c-aaaa","lease_s":300}`, { pid: 123, hostname_hash: HERE }],
    ["extra fields from a newer reachprobe", `{"pid":5,"hostname_hash":"b","started_at":"x","proc_start":"y","argv":["run"]}`, { pid: 5, hostname_hash: "b" }],
    ["a pid written as a string", `{"pid":"77"}`, { reason: /no valid pid/ }],
    ["no hostname_hash (an older reachprobe)", `{"pid":9,"started_at":"2026-11-29T11:00:00Z"}`, { pid: 9, hostname_hash: null }],
    ["an empty file", "", { reason: /empty/ }],
    ["whitespace only", "  \n", { reason: /empty/ }],
    ["cut short", `{"pid":12`, { reason: /not JSON/ }],
    ["not JSON", "pid=123", { reason: /not JSON/ }],
    ["a JSON array", "[123]", { reason: /not a JSON object/ }],
    ["no pid", `{"hostname_hash":"x"}`, { reason: /no valid pid/ }],
    ["pid 0", `{"pid":0}`, { reason: /no valid pid/ }],
    ["a negative pid", `{"pid":-1}`, { reason: /no valid pid/ }],
    ["a fractional pid", `{"pid":1.5}`, { reason: /no valid pid/ }],
  ];
  test.each(cases)("%s", (_name, text, want) => {
    const r = parseLock(text);
    if (want.reason) {
      expect(r.ok, JSON.stringify(r)).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(want.reason);
    } else {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      if (r.ok) expect({ pid: r.lock.pid, hostname_hash: r.lock.hostname_hash }).toEqual({ pid: want.pid, hostname_hash: want.hostname_hash });
    }
  });

  it("keeps a numeric started_at as an ISO time, and ignores an absurd lease", () => {
    const r = parseLock(`{"pid":1,"started_at":${Date.parse("2026-11-29T11:00:00Z")},"lease_s":1e12}`);
    expect(r.ok && r.lock.started_at).toBe("2026-11-29T11:00:00.000Z");
    expect(r.ok && r.lock.lease_s).toBe(null);
  });
});

describe("judgeLockFile: what every run decides", () => {
  const alive = new Set([100]);
  const host = (procStart: number | null = null): HostView => ({ hostHash: HERE, isAlive: (pid) => alive.has(pid), procStartOf: () => procStart, nowMs: NOW.getTime() });
  const lock = (pid: number, hostHash: string | null, extra: object = {}) => JSON.stringify({ pid, hostname_hash: hostHash, started_at: "2026-11-29T11:00:00.000Z", ...extra });
  // [case, text, mtime, expected state, taken over]
  const cases: Array<[string, string, number, string, boolean]> = [
    ["this host, live pid", lock(100, HERE), old, "live", false],
    ["this host, dead pid", lock(200, HERE), fresh, "stale", true],
    ["no host (older file), live pid", lock(100, null), old, "live", false],
    ["no host (older file), dead pid", lock(200, null), fresh, "stale", true],
    ["another host, renewed 5 s ago", lock(100, "bbbbbbbbbbbb"), fresh, "foreign", false],
    ["another host, not renewed for longer than the lease", lock(200, "bbbbbbbbbbbb"), old, "expired", true],
    ["another host with its own longer lease", lock(200, "bbbbbbbbbbbb", { lease_s: 3600 }), old, "foreign", false],
    ["another host, its clock ahead of ours", lock(200, "bbbbbbbbbbbb"), NOW.getTime() + 600_000, "foreign", false],
    ["an empty file changed 5 s ago (a run may be writing it)", "", fresh, "invalid", false],
    ["an empty file unchanged for longer than the lease", "", old, "invalid", true],
    ["pid 0, fresh: never a live process, but not taken over at once either", '{"pid":0}', fresh, "invalid", false],
    ["pid 0, old", '{"pid":0}', old, "invalid", true],
    ["a lock cut short, fresh", '{"pid":100,"host', fresh, "invalid", false],
  ];
  test.each(cases)("%s -> %s", (_name, text, mtimeMs, state, takeover) => {
    const j = judgeLockFile({ text, mtimeMs }, host());
    expect(j.state).toBe(state);
    expect(canTakeOver(j)).toBe(takeover);
  });

  // [written proc_start, the pid's start time now, expected state]
  const starts: Array<[number | null, number | null, string]> = [
    [5000, 5000, "live"],
    [5000, 9000, "reused"],
    [5000, null, "live"],
    [null, 9000, "live"],
  ];
  test.each(starts)("a live pid with proc_start %s, started %s now -> %s", (written, now, state) => {
    expect(judgeLockFile({ text: lock(100, HERE, { proc_start: written }), mtimeMs: fresh }, host(now)).state).toBe(state);
  });

  it("never asks about the pid of another machine's lock", () => {
    const asked: number[] = [];
    judgeLockFile({ text: lock(1, "other"), mtimeMs: old }, { ...host(), isAlive: (p) => (asked.push(p), true) });
    expect(asked).toEqual([]);
  });
});

describe("judgeLock: the doctor's words for the same judgement", () => {
  const base: LockInput = { path: "/db.lock", file: undefined, hostHash: HERE, isAlive: (pid) => pid === 100 || pid === 300, commandOf: (pid) => (pid === 100 ? "node /opt/reachprobe/dist/cli/main.js run" : pid === 300 ? "/usr/sbin/sshd -D" : null), now: NOW };
  const lockFile = (pid: number, startedAt = "2026-11-29T11:00:00.000Z", host = HERE, mtimeMs = fresh) => ({ text: JSON.stringify({ pid, hostname_hash: host, started_at: startedAt, proc_start: 1 }), mtimeMs });
  const cases: Array<[string, Partial<LockInput>, string, RegExp, RegExp | null]> = [
    ["no lock file", {}, "ok", /no lock/, null],
    ["a live run", { file: lockFile(100) }, "ok", /held by pid 100 \(node .*main\.js run\) since 2026-11-29 11:00 UTC \(1 h ago\)/, null],
    ["a stale lock", { file: lockFile(200) }, "warn", /stale lock: pid 200 took it 2026-11-29 11:00 UTC \(1 h ago\) and is no longer running/, /next run takes it over.*rm \/db\.lock/],
    ["another machine's lock, renewed", { file: lockFile(100, undefined, "bbbbbbbbbbbb") }, "warn", /another machine.*renewed 5 s ago/, /not renewed for 5 min the next run takes it over.*rm \/db\.lock/],
    ["another machine's lock, lease over", { file: lockFile(100, undefined, "bbbbbbbbbbbb", old) }, "warn", /stale lock from another machine .*not renewed for 6 min, longer than its 5 min lease/, /next run takes it over/],
    ["a live pid that another process reuses", { file: lockFile(100), procStartOf: () => 2 }, "warn", /stale lock: pid 100 took it .*, but that pid now belongs to another process/, /next run takes it over/],
    ["a live pid that is not reachprobe", { file: lockFile(300) }, "warn", /sshd.*not reachprobe/, /rm \/db\.lock/],
    ["a run holding it for two days", { file: lockFile(100, "2026-11-27T12:00:00.000Z") }, "warn", /probably stuck/, /kill 100/],
    ["garbage, just written", { file: { text: "\u0000\u0001garbage", mtimeMs: fresh } }, "warn", /not a lock reachprobe can read: the file is not JSON/, /treats it as held until it is unchanged for 5 min; .*rm \/db\.lock/],
    ["garbage, old", { file: { text: "\u0000\u0001garbage", mtimeMs: old } }, "warn", /not a lock reachprobe can read/, /^nothing to do: the next run takes it over \(or remove it now: rm \/db\.lock\)/],
    ["pid 0: a run holds off as it does for any unreadable lock", { file: { text: '{"pid":0}', mtimeMs: fresh } }, "warn", /no valid pid/, /treats it as held until .*rm \/db\.lock/],
    ["an unreadable file", { file: { code: "EACCES", message: "permission denied" } }, "warn", /cannot be read/, /permissions/],
  ];
  test.each(cases)("%s", (_name, input, status, message, fix) => {
    const c = judgeLock({ ...base, ...input });
    expect(c.status, c.message).toBe(status);
    expect(c.message).toMatch(message);
    if (fix) expect(c.fix).toMatch(fix);
    else expect(c.fix).toBeUndefined();
  });
});

describe("looksLikeReachprobe", () => {
  test.each([
    ["node /usr/lib/node_modules/reachprobe/dist/cli/main.js run", true],
    ["/usr/bin/nodejs main.js", true],
    ["reachprobe run", true],
    ["/usr/sbin/sshd -D", false],
    ["nodemanager", false],
  ])("%s -> %s", (cmd, want) => expect(looksLikeReachprobe(cmd)).toBe(want));
});
