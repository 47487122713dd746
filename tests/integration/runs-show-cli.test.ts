/**
 * The real `reachprobe runs` and `reachprobe show` on a database seeded through the Store: the
 * runs listed newest first with their counts, a run found by the start of its id and reported
 * as `run` reports it, one measurement's observations, and ids that match nothing or too much.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";
import { dnsObs, httpObs, tcpObs } from "../helpers/observations.js";
import { seedRun, verdict } from "../helpers/seed.js";

let dir: string;
let db: string;
const OLD = "aaaaaaaa-0000-4000-8000-000000000001";
const NEW = "abbbbbbb-0000-4000-8000-000000000002";
const MEASUREMENT = "cccccccc-0000-4000-8000-000000000003";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-runs-cli-"));
  db = join(dir, "r.db");
  const store = Store.open(db);
  seedRun(store, { id: OLD, at: "2026-05-04T10:00:00.000Z", network: { label: "Home ISP" }, rows: [["https://a.example/", "Alpha", verdict("ok")], ["https://b.example/", "Alpha", verdict("ok")]] });
  seedRun(store, {
    id: NEW,
    at: "2026-05-04T11:00:00.000Z",
    network: { label: "Home ISP" },
    targetCount: 3,
    rows: [
      ["https://a.example/", "Alpha", verdict("blocked/dns", () => "dns_nxdomain_error", ["the system resolver said the name does not exist"]), {
        id: MEASUREMENT,
        observations: [dnsObs("a.example", [], { failure: "dns_nxdomain_error" }), tcpObs("192.0.2.1:443"), httpObs("192.0.2.1:443", "https://a.example/", { status: 200, title: "Blocked" })],
      }],
      ["https://b.example/", "Alpha", verdict("ok")],
    ],
  });
  store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reachprobe runs", () => {
  it("lists the runs newest first with their counts per status in the shared words", async () => {
    const r = await runCli(["runs", "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^abbbbbbb {2}2026-05-04 11:00 {2}Home ISP {2}completed +1 of 2 blocked, 1 reachable \(2 of 3 targets measured\)$/);
    expect(lines[2]).toMatch(/^aaaaaaaa {2}2026-05-04 10:00 {2}Home ISP {2}completed +2 reachable$/);
  });

  it("gives counts per status in --json, and -n limits", async () => {
    const r = await runCli(["runs", "--db", db, "--json", "-n", "1"]);
    const doc = JSON.parse(r.stdout) as { runs: Array<{ id: string; counts: Record<string, number> }> };
    expect(doc.runs.map((x) => x.id)).toEqual([NEW]);
    expect(doc.runs[0]?.counts).toEqual({ blocked: 1, anomaly: 0, down: 0, inconclusive: 0, ok: 1 });
  });
});

describe("reachprobe show", () => {
  it("reports a run found by a prefix of its id, as run reported it", async () => {
    const r = await runCli(["show", "abb", "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Run abbbbbbb-0000-4000-8000-000000000002 on Home ISP, started 2026-05-04 11:00/);
    expect(r.stdout).toContain("Alpha: partly blocked, 1 of 2 blocked, 1 reachable");
    expect(r.stdout).toMatch(/✗ https:\/\/a\.example\/ +BLOCKED at DNS/);
    expect(r.stdout).toContain("the system resolver said the name does not exist");
    expect(r.stdout).toContain("2 of 3 targets measured");
  });

  it("shows one measurement's observations, in order", async () => {
    const r = await runCli(["show", "CCCC", "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^https:\/\/a\.example\/ \(Alpha\): BLOCKED at DNS/);
    const obs = r.stdout.split("\n").filter((l) => /^ {2}(dns|tcp|tls|http) /.test(l));
    expect(obs).toEqual([
      expect.stringMatching(/^ {2}dns +system system a\.example ANY: failed: dns_nxdomain_error/),
      expect.stringMatching(/^ {2}tcp +connect 192\.0\.2\.1:443: connected/),
      expect.stringMatching(/^ {2}http +GET https:\/\/a\.example\/ via 192\.0\.2\.1:443: 200 "Blocked"/),
    ]);
    const j = JSON.parse((await runCli(["show", MEASUREMENT, "--db", db, "--json"])).stdout) as { id: string; observations: unknown[] };
    expect(j.id).toBe(MEASUREMENT);
    expect(j.observations).toHaveLength(3);
  });

  it("refuses an ambiguous prefix with the candidates, and an unknown id, with exit 2", async () => {
    const amb = await runCli(["show", "a", "--db", db]);
    expect(amb.code).toBe(2);
    expect(amb.stdout).toBe("");
    // A measurement's random id may start with "a" too: then it is listed as well.
    expect(amb.stderr).toMatch(new RegExp(`^reachprobe: "a" is the start of more than one id \\(run ${OLD}, run ${NEW}(, measurement [0-9a-f-]+)*\\); type more of it\\n$`));
    const none = await runCli(["show", "dead", "--db", db]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no run or measurement id starts with "dead"; list the runs with "reachprobe runs"');
  });
});

describe("runs and show with a fleet database", () => {
  // (their answers on a fleet database are compared with SQLite's in read-contract.test.ts)
  it("say a database that cannot be reached, with exit 1 and the URL's password hidden", async () => {
    for (const args of [["runs"], ["show", "aaaaaaaa"]]) {
      const r = await runCli([...args, "--db", "postgresql://reader:s3cret@127.0.0.1:1/fleet"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("cannot use postgresql://reader:***@127.0.0.1:1/fleet: nothing listens there");
      expect(r.stderr).not.toContain("s3cret");
    }
  });
});
