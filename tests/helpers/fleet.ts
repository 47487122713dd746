/**
 * Fleet test pieces: probe databases seeded as `reachprobe run` writes them, a collector
 * process on a loopback port, tokens made through the CLI, and a cluster for a describe block.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../../src/store/store.js";
import { runCli, startCli, type LongRunningCli } from "./cli.js";
import { controlObs, dnsObs, httpObs } from "./observations.js";
import type { ControlResponse } from "../../src/probes/control-wire.js";
import { seedRun, verdict, type SeedRow } from "./seed.js";
import { startPg, type PgCluster } from "./pg.js";

/** A temporary directory for one test file. */
export function tempDir(prefix = "reachprobe-fleet-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A throwaway PostgreSQL cluster and a temporary directory for the describe block this is
 * called in: started in its beforeAll, stopped and removed in its afterAll. Read them through
 * the returned object once the tests run.
 */
export function usePgCluster(): { readonly cluster: PgCluster; readonly dir: string } {
  let cluster: PgCluster | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    cluster = await startPg();
    dir = tempDir();
  }, 60_000);
  afterAll(() => {
    cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get cluster() {
      if (!cluster) throw new Error("usePgCluster: the cluster is read before beforeAll started it");
      return cluster;
    },
    get dir() {
      if (!dir) throw new Error("usePgCluster: the directory is read before beforeAll made it");
      return dir;
    },
  };
}

const TARGETS = ["https://a.example/", "https://b.example/", "tcp://c.example:443", "https://d.example/x"];
const STATUSES = ["ok", "blocked/dns", "ok", "anomaly/http", "down", "blocked/tcp", "inconclusive"];
// With a helper: blocked and anomaly next to each other (with and without the helper's answer), and outages between.
const HELPER_STATUSES = ["ok", "blocked/dns", "anomaly/dns", "blocked/dns", "inconclusive", "anomaly/http", "ok", "blocked/tcp", "inconclusive", "anomaly/tcp"];

// A control helper's answer, and a helper that could not be reached (no answer).
const ANSWERED = controlObs({ dns: { failure: null, addrs: [] }, tcp_connect: {}, tls_handshake: {}, http_request: { failure: null }, ip_info: {} } as unknown as ControlResponse);
const HELPER_DOWN = controlObs(null, { failure: "connection_refused" });

/**
 * A probe's database: `runs` hourly runs from `start` on network `label` (null: ASN only),
 * statuses turning over so that there are changes, with HTTP bodies big enough to be blobs.
 * `helper`: two runs in three ask a control helper, which answers one of them, so that changes'
 * rule for runs with and without a helper's answer (src/store/change-rules.ts) has work to do.
 */
export function seedProbe(file: string, o: { runs: number; start: string; label: string | null; asn?: number; salt?: number; stepMs?: number; helper?: boolean }): void {
  const store = Store.open(file);
  try {
    const t0 = Date.parse(o.start);
    for (let r = 0; r < o.runs; r++) {
      const rows: SeedRow[] = TARGETS.map((target, i) => {
        const statuses = o.helper ? HELPER_STATUSES : STATUSES;
        const status = statuses[(Math.floor((r + (o.salt ?? 0)) / (i + 1)) + i) % statuses.length]!;
        // b.example answers with bytes that are not text: its sample is kept as base64, and must come back as base64.
        const body = i === 1
          ? { bodySample: Buffer.from(Array.from({ length: 300 }, (_v, k) => (k * 37 + i) % 256)).toString("base64"), bodySampleEncoding: "base64" as const }
          : { bodySample: `<html>${"page ".repeat(40)}${i}</html>` };
        const obs = [dnsObs(new URL(target).hostname, ["192.0.2.1"]), httpObs("192.0.2.1:443", target, body)];
        const control = !o.helper || r % 3 === 2 ? {} : { control: r % 3 === 0 ? ANSWERED : HELPER_DOWN };
        return [target, `Service ${i % 2}`, verdict(status, (s) => (s === "ok" ? null : "generic_timeout_error"), [`seen ${status}`]), { observations: obs, ...control }];
      });
      const options = o.helper && r % 3 !== 2 ? { control: "https://control.example/" } : {};
      seedRun(store, { at: t0 + r * (o.stepMs ?? 3_600_000), network: { label: o.label, asn: o.asn ?? null }, rows, spacingMs: 7, options });
    }
  } finally {
    store.close();
  }
}

/** Makes a token for probe `name` through the CLI and returns it. */
export async function makeToken(db: string, name: string, extra: string[] = []): Promise<string> {
  const r = await runCli(["collector", "token", "add", name, "--db", db, ...extra]);
  if (r.code !== 0) throw new Error(`token add failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Starts a collector process on a free loopback port; resolves with its URL once it listens. */
export async function startCollector(db: string, killAfterMs = 600_000): Promise<{ cli: LongRunningCli; url: string }> {
  const cli = await startCli(["collector", "--listen", "127.0.0.1:0", "--db", db], /listening on (http:\/\/127\.0\.0\.1:\d+)/, { killAfterMs });
  return { cli, url: cli.match[1]! };
}

/** Pushes `file` to `url` with `token` through the CLI. */
export function pushCli(file: string, url: string, token: string, extra: string[] = []) {
  return runCli(["push", "--to", url, "--db", file, ...extra], { env: { REACHPROBE_PUSH_TOKEN: token }, killAfterMs: 120_000 });
}
