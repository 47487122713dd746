/**
 * Every read of a control helper's answer (the health check and the measurement) and of a DoH
 * answer stops at its byte cap: against loopback servers whose bodies never end, the failure
 * is classified and memory stays bounded (the audit saw a run reach 4.4 GB on an endless ping).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import type http from "node:http";
import { MAX_CONTROL_RESPONSE_BYTES, MAX_PING_RESPONSE_BYTES, pingControl, queryControl } from "../../src/control/client.js";
import { dohQuery } from "../../src/net/doh.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, webServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";

const RSS_LIMIT = 256 * 1024 * 1024;
let ca: TestCa;
const ports: Record<string, number> = {};

/** Writes `head`, then 64 KiB chunks for as long as the client reads. */
function endless(res: http.ServerResponse, contentType: string, head = ""): void {
  res.writeHead(200, { "content-type": contentType });
  if (head) res.write(head);
  const chunk = Buffer.alloc(64 * 1024, 97);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once("drain", pump);
  };
  pump();
}

beforeAll(async () => {
  ca = makeTestCa();
  // A "helper" whose every answer is endless, and one that is healthy but answers measurements endlessly.
  ports.endless = await webServer((_q, res) => endless(res, "application/json", '{"ok":true,"x":"'));
  ports.endlessPost = await webServer((req, res) => {
    if (req.method === "GET") return res.end(JSON.stringify({ ok: true, version: "test", x_client_ip: "127.0.0.1" }));
    endless(res, "application/json", '{"tcp_connect":{},"x":"');
  });
  ports.endlessDoh = await webServer((_q, res) => endless(res, "application/dns-message"), ca.issue(["127.0.0.1"]));
  ports.web = await webServer((_q, r) => r.end("<title>ok</title>"));
});
afterAll(closeAll);

/** Runs `fn` while sampling this process's RSS every 10 ms; returns its result and the peak. */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    const value = await fn();
    return { value, peak: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(t);
  }
}

describe("capped reads", () => {
  it("the health check stops at its cap with a classified failure", async () => {
    const { value, peak } = await peakRss(() => pingControl(`http://127.0.0.1:${ports.endless}/`, undefined, 4000));
    expect(value).toMatchObject({ ok: false, failure: `unknown_failure: invalid control response: larger than ${MAX_PING_RESPONSE_BYTES} bytes` });
    expect(peak).toBeLessThan(RSS_LIMIT);
  });

  it("a measurement answer stops at its cap with a classified failure", async () => {
    const request = { http_request: "http://example.test/", http_request_headers: {}, tcp_connect: [] };
    const { value, peak } = await peakRss(() => queryControl({ url: `http://127.0.0.1:${ports.endlessPost}/`, request, timeoutMs: 4000 }));
    expect(value).toMatchObject({ response: null, failure: `unknown_failure: invalid control response: larger than ${MAX_CONTROL_RESPONSE_BYTES} bytes` });
    expect(peak).toBeLessThan(RSS_LIMIT);
  });

  it("a DoH answer stops at its cap with a classified failure", async () => {
    const { value, peak } = await peakRss(() =>
      dohQuery({ url: `https://127.0.0.1:${ports.endlessDoh}/dns-query`, name: "site.test", qtype: "A", signal: AbortSignal.timeout(4000), ca: ca.cert }),
    );
    expect(value).toEqual({ rcode: null, addresses: [], failure: "unknown_failure: doh response larger than 64 KiB" });
    expect(peak).toBeLessThan(RSS_LIMIT);
  });

  /** Runs `reachprobe run ARGS` sampling the child's resident memory from /proc; returns the result and the peak. */
  async function runWithPeak(args: string[]) {
    let peak = 0;
    let timer: NodeJS.Timeout | undefined;
    const r = await runCli(args, {
      onSpawn: (child) => {
        timer = setInterval(() => {
          try {
            const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
            peak = Math.max(peak, kb * 1024);
          } catch {
            /* exited */
          }
        }, 20);
      },
    });
    clearInterval(timer);
    return { r, peak };
  }

  it("a run whose helper answers its health check endlessly measures without it, in bounded memory", async () => {
    const helper = `http://127.0.0.1:${ports.endless}/`;
    const { r, peak } = await runWithPeak(["run", "--json", "--no-store", "--no-canary", "--timeout", "3000", "--control", helper, `http://127.0.0.1:${ports.web}/`]);
    expect(r.stderr).toContain(`the control helper ${helper} does not answer (unknown_failure: invalid control response: larger than ${MAX_PING_RESPONSE_BYTES} bytes)`);
    // The one target is a plain-HTTP page the failed helper could not compare: can't tell, exit 5
    // (docs/verdicts.md "A helper that fails").
    expect(r.code, r.stderr).toBe(5);
    expect((JSON.parse(r.stdout) as { results: Array<{ status: string }> }).results.map((x) => x.status)).toEqual(["inconclusive"]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(RSS_LIMIT);
  });

  it("a run whose helper answers measurements endlessly records the failure, in bounded memory", async () => {
    const { r, peak } = await runWithPeak(["run", "--json", "--no-store", "--no-canary", "--timeout", "3000", "--control", `http://127.0.0.1:${ports.endlessPost}/`, `http://127.0.0.1:${ports.web}/`]);
    const doc = JSON.parse(r.stdout) as { results: Array<{ control: { failure: string } }> };
    expect(doc.results[0]!.control.failure).toBe(`unknown_failure: invalid control response: larger than ${MAX_CONTROL_RESPONSE_BYTES} bytes`);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(RSS_LIMIT);
  });
});
