#!/usr/bin/env node
/**
 * `npm run bench:history`: the query benchmark of docs/design.md ("Performance": queries over a
 * year of hourly runs answer in well under a second).
 *
 * Builds a synthetic results database through the real schema (the built store's migrations
 * and triggers): by default a year of hourly runs over 100 targets on 3 networks, about
 * 2.6 million measurements, with realistic statuses (mostly ok; blocks that start, change
 * technique and are lifted; one-run timeouts; now and then a run where the whole network was
 * down). Then times, each as the real CLI process (`node dist/cli/main.js ...`, wall time)
 * and as the query alone (the store function, iterated to the end, in this process):
 *   history --network N      (every target on one network, all time)
 *   history TARGET           (one target, every network, all time)
 *   changes --since 7d       (every network)
 *   changes --since 365d
 *   report --html FILE       (when the built CLI has the report command)
 * and prints each time against the one-second budget, the database size, and the query plans
 * with any full scan of measurements flagged.
 *
 * Safety: nothing here touches the network. Plain ESM JavaScript: it needs only `npm run build`.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

// better-sqlite3 is CommonJS.
const Database = createRequire(import.meta.url)("better-sqlite3");
const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const CLI = join(DIST, "cli/main.js");
const BUDGET_MS = 1000;

const HELP = `usage: node bench/history-bench.mjs [options]   (or: npm run bench:history -- [options])

Builds a synthetic database of hourly runs and times reachprobe history, changes and report
on it, as CLI processes and as queries alone, against a budget of ${BUDGET_MS} ms each.

options:
  --store pg      the same on PostgreSQL (bench/history-bench-pg.mjs; default 12 networks,
                  10.5 million measurements; --db takes a postgresql:// URL)
  --runs N        hourly runs per network (default 8760: a year)
  --targets N     targets measured by every run (default 100)
  --networks N    networks, each with its own runs (default 3)
  --repeat N      timings per figure; the median is printed (default 3)
  --db PATH       use this file: build it if it does not exist, else time it as it is
  --analyze       run ANALYZE after building (by default the planner has no statistics,
                  as in a file no reachprobe has optimized yet)
  --plans         print every query plan, not only the flagged ones
  --keep          keep the temporary directory (the database and the report)
  --help          this text

Exit status: 0 when every figure is within the budget, 1 otherwise.`;

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

function parseFlags() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        runs: { type: "string", default: "8760" },
        targets: { type: "string", default: "100" },
        networks: { type: "string", default: "3" },
        repeat: { type: "string", default: "3" },
        db: { type: "string" },
        analyze: { type: "boolean", default: false },
        plans: { type: "boolean", default: false },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    fail(`${err.message}\n\n${HELP}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const int = (name, min, max) => {
    const text = v[name];
    const n = Number(text);
    if (!/^\d+$/.test(String(text).trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      fail(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
  return {
    runs: int("runs", 2, 1_000_000),
    targets: int("targets", 1, 100_000),
    networks: int("networks", 1, 1000),
    repeat: int("repeat", 1, 100),
    db: v.db ?? null,
    analyze: v.analyze,
    plans: v.plans,
    keep: v.keep,
  };
}

// ---------------------------------------------------------------------------------------
// The synthetic database

/** A small deterministic PRNG (mulberry32), so that every build of the same size is the same data. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ["WeChat", "LINE", "LinkedIn", "Telegram", "BlackBerry Messenger"];
const NETWORK_NAMES = ["Rostelecom Moscow", "MTS Saint Petersburg", "Beeline Novosibirsk", "MegaFon Kazan", "Tele2 Omsk"];
const BLOCK_FAILURE = { dns: "dns_bogon_error", tcp: "generic_timeout_error", tls: "connection_reset", http: null };
const LAYERS = ["dns", "tcp", "tls", "http"];

function targetName(i) {
  const kind = i % 4;
  const host = `host${i}.${SERVICES[i % SERVICES.length].toLowerCase().replace(/ /g, "")}.example`;
  return kind === 3 ? `tcp://${host}:8080` : kind === 2 ? `http://${host}/` : `https://${host}/`;
}

/**
 * One target's "regime" on one network over time: mostly ok, with blocks that begin, change
 * technique (dns -> tcp -> ...) and are sometimes lifted. A regime holds for hundreds of runs.
 */
