/**
 * The real built `reachprobe config` (and `reachprobe run` reading a config file) as a user or a
 * cron job runs it: messages, exit codes, the masked token. Runs against loopback only.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, dnsServer, webServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";

/** A fresh folder with a reachprobe.config.json holding `doc` (a string is written as is). */
function folderWith(doc: unknown, name = "reachprobe.config.json"): string {
  const dir = mkdtempSync(join(tmpdir(), "reachprobe-config-cli-"));
  writeFileSync(join(dir, name), typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
  return dir;
}

/** No REACHPROBE_CONFIG from the developer's shell. */
const ENV = { REACHPROBE_CONFIG: undefined };

describe("reachprobe config check", () => {
  it("an ok file: one line on stdout naming its keys, exit 0", async () => {
    const dir = folderWith({ $schema: "x", timeout: 5000, resolver: ["127.0.0.1:5353"], list: "wechat" });
    const r = await runCli(["config", "check"], { cwd: dir, env: ENV });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("reachprobe.config.json: ok (3 keys: timeout, resolver, list)\n");
    expect(r.code).toBe(0);
  });

  it("a bad file: every problem on stderr, naming the key, exit 2", async () => {
    const dir = folderWith('{\n  "timout": 5000,\n  "concurrency": "10s",\n  "list": "nolist",\n  "file": "missing.txt"\n}\n');
    const r = await runCli(["config", "check", "reachprobe.config.json"], { cwd: dir, env: ENV });
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('reachprobe.config.json: unknown key "timout" (did you mean "timeout"?)\n');
    expect(r.stderr).toContain('reachprobe.config.json: "concurrency" must be a whole number from 1 to 4096, got "10s"\n');
    expect(r.stderr).toMatch(/reachprobe\.config\.json: "list": unknown list "nolist"/);
    expect(r.stderr).toMatch(/reachprobe\.config\.json: "file": cannot read target file .*missing\.txt: no such file/);
    expect(r.code).toBe(2);
  });

  it("a syntax error: file:line:column, exit 2", async () => {
    const dir = folderWith('{\n  "timeout": 5000\n  "db": "x.db"\n}\n', "probe.json");
    const r = await runCli(["config", "check", "--config", "probe.json"], { cwd: dir, env: ENV });
    expect(r.stderr).toBe("probe.json:3:3: invalid JSON: expected ',' or '}' after a property value\n");
    expect(r.code).toBe(2);
  });

  it("finds the file through REACHPROBE_CONFIG, and says so when it is missing", async () => {
    const dir = folderWith({ concurrency: 4 }, "cron.json");
    const ok = await runCli(["config", "check"], { env: { REACHPROBE_CONFIG: join(dir, "cron.json") } });
    expect(ok.stdout).toBe(`${join(dir, "cron.json")}: ok (1 key: concurrency)\n`);
    const missing = await runCli(["config", "check"], { env: { REACHPROBE_CONFIG: join(dir, "gone.json") } });
    expect(missing.stderr).toMatch(/gone\.json: no such config file \(REACHPROBE_CONFIG is set\)/);
    expect(missing.code).toBe(2);
  });

  it("no file anywhere: exit 2 with what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-config-cli-"));
    const r = await runCli(["config", "check"], { cwd: dir, env: ENV });
    expect(r.stderr).toMatch(/no config file: .*reachprobe config init/);
    expect(r.code).toBe(2);
  });
});

