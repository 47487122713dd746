/**
 * What `push` sends leaves the machine for someone else's disk: a block page that quotes the
 * volunteer's addresses (IPv4 and IPv6, in its body, title and headers, text and binary; its
 * title quoted in the verdict's evidence) arrives at the collector's PostgreSQL with none of
 * them, in the rows or in the blobs; with --no-scrub it arrives as measured.
 */
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { Verdict } from "../../src/analysis/verdict.js";
import { decodeBlob } from "../../src/store/blobs.js";
import { Store } from "../../src/store/store.js";
import { makeToken, pushCli, startCollector, usePgCluster } from "../helpers/fleet.js";
import { containsAny, leakyPage, QUOTED } from "../helpers/leaky-page.js";
import { dnsObs, tcpObs } from "../helpers/observations.js";
import { freshDatabase, pgUnavailable } from "../helpers/pg.js";
import { seedRun } from "../helpers/seed.js";
import { skipTag } from "../helpers/skip.js";

const why = pgUnavailable();
// The verdict quotes the page's title, as compare-http's evidence does.
const blocked: Verdict = { status: "blocked", layer: "http", failure: null, evidence: ['HTTP 403, 390 bytes, "Blocked for 203.0.113.77"'] };

function probeFile(file: string, runId: string): void {
  const s = Store.open(file, { hostname: "volunteer" });
  try {
    seedRun(s, {
      id: runId,
      at: "2026-12-01T10:00:00.000Z",
      network: { label: "home", asn: 64500, cc: "RU" },
      rows: [
        ["http://blocked.example/", "Site", blocked, { id: `${runId}-text`, observations: [dnsObs("blocked.example", ["192.0.2.1"]), tcpObs("192.0.2.1:80"), leakyPage(false)] }],
        ["http://blocked.example/bin", "Site", blocked, { id: `${runId}-bin`, observations: [leakyPage(true)] }],
      ],
    });
  } finally {
    s.close();
  }
}

describe.skipIf(why !== null)(`push scrubs what leaves the probe${skipTag(why)}`, () => {
  const pgc = usePgCluster();

  it("by default no address from a body, title or header reaches the collector; --no-scrub sends them as measured", async () => {
    const url = await freshDatabase(pgc.cluster);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { cli, url: at } = await startCollector(url);
    // Everything the collector holds of one probe's measurements, blobs decoded.
    const stored = async (probe: string) => {
      const rows = await client.query<{ observations_json: string; control_json: string | null; evidence_json: string }>(
        `SELECT m.observations_json, m.control_json, m.evidence_json FROM measurements AS m JOIN probes AS p ON p.id = m.probe_id WHERE p.name = $1`,
        [probe],
      );
      const blobs = await client.query<{ sha256: string; size: number; compression: string; data: Buffer }>(`SELECT sha256, size, compression, data FROM blobs`);
      return { count: rows.rows.length, text: [...rows.rows.map((r) => `${r.observations_json}\n${r.control_json ?? ""}\n${r.evidence_json}`), ...blobs.rows.map((b) => decodeBlob(b).toString("latin1"))].join("\n") };
    };
    try {
      const scrubbed = join(pgc.dir, "scrubbed.db");
      probeFile(scrubbed, "run-a");
      const r = await pushCli(scrubbed, at, await makeToken(url, "volunteer-a"));
      expect(r.code, r.stderr).toBe(0);
      const a = await stored("volunteer-a");
      expect(a.count).toBe(2);
      expect(containsAny(a.text)).toEqual([]);
      expect(a.text).toContain("[scrubbed]");
      // The probe's own database keeps what it measured.
      const local = Store.open(scrubbed);
      try {
        expect(JSON.stringify(local.getMeasurement("run-a-text")!.observations)).toContain("203.0.113.77");
      } finally {
        local.close();
      }

      const plain = join(pgc.dir, "plain.db");
      probeFile(plain, "run-b");
      const r2 = await pushCli(plain, at, await makeToken(url, "volunteer-b"), ["--no-scrub"]);
      expect(r2.code, r2.stderr).toBe(0);
      expect(containsAny((await stored("volunteer-b")).text).sort()).toEqual([...QUOTED].sort());
    } finally {
      cli.child.kill("SIGKILL");
      await client.end();
    }
  }, 120_000);
});