function* regimes(rand, runs) {
  let at = 0;
  let blocked = rand() < 0.25;
  let layer = LAYERS[Math.floor(rand() * 4)];
  while (at < runs) {
    const length = 200 + Math.floor(rand() * 2500);
    yield { from: at, to: Math.min(runs, at + length), status: blocked ? "blocked" : "ok", layer: blocked ? layer : null };
    at += length;
    if (blocked && rand() < 0.4) layer = LAYERS[Math.floor(rand() * 4)];
    else {
      blocked = !blocked;
      layer = LAYERS[Math.floor(rand() * 4)];
    }
  }
}

/** When the synthetic year starts (UTC), and an hour. */
const START = Date.UTC(2025, 4, 1, 0, 0, 0);
const HOUR = 3_600_000;

/** The synthetic year's targets and networks (label and ASN each). */
function syntheticPlan(o) {
  return {
    targets: Array.from({ length: o.targets }, (_v, i) => ({ target: targetName(i), service: SERVICES[i % SERVICES.length] })),
    networks: Array.from({ length: o.networks }, (_v, n) => ({ label: n < NETWORK_NAMES.length ? NETWORK_NAMES[n] : `Network ${n + 1}`, asn: 64500 + n })),
  };
}

/**
 * The synthetic year, run by run (each hour, each network's run in turn): a run's id and start,
 * and its targets' measurements with the derived columns (prev_status, prev_layer, changed) as
 * the stores derive them. Both builders write it: SQLite's here, PostgreSQL's in
 * history-bench-pg.mjs. Says how far it got on stderr now and then.
 */
function* syntheticRuns(o, { targets, networks }) {
  // Per network and target: its regimes, as an iterator, and the previous status and layer.
  const state = networks.map((_net, n) =>
    targets.map((_t, i) => {
      const rand = prng(1 + n * 100_003 + i);
      const it = regimes(rand, o.runs);
      return { rand, it, regime: it.next().value, prev: null };
    }),
  );
  const noise = prng(7);
  let measurements = 0;
  let lastReport = performance.now();
  for (let h = 0; h < o.runs; h++) {
    for (let n = 0; n < networks.length; n++) {
      const startedAt = START + h * HOUR + n * 60_000;
      // Now and then the probe's own network is down for a run: every target inconclusive.
      const down = noise() < 0.001;
      const rows = [];
      for (let i = 0; i < targets.length; i++) {
        const s = state[n][i];
        while (h >= s.regime.to) s.regime = s.it.next().value;
        let status = s.regime.status;
        let layer = s.regime.layer;
        let failure = status === "blocked" ? BLOCK_FAILURE[layer] : null;
        if (down) {
          status = "inconclusive";
          layer = null;
          failure = "network_unreachable";
        } else if (status === "ok" && s.rand() < 0.003) {
          // A one-run timeout: suspicious, unconfirmed.
          status = "anomaly";
          layer = "tcp";
          failure = "generic_timeout_error";
        }
        rows.push({
          ...targets[i],
          status,
          layer,
          failure,
          prevStatus: s.prev?.status ?? null,
          prevLayer: s.prev?.layer ?? null,
          changed: s.prev === null ? null : s.prev.status !== status || s.prev.layer !== layer,
          startedAt: startedAt + i * 300,
          evidenceJson: status === "ok" ? "[]" : `["synthetic ${status}${layer ? ` at ${layer}` : ""}"]`,
          observationsJson: `[{"step":"dns","t0":0,"t":12,"failure":null,"engine":"system","resolver":"system","hostname":"host${i}.example","qtype":"A","addresses":["198.51.100.${i % 250}"]},{"step":"tcp","t0":12,"t":40,"failure":${failure ? `"${failure}"` : "null"},"address":"198.51.100.${i % 250}:443"}]`,
        });
        s.prev = { status, layer };
      }
      measurements += rows.length;
      yield { id: randomUUID(), network: n, startedAt, measurements: rows };
    }
    if (performance.now() - lastReport > 15_000) {
      process.stderr.write(`bench: building… ${h + 1} of ${o.runs} hours, ${measurements.toLocaleString("en")} measurements\n`);
      lastReport = performance.now();
    }
  }
}

