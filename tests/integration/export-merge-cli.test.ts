/**
 * The real `reachprobe export` and `reachprobe merge` on databases made by real `reachprobe run`s
 * against loopback servers: each export format parses back, --output appears whole, and two
 * volunteers' files merge into a third without duplicates. Names resolve only through the
 * test's own DNS server (--no-system-resolver). (How a control's answer is exported is covered
 * by tests/unit/export.test.ts.)
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/base/csv.js";
import { hashHostname, processStartTime } from "../../src/base/process-identity.js";
import { makeTestCa, type TestCa } from "../helpers/certs.js";
import { decodeBlob } from "../../src/store/blobs.js";
import { Store } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";
import { containsAny, leakyPage, QUOTED } from "../helpers/leaky-page.js";
import { seedRun } from "../helpers/seed.js";
import { closeAll, closedPort, dnsServer, webServer } from "../helpers/servers.js";

let ca: TestCa;
let dir: string;
let resolver: string;
/** An honest outside resolver for bogon.test: the witness that makes its loopback answer a proof. */
let witness: string;
const targets: string[] = [];
const dbA = () => join(dir, "volunteer-a.db");
const dbB = () => join(dir, "volunteer-b.db");

function run(db: string, label: string): ReturnType<typeof runCli> {
  const args = ["run", "--json", "--no-system-resolver", "--resolver", resolver, "--resolver", witness, "--public-ranges", "127.0.0.1/32", "--timeout", "1500", "--dns-window", "100", "--no-canary", "--db", db, "--network-label", label, ...targets];
  return runCli(args, { env: { NODE_EXTRA_CA_CERTS: ca.certFile } });
}

function count(db: string, sql: string): number {
  const conn = new Database(db, { readonly: true });
  const n = (conn.prepare(sql).get() as { n: number }).n;
  conn.close();
  return n;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  expect(text.endsWith("\n"), "the output ends with a newline").toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`line ${i + 1} is not JSON: ${(err as Error).message}: ${line.slice(0, 200)}`);
      }
    });
}

beforeAll(async () => {
  ca = makeTestCa();
  dir = mkdtempSync(join(tmpdir(), "reachprobe-export-"));
  const okPort = await webServer((_req, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<html><title>Fine site</title><body>fine</body></html>");
  }, ca.issue(["ok.test", "bogon.test"]));
  const httpPort = await webServer((_req, res) => {
    res.writeHead(451, { "content-type": "text/html" });
    res.end("<title>Unavailable For Legal Reasons</title>");
  });
  const closed = await closedPort();
  const dns = await dnsServer({ "ok.test": { a: ["127.0.0.1"] }, "bogon.test": { a: ["127.0.0.2"] }, "web.test": { a: ["127.0.0.1"] } });
  resolver = `127.0.0.1:${dns.port}`;
  const honest = await dnsServer({ "ok.test": { a: ["127.0.0.1"] }, "bogon.test": { a: ["127.0.0.1"] }, "web.test": { a: ["127.0.0.1"] } });
  witness = `127.0.0.1:${honest.port}`;
  targets.push(`https://ok.test:${okPort}/`, `https://bogon.test:${okPort}/`, `tcp://127.0.0.1:${closed}`, `http://web.test:${httpPort}/451`);

  // Two volunteers' files; one label has a comma, for the CSV quoting.
  const a = await run(dbA(), "home, Moscow");
  expect(a.stderr).toBe("");
  const b = await run(dbB(), "office");
  expect(b.stderr).toBe("");
}, 60_000);

afterAll(closeAll);

