/** DNS over HTTPS against a loopback RFC 8484 server: answers, NXDOMAIN, both methods, failures. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dohQuery } from "../../src/net/doh.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, closedPort, dohServer, stallServer, webServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";

let ca: TestCa;
let doh: { port: number; methods: string[] };
let notDns: number;
let stall: number;

beforeAll(async () => {
  ca = makeTestCa();
  // Loopback answers only: the run below connects to what DoH returns.
  doh = await dohServer({ "site.test": ["127.0.0.1", "127.0.0.4"] }, ca.issue(["doh.test", "127.0.0.1"]));
  notDns = await webServer((_q, r) => r.end("<html>not dns</html>"), ca.issue(["127.0.0.1"]));
  stall = await stallServer();
});
afterAll(closeAll);

const signal = () => AbortSignal.timeout(1500);

describe("dohQuery", () => {
  it.each(["GET", "POST"] as const)("answers by %s with every address", async (method) => {
    const before = doh.methods.length;
    const r = await dohQuery({ url: `https://127.0.0.1:${doh.port}/dns-query`, name: "site.test", qtype: "A", method, signal: signal(), ca: ca.cert });
    expect(r).toEqual({ rcode: "NOERROR", addresses: ["127.0.0.1", "127.0.0.4"], failure: null });
    expect(doh.methods.slice(before)).toEqual([method]);
  });

  it("a 404 from the endpoint is http_request_failed", async () => {
    const r = await dohQuery({ url: `https://127.0.0.1:${doh.port}/wrong-path`, name: "site.test", qtype: "A", signal: signal(), ca: ca.cert });
    expect(r.failure).toBe("http_request_failed");
  });

  it("a refused connection is connection_refused", async () => {
    const r = await dohQuery({ url: `https://127.0.0.1:${await closedPort()}/dns-query`, name: "site.test", qtype: "A", signal: signal() });
    expect(r.failure).toBe("connection_refused");
  });

  it("a server that never answers the handshake times out on the step timer", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const t0 = Date.now();
    const r = await dohQuery({ url: `https://127.0.0.1:${stall}/dns-query`, name: "site.test", qtype: "A", signal: ctl.signal });
    expect(r.failure).toBe("generic_timeout_error");
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("an untrusted certificate fails as ssl_unknown_authority", async () => {
    const r = await dohQuery({ url: `https://127.0.0.1:${doh.port}/dns-query`, name: "site.test", qtype: "A", signal: signal() });
    expect(r.failure).toBe("ssl_unknown_authority");
  });
});

describe("reachprobe run --doh", () => {
  const run = (args: string[]) => runCli(["run", "--json", "--no-store", "--no-canary", "--no-system-resolver", "--timeout", "1000", ...args], { env: { NODE_EXTRA_CA_CERTS: ca.certFile } });
  type Doc = { results: Array<{ status: string; observations: Array<{ step: string; engine?: string; addresses?: string[]; failure: string | null }> }> };

  it("keeps the DoH answer as a dns observation, by POST", async () => {
    const r = await run(["--doh", `https://127.0.0.1:${doh.port}/dns-query`, "--public-ranges", "127.0.0.0/8", `tcp://site.test:${await closedPort()}`]);
    const d = JSON.parse(r.stdout) as Doc;
    const obs = d.results[0]!.observations.find((o) => o.step === "dns");
    expect(obs).toMatchObject({ engine: "doh", failure: null, addresses: ["127.0.0.1", "127.0.0.4"] });
    expect(doh.methods.at(-1)).toBe("POST");
  });

  it("says NXDOMAIN for a name the DoH server does not know", async () => {
    const r = await run(["--doh", `https://127.0.0.1:${doh.port}/dns-query`, "https://gone.test/"]);
    const d = JSON.parse(r.stdout) as Doc;
    expect(d.results[0]!.observations[0]).toMatchObject({ engine: "doh", failure: "dns_nxdomain_error" });
    expect(d.results[0]!.status).toBe("down");
  });

  it("an endpoint that is not DoH gives a classified failure, not a crash", async () => {
    const r = await run(["--doh", `https://127.0.0.1:${notDns}/dns-query`, "https://site.test/"]);
    const d = JSON.parse(r.stdout) as Doc;
    expect(d.results[0]!.observations[0]!.failure).toMatch(/^unknown_failure: malformed dns response$/);
  });

  it("rejects a --doh value that is not a URL", async () => {
    const r = await run(["--doh", "dns.example", "https://site.test/"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--doh must be a URL/);
  });
});
