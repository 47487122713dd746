#!/usr/bin/env node
/**
 * `node bench/fleet-bench.mjs`: the fleet benchmark of docs/fleet.md. Many probes push at
 * once, as real `reachprobe push` processes, into one `reachprobe collector` process writing
 * to PostgreSQL; then every probe's database is counted against the fleet database: measurements
 * lost, measurements stored twice, derived columns and spans that a full recomputation would change; and
 * the ingest rate (measurements a second over the pushes' wall time).
 *
 * With --kill, the collector is killed with SIGKILL once in the middle (and restarted a second
 * later: the pushes retry with backoff), and one probe's push is killed with SIGKILL and started
 * again: the counts must still match.
 *
 * Loopback only; without --db it starts its own throwaway PostgreSQL (scripts/pg-cluster.mjs).
 * Needs `npm run build`.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { startCluster } from "../scripts/pg-cluster.mjs";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const CLI = join(DIST, "cli/main.js");

const { values: v } = parseArgs({
  options: {
    probes: { type: "string", default: "50" },
    measurements: { type: "string", default: "1000000" },
    networks: { type: "string", default: "10" },
    targets: { type: "string", default: "300" },
    "batch-size": { type: "string", default: "1000" },
    kill: { type: "boolean", default: false },
    db: { type: "string" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (v.help) {
  process.stdout.write(`usage: node bench/fleet-bench.mjs [--probes 50] [--measurements 1000000] [--networks 10] [--targets 300]
                               [--batch-size 1000] [--kill] [--db postgresql://...] [--keep]\n`);
  process.exit(0);
}
const o = {
  probes: Number(v.probes), total: Number(v.measurements), networks: Number(v.networks), targets: Number(v.targets),
  batch: Number(v["batch-size"]), kill: v.kill,
};

const say = (t) => process.stderr.write(`fleet-bench: ${t}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { Store } = await import(pathToFileURL(join(DIST, "store/store.js")).href);
const { addToken } = await import(pathToFileURL(join(DIST, "store/pg/tokens.js")).href);
const { migratePg } = await import(pathToFileURL(join(DIST, "store/pg/schema.js")).href);

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Seeds one probe's database: hourly runs of `targets` targets, statuses that change now and then. */
function seedProbe(file, p, runs, count) {
  const store = Store.open(file);
  let made = 0;
  let seed = p * 7919 + 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const state = Array.from({ length: o.targets }, () => ({ status: "ok", layer: null }));
  const t0 = Date.UTC(2026, 0, 1) + p * 61_000;
  for (let r = 0; r < runs && made < count; r++) {
    const at = t0 + r * 3_600_000;
    const runId = store.startRun({ startedAt: new Date(at), version: "0.1.0", options: {}, networkLabel: `Network ${p % o.networks}`, targetCount: o.targets });
    const rows = [];
    for (let i = 0; i < o.targets && made < count; i++, made++) {
      const s = state[i];
      if (rand() < 0.02) Object.assign(s, s.status === "ok" ? { status: "blocked", layer: ["dns", "tcp", "tls", "http"][Math.floor(rand() * 4)] } : { status: "ok", layer: null });
      rows.push({
        target: `https://host${i}.example/`, service: `Service ${i % 7}`,
        verdict: { status: s.status, layer: s.layer, failure: s.status === "ok" ? null : "connection_reset", evidence: [] },
        observations: [{ step: "dns", t0: 0, t: 12, failure: null, engine: "system", resolver: "system", hostname: `host${i}.example`, qtype: "A", addresses: ["198.51.100.7"] }],
        startedAt: new Date(at + i * 50), finishedAt: new Date(at + i * 50 + 40), durationMs: 40,
      });
    }
    store.addMeasurements(runId, rows);
    store.finishRun(runId, "completed");
  }
  store.close();
  return made;
}

function startCollector(url, port) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "collector", "--listen", `127.0.0.1:${port}`, "--db", url, "--quiet"], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.on("data", (d) => {
      if (/listening on/.test(String(d))) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`the collector exited with ${code}`)));
  });
}

function startPush(file, url, token) {
  const child = spawn(process.execPath, [CLI, "push", "--to", url, "--db", file, "--batch-size", String(o.batch), "--tries", "12", "--quiet"], {
    stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, REACHPROBE_PUSH_TOKEN: token },
  });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const done = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, err })));
  return { child, done };
}

