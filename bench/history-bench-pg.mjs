/**
 * The PostgreSQL mode of bench/history-bench.mjs (`npm run bench:history -- --store pg`):
 * builds the same synthetic hourly runs in the fleet schema (src/store/pg/schema.ts), by
 * default 8760 hourly runs x 100 targets x 12 networks = 10.5 million measurements, then times
 * history, changes --since 7d and 365d and report as CLI processes with --db postgresql://...,
 * and prints the plans of the history and changes queries and of every statement the report
 * sends (run in this process through a client that explains each one first), flagging any
 * sequential scan of a measurements partition. Loopback only: without --db it starts a
 * throwaway cluster (scripts/pg-cluster.mjs).
 *
 * With --db, a database that already holds the bench's rows is reused as it is (after
 * upgrading its schema, as the collector would): build it once into a cluster of your own
 * (npm run pg:up), then time it again with the same --db without building it again.
 *
 * The build writes through COPY with the derived columns computed by the generator (as the
 * SQLite build does), indexes and keys dropped and made again at the end, then VACUUM ANALYZE
 * (what autovacuum does for a live database).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import copyStreams from "pg-copy-streams";
import { startCluster } from "../scripts/pg-cluster.mjs";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const BUDGET_MS = 1000;

const say = (t) => process.stderr.write(`bench: ${t}\n`);
function fail(msg) {
  say(msg);
  process.exit(1);
}

// COPY's text format: \N for null; backslash, tab and newline escaped.
const field = (v) => (v === null || v === undefined ? "\\N" : String(v).replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n"));
const line = (values) => `${values.map(field).join("\t")}\n`;

async function copyRows(client, sql, rows) {
  await pipeline(Readable.from(rows), client.query(copyStreams.from(sql)));
}

async function build(client, o, gen) {
  const { START: start, HOUR, syntheticPlan, syntheticRuns } = gen;
  const { PG_MIGRATIONS, migratePg, ensurePartitions } = await import(pathToFileURL(join(DIST, "store/pg/schema.js")).href);
  const { SPAN_COLUMNS, spansFromMeasurementsSql } = await import(pathToFileURL(join(DIST, "store/pg/spans.js")).href);
  const started = performance.now();
  await migratePg(client, "bench");
  const months = [];
  for (let t = start; t <= start + o.runs * HOUR + HOUR; t += 20 * 86_400_000) months.push(new Date(t).toISOString().slice(0, 7));
  await ensurePartitions(client, "bench", months);
  // Indexes and keys made once at the end, sorted, instead of row by row.
  const indexSql = [...PG_MIGRATIONS.join("\n").matchAll(/CREATE INDEX measurements_\w+ ON measurements[^;]+;/g)].map((m) => m[0]);
  for (const s of indexSql) await client.query(`DROP INDEX IF EXISTS ${/CREATE INDEX (\w+)/.exec(s)[1]}`);
  await client.query("ALTER TABLE measurements DROP CONSTRAINT IF EXISTS measurements_pkey");
  await client.query("ALTER TABLE measurements DROP CONSTRAINT IF EXISTS measurements_run_id_fkey");

  const plan = syntheticPlan(o);
  const probeIds = [];
  for (const net of plan.networks) probeIds.push((await client.query("INSERT INTO probes (name) VALUES ($1) RETURNING id", [`probe-${net.asn}`])).rows[0].id);
  const runRows = [];
  let measurements = 0;
  let seq = 0;
  function* measurementLines() {
    for (const run of syntheticRuns(o, plan)) {
      const n = run.network;
      const net = plan.networks[n];
      runRows.push(line([probeIds[n], run.id, new Date(run.startedAt).toISOString(), new Date(run.startedAt + 40_000).toISOString(), "completed", "0.1.0", 4242, `host${n}`, net.label, net.asn, "RU", "{}", o.targets, "[]"]));
      for (const m of run.measurements) {
        yield line([
          ++seq, probeIds[n], randomUUID(), run.id, net.label, m.target, m.service, m.status, m.layer, m.failure,
          m.prevStatus, m.prevLayer, m.changed === null ? null : m.changed ? "t" : "f", new Date(m.startedAt).toISOString(), new Date(m.startedAt + 250).toISOString(), 250,
          m.evidenceJson, m.observationsJson, null,
        ]);
      }
      measurements += run.measurements.length;
    }
  }
  // Runs first would need two passes of the generator: measurements go in first (no foreign key yet).
  await copyRows(client, `COPY measurements (seq, probe_id, id, run_id, network, target, service, status, layer, failure, prev_status, prev_layer, changed,
    started_at, finished_at, duration_ms, evidence_json, observations_json, control_json) FROM STDIN`, measurementLines());
  await copyRows(client, `COPY runs (probe_id, id, started_at, finished_at, state, reachprobe_version, pid, hostname_hash, network_label, probe_asn, probe_cc,
    options_json, target_count, summary_json) FROM STDIN`, runRows);
  await client.query(`SELECT setval('measurements_seq', $1)`, [seq]);
  say(`creating ${indexSql.length} indexes and the keys…`);
  await client.query("SET maintenance_work_mem = '512MB'");
  for (const s of indexSql) await client.query(s);
  await client.query("ALTER TABLE measurements ADD PRIMARY KEY (id, started_at)");
  await client.query("ALTER TABLE measurements ADD CONSTRAINT measurements_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id)");
  // The spans the collector keeps per batch (src/store/pg/spans.ts), made here in one pass.
  say("making the spans…");
  await client.query("SET work_mem = '256MB'");
  await client.query(`INSERT INTO spans (${SPAN_COLUMNS.join(", ")}) ${spansFromMeasurementsSql()}`);
  say("VACUUM ANALYZE…");
  await client.query("VACUUM ANALYZE measurements");
  await client.query("VACUUM ANALYZE runs");
  await client.query("VACUUM ANALYZE spans");
  return { measurements, seconds: (performance.now() - started) / 1000 };
}

/**
 * The plans of every statement the report sends for `since` (null: all time): the report is
 * computed in this process, through a client that runs EXPLAIN ANALYZE on each statement the
 * first time it is sent, then the statement itself.
 */
