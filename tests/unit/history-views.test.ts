/**
 * The views analysts query (latest_status, status_changes), and every query that docs/database.md's
 * "Views and queries for analysts" shows, run as written on a small database.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Status } from "../../src/analysis/verdict.js";
import { Store } from "../../src/store/store.js";
import { seedRun, verdict, type SeedRow } from "../helpers/seed.js";
import { sqlBlocks } from "../helpers/doc-sql.js";

const HOUR = 3_600_000;

let dir: string;
let path: string;
const runs: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-views-"));
  path = join(dir, "views.db");
  const store = Store.open(path);
  // Times near the real clock, so that the documented "last 7 days" finds something.
  const now = Date.now();
  const plan: Array<[string, number, Record<string, string>]> = [
    ["Rostelecom Moscow", 72, { "https://weixin.qq.com/": "ok", "tcp://long.weixin.qq.com:8080": "ok" }],
    ["Rostelecom Moscow", 48, { "https://weixin.qq.com/": "blocked/dns", "tcp://long.weixin.qq.com:8080": "anomaly/tcp" }],
    ["Rostelecom Moscow", 24, { "https://weixin.qq.com/": "blocked/tcp", "tcp://long.weixin.qq.com:8080": "blocked/tcp" }],
    ["MTS", 30, { "https://weixin.qq.com/": "ok", "tcp://long.weixin.qq.com:8080": "ok" }],
    ["MTS", 6, { "https://weixin.qq.com/": "ok", "tcp://long.weixin.qq.com:8080": "ok" }],
  ];
  for (const [label, hoursAgo, verdicts] of plan) {
    const startedAt = new Date(now - hoursAgo * HOUR).toISOString();
    const failureOf = (status: Status) => (status === "blocked" ? "generic_timeout_error" : null);
    const rows = Object.entries(verdicts).map(([target, v]): SeedRow => [target, "WeChat", verdict(v, failureOf)]);
    runs[`${label} -${hoursAgo}h`] = seedRun(store, { at: startedAt, network: { label }, rows }).runId;
  }
  store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the views", () => {
  it("latest_status: one row per target and network with its latest verdict and when it began", () => {
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT network, target, status, layer, run_id FROM latest_status ORDER BY network, target").all();
    db.close();
    expect(rows).toEqual([
      { network: "MTS", target: "https://weixin.qq.com/", status: "ok", layer: null, run_id: runs["MTS -6h"] },
      { network: "MTS", target: "tcp://long.weixin.qq.com:8080", status: "ok", layer: null, run_id: runs["MTS -6h"] },
      { network: "Rostelecom Moscow", target: "https://weixin.qq.com/", status: "blocked", layer: "tcp", run_id: runs["Rostelecom Moscow -24h"] },
      { network: "Rostelecom Moscow", target: "tcp://long.weixin.qq.com:8080", status: "blocked", layer: "tcp", run_id: runs["Rostelecom Moscow -24h"] },
    ]);
  });

  it("status_changes: every change per network with the runs on both sides of it", () => {
    const db = new Database(path, { readonly: true });
    const rows = db
      .prepare(
        `SELECT network, target, previous_status, previous_layer, status, layer, run_id, previous_run_id
         FROM status_changes ORDER BY changed_at, target`,
      )
      .all();
    db.close();
    const rt = (h: number) => runs[`Rostelecom Moscow -${h}h`];
    expect(rows).toEqual([
      { network: "Rostelecom Moscow", target: "https://weixin.qq.com/", previous_status: "ok", previous_layer: null, status: "blocked", layer: "dns", run_id: rt(48), previous_run_id: rt(72) },
      { network: "Rostelecom Moscow", target: "tcp://long.weixin.qq.com:8080", previous_status: "ok", previous_layer: null, status: "anomaly", layer: "tcp", run_id: rt(48), previous_run_id: rt(72) },
      { network: "Rostelecom Moscow", target: "https://weixin.qq.com/", previous_status: "blocked", previous_layer: "dns", status: "blocked", layer: "tcp", run_id: rt(24), previous_run_id: rt(48) },
      { network: "Rostelecom Moscow", target: "tcp://long.weixin.qq.com:8080", previous_status: "anomaly", previous_layer: "tcp", status: "blocked", layer: "tcp", run_id: rt(24), previous_run_id: rt(48) },
    ]);
  });
});

describe("docs/database.md's queries for analysts", () => {
  const blocks = sqlBlocks("## Views and queries for analysts");

  it("shows four or five of them", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(blocks.length).toBeLessThanOrEqual(5);
  });

  for (const [i, sql] of blocks.entries()) {
    it(`query ${i + 1} runs read-only, as an analyst's sqlite3 -readonly would, and finds something: ${sql.split("\n")[0]}`, () => {
      const db = new Database(path, { readonly: true });
      try {
        const rows = db.prepare(sql).all();
        expect(rows.length, sql).toBeGreaterThan(0);
      } finally {
        db.close();
      }
    });
  }
});
