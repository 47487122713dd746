/**
 * The control helper's destination policy, end to end on loopback: it connects to a probe's
 * endpoints only on the web's ports (or one the operator listed); a URL on another port is
 * measured, as OONI's helper measures it, on the addresses the helper resolved itself for the
 * URL's host name, and nowhere else (not an IP literal, not a browser's bad port or a service
 * port, not another endpoint the probe sent, not a redirect elsewhere). It says so distinctly
 * when it refuses (never like a port that is closed), and never tells a stranger that a
 * non-HTTP port is open.
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
    if (req.url === "/to-self") {
      res.writeHead(302, { location: `http://web.test:${site.port}/landed` });
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

async function post(h: ControlServer, url: string, port: number, ips = ["127.0.0.1"]): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.url, { method: "POST", body: JSON.stringify({ http_request: url, http_request_headers: {}, tcp_connect: ips.map((ip) => `${ip}:${port}`) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the helper's port policy", () => {
  it("measures a URL on an unlisted port on the addresses it resolved for the name, and connects to no other endpoint the probe sent", async () => {
    // 127.0.0.2 counts as public here, so only the port rule can keep the helper away from it.
    const h = await helper({ publicRanges: [parseCidr("127.0.0.0/8")] });
    const before = site.connections;
    const a = await post(h, `http://web.test:${site.port}/`, site.port, ["127.0.0.1", "127.0.0.2"]);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const r = a.body as unknown as ControlResponse;
    expect(r.dns.addrs).toEqual(["127.0.0.1"]);
    expect(Object.keys(r.tcp_connect)).toEqual([`127.0.0.1:${site.port}`]);
    expect(r.tcp_connect[`127.0.0.1:${site.port}`]).toEqual({ status: true, failure: null });
    expect(r.http_request).toMatchObject({ failure: null, status_code: 200, title: "site" });
    expect(site.connections).toBeGreaterThan(before);
  });

  it("says the port is closed when the site's own address refuses it (OONI's websiteDownTCPConnect)", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const h = await helper();
    const a = await post(h, `http://web.test:${closed}/`, closed);
    const r = a.body as unknown as ControlResponse;
    expect(a.status).toBe(200);
    expect(r.tcp_connect[`127.0.0.1:${closed}`]).toEqual({ status: false, failure: "connection_refused" });
    expect(r.http_request.failure).toBe("connection_refused");
  });

  it("still refuses an IP-literal URL on an unlisted port (the probe chose the address), with 400 refused_port, and connects to nothing", async () => {
    const h = await helper();
    const before = site.connections;
    const a = await post(h, `http://127.0.0.1:${site.port}/`, site.port);
    expect(a.status).toBe(400);
    expect(a.body.reason).toBe("refused_port");
    expect(a.body.error).toMatch(new RegExp(`port ${site.port} is not fetched for an IP address: this helper fetches URLs on ports 80 and 443 and 5222, 8080 \\(--allow-ports\\), and on another port only for a host name`));
    expect(site.connections).toBe(before);
  });

  it("still refuses a browser's bad port or a service port for a name (SSH, SMTP, Redis), unless --allow-ports lists it", async () => {
    const h = await helper();
    for (const port of [22, 25, 6379]) {
      const a = await post(h, `http://web.test:${port}/`, port);
      expect(a.status, String(port)).toBe(400);
      expect(a.body.reason).toBe("refused_port");
      expect(a.body.error).toMatch(new RegExp(`port ${port} is not fetched: browsers refuse it, or it is a mail, database or remote-administration port`));
    }
  });

  it("refuses every unlisted port with --listed-ports-only, and connects to nothing", async () => {
    const h = await helper({ listedPortsOnly: true });
    const before = site.connections;
    const a = await post(h, `http://web.test:${site.port}/`, site.port);
    expect(a.status).toBe(400);
    expect(a.body.reason).toBe("refused_port");
    expect(a.body.error).toMatch(new RegExp(`port ${site.port} is not fetched: this helper fetches URLs on ports 80 and 443 and 5222, 8080 only \\(--allow-ports, --listed-ports-only\\)`));
    expect(site.connections).toBe(before);
  });

  it("on an unlisted port, follows a redirect to the URL's own host and port, and no other", async () => {
    const h = await helper();
    const self = (await post(h, `http://web.test:${site.port}/to-self`, site.port)).body as unknown as ControlResponse;
    expect(self.http_request).toMatchObject({ failure: null, status_code: 200 });
    expect(self.http_request.x_urls).toEqual([`http://web.test:${site.port}/to-self`, `http://web.test:${site.port}/landed`]);
    const before = other.connections;
    const elsewhere = (await post(h, `http://web.test:${site.port}/to-mixed`, site.port)).body as unknown as ControlResponse;
    expect(elsewhere.http_request.x_refused).toMatch(new RegExp(`mixed\\.test:${site.port}/landed: port ${site.port} is not fetched: this helper follows redirects on ports 80 and 443 and 5222, 8080 \\(--allow-ports\\), and on another port only to the measured URL's own host and port`));
    const otherPort = (await post(h, `http://web.test:${site.port}/to-other-port`, site.port)).body as unknown as ControlResponse;
    expect(otherPort.http_request.x_refused).toMatch(new RegExp(`port ${other.port} is not fetched`));
    expect(other.connections).toBe(before);
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
