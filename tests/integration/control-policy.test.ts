/**
 * The control helper's destination policy, end to end on loopback: it fetches a URL only on the
 * port a browser would use (or one the operator listed), says so distinctly when it refuses
 * (never like a port that is closed), and never tells a stranger that a non-HTTP port is open.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { parseCidr } from "../../src/net/bogons.js";
import { startControlServer, type ControlServer, type ControlServerOptions } from "../../src/control/server.js";
import type { ControlResponse } from "../../src/probes/control-wire.js";
import { closeAll, dnsServer, tcpServer } from "../helpers/servers.js";

let dnsPort: number;
/** A plain-http site on an ephemeral port that counts connections; it redirects on /to-*. */
const site = { port: 0, connections: 0, server: null as http.Server | null };
/** A second site, the redirect target on another port. */
const other = { port: 0, connections: 0, server: null as http.Server | null };
let sshPort: number;

async function counting(target: typeof site, handler: http.RequestListener): Promise<void> {
  target.server = http.createServer(handler);
  target.server.on("connection", (s: net.Socket) => {
    target.connections++;
    s.on("error", () => {});
  });
  await new Promise<void>((r) => target.server!.listen(0, "127.0.0.1", r));
  target.port = (target.server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  await counting(other, (_q, r) => r.end("<title>other port</title>"));
  await counting(site, (req, res) => {
    if (req.url === "/to-other-port") {
      res.writeHead(302, { location: `http://web.test:${other.port}/` });
      return res.end();
    }
    if (req.url === "/to-mixed") {
      res.writeHead(302, { location: `http://mixed.test:${site.port}/landed` });
      return res.end();
    }
    if (req.url === "/to-private") {
      res.writeHead(302, { location: `http://10.0.0.1:${site.port}/` });
      return res.end();
    }
    res.end("<title>site</title>");
  });
  // An SSH-like service: a banner, not HTTP.
  sshPort = await tcpServer((s) => s.end("SSH-2.0-OpenSSH_9.6\r\n"));
  dnsPort = (await dnsServer({ "web.test": { a: ["127.0.0.1"] }, "mixed.test": { a: ["10.0.0.1", "127.0.0.1"] } })).port;
});
afterAll(async () => {
  await closeAll();
  for (const t of [site, other]) await new Promise<void>((r) => (t.server ? t.server.close(() => r()) : r()));
});

const helpers: ControlServer[] = [];
afterEach(async () => {
  await Promise.all(helpers.splice(0).map((h) => h.close()));
});

async function helper(extra: ControlServerOptions = {}): Promise<ControlServer> {
  const h = await startControlServer({ systemResolver: false, resolvers: [{ host: "127.0.0.1", port: dnsPort }], publicRanges: [parseCidr("127.0.0.1/32")], stepTimeoutMs: 1000, requestTimeoutMs: 4000, ...extra });
  helpers.push(h);
  return h;
}

async function post(h: ControlServer, url: string, port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.url, { method: "POST", body: JSON.stringify({ http_request: url, http_request_headers: {}, tcp_connect: [`127.0.0.1:${port}`] }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the helper's port policy", () => {
  it("refuses a URL on a port other than 80, 443 and the allowed ones, with 400 refused_port, and connects to nothing", async () => {
    const h = await helper();
    const before = site.connections;
    const a = await post(h, `http://web.test:${site.port}/`, site.port);
    expect(a.status).toBe(400);
    expect(a.body.reason).toBe("refused_port");
    expect(a.body.error).toMatch(new RegExp(`port ${site.port} is not fetched: this helper fetches URLs on ports 80 and 443 and 5222, 8080 only \\(--allow-ports\\)`));
    expect(site.connections).toBe(before);
  });

  it("fetches it when the operator lists the port (--allow-ports)", async () => {
    const h = await helper({ allowPorts: [site.port] });
    const a = await post(h, `http://web.test:${site.port}/`, site.port);
    expect(a.status).toBe(200);
    expect((a.body as unknown as ControlResponse).http_request).toMatchObject({ failure: null, status_code: 200, title: "site" });
  });

  it("reports a redirect to a refused address as a refusal (x_refused), not as a failed connect", async () => {
    const h = await helper({ allowPorts: [site.port] });
    const a = await post(h, `http://web.test:${site.port}/to-private`, site.port);
    const r = (a.body as unknown as ControlResponse).http_request;
    expect(r.x_refused).toMatch(/^a redirect to .*10\.0\.0\.1 is a private address/);
    expect(r.failure).not.toMatch(/connection_refused|generic_timeout_error|connection_reset/);
  });

  it("follows a redirect to a name whose addresses are refused in part, and names no refusal", async () => {
    const h = await helper({ allowPorts: [site.port] });
    const a = await post(h, `http://web.test:${site.port}/to-mixed`, site.port);
    const r = (a.body as unknown as ControlResponse).http_request;
    expect(r).toMatchObject({ failure: null, status_code: 200, title: "site" });
    expect(r.x_urls).toEqual([`http://web.test:${site.port}/to-mixed`, `http://mixed.test:${site.port}/landed`]);
    expect(r.x_refused).toBeUndefined();
  });

  // The redirect hook is called by the probe pipeline (src/probes/http.ts) once it knows it.
  const pipelineCallsHook = readFileSync(new URL("../../src/probes/http.ts", import.meta.url), "utf8").includes("allowRedirect");
  it.runIf(pipelineCallsHook)("does not follow a redirect to a port it would not fetch, and says why", async () => {
    const h = await helper({ allowPorts: [site.port] });
    const before = other.connections;
    const a = await post(h, `http://web.test:${site.port}/to-other-port`, site.port);
    const r = (a.body as unknown as ControlResponse).http_request;
    expect(r.x_refused).toMatch(new RegExp(`port ${other.port} is not fetched`));
    expect(other.connections).toBe(before);
  });

  it("says http_request_failed for a port that answers something other than HTTP, never the parser's words", async () => {
    const h = await helper({ allowPorts: "any" });
    const a = await post(h, `http://web.test:${sshPort}/`, sshPort);
    const r = (a.body as unknown as ControlResponse).http_request;
    expect(r.failure).toBe("http_request_failed");
    expect(JSON.stringify(a.body)).not.toMatch(/unknown_failure|Expected HTTP|SSH/);
  });
});
