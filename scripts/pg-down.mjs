#!/usr/bin/env node
/** `npm run pg:down`: stops the cluster `npm run pg:up` started and removes its directory. */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopClusterAt } from "./pg-cluster.mjs";

const state = process.env.PG_STATE ?? join(tmpdir(), "reachprobe-pg.json");
if (!existsSync(state)) {
  process.stderr.write(`pg:down: no cluster is up (no ${state})\n`);
  process.exit(0);
}
const { dir } = JSON.parse(readFileSync(state, "utf8"));
stopClusterAt(dir);
rmSync(state, { force: true });
process.stderr.write(`pg:down: stopped, ${dir} removed\n`);
