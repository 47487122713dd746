/**
 * Checking reachprobe.config.json: JSON syntax with line and column, unknown keys with a
 * suggestion, each key's types, values checked by the real `reachprobe run` flag parsers,
 * every problem reported at once, and relative paths resolved against the file's folder.
 */
import { describe, expect, it } from "vitest";
import { runOptions } from "../../src/cli/run-options.js";
import { ConfigError } from "../../src/config/errors.js";
import { CONFIG_KEYS, suggestKey, type ConfigKey } from "../../src/config/keys.js";
import { parseConfigText, type LoadedConfig } from "../../src/config/read.js";

const FILE = "reachprobe.config.json";
const DIR = "/etc/reachprobe";

function load(doc: unknown): LoadedConfig {
  return parseConfigText(typeof doc === "string" ? doc : JSON.stringify(doc, null, 2), FILE, runOptions(), DIR);
}

/** The problems a config text has; fails the test when it has none. */
function problems(doc: unknown): readonly string[] {
  try {
    load(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("E_USAGE"); // exit code 2, like a bad flag
    return (err as ConfigError).problems;
  }
  throw new Error(`expected ConfigError for ${JSON.stringify(doc)}, the file was accepted`);
}

function valueOf(cfg: LoadedConfig, key: ConfigKey): unknown {
  return cfg.settings.find((s) => s.key === key)?.value;
}

describe("a valid config file", () => {
  const cfg = load({
    $schema: "https://example.invalid/reachprobe.schema.json",
    targets: ["weixin.qq.com", "tcp://long.weixin.qq.com:8080"],
    list: "wechat",
    file: ["lists/mine.txt", "/abs/other.json"],
    db: "results.db",
    createDirs: true,
    metrics: "reachprobe.prom",
    store: false,
    control: "https://control.example/",
    controlToken: "s3cret",
    doh: ["https://doh.example/dns-query"],
    resolver: ["192.0.2.53", "[2001:db8::53]:5353"],
    dnsControl: false,
    systemResolver: false,
    timeout: 5000,
    budget: 30000,
    concurrency: 8,
    dnsWindow: 0,
    maxAddresses: 2,
    maxBody: 65536,
    bodySample: 32768,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/150.0.0.0",
    sniSwap: "Innocuous.Example.",
    hostSwap: "www.example.org",
    swap: false,
    publicRanges: ["192.0.2.0/24", "198.51.100.0/24"],
    fingerprints: "bundled,ooni:fp,extra.csv",
    canary: "https://example.com/",
    networkLabel: "Rostelecom Moscow",
    asnDb: "asn.mmdb",
    category: ["messaging"],
    quiet: true,
    notice: false,
    logLevel: "info",
    wait: 120,
    push: true,
    pushTo: "https://collector.example:8443",
    pushTokenFile: "token",
  });

  it("keeps every key but $schema, in file order", () => {
    expect(cfg.settings.map((s) => s.key)).toEqual(Object.keys(CONFIG_KEYS));
  });

  it("gives each value as the flag's parser does", () => {
    expect(valueOf(cfg, "timeout")).toBe(5000);
    expect(valueOf(cfg, "dnsWindow")).toBe(0);
    expect(valueOf(cfg, "resolver")).toEqual([
      { host: "192.0.2.53", port: 53 },
      { host: "2001:db8::53", port: 5353 },
    ]);
    expect(valueOf(cfg, "doh")).toEqual(["https://doh.example/dns-query"]);
    expect(valueOf(cfg, "store")).toBe(false);
    expect(valueOf(cfg, "canary")).toBe("https://example.com/");
    expect(valueOf(cfg, "publicRanges")).toBe("192.0.2.0/24,198.51.100.0/24");
    expect(valueOf(cfg, "networkLabel")).toBe("Rostelecom Moscow");
    expect(valueOf(cfg, "wait")).toBe(120);
    expect(valueOf(cfg, "userAgent")).toBe("Mozilla/5.0 (X11; Linux x86_64) Chrome/150.0.0.0");
    expect(valueOf(cfg, "targets")).toEqual(["weixin.qq.com", "tcp://long.weixin.qq.com:8080"]);
    expect([valueOf(cfg, "sniSwap"), valueOf(cfg, "hostSwap"), valueOf(cfg, "swap")]).toEqual(["innocuous.example", "www.example.org", false]);
  });

  it("resolves relative paths against the config file's folder, not the working directory", () => {
    expect(valueOf(cfg, "file")).toEqual(["/etc/reachprobe/lists/mine.txt", "/abs/other.json"]);
    expect(valueOf(cfg, "db")).toBe("/etc/reachprobe/results.db");
    expect(valueOf(cfg, "asnDb")).toBe("/etc/reachprobe/asn.mmdb");
    expect(valueOf(cfg, "fingerprints")).toBe("bundled,ooni:/etc/reachprobe/fp,/etc/reachprobe/extra.csv");
  });

  it("takes a single path for file, canary false, wait true or false, and an empty object", () => {
    const one = load({ file: "t.txt", canary: false, wait: true });
    expect(valueOf(one, "file")).toEqual(["/etc/reachprobe/t.txt"]);
    expect(valueOf(one, "canary")).toBe(false);
    expect(valueOf(one, "wait")).toBe(true);
    expect(load({ wait: false }).settings).toEqual([{ key: "wait", json: false, value: undefined }]);
    expect(load("{}").settings).toEqual([]);
    expect(load("\uFEFF{ }\n").settings).toEqual([]);
  });
});

describe("wrong types and values name the key", () => {
  // [key, value, the problem (after "reachprobe.config.json: ")]
  const cases: Array<[string, unknown, string | RegExp]> = [
    ["timeout", "10 parsecs", /^"timeout" must be a duration from 1ms to 10m, such as 5s, 1500ms or 2m \(a bare number is milliseconds\), got "10 parsecs"$/],
    ["timeout", 0, /^"timeout" must be a duration from 1ms to 10m, .*got 0$/],
    ["timeout", 1.5, /^"timeout" must be a duration .*got 1\.5$/],
    ["timeout", true, /^"timeout" must be a duration such as "5s" or "1500ms", or a number in the flag's unit, got true$/],
    ["budget", -1, /^"budget" must be a duration from 1ms to 1h, .*got -1$/],
    ["concurrency", 5000, '"concurrency" must be a whole number from 1 to 4096, got 5000'],
    ["dnsWindow", 60001, /^"dnsWindow" must be a duration from 0s to 1m, .*got 60001$/],
    ["maxAddresses", 0, '"maxAddresses" must be a whole number from 1 to 64, got 0'],
    ["maxBody", [1], '"maxBody" must be a number, got [1]'],
    ["store", "no", '"store" must be true or false, got "no"'],
    ["systemResolver", 0, '"systemResolver" must be true or false, got 0'],
    ["quiet", "yes", '"quiet" must be true or false, got "yes"'],
    ["notice", null, '"notice" must be true or false, got null (leave the key out for the default)'],
    ["db", 5, '"db" must be a string, got 5'],
    ["db", "  ", '"db" must not be empty'],
    ["list", ["wechat"], '"list" must be a string, got ["wechat"]'],
    ["control", "ftp://x.example/", '"control" must be an http(s) URL, got "ftp://x.example/"'],
    ["control", "not a url", '"control" must be a URL such as https://control.example/, got "not a url"'],
    ["controlToken", 123, '"controlToken" must be a string, got 123'],
    ["doh", "https://doh.example/dns-query", '"doh" must be an array of strings, such as ["https://doh.example/dns-query"], got "https://doh.example/dns-query"'],
    ["doh", ["https://ok.example/", "gopher://x/"], '"doh"[1] must be an https URL, got "gopher://x/"'],
    ["resolver", ["192.0.2.1:99999"], /^"resolver"\[0\] must be IP or IP:PORT .*got "192\.0\.2\.1:99999"$/],
    ["resolver", [53], '"resolver"[0] must be a string, got 53'],
    ["targets", ["ok.example", "bad host"], '"targets"[1]: "bad host" contains whitespace (one target per entry)'],
    ["targets", "weixin.qq.com", '"targets" must be an array of strings, such as ["weixin.qq.com"], got "weixin.qq.com"'],
    ["file", 7, '"file" must be a path or an array of paths, got 7'],
    ["file", ["a.txt", ""], '"file"[1] must not be empty'],
    ["publicRanges", "192.0.2.0/33", /^"publicRanges": invalid CIDR "192\.0\.2\.0\/33": prefix length/],
    ["publicRanges", 24, /^"publicRanges" must be a string or an array of strings/],
    ["canary", true, '"canary" must be a target (a string) or false, got true'],
    ["wait", "soon", '"wait" must be true, false, a duration such as "30m" or a number of seconds, not "soon"'],
    ["wait", [30], '"wait" must be true, false, a duration such as "30m" or a number of seconds, got [30]'],
    ["wait", "2d", /^"wait" must be a duration from 1s to 1d/],
    ["canary", "ftp://x", /^"canary": "ftp:\/\/x" has an unknown scheme "ftp"/],
    ["networkLabel", "a\nb", '"networkLabel" must be 1 to 100 printable characters, got "a\\nb"'],
    ["networkLabel", "x".repeat(101), /^"networkLabel" must be 1 to 100 printable characters/],
    ["logLevel", "verbose", '"logLevel" must be one of fatal, error, warn, info, debug, trace, silent; got "verbose"'],
    ["wait", 0, '"wait" must be a duration from 1s to 1d, such as 30s, 5m or 1h (a bare number is seconds), got 0'],
    ["category", [1], '"category"[0] must be a string, got 1'],
    ["asnDb", false, '"asnDb" must be a string, got false'],
    ["sniSwap", "192.0.2.1", '"sniSwap" must be a host name, not an IP address (an SNI cannot carry one), got "192.0.2.1"'],
    ["hostSwap", "bad_name.example", '"hostSwap" must be a host name such as example.com: letters, digits, hyphens and dots only, got "bad_name.example"'],
    ["swap", "no", '"swap" must be true or false, got "no"'],
  ];
  for (const [key, value, expected] of cases) {
    it(`${key}: ${JSON.stringify(value)}`, () => {
      const found = problems({ [key]: value });
      expect(found).toHaveLength(1);
      const text = found[0]!;
      expect(text.startsWith(`${FILE}: `), text).toBe(true);
      const problem = text.slice(FILE.length + 2);
      if (typeof expected === "string") expect(problem).toBe(expected);
      else expect(problem).toMatch(expected);
    });
  }
});

describe("unknown keys", () => {
  it("are errors with a suggestion", () => {
    expect(problems({ timout: 10 })).toEqual([`${FILE}: unknown key "timout" (did you mean "timeout"?)`]);
  });

  const suggestions: Array<[string, string]> = [
    ["timout", ' (did you mean "timeout"?)'],
    ["TimeOut", ' (did you mean "timeout"?)'],
    ["dns-window", ' (did you mean "dnsWindow"?)'],
    ["--max-body", ' (did you mean "maxBody"?)'],
    ["max_addresses", ' (did you mean "maxAddresses"?)'],
    ["no-store", ' (did you mean "store": false?)'],
    ["noSystemResolver", ' (did you mean "systemResolver": false?)'],
    ["no-canary", ' (did you mean "canary": false?)'],
    ["resolvers", ' (did you mean "resolver"?)'],
    ["contorl", ' (did you mean "control"?)'],
    ["banana", ""],
    ["json", ""],
  ];
  for (const [key, hint] of suggestions) {
    it(`"${key}" suggests${hint || " nothing"}`, () => expect(suggestKey(key)).toBe(hint));
  }
});

describe("syntax errors say file:line:column", () => {
  const cases: Array<[string, string]> = [
    ['{\n  "timeout": 5000\n  "db": "x.db"\n}', `${FILE}:3:3: invalid JSON: expected ',' or '}' after a property value`],
    ['{\n  "timeout": 5000,\n}\n', `${FILE}:3:1: invalid JSON: expected a double-quoted property name (remove the comma after the last entry)`],
    ['{\n  // probe hourly\n  "timeout": 5000\n}', `${FILE}:2:3: invalid JSON: expected a double-quoted property name (JSON cannot hold comments)`],
    ["{'timeout': 5000}", `${FILE}:1:2: invalid JSON: expected a double-quoted property name (JSON strings take double quotes)`],
    ['{"doh": ["https://a/",]}', `${FILE}:1:23: invalid JSON: expected a value (remove the comma after the last entry)`],
    ["", `${FILE}:1:1: invalid JSON: unexpected end of input, expected a value`],
    ['{"timeout": 5000', `${FILE}:1:17: invalid JSON: unexpected end of input, expected ',' or '}' after a property value`],
  ];
  for (const [text, expected] of cases) {
    it(JSON.stringify(text), () => expect(problems(text)).toEqual([expected]));
  }

  it("a file that is not an object", () => {
    expect(problems("[]")).toEqual([`${FILE}: must hold one JSON object of settings, such as {"timeout": 10000}; it holds an array`]);
    expect(problems("null")).toEqual([`${FILE}: must hold one JSON object of settings, such as {"timeout": 10000}; it holds null`]);
  });
});

describe("every problem at once", () => {
  it("lists them all, in file order, and a ConfigError message that counts them", () => {
    const text = '{\n  "timout": 1,\n  "store": "no",\n  "concurrency": 0,\n  "db": "a.db",\n  "db": "b.db"\n}';
    let err: ConfigError | undefined;
    try {
      load(text);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      `${FILE}:6: "db" is given twice (first on line 5); JSON keeps only the last`,
      `${FILE}: unknown key "timout" (did you mean "timeout"?)`,
      `${FILE}: "store" must be true or false, got "no"`,
      `${FILE}: "concurrency" must be a whole number from 1 to 4096, got 0`,
    ]);
    expect(err!.message.split("\n")[0]).toBe(`${FILE}: 4 problems:`);
  });

  it("collects each bad entry of an array", () => {
    expect(problems({ resolver: ["x", "192.0.2.1", "y"] }).map((p) => p.replace(/ must .*/, ""))).toEqual([`${FILE}: "resolver"[0]`, `${FILE}: "resolver"[2]`]);
  });
});

describe("the keys mirror reachprobe run's flags", () => {
  // Flags of `run` that are per invocation, not settings.
  const FLAG_ONLY = new Set(["json", "config", "help", "yes", "dryRun"]);
  // Keys whose flags are not in run.ts yet (none today); a file may hold them already.
  const PENDING = new Set<string>([]);
  const run = runOptions();
  const attributes = new Set(run.options.map((o) => o.attributeName()));

  it("every config key is a run option (or pending)", () => {
    const missing = Object.keys(CONFIG_KEYS).filter((k) => k !== "targets" && !attributes.has(k) && !PENDING.has(k));
    expect(missing, "config keys with no `reachprobe run` flag").toEqual([]);
  });

  it("every run option is a config key (or a flag only)", () => {
    const missing = [...attributes].filter((a) => !FLAG_ONLY.has(a) && !Object.hasOwn(CONFIG_KEYS, a));
    expect(missing, "run flags that a config file cannot set: add them to src/config/keys.ts").toEqual([]);
  });
});
