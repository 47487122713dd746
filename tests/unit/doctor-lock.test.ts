/** The run lock as the doctor reads it: parsed defensively, classified as a run would, judged in plain words. */
import { describe, expect, it, test } from "vitest";
import { classifyLock, judgeLock, looksLikeReachprobe, parseLock, type LockInput } from "../../src/doctor/lock.js";

const HERE = "aaaaaaaaaaaa";
const NOW = new Date("2026-11-29T12:00:00Z");

describe("parseLock", () => {
  const cases: Array<[string, string, { pid?: number; hostnameHash?: string | null; reason?: RegExp }]> = [
    ["the documented shape", `{"pid":123,"hostname_hash":"${HERE}","started_at":"2026-11-29T11:00:00.000Z","proc_start":98765}`, { pid: 123, hostnameHash: HERE }],
    ["extra fields from a newer reachprobe", `{"pid":5,"hostname_hash":"b","started_at":"x","proc_start":"y","argv":["run"]}`, { pid: 5, hostnameHash: "b" }],
    ["a pid written as a string (a run treats it as garbage too)", `{"pid":"77"}`, { reason: /no valid pid/ }],
    ["no hostname_hash", `{"pid":9,"started_at":"2026-11-29T11:00:00Z"}`, { pid: 9, hostnameHash: null }],
    ["an empty file", "", { reason: /empty/ }],
    ["whitespace only", "  \n", { reason: /empty/ }],
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
      if (r.ok) expect({ pid: r.lock.pid, hostnameHash: r.lock.hostnameHash }).toEqual({ pid: want.pid, hostnameHash: want.hostnameHash });
    }
  });

  it("keeps a numeric started_at as an ISO time", () => {
    const r = parseLock(`{"pid":1,"started_at":${Date.parse("2026-11-29T11:00:00Z")}}`);
    expect(r.ok && r.lock.startedAt).toBe("2026-11-29T11:00:00.000Z");
  });
});

describe("classifyLock", () => {
  const alive = new Set([100]);
  const isAlive = (pid: number) => alive.has(pid);
  // [lock host hash, pid, expected state]
  const cases: Array<[string | null, number, string]> = [
    [HERE, 100, "live"],
    [HERE, 200, "stale"],
    [null, 100, "live"],
    [null, 200, "stale"],
    ["bbbbbbbbbbbb", 100, "foreign"],
    ["bbbbbbbbbbbb", 200, "foreign"],
  ];
  test.each(cases)("host %s, pid %i -> %s", (host, pid, state) => {
    expect(classifyLock({ pid, hostnameHash: host, startedAt: null, procStart: null }, HERE, isAlive)).toBe(state);
  });

  // [written proc_start, the pid's start time now, expected state]
  const starts: Array<[number | null, number | null, string]> = [
    [5000, 5000, "live"],
    [5000, 9000, "reused"],
    [5000, null, "live"],
    [null, 9000, "live"],
  ];
  test.each(starts)("a live pid with proc_start %s, started %s now -> %s", (written, now, state) => {
    expect(classifyLock({ pid: 100, hostnameHash: HERE, startedAt: null, procStart: written }, HERE, isAlive, () => now)).toBe(state);
  });

  it("never asks about the pid of another machine's lock", () => {
    const asked: number[] = [];
    classifyLock({ pid: 1, hostnameHash: "other", startedAt: null, procStart: null }, HERE, (p) => (asked.push(p), true));
    expect(asked).toEqual([]);
  });
});

describe("judgeLock", () => {
  const base: LockInput = { path: "/db.lock", file: undefined, hostHash: HERE, isAlive: (pid) => pid === 100 || pid === 300, commandOf: (pid) => (pid === 100 ? "node /opt/reachprobe/dist/cli/main.js run" : pid === 300 ? "/usr/sbin/sshd -D" : null), now: NOW };
  const lockText = (pid: number, startedAt = "2026-11-29T11:00:00.000Z", host = HERE) => ({ text: JSON.stringify({ pid, hostname_hash: host, started_at: startedAt, proc_start: 1 }) });
  const cases: Array<[string, Partial<LockInput>, string, RegExp, RegExp | null]> = [
    ["no lock file", {}, "ok", /no lock/, null],
    ["a live run", { file: lockText(100) }, "ok", /held by pid 100 \(node .*main\.js run\) since 2026-11-29 11:00 UTC \(1 h ago\)/, null],
    ["a stale lock", { file: lockText(200) }, "warn", /stale lock: pid 200 took it 2026-11-29 11:00 UTC \(1 h ago\) and is no longer running/, /next run takes it over.*rm \/db\.lock/],
    ["another machine's lock", { file: lockText(100, undefined, "bbbbbbbbbbbb") }, "warn", /another machine/, /rm \/db\.lock/],
    ["a live pid that another process reuses", { file: lockText(100), procStartOf: () => 2 }, "warn", /stale lock: pid 100 took it .*, but that pid now belongs to another process/, /next run takes it over/],
    ["a live pid that is not reachprobe", { file: lockText(300) }, "warn", /sshd.*not reachprobe/, /rm \/db\.lock/],
    ["a run holding it for two days", { file: lockText(100, "2026-11-27T12:00:00.000Z") }, "warn", /probably stuck/, /kill 100/],
    ["garbage", { file: { text: "\u0000\u0001garbage" } }, "warn", /not a lock reachprobe can read: the file is not JSON/, /the next run replaces it \(or remove it now: rm \/db\.lock\)/],
    ["pid 0, which a run cannot tell from a live process", { file: { text: '{"pid":0}' } }, "warn", /no valid pid/, /^if no reachprobe run is going on .*rm \/db\.lock/],
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