async function reportPlans(client, since) {
  const { PgReader } = await import(pathToFileURL(join(DIST, "store/pg/read.js")).href);
  const { computeWithPgRows } = await import(pathToFileURL(join(DIST, "store/pg/report-rows.js")).href);
  const { loadReport } = await import(pathToFileURL(join(DIST, "report/report-data.js")).href);
  const plans = new Map();
  const explaining = {
    query: async (config, values) => {
      const text = typeof config === "string" ? config : config.text;
      const params = typeof config === "string" ? values : config.values;
      if (/^\s*(WITH|SELECT)\b/i.test(text) && !plans.has(text)) {
        const r = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params);
        plans.set(text, r.rows[0]["QUERY PLAN"][0].Plan);
      }
      return client.query(config, values);
    },
  };
  await computeWithPgRows(new PgReader(explaining, "bench"), (rows) => loadReport(rows, { since, network: null }));
  return [...plans.values()];
}

// Every node of a JSON plan that scans a measurements partition sequentially and reads a row
// (the planner scans an empty partition, such as the month just begun, sequentially: it holds nothing).
function seqScans(node, out = []) {
  const read = (node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0);
  if (node["Node Type"] === "Seq Scan" && /^measurements/.test(node["Relation Name"] ?? "") && read > 0) out.push(`Seq Scan on ${node["Relation Name"]}`);
  for (const child of node.Plans ?? []) seqScans(child, out);
  return out;
}

function planLines(node, depth = 0, out = []) {
  out.push(`${"  ".repeat(depth + 1)}${node["Node Type"]}${node["Relation Name"] ? ` on ${node["Relation Name"]}` : ""}${node["Index Name"] ? ` using ${node["Index Name"]}` : ""}${node["Actual Total Time"] !== undefined ? ` (${node["Actual Total Time"].toFixed(1)} ms, ${node["Actual Rows"]} rows x ${node["Actual Loops"]})` : ""}`);
  for (const child of node.Plans ?? []) planLines(child, depth + 1, out);
  return out;
}

