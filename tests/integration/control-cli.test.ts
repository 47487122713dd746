/**
 * The real built `reachprobe control` as a child process, as an operator runs it: it prints
 * where it listens, measures (trusting NODE_EXTRA_CA_CERTS), logs, and exits 0 on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, dnsServer, stallServer, webServer } from "../helpers/servers.js";
import { runCli, startCli, type LongRunningCli } from "../helpers/cli.js";
import type { ControlResponse } from "../../src/probes/control-wire.js";

let ca: TestCa;
let dnsPort: number;
let webPort: number;
const running: LongRunningCli[] = [];

beforeAll(async () => {
  ca = makeTestCa();
  webPort = await webServer((_q, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<title>via the CLI</title>");
  }, ca.issue(["web.test"]));
  dnsPort = (await dnsServer({ "web.test": { a: ["127.0.0.1"] } })).port;
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await closeAll();
});

const LISTENING = /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/)$/;

function start(extra: string[], env: Record<string, string> = {}): Promise<LongRunningCli> {
  const args = ["control", "--listen", "127.0.0.1:0", "--no-system-resolver", "--resolver", `127.0.0.1:${dnsPort}`, "--public-ranges", "127.0.0.1/32", "--allow-ports", "any", "--timeout", "2000", ...extra];
  return startCli(args, LISTENING, { env: { NODE_EXTRA_CA_CERTS: ca.certFile, ...env } }).then((p) => {
    running.push(p);
    return p;
  });
}

describe("reachprobe control (the built command)", () => {
  it("listens on a free port, measures, logs each request, and exits 0 promptly on SIGTERM", async () => {
    const p = await start([], { REACHPROBE_CONTROL_TOKEN: "from-env" });
    const url = p.match[1]!;
    expect(Number(p.match[2])).toBeGreaterThan(0);

    const body = JSON.stringify({ http_request: `https://web.test:${webPort}/`, http_request_headers: {}, tcp_connect: [`127.0.0.1:${webPort}`] });
    const denied = await fetch(url, { method: "POST", body });
    expect(denied.status).toBe(401);
    const res = await fetch(url, { method: "POST", body, headers: { authorization: "Bearer from-env" } });
    expect(res.status).toBe(200);
    const r = (await res.json()) as ControlResponse;
    expect(r.tls_handshake[`127.0.0.1:${webPort}`]).toEqual({ server_name: "web.test", status: true, failure: null });
    expect(r.http_request).toMatchObject({ failure: null, status_code: 200, title: "via the CLI" });

    const t0 = performance.now();
    p.child.kill("SIGTERM");
    const done = await p.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(done.stdout.trim().split("\n")).toEqual([`listening on ${url}`]);
    const requests = done.stderr
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.msg === "request");
    expect(requests.map((e) => e.status)).toEqual([401, 200]);
    expect(done.stderr).not.toContain("from-env");
  });

  it("exits 0 on SIGTERM while a measurement is in progress", async () => {
    const p = await start(["--request-timeout", "20000", "--timeout", "20000"]);
    const stall = await stallServer();
    const pending = fetch(p.match[1]!, { method: "POST", body: JSON.stringify({ http_request: `http://127.0.0.1:${stall}/`, http_request_headers: {}, tcp_connect: [] }) }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    p.child.kill("SIGTERM");
    const done = await p.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    await pending;
  });

  it("exits 2 on a usage error, naming the flag", async () => {
    const noListen = await runCli(["control"]);
    expect(noListen.code).toBe(2);
    expect(noListen.stderr).toMatch(/--listen/);
    const bad = await runCli(["control", "--listen", "nowhere"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--listen must be HOST:PORT/);
    const ranges = await runCli(["control", "--listen", "127.0.0.1:0", "--public-ranges", "300.1.2.3/8"]);
    expect(ranges.code).toBe(2);
    expect(ranges.stderr).toMatch(/--public-ranges/);
    const ports = await runCli(["control", "--listen", "127.0.0.1:0", "--allow-ports", "8080,70000"]);
    expect(ports.code).toBe(2);
    expect(ports.stderr).toMatch(/--allow-ports: "70000" is not a port/);
  });
});