describe("reachprobe export", () => {
  it("writes JSON Lines: one measurement a line, with its run's network, verdict and observations", async () => {
    const r = await runCli(["export", "--format", "jsonl", "--db", dbA()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.target).sort()).toEqual([...targets].sort());
    for (const l of lines) {
      expect(l).toMatchObject({ network: "home, Moscow", network_label: "home, Moscow", probe_asn: null, probe_cc: null });
      expect(Array.isArray(l.observations) && (l.observations as unknown[]).length > 0, `observations of ${String(l.target)}`).toBe(true);
    }
    expect(lines.find((l) => String(l.target).startsWith("https://bogon.test"))).toMatchObject({ status: "blocked", layer: "dns", failure: "dns_bogon_error" });
  });

  it("writes CSV with a header row that a strict RFC 4180 reader reads back", async () => {
    const r = await runCli(["export", "--format", "csv", "--db", dbA()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("\r\n");
    const [header, ...rows] = parseCsv(r.stdout).map((x) => x.fields);
    expect(header).toEqual(["measurement_id", "run_id", "network", "target", "service", "status", "layer", "failure", "started_at", "finished_at", "duration_ms"]);
    expect(rows).toHaveLength(targets.length);
    for (const row of rows) {
      expect(row).toHaveLength(11);
      expect(row[2]).toBe("home, Moscow");
      expect(row[8]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const tcp = rows.find((x) => x[3]!.startsWith("tcp://"))!;
    expect(tcp.slice(5, 8)).toEqual(["anomaly", "tcp", "connection_refused"]);
  });

  it("writes OONI web_connectivity measurements (tcp_connect for a tcp:// target), one JSON object a line", async () => {
    const r = await runCli(["export", "--format", "ooni", "--db", dbA()]);
    expect(r.code, r.stderr).toBe(0);
    const all = jsonLines(r.stdout);
    expect(all).toHaveLength(targets.length);
    // One report a run and test, as OONI's probes open one per test.
    expect(new Set(all.map((l) => String(l.report_id).split("_")[1]))).toEqual(new Set(["webconnectivity", "tcpconnect"]));
    expect(new Set(all.map((l) => l.report_id)).size, "one report a run and test").toBe(2);
    const tcp = all.find((l) => l.test_name === "tcp_connect")!;
    expect(tcp).toMatchObject({ input: targets.find((t) => t.startsWith("tcp://"))!.slice("tcp://".length), test_keys: { connection: "connection_refused" } });
    const lines = all.filter((l) => l.test_name !== "tcp_connect");
    for (const l of lines) {
      expect(l).toMatchObject({ data_format_version: "0.2.0", test_name: "web_connectivity", software_name: "reachprobe", probe_ip: "127.0.0.1", probe_asn: "AS0", probe_cc: "ZZ", probe_network_name: "" });
      expect(l.measurement_start_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(Object.keys(l.test_keys as object)).toEqual(expect.arrayContaining(["queries", "tcp_connect", "tls_handshakes", "requests", "control", "control_failure", "blocking", "accessible"]));
    }
    const byInput = (prefix: string) => lines.find((l) => String(l.input).startsWith(prefix))!.test_keys as Record<string, unknown>;
    expect(byInput("https://ok.test")).toMatchObject({ blocking: false, accessible: true, control: null, control_failure: null });
    expect((byInput("https://ok.test").requests as Array<{ response: { code: number } }>)[0]!.response.code).toBe(200);
    expect(byInput("https://bogon.test")).toMatchObject({ blocking: "dns", accessible: false });
    expect((byInput("https://bogon.test").queries as unknown[])[0]).toMatchObject({ engine: "udp", resolver_address: resolver, answers: [{ answer_type: "A", ipv4: "127.0.0.2" }] });
    expect(byInput("http://web.test")).toMatchObject({ blocking: "http-diff", accessible: false });
    expect(tcp.test_keys).toMatchObject({ tcp_connect: [{ ip: "127.0.0.1", status: { success: false, failure: "connection_refused" } }], x_reachprobe: { layer: "tcp" } });
    // Nothing in the export gives away the machine: the probe's address is OONI's placeholder,
    // and the network label goes in only when asked.
    expect(r.stdout).not.toMatch(/hostname_hash|"pid"|home, Moscow/);
    expect(r.stderr).toMatch(/warning: \d+ of \d+ measurements have no country or ASN .*OONI's pipeline discards them/);
    const labelled = await runCli(["export", "--format", "ooni", "--network-label", "--db", dbA()]);
    expect(jsonLines(labelled.stdout)[0]).toMatchObject({ probe_network_name: "home, Moscow", annotations: { network_label: "home, Moscow" } });
  });

  it("writes --output whole, leaving no temporary file, and says how many it wrote", async () => {
    const out = join(dir, "export.csv");
    writeFileSync(out, "an older export\n");
    const r = await runCli(["export", "--format", "csv", "--db", dbA(), "--output", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`reachprobe: ${targets.length} measurements written to ${out}\n`);
    expect(parseCsv(readFileSync(out, "utf8"))).toHaveLength(targets.length + 1);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("leaves an existing --output file as it was when the export fails", async () => {
    const out = join(dir, "kept.jsonl");
    writeFileSync(out, "keep me\n");
    const r = await runCli(["export", "--format", "jsonl", "--db", join(dir, "missing.db"), "--output", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.db/);
    expect(readFileSync(out, "utf8")).toBe("keep me\n");
  });

  it("filters by --since and --network", async () => {
    // Every measurement started before now: an export since now has the header row only.
    const none = await runCli(["export", "--format", "csv", "--db", dbA(), "--since", new Date().toISOString()]);
    expect(none.code, none.stderr).toBe(0);
    expect(parseCsv(none.stdout)).toHaveLength(1);
    const recent = await runCli(["export", "--format", "jsonl", "--db", dbA(), "--since", "1d"]);
    expect(jsonLines(recent.stdout)).toHaveLength(targets.length);
    const other = await runCli(["export", "--format", "jsonl", "--db", dbA(), "--network", "office"]);
    expect(other.stdout).toBe("");
  });

  it("rejects a bad format or --since with exit 2", async () => {
    const format = await runCli(["export", "--format", "xml", "--db", dbA()]);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/xml/);
    const since = await runCli(["export", "--format", "csv", "--db", dbA(), "--since", "last tuesday"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since/);
    expect(since.stdout).toBe("");
  });
});

describe("reachprobe merge", () => {
  it("merges two volunteers' files into a third, and a second merge adds nothing", async () => {
    const hashes = [dbA(), dbB()].map((f) => createHash("sha256").update(readFileSync(f)).digest("hex"));
    const merged = join(dir, "merged.db");
    const r = await runCli(["merge", "--db", merged, dbA(), dbB()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const n = targets.length;
    expect(r.stdout).toBe(
      `${dbA()}: 1 run and ${n} measurements added; 0 duplicates skipped (0 runs, 0 measurements); 0 conflicts\n` +
        `${dbB()}: 1 run and ${n} measurements added; 0 duplicates skipped (0 runs, 0 measurements); 0 conflicts\n`,
    );
    expect(count(merged, "SELECT COUNT(*) AS n FROM runs")).toBe(2);
    expect(count(merged, "SELECT COUNT(*) AS n FROM measurements")).toBe(2 * n);

    const again = await runCli(["merge", "--db", merged, dbA()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`${dbA()}: 0 runs and 0 measurements added; ${n + 1} duplicates skipped (1 run, ${n} measurements); 0 conflicts\n`);
    expect(count(merged, "SELECT COUNT(*) AS n FROM measurements")).toBe(2 * n);

    // Ids and network labels survive: exporting the merged file per network gives each volunteer's rows.
    const fromA = jsonLines((await runCli(["export", "--format", "jsonl", "--db", dbA()])).stdout).map((l) => l.id).sort();
    const mergedA = jsonLines((await runCli(["export", "--format", "jsonl", "--db", merged, "--network", "home, Moscow"])).stdout).map((l) => l.id).sort();
    expect(mergedA).toEqual(fromA);
    const office = jsonLines((await runCli(["export", "--format", "jsonl", "--db", merged, "--network", "office"])).stdout);
    expect(office).toHaveLength(n);

    expect([dbA(), dbB()].map((f) => createHash("sha256").update(readFileSync(f)).digest("hex")), "the volunteers' files are unchanged").toEqual(hashes);
  });

  it("refuses a file that is not a reachprobe database, names it, merges the others, and exits 1", async () => {
    const junk = join(dir, "photo.db");
    writeFileSync(junk, Buffer.alloc(4096, 0xff));
    const merged = join(dir, "merged-2.db");
    const r = await runCli(["merge", "--db", merged, junk, dbB()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`reachprobe: ${junk} is not a reachprobe database: it is not an SQLite file. Nothing was merged from it.\n`);
    expect(r.stdout).toMatch(new RegExp(`^${dbB().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 1 run and ${targets.length} measurements added`));
    expect(count(merged, "SELECT COUNT(*) AS n FROM runs")).toBe(1);
  });

  it("exits 6 without touching the database while a run holds its lock", async () => {
    const merged = join(dir, "locked.db");
    const holder = { pid: process.pid, hostname_hash: hashHostname(hostname()), started_at: new Date().toISOString(), proc_start: processStartTime(process.pid) };
    writeFileSync(`${merged}.lock`, JSON.stringify(holder));
    const r = await runCli(["merge", "--db", merged, dbA()]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/another reachprobe run is writing .*locked\.db/);
    expect(existsSync(merged)).toBe(false);
  });

  it("--scrub merges a volunteer's block page with no address from its body or headers left", async () => {
    const file = join(dir, "leaky.db");
    const s = Store.open(file);
    seedRun(s, { at: "2026-12-01T10:00:00.000Z", network: { label: "home" }, rows: [["http://blocked.example/", "Site", { status: "blocked", layer: "http", failure: null, evidence: ['HTTP 403, "Blocked for 203.0.113.77"'] }, { observations: [leakyPage(false), leakyPage(true)] }]] });
    s.close();
    const everything = (db: string) => {
      const conn = new Database(db, { readonly: true });
      const rows = conn.prepare("SELECT observations_json || evidence_json FROM measurements").pluck().all() as string[];
      const blobs = (conn.prepare("SELECT sha256, size, compression, data FROM blobs").all() as Array<{ sha256: string; size: number; compression: string; data: Buffer }>).map((b) => decodeBlob(b).toString("latin1"));
      conn.close();
      return [...rows, ...blobs].join("\n");
    };
    const plain = join(dir, "plain-merge.db");
    expect((await runCli(["merge", "--db", plain, file])).code).toBe(0);
    expect(containsAny(everything(plain)).sort()).toEqual([...QUOTED].sort());
    const scrubbed = join(dir, "scrubbed-merge.db");
    const r = await runCli(["merge", "--scrub", "--db", scrubbed, file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 run and 1 measurement added/);
    expect(containsAny(everything(scrubbed))).toEqual([]);
  });

  it("needs at least one file", async () => {
    const r = await runCli(["merge", "--db", join(dir, "x.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("reachprobe: merge needs the .db files to merge in, e.g. reachprobe merge volunteer-a.db\n");
  });
});
