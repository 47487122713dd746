/**
 * The first-run notice waits for a yes on a terminal before anything is sent: a real process on
 * a pseudo-terminal, with loopback stand-ins for every third party (a resolver, a control
 * helper) and the target, each counting what reaches it. Without a terminal, the default public
 * resolvers are not asked without consent. Loopback only: the runs name their own resolver and
 * canary, and the run that shows the defaults probes an IP literal (no lookup at all).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeAll, countingWebServer, dnsServer, webServer, type CountingServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";
import { HAS_PTY, onTerminal } from "../helpers/pty.js";
import { DEFAULT_DNS_OPERATORS } from "../../src/config/defaults.js";

let site: CountingServer;
let dns: { port: number; queries: string[] };
const helperSaw: string[] = [];
let helperPort: number;

beforeAll(async () => {
  site = await countingWebServer((_q, r) => r.end("<title>fine</title>"));
  dns = await dnsServer({ "site.test": { a: ["127.0.0.1"] } });
  // A stand-in control helper: answers its health check and a minimal measurement.
  helperPort = await webServer((req, res) => {
    helperSaw.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "GET") return res.end(JSON.stringify({ ok: true, version: "test" }));
      res.end(JSON.stringify({ tcp_connect: {}, tls_handshake: {}, http_request: { failure: null, status_code: 200, body_length: 17, title: "fine", headers: {} }, dns: { failure: null, addrs: ["127.0.0.1"] }, ip_info: {} }));
    });
  });
});
afterAll(closeAll);

/** What reached the stand-ins so far: requests to the site, DNS queries, requests to the helper. */
const sent = () => site.accepted + dns.queries.length + helperSaw.length;

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "reachprobe-consent-"));
});
const state = () => join(home, "reachprobe", "state.json");

/** A run of site.test through the test's resolver, with the helper: three third parties that count. */
const args = () => [
  "run", "--json", "--no-store", "--no-system-resolver", "--resolver", `127.0.0.1:${dns.port}`, "--control", `http://127.0.0.1:${helperPort}/`,
  "--public-ranges", "127.0.0.1/32", "--canary", `http://127.0.0.1:${site.port}/canary`, "--timeout", "2000", "--dns-window", "50", `http://site.test:${site.port}/`,
];

describe.skipIf(!HAS_PTY)("on a terminal", () => {
  it("names every third party, sends nothing until the answer, runs on y, and does not ask again", async () => {
    const before = sent();
    const t = onTerminal(args(), { XDG_CONFIG_HOME: home });
    await t.waitFor(/Go ahead\? \[y\/N\]/);
    expect(t.output()).toMatch(/Before you measure/);
    expect(t.output()).toContain(`the resolver 127.0.0.1:${dns.port}: every name tested`);
    expect(t.output()).toContain(`the control helper http://127.0.0.1:${helperPort}/: every URL tested`);
    // The question is on the terminal: give a run that did not wait every chance to show it.
    await new Promise((r) => setTimeout(r, 500));
    expect(sent(), "nothing reaches the site, the resolver or the helper before the answer").toBe(before);
    t.type("y\n");
    const r = await t.exited;
    expect(r.code, r.output).toBe(0);
    expect(site.requests.some((q) => q.url === "/")).toBe(true);
    expect(dns.queries).toContain("site.test");
    expect(helperSaw.length).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(state(), "utf8")) as Record<string, unknown>;
    expect(saved).toHaveProperty("notice_shown_at");
    expect(saved, "a yes to the run's own resolvers is no consent to the default public ones").not.toHaveProperty("dns_control_consent");

    const again = onTerminal(args(), { XDG_CONFIG_HOME: home });
    const r2 = await again.exited;
    expect(r2.code).toBe(0);
    expect(r2.output).not.toMatch(/Before you measure|Go ahead/);
  });

  it("n: exits 2 and sends nothing; the end of input is a no too", async () => {
    for (const answer of ["n\n", null]) {
      const before = sent();
      const t = onTerminal(args(), { XDG_CONFIG_HOME: home });
      await t.waitFor(/Go ahead\? \[y\/N\]/);
      if (answer === null) t.endInput();
      else t.type(answer);
      const r = await t.exited;
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain("you answered no; nothing was sent");
      expect(sent(), `nothing sent after ${JSON.stringify(answer)}`).toBe(before);
      expect(existsSync(state()), "a no is not remembered: the notice asks again").toBe(false);
    }
  });

  it("names the default public resolvers when the run would ask them", async () => {
    // The run is answered no: nothing is sent, whatever the settings.
    const t = onTerminal(["run", "--no-store", "--no-canary", `http://127.0.0.1:${site.port}/`], { XDG_CONFIG_HOME: home });
    await t.waitFor(/Go ahead\? \[y\/N\]/);
    for (const o of DEFAULT_DNS_OPERATORS) expect(t.output()).toContain(`${o.operator}: every name tested, over UDP to ${o.resolver.host}:53 and DNS-over-HTTPS to ${o.doh}`);
    expect(t.output()).toMatch(/--no-dns-control, --doh or --resolver leave them out/);
    t.type("n\n");
    expect((await t.exited).code).toBe(2);
  });

  it("--yes: the notice is shown once but does not wait; --no-notice: neither", async () => {
    const t = onTerminal([...args(), "--yes"], { XDG_CONFIG_HOME: home });
    const r = await t.exited;
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/Before you measure/);
    expect(r.output).not.toMatch(/Go ahead/);
    const other = mkdtempSync(join(tmpdir(), "reachprobe-consent-"));
    const quiet = await onTerminal([...args(), "--no-notice"], { XDG_CONFIG_HOME: other }).exited;
    expect(quiet.code).toBe(0);
    expect(quiet.output).not.toMatch(/Before you measure|Go ahead/);
  });
});

describe("without a terminal", () => {
  it("asks no default public resolver without consent, and says so in one line", async () => {
    const r = await runCli(["run", "--json", "--no-store", "--no-canary", `http://127.0.0.1:${site.port}/`], { env: { XDG_CONFIG_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^reachprobe: the public resolvers of .* are not asked: no consent yet/);
    const doc = JSON.parse(r.stdout) as { run: { options: { resolvers: string[]; doh: string[]; dns_control: string } } };
    expect(doc.run.options).toMatchObject({ resolvers: [], doh: [], dns_control: "no-consent" });
  });

  it("--no-dns-control: none asked, nothing said; --quiet: nothing said either", async () => {
    for (const flag of ["--no-dns-control", "--quiet"]) {
      const r = await runCli(["run", "--json", "--no-store", "--no-canary", flag, `http://127.0.0.1:${site.port}/`], { env: { XDG_CONFIG_HOME: home } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
      const doc = JSON.parse(r.stdout) as { run: { options: { dns_control: string } } };
      expect(doc.run.options.dns_control).toBe(flag === "--quiet" ? "no-consent" : "off");
    }
  });
});
