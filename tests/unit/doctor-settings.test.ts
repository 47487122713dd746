/** Which settings the doctor checks: flags and environment over the config file over defaults, as a run. */
import { describe, expect, it, test } from "vitest";
import { judgeConfig, mergeConfig, type SharedSettings } from "../../src/doctor/settings.js";

const defaults: SharedSettings = { db: "data/reachprobe.db", doh: [], resolver: [], concurrency: 16, timeout: 10000 };
const file = [
  { key: "db", value: "/etc/reachprobe/results.db" },
  { key: "resolver", value: [{ host: "192.0.2.53", port: 53 }] },
  { key: "control", value: "https://control.example/" },
  { key: "concurrency", value: 64 },
  { key: "list", value: "wechat" },
];

describe("mergeConfig", () => {
  it("takes the file's values where only defaults stood, and ignores keys the doctor has no use for", () => {
    const { settings, fromFile } = mergeConfig(defaults, (k) => (k === "db" || k === "concurrency" || k === "timeout" ? "default" : undefined), file);
    expect(settings).toEqual({ ...defaults, db: "/etc/reachprobe/results.db", resolver: [{ host: "192.0.2.53", port: 53 }], control: "https://control.example/", concurrency: 64 });
    expect(fromFile).toEqual(["db", "resolver", "control", "concurrency"]);
  });

  test.each(["cli", "env"])("a value from the %s wins over the file", (source) => {
    const flags = { ...defaults, db: "mine.db", control: "http://127.0.0.1:1/" };
    const { settings, fromFile } = mergeConfig(flags, (k) => (k === "db" || k === "control" ? source : undefined), file);
    expect(settings.db).toBe("mine.db");
    expect(settings.control).toBe("http://127.0.0.1:1/");
    expect(fromFile).toEqual(["resolver", "concurrency"]);
  });

  it("changes nothing without a file", () => {
    expect(mergeConfig(defaults, () => "default", [])).toEqual({ settings: defaults, fromFile: [] });
  });
});

describe("judgeConfig", () => {
  test.each([
    [{ kind: "none" as const }, "ok", /no config file/],
    [{ kind: "disabled" as const }, "ok", /--no-config/],
    [{ kind: "unreadable" as const, problem: "x.json: no such config file (REACHPROBE_CONFIG is set)" }, "fail", /no such config file/],
    [{ kind: "read" as const, path: "reachprobe.config.json", origin: "default", keys: ["db", "list"], fromFile: ["db"], problems: [] }, "ok", /reachprobe\.config\.json \(default\): 2 keys; checking with its db$/],
    [{ kind: "read" as const, path: "c.json", origin: "--config", keys: [], fromFile: [], problems: ['c.json: unknown key "timout" (did you mean "timeout"?)', "c.json: x"] }, "fail", /2 problems in the config file: .*timout.* \(and more\)/],
  ])("%j -> %s", (outcome, status, message) => {
    const c = judgeConfig(outcome);
    expect(c.status).toBe(status);
    expect(c.message).toMatch(message);
    if (status === "fail") expect(c.fix).toMatch(/reachprobe run/);
  });
});
