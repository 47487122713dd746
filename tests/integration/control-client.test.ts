/**
 * queryControl against loopback helpers: a real one, one that is not there, one that answers
 * garbage, one that wants a token, one that never stops talking and one that never answers.
 * It never throws; every outcome is a response or a failure string.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidr } from "../../src/net/bogons.js";
import { MAX_CONTROL_RESPONSE_BYTES, queryControl } from "../../src/control/client.js";
import { startControlServer, type ControlServer } from "../../src/control/server.js";
import type { ControlRequest } from "../../src/probes/control-wire.js";
import { closeAll, closedPort, dnsServer, stallServer, webServer } from "../helpers/servers.js";

let helper: ControlServer;
let guarded: ControlServer;
const ports: Record<string, number> = {};
const request = (): ControlRequest => ({ http_request: `http://web.test:${ports.web}/`, http_request_headers: {}, tcp_connect: [`127.0.0.1:${ports.web}`] });

beforeAll(async () => {
  ports.web = await webServer((_q, r) => r.end("<title>hi</title>"));
  const dns = await dnsServer({ "web.test": { a: ["127.0.0.1"] } });
  const common = { systemResolver: false, resolvers: [{ host: "127.0.0.1", port: dns.port }], publicRanges: [parseCidr("127.0.0.1/32")], allowPorts: "any" as const };
  helper = await startControlServer(common);
  guarded = await startControlServer({ ...common, token: "right" });
  ports.closed = await closedPort();
  ports.stall = await stallServer();
  ports.garbage = await webServer((_q, r) => r.end("<html>this is not a helper</html>"));
  ports.wrongShape = await webServer((_q, r) => r.end(JSON.stringify({ tcp_connect: {}, http_request: {} })));
  ports.endless = await webServer((_q, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"tcp_connect":{},"padding":"');
    const chunk = Buffer.alloc(64 * 1024, 97);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  });
});

afterAll(async () => {
  await Promise.all([helper?.close(), guarded?.close()]);
  await closeAll();
});

const local = (port: number) => `http://127.0.0.1:${port}/`;

describe("queryControl", () => {
  it("returns a checked response from a real helper", async () => {
    const out = await queryControl({ url: helper.url, request: request(), timeoutMs: 5000 });
    expect(out.failure).toBeNull();
    expect(out.status).toBe(200);
    expect(out.response?.dns).toEqual({ failure: null, addrs: ["127.0.0.1"] });
    expect(out.response?.http_request).toMatchObject({ failure: null, status_code: 200, title: "hi" });
  });

  it("says connection_refused when no helper listens", async () => {
    const out = await queryControl({ url: local(ports.closed!), request: request(), timeoutMs: 2000 });
    expect(out).toEqual({ response: null, failure: "connection_refused" });
  });

  it("says generic_timeout_error when the helper never answers, on time", async () => {
    const t0 = performance.now();
    const out = await queryControl({ url: local(ports.stall!), request: request(), timeoutMs: 400 });
    expect(out).toEqual({ response: null, failure: "generic_timeout_error" });
    expect(performance.now() - t0).toBeLessThan(400 + 500);
  });

  it("says invalid control response for garbage and for the wrong shape", async () => {
    const garbage = await queryControl({ url: local(ports.garbage!), request: request(), timeoutMs: 2000 });
    expect(garbage.response).toBeNull();
    expect(garbage.failure).toBe("unknown_failure: invalid control response: not JSON");
    const shape = await queryControl({ url: local(ports.wrongShape!), request: request(), timeoutMs: 2000 });
    expect(shape.failure).toBe('unknown_failure: invalid control response: missing or invalid "dns"');
  });

  it("says http_request_failed with the status when the helper wants a token", async () => {
    const out = await queryControl({ url: guarded.url, request: request(), timeoutMs: 2000 });
    expect(out).toEqual({ response: null, failure: "http_request_failed", status: 401 });
    const wrong = await queryControl({ url: guarded.url, token: "wrong", request: request(), timeoutMs: 2000 });
    expect(wrong.status).toBe(401);
    const right = await queryControl({ url: guarded.url, token: "right", request: request(), timeoutMs: 5000 });
    expect(right.failure).toBeNull();
    expect(right.response?.http_request.status_code).toBe(200);
  });

  it("stops reading a response larger than the cap", async () => {
    const t0 = performance.now();
    const out = await queryControl({ url: local(ports.endless!), request: request(), timeoutMs: 10_000 });
    expect(out.response).toBeNull();
    expect(out.failure).toBe(`unknown_failure: invalid control response: larger than ${MAX_CONTROL_RESPONSE_BYTES} bytes`);
    expect(performance.now() - t0, "it read until the timeout instead of stopping at the cap").toBeLessThan(5000);
  });

  it("ends at once as a timeout when the caller's signal is already aborted", async () => {
    const ctl = new AbortController();
    ctl.abort();
    const out = await queryControl({ url: helper.url, request: request(), timeoutMs: 5000, signal: ctl.signal });
    expect(out).toEqual({ response: null, failure: "generic_timeout_error" });
  });
});
