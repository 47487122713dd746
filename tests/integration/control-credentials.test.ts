/**
 * Credentials in the helper's URL (`--control http://user:pass@host/?token=...`) reach the helper
 * and nowhere else: not runs.options_json, not control_json, not --json, not stderr, not the
 * doctor's report. And `--doh` takes https only (http for a loopback address, for tests).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { redactControlUrl } from "../../src/control/redact.js";
import { closeAll, closedPort, webServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";

const USER = "probe-user";
const PASSWORD = "s3cret-pass";
const TOKEN = "t0k3n-in-query";
let helperPort: number;
let webPort: number;
const seen: Array<{ method: string; url: string; authorization: string | null }> = [];

beforeAll(async () => {
  webPort = await webServer((_q, r) => r.end("<title>ok</title>"));
  // A stand-in helper that answers health and a minimal measurement, and notes what it was sent.
  helperPort = await webServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization ?? null });
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "GET") return res.end(JSON.stringify({ ok: true, version: "test" }));
      res.end(JSON.stringify({ tcp_connect: {}, tls_handshake: {}, http_request: { failure: null, status_code: 200, body_length: 17, title: "ok", headers: {} }, dns: { failure: null, addrs: [] }, ip_info: {} }));
    });
  });
});
afterAll(closeAll);

describe("credentials in --control", () => {
  it("are masked for storage and display", () => {
    expect(redactControlUrl(`https://${USER}:${PASSWORD}@helper.example/path?token=${TOKEN}&x=1#frag`)).toBe("https://***:***@helper.example/path?token=***&x=***");
    expect(redactControlUrl("https://helper.example/")).toBe("https://helper.example/");
  });

  it("are sent to the helper (as Basic, and the query as given) but never stored or printed", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "reachprobe-cred-")), "r.db");
    const control = `http://${USER}:${PASSWORD}@127.0.0.1:${helperPort}/?token=${TOKEN}`;
    const r = await runCli(["run", "--json", "--db", db, "--no-canary", "--log-level", "debug", "--control", control, `http://127.0.0.1:${webPort}/`]);
    expect(r.code, r.stderr).toBe(0);

    const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    const asked = seen.splice(0);
    expect(asked.map((s) => s.method).sort()).toEqual(["GET", "POST"]);
    for (const s of asked) {
      expect(s.authorization).toBe(basic);
      expect(s.url).toBe(`/?token=${TOKEN}`);
    }

    const store = new Database(db, { readonly: true });
    const runs = store.prepare("SELECT options_json FROM runs").all() as Array<{ options_json: string }>;
    const measurements = store.prepare("SELECT control_json FROM measurements").all() as Array<{ control_json: string }>;
    store.close();
    expect(runs).toHaveLength(1);
    expect(JSON.parse(runs[0]!.options_json).control).toBe(`http://***:***@127.0.0.1:${helperPort}/?token=***`);
    expect(measurements).toHaveLength(1);
    const everything = [r.stdout, r.stderr, runs[0]!.options_json, measurements[0]!.control_json].join("\n");
    for (const secret of [PASSWORD, TOKEN, USER]) expect(everything).not.toContain(secret);
    expect(JSON.parse(measurements[0]!.control_json).helper).toBe(`http://***:***@127.0.0.1:${helperPort}/?token=***`);
  });

  it("are not printed when the helper does not answer", async () => {
    const port = await closedPort();
    const r = await runCli(["run", "--json", "--no-store", "--no-canary", "--control", `http://${USER}:${PASSWORD}@127.0.0.1:${port}/?token=${TOKEN}`, `http://127.0.0.1:${webPort}/`]);
    expect(r.stderr).toContain(`the control helper http://***:***@127.0.0.1:${port}/?token=*** does not answer (connection_refused)`);
    for (const secret of [PASSWORD, TOKEN]) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it("are not printed by the doctor, nor in a usage error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-cred-doctor-"));
    const before = seen.length;
    const d = await runCli(["doctor", "--json", "--db", join(dir, "d.db"), "--control", `http://${USER}:${PASSWORD}@127.0.0.1:${helperPort}/?token=${TOKEN}`], { cwd: dir });
    expect(d.stdout).toContain(`127.0.0.1:${helperPort}`);
    for (const secret of [PASSWORD, TOKEN]) expect(d.stdout + d.stderr).not.toContain(secret);
    // The doctor asks as a run does: GET / and the empty POST /, with the credentials as Basic.
    const asked = seen.slice(before);
    expect(asked.map((x) => x.method)).toEqual(["GET", "POST"]);
    for (const x of asked) expect(x.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`);
    const bad = await runCli(["run", "--no-canary", "--control", `ftp://${USER}:${PASSWORD}@127.0.0.1/`, "tcp://127.0.0.1:1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--control must be an http\(s\) URL/);
    expect(bad.stderr).not.toContain(PASSWORD);
  });
});

describe("--doh", () => {
  it("refuses a plain-http DoH URL with a usage error", async () => {
    const r = await runCli(["run", "--no-store", "--no-canary", "--doh", "http://doh.example/dns-query", "https://site.test/"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--doh must be an https URL: DNS over plain http can be read and forged on the path/);
  });

  it("accepts http for a loopback address (tests and labs)", async () => {
    const port = await closedPort();
    const r = await runCli(["run", "--json", "--no-store", "--no-canary", "--no-system-resolver", "--timeout", "1000", "--doh", `http://127.0.0.1:${port}/dns-query`, "https://site.test/"]);
    expect(r.stderr).not.toMatch(/--doh must be/);
    expect(r.code).not.toBe(2);
  });

  it("refuses a plain-http DoH URL from the config file too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-cred-doh-"));
    const config = join(dir, "reachprobe.json");
    writeFileSync(config, JSON.stringify({ doh: ["http://doh.example/dns-query"] }));
    const r = await runCli(["run", "--no-store", "--no-canary", "--config", config, "https://site.test/"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/reachprobe\.json: "doh"\[0\] must be an https URL/);
  });
});
