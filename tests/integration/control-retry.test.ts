/** A busy helper (503 with Retry-After) is asked again, briefly; a dead one is not asked per target. */
import { afterAll, describe, expect, it } from "vitest";
import { queryControl } from "../../src/control/client.js";
import { closeAll, closedPort, webServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";

afterAll(closeAll);

const answer = { tcp_connect: {}, tls_handshake: {}, http_request: { failure: null, status_code: 200, body_length: 1, title: "", headers: {} }, dns: { failure: null, addrs: [] }, ip_info: {} };
const request = { http_request: "http://site.test/", http_request_headers: {}, tcp_connect: [] };

describe("control client", () => {
  it("retries a 503 after Retry-After and takes the answer", async () => {
    let calls = 0;
    const port = await webServer((_q, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(503, { "retry-after": "0" });
        return res.end('{"error":"busy","reason":"busy"}');
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
    const r = await queryControl({ url: `http://127.0.0.1:${port}/`, request, timeoutMs: 5000 });
    expect(r.failure).toBeNull();
    expect(calls).toBe(2);
  });

  it("gives up on a helper that stays busy, with http_request_failed and the status", async () => {
    const port = await webServer((_q, res) => {
      res.writeHead(503, { "retry-after": "0" });
      res.end();
    });
    const r = await queryControl({ url: `http://127.0.0.1:${port}/`, request, timeoutMs: 5000 });
    expect(r).toMatchObject({ failure: "http_request_failed", status: 503 });
  });

  it("a run does not ask a helper the preflight found dead, and says so", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}/`;
    const web = await webServer((_q, r) => r.end("<title>ok</title>"));
    const r = await runCli(["run", "--json", "--no-store", "--no-canary", "--public-ranges", "127.0.0.1/32", "--control", dead, `http://127.0.0.1:${web}/`, `tcp://127.0.0.1:${web}`]);
    expect(r.stderr).toContain(`the control helper ${dead} does not answer (connection_refused); measuring without it (a plain-HTTP page nothing can compare will be "can't tell")`);
    const doc = JSON.parse(r.stdout) as { results: Array<{ target: string; status: string; evidence: string[]; control: { failure: string; t0: number; t: number } }> };
    for (const res of doc.results) {
      expect(res.control.failure).toBe("connection_refused");
      expect(res.control.t).toBe(res.control.t0);
    }
    // The page over plain HTTP was asked to be compared and could not be (docs/verdicts.md "A helper that fails"); the TCP target needs no page.
    const page = doc.results.find((x) => x.target.startsWith("http://"));
    const tcp = doc.results.find((x) => x.target.startsWith("tcp://"));
    expect(page).toMatchObject({ status: "inconclusive" });
    expect(page!.evidence.join("\n")).toMatch(/over plain HTTP with no sign of a block, but the control helper this run was given could not be used/);
    expect(tcp).toMatchObject({ status: "ok" });
  });
});