function buildDatabase(path, o, Store) {
  const started = performance.now();
  // The schema (tables, indexes, triggers, views) exactly as reachprobe makes it.
  Store.open(path).close();
  const db = new Database(path);
  // A throwaway file: no journal while building, WAL again at the end as reachprobe leaves it.
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  // Indexes are built faster once, sorted, than row by row; the triggers are not needed while
  // the generator writes the derived columns itself. Both come back from the schema's own SQL
  // at the end, and the derived columns are checked against the triggers' definition.
  const deferred = db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'measurements' AND type IN ('index', 'trigger') AND sql IS NOT NULL")
    .all();
  for (const d of deferred) db.exec(`DROP ${d.type.toUpperCase()} ${d.name}`);
  const insertRun = db.prepare(`INSERT INTO runs (id, started_at, finished_at, state, reachprobe_version, pid, hostname_hash,
      network_label, probe_asn, probe_cc, options_json, target_count, summary_json)
    VALUES (?, ?, ?, 'completed', '0.1.0', 4242, ?, ?, ?, 'RU', '{}', ?, '[]')`);
  // Derived columns given up front (as the triggers would compute them), so that the
  // triggers only check them: the build then costs what a real run's inserts cost.
  const insertMeasurement = db.prepare(`INSERT INTO measurements (id, run_id, network, target, service, status, layer, failure,
      prev_status, prev_layer, changed, started_at, finished_at, duration_ms, evidence_json, observations_json, control_json)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`);

  const plan = syntheticPlan(o);
  let measurements = 0;
  const writeRun = db.transaction((run) => {
    const net = plan.networks[run.network];
    insertRun.run(run.id, new Date(run.startedAt).toISOString(), new Date(run.startedAt + 40_000).toISOString(), `host${run.network}`, net.label, net.asn, o.targets);
    for (const m of run.measurements) {
      insertMeasurement.run(
        randomUUID(), run.id, net.label, m.target, m.service, m.status, m.layer, m.failure,
        m.prevStatus, m.prevLayer, m.changed === null ? null : m.changed ? 1 : 0,
        new Date(m.startedAt).toISOString(), new Date(m.startedAt + 250).toISOString(), 250,
        m.evidenceJson, m.observationsJson,
      );
    }
    measurements += run.measurements.length;
  });
  for (const run of syntheticRuns(o, plan)) writeRun(run);
  process.stderr.write(`bench: creating ${deferred.filter((d) => d.type === "index").length} indexes…\n`);
  for (const d of deferred) db.exec(d.sql);
  checkDerived(db);
  if (o.analyze) db.exec("ANALYZE");
  db.pragma("journal_mode = WAL");
  db.close();
  return { measurements, seconds: (performance.now() - started) / 1000 };
}

/**
 * Checks the generator's derived columns against what the triggers compute, on a sample:
 * a relink (the triggers' own statement, run through an UPDATE that changes nothing when the
 * columns are right) must find nothing to fix.
 */
function checkDerived(db) {
  const sample = db.prepare("SELECT rowid FROM measurements WHERE rowid % 997 = 0 OR changed IS NOT 0 LIMIT 20000").pluck().all();
  const check = db.prepare(`SELECT COUNT(*) FROM measurements AS m WHERE m.rowid = ? AND (m.prev_status, m.prev_layer, m.changed) IS NOT (
      SELECT p.status, p.layer, (p.status IS NOT m.status OR p.layer IS NOT m.layer) FROM measurements AS p
      WHERE p.network = m.network AND p.target = m.target AND (p.started_at, p.rowid) < (m.started_at, m.rowid)
      ORDER BY p.started_at DESC, p.rowid DESC LIMIT 1)`).pluck();
  const wrong = sample.filter((rowid) => check.get(rowid) !== 0).length;
  if (wrong) fail(`${wrong} of ${sample.length} sampled measurements have derived columns the triggers would not give them`);
}

// ---------------------------------------------------------------------------------------
// Timing

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeCli(args, repeat) {
  const times = [];
  let last;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    last = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: "1" } });
    times.push(performance.now() - t0);
    // Thrown, not exited: the PostgreSQL bench stops the cluster it started on the way out.
    if (last.status !== 0) throw new Error(`reachprobe ${args.join(" ")} exited ${last.status}: ${last.stderr}`);
  }
  return { ms: median(times), stdout: last.stdout };
}

function timeQuery(fn, repeat) {
  const times = [];
  let rows = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    rows = fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), rows };
}

