/**
 * A throwaway PostgreSQL for a test file (scripts/pg-cluster.mjs): `pgUnavailable()` says why
 * the suites must skip (no server binaries), `startPg()` starts a cluster on 127.0.0.1 and
 * `freshDatabase()` makes an empty database in it for one test.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
// A plain .mjs script shared with `npm run pg:up` (allowJs types it loosely).
import { pgUnavailable as unavailable, startCluster } from "../../scripts/pg-cluster.mjs";

/** A running cluster: its superuser URL and how to stop it. */
export interface PgCluster {
  url: string;
  stop(): void;
}

/** Why PostgreSQL tests cannot run here (the skip reason), or null. */
export function pgUnavailable(): string | null {
  return (unavailable as () => string | null)();
}

/** Starts a cluster for this test file; stop it in afterAll. */
export async function startPg(): Promise<PgCluster> {
  return (await (startCluster as () => Promise<PgCluster>)());
}

/** Creates an empty database in the cluster and returns its URL. */
export async function freshDatabase(cluster: PgCluster, prefix = "t"): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}
