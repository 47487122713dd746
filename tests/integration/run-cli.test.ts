/**
 * The real `reachprobe run` against loopback servers the test starts: every verdict, the
 * stored rows, the exit codes and the JSON document a user or a cron job would see.
 * Names resolve only through the test's own DNS server (--no-system-resolver).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { closeAll, closedPort, dnsServer, eofServer, resetServer, stallServer, webServer } from "../helpers/servers.js";
import { runCli } from "../helpers/cli.js";

let ca: TestCa;
let dir: string;
let resolver: string;
/** An honest outside resolver for bogon.test only (others go unanswered): the witness that makes its loopback answer a proof. */
let witness: string;
const ports: Record<string, number> = {};

beforeAll(async () => {
  ca = makeTestCa();
  dir = mkdtempSync(join(tmpdir(), "reachprobe-run-"));
  const okPem = ca.issue(["ok.test", "bogon.test", "inject.test"]);
  ports.ok = await webServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<html><title>Fine site</title><body>host ${req.headers.host}</body></html>`);
  }, okPem);
  ports.reset = await resetServer();
  ports.stall = await stallServer();
  ports.eof = await eofServer();
  ports.closed = await closedPort();
  ports.wrongName = await webServer((_q, r) => r.end("x"), ca.issue(["other.test"]));
  ports.http = await webServer((req, res) => {
    if (req.url === "/blockpage") {
      res.setHeader("content-type", "text/html; charset=utf-8");
      return res.end("<html><title>Access denied</title><body>REACHPROBE-TEST-BLOCK: this site is blocked by order</body></html>");
    }
    if (req.url === "/rt") {
      res.writeHead(302, { location: "http://warning.rt.ru/?id=17&st=0&dt=wx.qq.com" });
      return res.end();
    }
    if (req.url === "/451") {
      res.writeHead(451, { "content-type": "text/html" });
      return res.end("<title>Unavailable For Legal Reasons</title>");
    }
    if (req.url?.startsWith("/loop")) {
      res.writeHead(302, { location: req.url === "/loop-a" ? "/loop-b" : "/loop-a" });
      return res.end();
    }
    if (req.url === "/endless") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 97);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      return pump();
    }
    res.end("<title>plain</title>");
  });
  const dns = await dnsServer({
    "ok.test": { a: ["127.0.0.1"] },
    "bogon.test": { a: ["127.0.0.2"] },
    "inject.test": { inject: "127.0.0.3", then: ["127.0.0.1"], delayMs: 30 },
    "servfail.test": { rcode: "SERVFAIL" },
    "refused.test": { rcode: "REFUSED" },
    "drop.test": { drop: true },
    "web.test": { a: ["127.0.0.1"] },
    "warning.rt.ru": { a: ["127.0.0.1"] },
    "xn--d1acpjx3f.xn--p1ai": { a: ["127.0.0.1"] },
  });
  resolver = `127.0.0.1:${dns.port}`;
  const honest = await dnsServer({ "bogon.test": { a: ["127.0.0.1"] }, "ok.test": { drop: true }, "inject.test": { drop: true }, "servfail.test": { drop: true }, "refused.test": { drop: true }, "drop.test": { drop: true }, "web.test": { drop: true }, "warning.rt.ru": { drop: true }, "xn--d1acpjx3f.xn--p1ai": { a: ["127.0.0.1"] } });
  witness = `127.0.0.1:${honest.port}`;
});

afterAll(closeAll);

/** Flags every run here uses: only the test's resolver, loopback counted as public. */
function base(db: string | null, extra: string[] = []): string[] {
  return [
    "run",
    "--json",
    "--no-system-resolver",
    "--resolver",
    resolver,
    "--resolver",
    witness,
    "--public-ranges",
    "127.0.0.1/32,127.0.0.3/32",
    "--timeout",
    "700",
    "--dns-window",
    "150",
    "--no-canary",
    ...(db ? ["--db", db] : ["--no-store"]),
    ...extra,
  ];
}

interface JsonDoc {
  run: { id: string | null; state: string; measured: number };
  results: Array<{ target: string; status: string; layer: string | null; failure: string | null; evidence: string[]; observations: Array<Record<string, unknown>> }>;
  services: Array<{ service: string; status: string }>;
}

describe("reachprobe run against loopback servers", () => {
  const cases: Array<{ name: string; target: () => string; status: string; layer: string | null; failure?: string | null; evidence?: RegExp }> = [
    { name: "a working https site", target: () => `https://ok.test:${ports.ok}/`, status: "ok", layer: null },
    { name: "a loopback answer", target: () => `https://bogon.test:${ports.ok}/`, status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: /127\.0\.0\.2, a loopback address/ },
    { name: "two answers to one query", target: () => `https://inject.test:${ports.ok}/`, status: "blocked", layer: "dns", evidence: /2 different answers.*127\.0\.0\.3.*then 127\.0\.0\.1/ },
    { name: "NXDOMAIN everywhere", target: () => "https://nx.test/", status: "down", layer: null, failure: "dns_nxdomain_error" },
    { name: "SERVFAIL", target: () => "https://servfail.test/", status: "anomaly", layer: "dns", failure: "dns_servfail_error" },
    { name: "REFUSED", target: () => "https://refused.test/", status: "anomaly", layer: "dns", failure: "dns_refused_error" },
    { name: "a resolver that never answers", target: () => "https://drop.test/", status: "anomaly", layer: "dns", failure: "generic_timeout_error" },
    { name: "a refused connect", target: () => `tcp://127.0.0.1:${ports.closed}`, status: "anomaly", layer: "tcp", failure: "connection_refused" },
    { name: "a RST after the ClientHello", target: () => `https://127.0.0.1:${ports.reset}/`, status: "anomaly", layer: "tls", failure: "connection_reset" },
    { name: "a ClientHello that gets no answer", target: () => `https://127.0.0.1:${ports.stall}/`, status: "anomaly", layer: "tls", failure: "generic_timeout_error" },
    { name: "EOF in the middle of the handshake", target: () => `https://127.0.0.1:${ports.eof}/`, status: "anomaly", layer: "tls", failure: "eof_error" },
    { name: "a certificate for another name", target: () => `https://ok.test:${ports.wrongName}/`, status: "anomaly", layer: "tls", failure: "ssl_invalid_hostname" },
    { name: "a block page (fingerprint)", target: () => `http://web.test:${ports.http}/blockpage`, status: "blocked", layer: "http", evidence: /REACHPROBE-TEST-BLOCK/ },
    { name: "a redirect to warning.rt.ru", target: () => `http://web.test:${ports.http}/rt`, status: "blocked", layer: "http", evidence: /warning\.rt\.ru/ },
    { name: "status 451", target: () => `http://web.test:${ports.http}/451`, status: "blocked", layer: "http", evidence: /451/ },
    { name: "a redirect loop", target: () => `http://web.test:${ports.http}/loop-a`, status: "anomaly", layer: "http", failure: "http_request_failed", evidence: /redirect loop/ },
    { name: "an endless body", target: () => `http://web.test:${ports.http}/endless`, status: "ok", layer: null },
  ];

  let doc: JsonDoc;
  let code: number | null;
  let db: string;
  beforeAll(async () => {
    db = join(dir, "cases.db");
    const fp = join(dir, "test-fingerprints.csv");
    writeFileSync(fp, "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\ntest.block,isp,,body,contains,REACHPROBE-TEST-BLOCK,9,,test,,\n");
    const r = await runCli([...base(db, ["--fingerprints", `bundled,${fp}`, "--max-body", "200000"]), ...cases.map((c) => c.target())], { env: { NODE_EXTRA_CA_CERTS: ca.certFile } });
    code = r.code;
    expect(r.stderr).toBe("");
    doc = JSON.parse(r.stdout) as JsonDoc;
  });

  for (const c of cases) {
    it(`${c.name} is ${c.status}${c.layer ? ` at ${c.layer}` : ""}`, () => {
      const res = doc.results.find((x) => x.target === c.target());
      expect(res, `no result for ${c.target()}`).toBeDefined();
      expect({ status: res!.status, layer: res!.layer }, res!.evidence.join("; ")).toEqual({ status: c.status, layer: c.layer });
      if (c.failure !== undefined) expect(res!.failure).toBe(c.failure);
      if (c.evidence) expect(res!.evidence.join("\n")).toMatch(c.evidence);
    });
  }

  it("exits 3 because blocking was found", () => expect(code).toBe(3));

  it("keeps the body of an endless response capped", () => {
    const res = doc.results.find((x) => x.target.endsWith("/endless"))!;
    const http = res.observations.find((o) => o.step === "http")!;
    expect(http.bodyLength).toBe(200000);
    expect(http.bodyTruncated).toBe(true);
  });

  it("stores one row per target and marks the run completed", () => {
    const conn = new Database(db, { readonly: true });
    const run = conn.prepare("SELECT id, state, finished_at FROM runs").all() as Array<{ id: string; state: string; finished_at: string }>;
    expect(run).toHaveLength(1);
    expect(run[0]!.state).toBe("completed");
    expect(run[0]!.id).toBe(doc.run.id);
    const rows = conn.prepare("SELECT target, status, layer, failure, observations_json FROM measurements").all() as Array<{ target: string; status: string; layer: string | null }>;
    conn.close();
    expect(rows).toHaveLength(cases.length);
    const bogon = rows.find((r) => r.target.startsWith("https://bogon.test"));
    expect(bogon).toMatchObject({ status: "blocked", layer: "dns" });
  });
});

