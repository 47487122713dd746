/**
 * The real `reachprobe run` against loopback servers that count connections: one connection per
 * target, redirect hops measured step by step and judged at the layer where they failed, and
 * https://IP targets verified against the certificate's IP SANs.
 *
 * Names resolve only through the test's two DNS servers (--no-system-resolver). Without the
 * system resolver, the first --resolver plays it for redirect hops: only its answer is connected
 * to, as a browser connects only to what its own resolver says (the second resolver's answer is
 * recorded, never used).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type http from "node:http";
import Database from "better-sqlite3";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, countingWebServer, dnsServer, resetServer, type CountingServer } from "../helpers/servers.js";
import { CHROME_USER_AGENT } from "../../src/probes/browser.js";
import { runCli } from "../helpers/cli.js";

interface Result {
  target: string;
  status: string;
  layer: string | null;
  failure: string | null;
  evidence: string[];
  observations: Array<Record<string, unknown>>;
}

let ca: TestCa;
let dir: string;
const s: Record<string, CountingServer> = {};
let resetPort = 0;
let results: Result[] = [];
let stored: Map<string, Array<Record<string, unknown>>>;

const page: http.RequestListener = (req, res) => {
  if (req.url === "/start") {
    res.writeHead(302, { location: "/end" });
    return res.end("moved");
  }
  if (req.url === "/to-reset") {
    res.writeHead(302, { location: `https://b.test:${resetPort}/` });
    return res.end();
  }
  if (req.url === "/to-c") {
    res.writeHead(302, { location: `http://c.test:${s.c!.port}/` });
    return res.end();
  }
  res.setHeader("content-type", "text/html");
  res.end(`<title>page ${req.url}</title>`);
};

const targets = {
  https: () => `https://one.test:${s.https!.port}/`,
  http: () => `http://one.test:${s.http!.port}/`,
  sameOrigin: () => `https://one.test:${s.same!.port}/start`,
  toReset: () => `https://a.test:${s.a!.port}/to-reset`,
  toUnknown: () => `http://a.test:${s.aPlain!.port}/to-c`,
  ipSan: () => `https://127.0.0.1:${s.ipSan!.port}/`,
  noIpSan: () => `https://127.0.0.1:${s.noIpSan!.port}/`,
};

const result = (target: string): Result => {
  const r = results.find((x) => x.target === target);
  if (!r) throw new Error(`no result for ${target}`);
  return r;
};

beforeAll(async () => {
  ca = makeTestCa();
  dir = mkdtempSync(join(tmpdir(), "reachprobe-hops-"));
  const pem = ca.issue(["one.test", "a.test", "b.test"]);
  s.https = await countingWebServer(page, pem);
  s.http = await countingWebServer(page);
  s.same = await countingWebServer(page, pem);
  s.a = await countingWebServer(page, pem);
  s.aPlain = await countingWebServer(page);
  s.c = await countingWebServer(page);
  s.ipSan = await countingWebServer(page, ca.issue(["127.0.0.1"]));
  s.noIpSan = await countingWebServer(page, ca.issue(["one.test"]));
  resetPort = await resetServer();
  const known = { "one.test": { a: ["127.0.0.1"] }, "a.test": { a: ["127.0.0.1"] }, "b.test": { a: ["127.0.0.1"] } };
  const first = await dnsServer(known);
  // Only the second resolver knows c.test.
  const second = await dnsServer({ ...known, "c.test": { a: ["127.0.0.1"] } });
  const db = join(dir, "hops.db");
  const r = await runCli(
    [
      "run",
      "--json",
      "--no-system-resolver",
      "--resolver",
      `127.0.0.1:${first.port}`,
      "--resolver",
      `127.0.0.1:${second.port}`,
      "--public-ranges",
      "127.0.0.1/32",
      "--timeout",
      "2000",
      "--dns-window",
      "50",
      "--no-canary",
      "--db",
      db,
      ...Object.values(targets).map((t) => t()),
    ],
    { env: { NODE_EXTRA_CA_CERTS: ca.certFile } },
  );
  expect(r.stderr).toBe("");
  results = (JSON.parse(r.stdout) as { results: Result[] }).results;
  const conn = new Database(db, { readonly: true });
  const rows = conn.prepare("SELECT target, observations_json FROM measurements").all() as Array<{ target: string; observations_json: string }>;
  conn.close();
  stored = new Map(rows.map((row) => [row.target, JSON.parse(row.observations_json) as Array<Record<string, unknown>>]));
});

afterAll(closeAll);

describe("one connection per target", () => {
  it("an https target: one TCP connection at the server, and the GET arrived on it", () => {
    expect(result(targets.https()).status).toBe("ok");
    expect(s.https!.accepted).toBe(1);
    expect(s.https!.requests.map((q) => q.connection)).toEqual([1]);
  });

  it("an http target: one TCP connection at the server, and the GET arrived on it", () => {
    expect(result(targets.http()).status).toBe("ok");
    expect(s.http!.accepted).toBe(1);
    expect(s.http!.requests.map((q) => q.connection)).toEqual([1]);
  });

  it("a same-origin redirect reuses the socket: 1 connection for 2 requests", () => {
    const r = result(targets.sameOrigin());
    expect(r.status).toBe("ok");
    expect(s.same!.accepted).toBe(1);
    expect(s.same!.requests.map((q) => [q.url, q.connection])).toEqual([
      ["/start", 1],
      ["/end", 1],
    ]);
    expect(r.observations.filter((o) => o.step === "http").map((o) => o.hop)).toEqual([0, 1]);
  });
});

describe("redirect hops measured step by step", () => {
  it("a redirect to a host whose TLS server resets after the ClientHello: stored dns, tcp and tls of hop 1", () => {
    const obs = stored.get(targets.toReset())!;
    const hop1 = obs.filter((o) => o.hop === 1).map((o) => [o.step, o.failure, o.purpose ?? null]);
    // Then the SNI swap (docs/verdicts.md): the same address with example.com, reset too by a
    // server that resets every ClientHello.
    expect(hop1).toEqual([
      ["dns", null, null],
      ["dns", null, null],
      ["tcp", null, null],
      ["tls", "connection_reset", null],
      ["tcp", null, "sni_swap"],
      ["tls", "connection_reset", "sni_swap"],
    ]);
    expect(obs.find((o) => o.step === "tls" && o.hop === 1)).toMatchObject({ serverName: "b.test", address: `127.0.0.1:${resetPort}` });
    // The target's own steps keep no hop field: stored data of hop 0 keep their shape.
    expect(obs.filter((o) => o.step !== "http" && !("hop" in o)).map((o) => o.step)).toEqual(["dns", "dns", "tcp", "tls"]);
  });

  it("...is anomaly tls connection_reset without a control", () => {
    const r = result(targets.toReset());
    expect({ status: r.status, layer: r.layer, failure: r.failure }, r.evidence.join("; ")).toEqual({ status: "anomaly", layer: "tls", failure: "connection_reset" });
    expect(r.evidence[0]).toMatch(/redirect to b\.test stopped: the TLS handshake .* \(SNI b\.test\) was reset/);
  });

  it("a redirect to a name the first resolver does not know is a DNS failure at hop 1, blocked (the other resolver witnesses the name), never fetched at the other resolver's address", () => {
    const r = result(targets.toUnknown());
    expect({ status: r.status, layer: r.layer, failure: r.failure }, r.evidence.join("; ")).toEqual({ status: "blocked", layer: "dns", failure: "dns_nxdomain_error" });
    expect(r.evidence[0]).toMatch(/stopped: the lookup through the resolver \S+ said the name does not exist.*, but resolver \S+ resolved it to 127\.0\.0\.1$/);
    expect(s.c!.accepted).toBe(0);
    const hop1 = r.observations.filter((o) => o.hop === 1);
    expect(hop1.map((o) => [o.step, o.failure, o.addresses])).toEqual([
      ["dns", "dns_nxdomain_error", []],
      ["dns", null, ["127.0.0.1"]],
    ]);
  });
});

describe("https://IP targets", () => {
  it("a certificate with the IP in its SANs is ok (no SNI, verified against the IP)", () => {
    const r = result(targets.ipSan());
    expect({ status: r.status, failure: r.failure }, r.evidence.join("; ")).toEqual({ status: "ok", failure: null });
    expect(r.observations.find((o) => o.step === "tls")).toMatchObject({ serverName: "127.0.0.1", verified: true, failure: null });
    expect(s.ipSan!.requests).toHaveLength(1);
  });

  it("a certificate without the IP in its SANs is ssl_invalid_hostname", () => {
    const r = result(targets.noIpSan());
    expect({ status: r.status, layer: r.layer, failure: r.failure }).toEqual({ status: "anomaly", layer: "tls", failure: "ssl_invalid_hostname" });
    expect(s.noIpSan!.requests).toHaveLength(0);
  });
});

describe("--user-agent", () => {
  it("sends the User-Agent given, in place of Chrome's, on the wire", async () => {
    const site = await countingWebServer(page);
    const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36";
    const run = (extra: string[]) =>
      runCli(["run", "--json", "--no-store", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "--timeout", "2000", ...extra, `http://127.0.0.1:${site.port}/ua`]);
    expect((await run(["--user-agent", ua])).code).toBe(0);
    expect((await run([])).code).toBe(0);
    const sent = site.requests.map((q) => q.rawHeaders[q.rawHeaders.findIndex((h, i) => i % 2 === 0 && h === "User-Agent") + 1]);
    expect(sent).toEqual([ua, CHROME_USER_AGENT]);
  });
});
