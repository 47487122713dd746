#!/usr/bin/env node
/**
 * `npm run pg:up`: starts a throwaway PostgreSQL cluster (scripts/pg-cluster.mjs) and prints its
 * connection URL on stdout; `npm run pg:down` stops it and removes its directory. The cluster's
 * directory is remembered in $TMPDIR/reachprobe-pg.json (or PG_STATE).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, stopClusterAt } from "./pg-cluster.mjs";

const state = process.env.PG_STATE ?? join(tmpdir(), "reachprobe-pg.json");
if (existsSync(state)) {
  const { url } = JSON.parse(readFileSync(state, "utf8"));
  process.stderr.write(`pg:up: a cluster is already up (${state}); npm run pg:down first\n`);
  process.stdout.write(`${url}\n`);
  process.exit(0);
}
try {
  const c = await startCluster();
  writeFileSync(state, JSON.stringify({ dir: c.dir, url: c.url, port: c.port }) + "\n");
  process.stderr.write(`pg:up: PostgreSQL on 127.0.0.1:${c.port}, data in ${c.dir}; stop it with npm run pg:down\n`);
  process.stdout.write(`${c.url}\n`);
} catch (err) {
  process.stderr.write(`pg:up: ${err.message}\n`);
  process.exit(1);
}