describe("an internationalised name", () => {
  it("is looked up and fetched as xn--, and shown in both forms", async () => {
    const args = base(null, [`http://яндекс.рф:${ports.http}/`]);
    const r = await runCli(args);
    const doc = JSON.parse(r.stdout) as JsonDoc & { results: Array<{ unicode_host?: string }> };
    expect(doc.results[0]).toMatchObject({ target: `http://xn--d1acpjx3f.xn--p1ai:${ports.http}/`, unicode_host: "яндекс.рф", status: "ok" });
    const human = await runCli(args.filter((a) => a !== "--json"));
    expect(human.stdout).toContain(`http://xn--d1acpjx3f.xn--p1ai:${ports.http}/ (яндекс.рф)`);
  });
});

describe("exit codes and input errors", () => {
  it("exits 0 when everything is reachable, and prints plain words", async () => {
    const args = base(null, [`https://ok.test:${ports.ok}/`]).filter((a) => a !== "--json");
    const r = await runCli(args, { env: { NODE_EXTRA_CA_CERTS: ca.certFile } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(command line\): reachable, 1 reachable/);
    expect(r.stdout).toMatch(/✓ https:\/\/ok\.test:\d+\/\s+reachable/);
  });

  it("exits 4 when there are anomalies but nothing is confirmed blocked", async () => {
    const r = await runCli(base(null, [`tcp://127.0.0.1:${ports.closed}`]));
    expect(r.code).toBe(4);
  });

  it("exits 5 with every target inconclusive when the canary fails too", async () => {
    const args = base(null, ["--canary", `tcp://127.0.0.1:${ports.closed}`, `tcp://127.0.0.1:${ports.closed!}`]).filter((a) => a !== "--no-canary");
    const r = await runCli(args);
    const d = JSON.parse(r.stdout) as JsonDoc;
    expect(d.results.map((x) => x.status)).toEqual(["inconclusive"]);
    expect(d.results[0]!.evidence[0]).toMatch(/^not measured: this machine's network seems down \(the canary tcp:\/\/127\.0\.0\.1:\d+ failed: connection_refused\)/);
    expect(r.code).toBe(5);
  });

  it("tells a volunteer whose network is down so in one message, instead of a list of blocks", async () => {
    const args = base(null, ["--canary", `tcp://127.0.0.1:${ports.closed}`, `https://ok.test:${ports.ok}/`, `tcp://127.0.0.1:${ports.closed}`]).filter((a) => a !== "--no-canary" && a !== "--json");
    const r = await runCli(args);
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/Your network seems down: the canary tcp:\/\/127\.0\.0\.1:\d+ could not be reached \(connection_refused\)/);
    expect(r.stdout).not.toMatch(/BLOCKED|suspicious/);
  });

  it("rejects an invalid target file naming file and line, and writes nothing", async () => {
    const file = join(dir, "bad-targets.txt");
    writeFileSync(file, "# my list\nhttps://ok.test/\ntcp://nohost\n");
    const db = join(dir, "never.db");
    const r = await runCli(base(db, ["--file", file]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3`);
    expect(r.stdout).toBe("");
    expect(existsSync(db)).toBe(false);
  });

  it("reads a Citizen Lab CSV and keeps only the --category asked for", async () => {
    const csv = join(dir, "list.csv");
    writeFileSync(
      csv,
      "url,category_code,category_description,date_added,source,notes\n" +
        `http://web.test:${ports.http}/,NEWS,News Media,2026-01-01,test,\n` +
        `http://web.test:${ports.http}/451,HUMR,Human Rights Issues,2026-01-01,test,\n`,
    );
    const r = await runCli(base(null, ["--file", csv, "--category", "news"]));
    const d = JSON.parse(r.stdout) as JsonDoc;
    expect(d.results.map((x) => x.target)).toEqual([`http://web.test:${ports.http}/`]);
    expect(d.services.map((x) => x.service)).toEqual(["NEWS"]);
  });

  it("logs JSON lines on stderr at the --log-level asked for, and nothing below it", async () => {
    const target = `http://web.test:${ports.http}/`;
    const lines = async (level: string) => {
      const r = await runCli(base(join(dir, `log-${level}.db`), ["--log-level", level, target]));
      expect(r.code).toBe(0);
      return r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { level: number; msg: string; time: string; target?: string });
    };
    const debug = await lines("debug");
    expect(debug.map((l) => l.msg)).toEqual(expect.arrayContaining(["run started", "target done"]));
    expect(debug.find((l) => l.msg === "target done")).toMatchObject({ level: 20, target });
    expect(debug[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const info = await lines("info");
    expect(info.map((l) => l.msg)).toContain("run started");
    expect(info.map((l) => l.msg)).not.toContain("target done");
    expect(await lines("warn")).toEqual([]);
  });

  it("rejects a bad flag value naming the flag", async () => {
    const r = await runCli(["run", "--concurrency", "zero", "--no-store", "--no-canary", "https://ok.test/"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--concurrency must be a whole number/);
  });

  it("keeps finished measurements and marks the run interrupted on SIGINT", async () => {
    const db = join(dir, "interrupted.db");
    const args = base(db, ["--timeout", "20000", "--budget", "20000", "--concurrency", "2", `tcp://127.0.0.1:${ports.closed}`, `https://127.0.0.1:${ports.stall}/`]);
    const r = await runCli(args, {
      onSpawn: (child) => {
        // Wait until the refused target's row is committed, then interrupt while the stall hangs.
        const poll = setInterval(() => {
          if (!existsSync(db)) return;
          try {
            const conn = new Database(db, { readonly: true, timeout: 1000 });
            const n = (conn.prepare("SELECT count(*) AS n FROM measurements").get() as { n: number }).n;
            conn.close();
            if (n >= 1) {
              clearInterval(poll);
              child.kill("SIGINT");
            }
          } catch {
            /* the schema may not exist yet */
          }
        }, 50);
        child.on("close", () => clearInterval(poll));
      },
    });
    expect(r.code).toBe(130);
    const conn = new Database(db, { readonly: true });
    const run = conn.prepare("SELECT state FROM runs").get() as { state: string };
    const rows = conn.prepare("SELECT target, status FROM measurements").all() as Array<{ target: string; status: string }>;
    conn.close();
    expect(run.state).toBe("interrupted");
    expect(rows).toEqual([{ target: `tcp://127.0.0.1:${ports.closed}`, status: "anomaly" }]);
  });
});