/** Runs the PostgreSQL benchmark; `gen` is the SQLite bench's generator, `argv` its flags without --store. */
export async function pgBench(gen, argv) {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string", default: "8760" },
      targets: { type: "string", default: "100" },
      networks: { type: "string", default: "12" },
      repeat: { type: "string", default: "3" },
      db: { type: "string" },
      plans: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
    },
  });
  const o = { runs: Number(v.runs), targets: Number(v.targets), networks: Number(v.networks), repeat: Number(v.repeat) };
  const { pgHistorySql, pgMeaningfulChangesSql } = await import(pathToFileURL(join(DIST, "store/pg/read.js")).href);
  let cluster = null;
  const dir = mkdtempSync(join(tmpdir(), "reachprobe-history-bench-pg-"));
  try {
    let url = v.db;
    if (!url) {
      cluster = await startCluster();
      url = cluster.url;
      say(`PostgreSQL on ${url}`);
    }
    const client = new pg.Client({ connectionString: url, options: "-c jit=off" });
    await client.connect();
    const has = (await client.query("SELECT to_regclass('measurements') IS NOT NULL AS t")).rows[0].t;
    if (!has || Number((await client.query("SELECT count(*) AS n FROM runs")).rows[0].n) === 0) {
      process.stdout.write(`Building ${o.runs} hourly runs x ${o.targets} targets x ${o.networks} networks in PostgreSQL…\n`);
      const built = await build(client, o, gen);
      process.stdout.write(`built ${built.measurements.toLocaleString("en")} measurements in ${built.seconds.toFixed(1)} s\n`);
    } else {
      process.stdout.write(`Using the existing database ${url}\n`);
      // Upgraded as the collector upgrades it (a version 1 database gets its spans made from its rows).
      const { migratePg, pgSchemaVersion, PG_SCHEMA_VERSION } = await import(pathToFileURL(join(DIST, "store/pg/schema.js")).href);
      const found = await pgSchemaVersion(client);
      if (found < PG_SCHEMA_VERSION) {
        const t0 = performance.now();
        await client.query("SET work_mem = '256MB'");
        await migratePg(client, "bench");
        process.stdout.write(`upgraded its schema from version ${found} to ${PG_SCHEMA_VERSION} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      }
    }
    const one = async (sql, params = []) => (await client.query(sql, params)).rows[0];
    const counts = await one("SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM measurements) AS measurements, (SELECT count(*) FROM measurements WHERE changed) AS changes");
    const size = (await one("SELECT pg_database_size(current_database()) AS s")).s;
    const network = (await one("SELECT network FROM measurements WHERE changed IS NULL ORDER BY network LIMIT 1")).network;
    const target = (await one("SELECT target FROM measurements WHERE changed IS NULL ORDER BY target LIMIT 1")).target;
    const nowMs = Date.parse((await one("SELECT iso(max(started_at)) AS t FROM runs")).t);
    const ago = (days) => new Date(nowMs - days * 86_400_000).toISOString();
    process.stdout.write(`\ndatabase: ${(size / 1e6).toFixed(0)} MB, ${counts.runs.toLocaleString("en")} runs, ${counts.measurements.toLocaleString("en")} measurements, ${counts.changes.toLocaleString("en")} status changes\n\n`);

    const html = join(dir, "report.html");
    const cases = [
      { name: `history --network "${network}"`, args: ["history", "--network", network], sql: pgHistorySql({ network }) },
      { name: `history ${target}`, args: ["history", target], sql: pgHistorySql({ target: [target] }) },
      { name: "changes --since 7d", args: ["changes", "--since", ago(7)], sql: pgMeaningfulChangesSql({ since: ago(7) }, null) },
      { name: "changes --since 365d", args: ["changes", "--since", ago(365)], sql: pgMeaningfulChangesSql({ since: ago(365) }, null) },
      { name: "report --html FILE --since 7d", args: ["report", "--html", html, "--since", ago(7)], sql: null, report: ago(7) },
      { name: "report --html FILE", args: ["report", "--html", html], sql: null, report: null },
    ];
    const rows = [];
    let over = 0;
    let scans = 0;
    for (const c of cases) {
      const cli = gen.timeCli([...c.args, "--db", url], o.repeat);
      let plan = [];
      let bad = [];
      if (c.sql) {
        const r = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${c.sql.text}`, c.sql.params);
        // (the client runs with jit off, as reachprobe's sessions do: src/store/pg/connect.ts)
        const root = r.rows[0]["QUERY PLAN"][0].Plan;
        plan = planLines(root);
        bad = seqScans(root);
      } else if (c.report !== undefined) {
        const roots = await reportPlans(client, c.report);
        plan = roots.flatMap((root, i) => [`  statement ${i + 1} of ${roots.length}:`, ...planLines(root, 1)]);
        bad = roots.flatMap((root) => seqScans(root));
      }
      scans += bad.length;
      if (cli.ms > BUDGET_MS) over++;
      rows.push({ c, cli, plan, bad });
    }
    await client.end();
    const baseline = gen.timeCli(["--version"], o.repeat);
    const w = Math.max(...rows.map((r) => r.c.name.length));
    process.stdout.write(`${"command (--db postgresql://...)".padEnd(w)}  ${"CLI wall".padStart(9)}  ${"of budget".padStart(9)}  ${"CLI - start-up".padStart(14)}\n`);
    for (const r of rows) {
      process.stdout.write(`${r.c.name.padEnd(w)}  ${`${r.cli.ms.toFixed(0)} ms`.padStart(9)}  ${`${(r.cli.ms / BUDGET_MS).toFixed(2)}x`.padStart(9)}  ${`${Math.max(0, r.cli.ms - baseline.ms).toFixed(0)} ms`.padStart(14)}${r.bad.length ? "  SEQ SCAN" : ""}\n`);
    }
    process.stdout.write(`start-up alone (reachprobe --version): ${baseline.ms.toFixed(0)} ms; medians of ${o.repeat}\n`);
    for (const r of rows) {
      if (!v.plans && r.bad.length === 0) continue;
      process.stdout.write(`\nplan of ${r.c.name}:\n${r.plan.join("\n")}\n`);
    }
    process.stdout.write(`\n${over === 0 ? "every figure within" : `${over} figure(s) over`} the ${BUDGET_MS} ms budget; ${scans === 0 ? "no sequential scan of measurements in any plan (history, changes, every statement of the report)" : `${scans} sequential scan(s) of measurements`}\n`);
    process.exitCode = over === 0 && scans === 0 ? 0 : 1;
  } catch (err) {
    say(err.message);
    process.exitCode = 1;
  } finally {
    cluster?.stop();
    if (!v.keep) rmSync(dir, { recursive: true, force: true });
  }
}