const dir = mkdtempSync(join(tmpdir(), "reachprobe-fleet-bench-"));
let cluster = null;
let collector = null;
try {
  let url = v.db;
  if (!url) {
    cluster = await startCluster();
    url = cluster.url.replace(/\/postgres$/, "/fleet");
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query("CREATE DATABASE fleet");
    await admin.end();
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await migratePg(db, "bench");

  const per = Math.ceil(o.total / o.probes);
  const runs = Math.ceil(per / o.targets);
  say(`seeding ${o.probes} probe databases, ${per.toLocaleString("en")} measurements each (${runs} runs of ${o.targets} targets), on ${o.networks} networks…`);
  const t0 = performance.now();
  const probes = [];
  let expected = 0;
  for (let p = 0; p < o.probes; p++) {
    const file = join(dir, `probe-${p}.db`);
    const n = seedProbe(file, p, runs, Math.min(per, o.total - expected));
    expected += n;
    probes.push({ file, name: `probe-${p}`, token: await addToken(db, `probe-${p}`, null) });
  }
  say(`seeded ${expected.toLocaleString("en")} measurements in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const port = await freePort();
  const at = `http://127.0.0.1:${port}`;
  collector = await startCollector(url, port);
  const count = async () => Number((await db.query("SELECT count(*) AS n FROM measurements")).rows[0].n);

  say(`pushing: ${o.probes} push processes at once into one collector${o.kill ? ", with one SIGKILL of the collector and one of a probe" : ""}…`);
  const started = performance.now();
  const pushes = probes.map((p) => startPush(p.file, at, p.token));
  const events = [];
  if (o.kill) {
    while ((await count()) < expected * 0.2) await sleep(100);
    pushes[0].child.kill("SIGKILL");
    events.push(`probe-0's push killed at ${(await count()).toLocaleString("en")} measurements`);
    while ((await count()) < expected * 0.4) await sleep(100);
    collector.kill("SIGKILL");
    events.push(`collector killed at ${(await count()).toLocaleString("en")} measurements`);
    await sleep(1000);
    collector = await startCollector(url, port);
    events.push("collector restarted");
    await pushes[0].done;
    pushes[0] = startPush(probes[0].file, at, probes[0].token);
    events.push("probe-0's push started again");
  }
  const results = await Promise.all(pushes.map((p) => p.done));
  const seconds = (performance.now() - started) / 1000;
  for (const e of events) say(e);
  const failed = results.filter((r) => r.code !== 0);
  for (const f of failed.slice(0, 5)) say(`a push failed (${f.code ?? f.signal}): ${f.err.trim().split("\n").pop()}`);

  // Counted against the probes' own databases: every local id, loaded into a temporary table.
  await db.query("CREATE TEMP TABLE local_ids (id text PRIMARY KEY)");
  const Database = (await import("better-sqlite3")).default;
  for (const p of probes) {
    const local = new Database(p.file, { readonly: true });
    const ids = local.prepare("SELECT id FROM measurements").pluck().all();
    local.close();
    for (let i = 0; i < ids.length; i += 50_000) await db.query("INSERT INTO local_ids SELECT unnest($1::text[])", [ids.slice(i, i + 50_000)]);
  }
  const q = async (sql) => Number((await db.query(sql)).rows[0].n);
  const stored = await count();
  const lost = await q("SELECT count(*) AS n FROM local_ids AS l WHERE NOT EXISTS (SELECT 1 FROM measurement_ids AS m WHERE m.id = l.id)");
  const lostRows = await q("SELECT count(*) AS n FROM local_ids AS l WHERE NOT EXISTS (SELECT 1 FROM measurements AS m WHERE m.id = l.id)");
  const duplicated = await q("SELECT (count(*) - count(DISTINCT id)) AS n FROM measurements");
  const strangers = await q("SELECT count(*) AS n FROM measurements AS m WHERE NOT EXISTS (SELECT 1 FROM local_ids AS l WHERE l.id = m.id)");
  const mislinked = await q(`SELECT count(*) AS n FROM (
    SELECT prev_status, prev_layer, changed, LAG(status) OVER w AS ps, LAG(layer) OVER w AS pl, ROW_NUMBER() OVER w AS rn, status, layer
    FROM measurements WINDOW w AS (PARTITION BY network, target ORDER BY started_at, seq)) AS x
    WHERE (prev_status, prev_layer) IS DISTINCT FROM (ps, pl)
       OR changed IS DISTINCT FROM CASE WHEN rn = 1 THEN NULL ELSE (ps IS DISTINCT FROM status OR pl IS DISTINCT FROM layer) END`);
  // The spans kept per batch against a recomputation over every row (src/store/pg/spans.ts).
  const { spansDriftSql } = await import(pathToFileURL(join(DIST, "store/pg/spans.js")).href);
  const spansWrong = await q(spansDriftSql());
  await db.end();

  process.stdout.write(
    `\nprobes: ${o.probes} pushing at once (batch ${o.batch}), ${o.networks} networks shared among them${o.kill ? "; collector and one probe killed with SIGKILL mid-push" : ""}\n` +
      `measurements in the probes' databases: ${expected.toLocaleString("en")}\n` +
      `measurements in PostgreSQL:            ${stored.toLocaleString("en")}\n` +
      `lost: ${Math.max(lost, lostRows)}   duplicated: ${duplicated}   not from any probe: ${strangers}   derived columns wrong: ${mislinked}   spans wrong: ${spansWrong}   failed pushes: ${failed.length}\n` +
      `push wall time: ${seconds.toFixed(1)} s   ingest rate: ${Math.round(expected / seconds).toLocaleString("en")} measurements/s\n`,
  );
  process.exitCode = lost === 0 && lostRows === 0 && duplicated === 0 && strangers === 0 && mislinked === 0 && spansWrong === 0 && stored === expected && failed.length === 0 ? 0 : 1;
} finally {
  collector?.kill("SIGKILL");
  cluster?.stop();
  if (!v.keep) rmSync(dir, { recursive: true, force: true });
  else say(`kept ${dir}`);
}