function count(iterable) {
  let n = 0;
  for (const _row of iterable) n++;
  return n;
}

function planOf(db, sql, params) {
  return db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(params)
    .map((r) => r.detail);
}

// A full scan of measurements (every alias the queries give it), or a search by target alone,
// which reads every measurement of that target: anything but the small partial indexes.
function fullScans(plan) {
  return plan.filter(
    (d) =>
      /^SCAN (m|f|l|x|p|n|measurements)( |$)/.test(d) && !/INDEX measurements_(firsts|span_starts|changes)\b/.test(d) ||
      /^SEARCH \w+ USING (COVERING )?INDEX measurements_(target|service)_started_at/.test(d) ||
      /INDEX measurements_network_target_started_at \(network=\?\)$/.test(d),
  );
}

// ---------------------------------------------------------------------------------------

async function main() {
  const o = parseFlags();
  if (!existsSync(CLI)) fail(`${CLI} is missing: run "npm run build" first (npm run bench:history does)`);
  const { Store } = await import(pathToFileURL(join(DIST, "store/store.js")).href);
  const { historySpans, historySpansSql } = await import(pathToFileURL(join(DIST, "store/history.js")).href);
  const { statusChanges, statusChangesSql } = await import(pathToFileURL(join(DIST, "store/changes.js")).href);
  const reportData = existsSync(join(DIST, "report/report-data.js")) ? await import(pathToFileURL(join(DIST, "report/report-data.js")).href) : null;
  const { reportRows } = reportData ? await import(pathToFileURL(join(DIST, "store/report-rows.js")).href) : {};
  const hasReportCli = existsSync(join(DIST, "cli/report.js"));

  const dir = mkdtempSync(join(tmpdir(), "reachprobe-history-bench-"));
  const path = o.db ?? join(dir, "bench.db");
  const cleanup = () => {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      cleanup();
      process.stderr.write(`bench: ${sig}, stopped\n`);
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }

  if (!existsSync(path)) {
    process.stdout.write(`Building ${o.runs} hourly runs x ${o.targets} targets x ${o.networks} networks into ${path}…\n`);
    const built = buildDatabase(path, o, Store);
    process.stdout.write(`built ${built.measurements.toLocaleString("en")} measurements in ${built.seconds.toFixed(1)} s\n`);
  } else {
    process.stdout.write(`Using the existing ${path}\n`);
  }

  const store = Store.open(path, { readonly: true });
  const db = store.db;
  const counts = db.prepare("SELECT (SELECT COUNT(*) FROM runs) AS runs, (SELECT COUNT(*) FROM measurements) AS measurements, (SELECT COUNT(*) FROM measurements WHERE changed = 1) AS changes").get();
  const size = ["", "-wal"].reduce((sum, s) => sum + (existsSync(path + s) ? statSync(path + s).size : 0), 0);
  const network = db.prepare("SELECT network FROM measurements WHERE changed IS NULL ORDER BY network LIMIT 1").pluck().get();
  const target = db.prepare("SELECT target FROM measurements WHERE changed IS NULL ORDER BY target LIMIT 1").pluck().get();
  const latest = db.prepare("SELECT MAX(changed_at) FROM status_changes").pluck().get() ?? new Date().toISOString();
  // "Now" for --since is the latest measurement, so that 7d means the data's last week; the CLI
  // gets the same window as an absolute date.
  const nowMs = Date.parse(db.prepare("SELECT MAX(started_at) FROM runs").pluck().get() ?? latest);
  const ago = (days) => new Date(nowMs - days * 86_400_000).toISOString();

  process.stdout.write(
    `\ndatabase: ${(size / 1e6).toFixed(1)} MB, ${counts.runs.toLocaleString("en")} runs, ${counts.measurements.toLocaleString("en")} measurements, ` +
      `${counts.changes.toLocaleString("en")} status changes; statistics: ${db.prepare("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").get() ? "yes (ANALYZE)" : "none"}\n\n`,
  );

  const cases = [
    {
      name: `history --network "${network}"`,
      args: ["history", "--network", network],
      run: () => count(historySpans(db, { network })),
      sql: historySpansSql({ network }),
      params: { network },
    },
    {
      name: `history ${target}`,
      args: ["history", target],
      run: () => count(historySpans(db, { target: [target] })),
      sql: historySpansSql({ target: [target] }),
      params: { t0: target },
    },
    {
      name: "changes --since 7d",
      args: ["changes", "--since", ago(7)],
      run: () => count(statusChanges(db, { since: ago(7), withPrevious: false })),
      sql: statusChangesSql({ since: ago(7), withPrevious: false }),
      params: { since: ago(7) },
    },
    {
      name: "changes --since 365d",
      args: ["changes", "--since", ago(365)],
      run: () => count(statusChanges(db, { since: ago(365), withPrevious: false })),
      sql: statusChangesSql({ since: ago(365), withPrevious: false }),
      params: { since: ago(365) },
    },
  ];
  if (hasReportCli) {
    const html = join(dir, "report.html");
    cases.push({
      name: "report --html FILE",
      args: ["report", "--html", html],
      run: reportData ? () => Object.keys(reportData.loadReport(reportRows(db), { since: null, network: null })).length : null,
      sql: null,
    });
  } else {
    process.stdout.write("(no report command in this build: report not timed)\n");
  }

  const rows = [];
  let over = 0;
  let scans = 0;
  for (const c of cases) {
    const cli = timeCli([...c.args, "--db", path], o.repeat);
    const q = c.run ? timeQuery(c.run, o.repeat) : null;
    const plan = c.sql ? planOf(db, c.sql, c.params) : [];
    const bad = fullScans(plan);
    scans += bad.length;
    if (cli.ms > BUDGET_MS || (q && q.ms > BUDGET_MS)) over++;
    rows.push({ c, cli, q, plan, bad });
  }
  store.close();

  // Start-up (loading the CLI's modules) is the same for every command and not the query's
  // doing: shown apart, and subtracted in the last column.
  const baseline = timeCli(["--version"], o.repeat);
  const w = Math.max(...rows.map((r) => r.c.name.length));
  process.stdout.write(
    `${"command".padEnd(w)}  ${"CLI wall".padStart(9)}  ${"of budget".padStart(9)}  ${"query".padStart(9)}  ${"rows".padStart(7)}  ${"CLI - start-up".padStart(14)}\n`,
  );
  for (const r of rows) {
    const q = r.q ? `${r.q.ms.toFixed(0)} ms` : "-";
    const n = r.q ? String(r.q.rows) : "-";
    process.stdout.write(
      `${r.c.name.padEnd(w)}  ${`${r.cli.ms.toFixed(0)} ms`.padStart(9)}  ${`${(r.cli.ms / BUDGET_MS).toFixed(2)}x`.padStart(9)}  ${q.padStart(9)}  ${n.padStart(7)}  ${`${Math.max(0, r.cli.ms - baseline.ms).toFixed(0)} ms`.padStart(14)}${r.bad.length ? "  FULL SCAN" : ""}\n`,
    );
  }
  process.stdout.write(`start-up alone (reachprobe --version): ${baseline.ms.toFixed(0)} ms; medians of ${o.repeat}\n`);
  for (const r of rows) {
    if (!o.plans && r.bad.length === 0) continue;
    process.stdout.write(`\nplan of ${r.c.name}:\n${r.plan.map((d) => `  ${d}`).join("\n")}\n`);
  }
  process.stdout.write(
    `\n${over === 0 ? "every figure within" : `${over} figure(s) over`} the ${BUDGET_MS} ms budget; ${scans === 0 ? "no full scan of measurements" : `${scans} full scan(s) of measurements`}\n`,
  );
  if (o.keep) process.stdout.write(`kept ${dir}\n`);
  cleanup();
  process.exit(over === 0 && scans === 0 ? 0 : 1);
}

// --store pg: the same data and commands on the fleet's PostgreSQL (bench/history-bench-pg.mjs).
const storeAt = process.argv.indexOf("--store");
if (storeAt !== -1 && process.argv[storeAt + 1] === "pg") {
  const { pgBench } = await import("./history-bench-pg.mjs");
  const rest = process.argv.slice(2).filter((_a, i) => i !== storeAt - 2 && i !== storeAt - 1);
  await pgBench({ START, HOUR, syntheticPlan, syntheticRuns, timeCli }, rest);
} else {
  if (storeAt !== -1) process.argv.splice(storeAt, 2);
  await main().catch((err) => fail(err.message));
}
