/**
 * The probe's network as an ASN and a country: the control helper tells the probe its address,
 * the --asn-db maps it, and only the ASN and country are stored. The database is a real MMDB
 * file written by the test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { closeAll, dnsServer, webServer } from "../helpers/servers.js";
import { runCli, startCli, type LongRunningCli } from "../helpers/cli.js";
import { writeMmdb } from "../helpers/mmdb.js";
import { openAsnDb } from "../../src/geo/asn.js";

let dir: string;
let mmdb: string;
let helper: LongRunningCli;
let web: number;
let resolver: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-asn-"));
  mmdb = join(dir, "asn.mmdb");
  writeMmdb(mmdb, { "127.0.0.0/8": { autonomous_system_number: 64500, autonomous_system_organization: "Loopback Telecom", country: { iso_code: "RU" } } });
  web = await webServer((_q, r) => r.end("<title>ok</title>"));
  resolver = `127.0.0.1:${(await dnsServer({ "site.test": { a: ["127.0.0.1"] } })).port}`;
  // Loopback is private: the helper needs --allow-private to measure the test's own server.
  helper = await startCli(["control", "--listen", "127.0.0.1:0", "--allow-private", "--allow-ports", "any", "--no-system-resolver", "--resolver", resolver], /listening on (http:\/\/\S+)/);
});
afterAll(async () => {
  helper?.child.kill("SIGTERM");
  await helper?.exited;
  await closeAll();
});

describe("--asn-db", () => {
  it("reads MaxMind-format files", () => {
    expect(openAsnDb(mmdb).lookup("127.0.0.1")).toEqual({ asn: 64500, org: "Loopback Telecom", cc: "RU" });
    expect(openAsnDb(mmdb).lookup("192.0.2.1").asn).toBeNull();
  });

  it("records the probe's ASN and country, never its address", async () => {
    const db = join(dir, "r.db");
    const url = helper.match[1]!;
    // A name, not an IP literal: the helper's view of our address (127.0.0.1) is also the
    // target's DNS answer here, and the answer must survive the privacy scrub intact.
    const r = await runCli(["run", "--json", "--db", db, "--no-canary", "--public-ranges", "127.0.0.0/8", "--no-system-resolver", "--resolver", resolver, "--control", url, "--asn-db", mmdb, `http://site.test:${web}/`]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { run: { probe_asn: number; probe_cc: string }; results: Array<{ status: string }> };
    expect(doc.run).toMatchObject({ probe_asn: 64500, probe_cc: "RU" });
    expect(doc.results.map((x) => x.status)).toEqual(["ok"]);
    const c = new Database(db, { readonly: true });
    expect(c.prepare("SELECT probe_asn, probe_cc FROM runs").get()).toEqual({ probe_asn: 64500, probe_cc: "RU" });
    c.close();
    // The address the helper saw (127.0.0.1) is a target here too, so look for the field that would hold it.
    expect(readFileSync(db).includes(Buffer.from("x_client_ip"))).toBe(false);
  });

  it("names the file when it is not a MaxMind database", async () => {
    const bad = join(dir, "bad.mmdb");
    const r = await runCli(["run", "--no-store", "--no-canary", "--asn-db", bad, "tcp://127.0.0.1:9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--asn-db ${bad}: no such file`);
  });
});