describe("reachprobe config show", () => {
  it("prints the effective settings as JSON with the token masked, from the file or the environment", async () => {
    const dir = folderWith({ controlToken: "file-s3cret", timeout: 2500, db: "results.db" });
    const r = await runCli(["config", "show"], { cwd: dir, env: { ...ENV, REACHPROBE_NETWORK_LABEL: "lab net" } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("file-s3cret");
    const doc = JSON.parse(r.stdout) as { configFile: string; settings: Record<string, { value: unknown; source: string }> };
    expect(doc.configFile).toBe(join(dir, "reachprobe.config.json"));
    expect(doc.settings.controlToken).toEqual({ value: "********", source: "config" });
    expect(doc.settings.timeout).toEqual({ value: 2500, source: "config" });
    expect(doc.settings.db).toEqual({ value: join(dir, "results.db"), source: "config" });
    expect(doc.settings.networkLabel).toEqual({ value: "lab net", source: "env" });
    expect(doc.settings.concurrency).toEqual({ value: 16, source: "default" });

    const env = await runCli(["config", "show"], { cwd: mkdtempSync(join(tmpdir(), "reachprobe-config-cli-")), env: { ...ENV, REACHPROBE_CONTROL_TOKEN: "env-s3cret" } });
    expect(env.stdout).not.toContain("env-s3cret");
    expect((JSON.parse(env.stdout) as { configFile: unknown; settings: Record<string, unknown> }).settings.controlToken).toEqual({ value: "********", source: "env" });
  });

  it("a bad file: the problems, exit 2, nothing on stdout", async () => {
    const dir = folderWith({ store: "no" });
    const r = await runCli(["config", "show"], { cwd: dir, env: ENV });
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('reachprobe.config.json: "store" must be true or false, got "no"\n');
    expect(r.code).toBe(2);
  });
});

describe("reachprobe config init", () => {
  it("writes a valid starter file, and never overwrites one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-config-cli-"));
    const first = await runCli(["config", "init"], { cwd: dir, env: ENV });
    expect(first.code).toBe(0);
    const written = readFileSync(join(dir, "reachprobe.config.json"), "utf8");
    expect(JSON.parse(written)).toMatchObject({ list: "wechat", timeout: 10000, concurrency: 16 });
    const check = await runCli(["config", "check"], { cwd: dir, env: ENV });
    expect(check.stdout).toMatch(/^reachprobe\.config\.json: ok \(5 keys: /);
    writeFileSync(join(dir, "reachprobe.config.json"), '{"timeout": 1}');
    const again = await runCli(["config", "init"], { cwd: dir, env: ENV });
    expect(again.stderr).toMatch(/already exists/);
    expect(again.code).toBe(2);
    expect(readFileSync(join(dir, "reachprobe.config.json"), "utf8")).toBe('{"timeout": 1}');
  });
});

// `reachprobe run` reading the file. Loopback only: the file points every lookup at the test's
// DNS server.
describe("reachprobe run with a config file", () => {
  let dnsPort: number;
  let webPort: number;
  beforeAll(async () => {
    webPort = await webServer((req, res) => res.end(`<title>page ${req.url}</title>`));
    dnsPort = (await dnsServer({ "web.test": { a: ["127.0.0.1"] } })).port;
  });
  afterAll(closeAll);

  const settings = () => ({
    targets: [`http://web.test:${webPort}/a`],
    resolver: [`127.0.0.1:${dnsPort}`],
    systemResolver: false,
    publicRanges: "127.0.0.1/32",
    canary: false,
    notice: false,
    timeout: 2000,
    dnsWindow: 100,
    db: "results.db",
  });

  it("takes its targets and settings from ./reachprobe.config.json; a flag overrides one", async () => {
    const dir = folderWith(settings());
    const r = await runCli(["run", "--json"], { cwd: dir, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { results: Array<{ target: string; status: string }>; run: { options: { timeout_ms: number } } };
    expect(doc.results.map((x) => [x.target, x.status])).toEqual([[`http://web.test:${webPort}/a`, "ok"]]);
    expect(doc.run.options.timeout_ms).toBe(2000);
    expect(existsSync(join(dir, "results.db"))).toBe(true);

    const flagged = await runCli(["run", "--json", "--no-store", "--timeout", "1500", `http://web.test:${webPort}/b`], { cwd: dir, env: ENV });
    const doc2 = JSON.parse(flagged.stdout) as typeof doc;
    expect(doc2.results.map((x) => x.target)).toEqual([`http://web.test:${webPort}/b`]);
    expect(doc2.run.options.timeout_ms).toBe(1500);
  });

  it("a bad file: exit 2 naming the key, nothing probed, nothing written", async () => {
    const dir = folderWith({ ...settings(), timout: 5 });
    const r = await runCli(["run", "--json"], { cwd: dir, env: ENV });
    expect(r.stderr).toContain('reachprobe.config.json: unknown key "timout" (did you mean "timeout"?)');
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, "results.db"))).toBe(false);
  });
});
