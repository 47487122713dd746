#!/usr/bin/env node
/**
 * `npm run bench:storage`: bytes stored per measurement at steady state, before and after
 * body samples were stored once by content (README, "Body samples").
 *
 * Runs the BUILT command (`node dist/cli/main.js run`) RUNS times (default 24, a day of hourly
 * runs) over the same list of loopback sites: realistic pages (about 36 KB of HTML with a title;
 * 18 response headers as a site behind nginx sends them, a fresh cookie and request id each
 * time), https with a throwaway CA and a leaf certificate for 8 names, a quarter reached through an http -> https
 * redirect, every name resolved by a DNS server on loopback and measured by a control helper on
 * loopback too. Then it prints bytes per measurement of that database ("after"), and of the
 * same measurements written the way schema version 1 wrote them ("before": a file with the V1
 * SQL, each row with its observations in full, as the old code path stored them), and the ratio.
 *
 * Sizes: the file after a WAL checkpoint, divided by the measurements; and page level, the sum
 * of pgsize in dbstat per table and index. "steady" is the growth from the first run to the
 * last, divided by the measurements of the later runs (what each further hourly run costs).
 *
 * It also times the store's insert path alone (addMeasurement of the stored rows into a fresh
 * file, samples already known and new), per measurement.
 *
 * Safety: every name resolves through the DNS server started here, on 127.0.0.1
 * (--no-system-resolver, and the control helper likewise); every address is 127.0.0.1.
 *
 * Plain ESM JavaScript on purpose: it needs no build of its own, only `npm run build`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { canonicalName, decodeQuery, responseTo } from "../tests/lab/servers/lib.mjs";
import { makeCa } from "../tests/lab/certs.mjs";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const HELP = `usage: node bench/storage-bench.mjs [options]   (or: npm run bench:storage -- [options])

options:
  --sites N          sites in the list (default 20; a quarter start with an http -> https redirect)
  --runs R           consecutive runs of the list (default 24)
  --dynamic-share S  share of sites whose page carries a fresh token each request, 0..1 (default 0)
  --no-control       run without the loopback control helper
  --keep             keep the temporary directory
  --help             this text`;

const { values: flags } = parseArgs({
  options: {
    sites: { type: "string", default: "20" },
    runs: { type: "string", default: "24" },
    "dynamic-share": { type: "string", default: "0" },
    "no-control": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const SITES = Number(flags.sites);
const RUNS = Number(flags.runs);
const DYNAMIC = Number(flags["dynamic-share"]);

const { Store } = await import(new URL("../dist/store/store.js", import.meta.url).href);
const { MIGRATIONS } = await import(new URL("../dist/store/schema.js", import.meta.url).href);

// --- realistic pages -------------------------------------------------------------------------

function prng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const WORDS = (
  "the of and to in is for on that with as by at from this are be or an was which it have not has were more their " +
  "government ministry regional news report economy market weather sport culture science health education city " +
  "council minister president election parliament court police energy transport housing budget policy world " +
  "europe asia business technology company users service network internet mobile access update week month year " +
  "today yesterday morning evening analysis opinion interview video photo gallery live comments share subscribe"
).split(" ");

/** A page of about 40 KB: a head with meta, CSS, an inline config script, then articles. */
function page(i, dynamic) {
  const r = prng(i + 1);
  const w = (n) => Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
  const parts = [
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n`,
    `<title>Site ${i} | ${w(4)}</title>\n<meta name="description" content="${w(20)}">\n`,
    `<link rel="stylesheet" href="/static/css/main.${(i * 7919).toString(16)}a3f.css">\n<link rel="icon" href="/favicon.ico">\n`,
    dynamic ? `<meta name="csrf-token" content="${randomBytes(24).toString("base64")}">\n` : "",
    `<script>window.__CONFIG__={"site":${i},"cdn":"https://cdn.site${i}.test","features":["a","b","c"],"build":"${(i * 104729).toString(36)}"};</script>\n<style>\n`,
  ];
  for (let k = 0; k < 40; k++) parts.push(`.c${k}-${Math.floor(r() * 1000)}{margin:${k}px 0;padding:${k % 7}px;color:#${Math.floor(r() * 0xffffff).toString(16).padStart(6, "0")}}\n`);
  parts.push(`</style>\n</head>\n<body>\n<header><nav>\n`);
  for (let k = 0; k < 25; k++) parts.push(`<a href="/section/${w(1)}-${k}" class="nav-link c${k}">${w(2)}</a>\n`);
  parts.push(`</nav></header>\n<main>\n`);
  for (let k = 0; k < 60; k++) {
    parts.push(`<article class="card" data-id="${Math.floor(r() * 1e9)}"><h2><a href="/news/${Math.floor(r() * 1e6)}">${w(8)}</a></h2>\n<p>${w(60)}</p></article>\n`);
  }
  parts.push(`</main>\n<footer>${w(30)}</footer>\n</body>\n</html>\n`);
  return parts.join("");
}

// --- loopback servers ------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), "reachprobe-storage-bench-"));
const ca = makeCa(join(dir, "ca"), "Storage Bench CA");
const names = Array.from({ length: SITES }, (_, i) => `site${i}.test`);
const contexts = new Map();
for (const name of names) {
  const leaf = ca.issue(name, [name, ...["www", "m", "cdn", "static", "api", "img", "mail"].map((h) => `${h}.${name}`)]);
  contexts.set(name, createSecureContext({ key: readFileSync(leaf.keyFile), cert: readFileSync(leaf.certFile) }));
}
const pages = names.map((_, i) => page(i, false));
const dynamicSites = new Set(names.filter((_, i) => i < Math.round(DYNAMIC * SITES)));

function serve(req, res) {
  const host = String(req.headers.host ?? "").replace(/:\d+$/, "");
  const i = names.indexOf(host);
  if (i < 0) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "private, max-age=0, must-revalidate",
    server: "nginx/1.24.0",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "content-security-policy": `default-src 'self'; script-src 'self' https://cdn.${host}; img-src * data:; style-src 'self' 'unsafe-inline'`,
    "set-cookie": `sid=${randomBytes(16).toString("hex")}; Path=/; HttpOnly; Secure; SameSite=Lax`,
    vary: "Accept-Encoding",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "geolocation=(), microphone=(), camera=(), interest-cohort=()",
    "alt-svc": 'h3=":443"; ma=86400',
    etag: `W/"${(i * 7919).toString(16)}-${pages[i].length.toString(16)}"`,
    "last-modified": "Thu, 04 Dec 2026 09:00:00 GMT",
    "x-request-id": randomBytes(8).toString("hex"),
  });
  res.end(dynamicSites.has(host) ? page(i, true) : pages[i]);
}
const https = createHttpsServer({ SNICallback: (name, cb) => cb(null, contexts.get(name) ?? contexts.get(names[0])) }, serve);
await new Promise((r) => https.listen(0, "127.0.0.1", r));
const httpsPort = https.address().port;
const http = createHttpServer((req, res) => {
  const host = String(req.headers.host ?? "").replace(/:\d+$/, "");
  res.writeHead(301, { location: `https://${host}:${httpsPort}${req.url}`, server: "nginx/1.24.0", "content-type": "text/html" });
  res.end(`<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n`);
});
await new Promise((r) => http.listen(0, "127.0.0.1", r));
const httpPort = http.address().port;

const dns = dgram.createSocket("udp4");
dns.on("message", (msg, rinfo) => {
  const q = decodeQuery(msg);
  if (!q) return;
  const known = names.includes(canonicalName(q.questions[0].name));
  dns.send(responseTo(q, known ? { addresses: ["127.0.0.1"] } : { rcode: "NXDOMAIN" }), rinfo.port, rinfo.address);
});
await new Promise((r) => dns.bind(0, "127.0.0.1", r));
const resolver = `127.0.0.1:${dns.address().port}`;
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REACHPROBE_"))), NODE_EXTRA_CA_CERTS: ca.certFile, NO_COLOR: "1" };

let control = null;
let controlUrl = null;
if (!flags["no-control"]) {
  process.on("exit", () => control?.kill("SIGKILL"));
  control = spawn(process.execPath, [CLI, "control", "--listen", "127.0.0.1:0", "--allow-private", "--no-system-resolver", "--resolver", resolver, "--timeout", "2000", "--log-level", "silent"], { env, stdio: ["ignore", "pipe", "inherit"] });
  controlUrl = await new Promise((resolve, reject) => {
    let out = "";
    control.stdout.on("data", (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\S*)/.exec(out);
      if (m) resolve(m[1]);
    });
    control.on("exit", (code) => reject(new Error(`control helper exited with ${code}: ${out}`)));
  });
}

// --- the runs --------------------------------------------------------------------------------

const targets = names.map((n, i) => (i % 4 === 0 ? `http://${n}:${httpPort}/` : `https://${n}:${httpsPort}/`));
const afterDb = join(dir, "after.db");

function runOnce() {
  return new Promise((resolve, reject) => {
    const args = [CLI, "run", "--quiet", "--no-notice", "--no-canary", "--no-system-resolver", "--resolver", resolver,
      "--public-ranges", "127.0.0.1/32", "--timeout", "3000", "--dns-window", "50", "--db", afterDb,
      ...(controlUrl ? ["--control", controlUrl] : []), ...targets];
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.resume();
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`run exited with ${code}: ${err}`))));
  });
}

function checkpointedSize(file) {
  const db = new Database(file);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return statSync(file).size;
}

function pageBytes(file) {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC").all();
  const count = db.prepare("SELECT COUNT(*) FROM measurements").pluck().get();
  db.close();
  return { rows, total: rows.reduce((s, r) => s + r.bytes, 0), count };
}

let firstRunSize = 0;
let firstRunCount = 0;
for (let k = 0; k < RUNS; k++) {
  await runOnce();
  if (k === 0) {
    firstRunSize = checkpointedSize(afterDb);
    firstRunCount = pageBytes(afterDb).count;
  }
  process.stderr.write(`\rrun ${k + 1}/${RUNS}`);
}
process.stderr.write("\n");
control?.kill("SIGTERM");
https.close();
http.close();
dns.close();

// --- "before": the same rows as schema version 1 stored them -----------------------------------

const beforeDb = join(dir, "before.db");
function writeV1(file, store) {
  const v1 = new Database(file);
  v1.pragma("journal_mode = WAL");
  v1.exec(MIGRATIONS[0]);
  v1.pragma("user_version = 1");
  const runCols = ["id", "started_at", "finished_at", "state", "reachprobe_version", "pid", "hostname_hash", "network_label", "probe_asn", "probe_cc", "options_json", "target_count", "summary_json", "canary_json"];
  const insRun = v1.prepare(`INSERT INTO runs (${runCols.join(",")}) VALUES (${runCols.map((c) => "@" + c).join(",")})`);
  const insM = v1.prepare(`INSERT INTO measurements (id, run_id, target, service, status, layer, failure, evidence_json, observations_json, control_json, started_at, finished_at, duration_ms)
    VALUES (@id, @runId, @target, @service, @status, @layer, @failure, @evidence, @observations, @control, @startedAt, @finishedAt, @durationMs)`);
  const runs = store.db.prepare(`SELECT ${runCols.join(",")} FROM runs ORDER BY started_at`).all();
  const rows = [...store.iterateMeasurements()].map((x) => x.measurement);
  // The old code path wrote each run's rows right after the run row, one statement each.
  for (const run of runs) {
    insRun.run(run);
    for (const m of rows.filter((r) => r.runId === run.id)) {
      insM.run({
        id: m.id, runId: m.runId, target: m.target, service: m.service, status: m.verdict.status, layer: m.verdict.layer,
        failure: m.verdict.failure, evidence: JSON.stringify(m.verdict.evidence), observations: JSON.stringify(m.observations),
        control: m.control ? JSON.stringify(m.control) : null, startedAt: m.startedAt, finishedAt: m.finishedAt, durationMs: m.durationMs,
      });
    }
    if (run === runs[0]) {
      v1.pragma("wal_checkpoint(TRUNCATE)");
      beforeFirst = statSync(file).size;
    }
  }
  v1.pragma("wal_checkpoint(TRUNCATE)");
  v1.close();
  return rows;
}
let beforeFirst = 0;
const afterSize = checkpointedSize(afterDb);
const store = Store.open(afterDb, { readonly: true });
const rows = writeV1(beforeDb, store);
store.close();
const beforeSize = statSync(beforeDb).size;

// --- the insert path's cost --------------------------------------------------------------------

function timeInserts() {
  const file = join(dir, "insert.db");
  const s = Store.open(file);
  const runId = s.startRun({ startedAt: new Date(), version: "bench", options: {}, targetCount: rows.length });
  const input = (m) => ({ target: m.target, service: m.service, verdict: m.verdict, observations: m.observations, control: m.control, startedAt: m.startedAt, finishedAt: m.finishedAt, durationMs: m.durationMs });
  const t0 = process.cpuUsage();
  for (const m of rows.slice(0, SITES)) s.addMeasurement(runId, input(m)); // new samples: hash, compress, insert
  const t1 = process.cpuUsage(t0);
  const t2 = process.cpuUsage();
  for (let k = 0; k < 5; k++) for (const m of rows) s.addMeasurement(runId, input(m)); // known samples
  const t3 = process.cpuUsage(t2);
  s.close();
  const ms = (u, n) => ((u.user + u.system) / 1000 / n).toFixed(3);
  return { fresh: ms(t1, SITES), known: ms(t3, rows.length * 5) };
}
const cpu = timeInserts();

// --- report ------------------------------------------------------------------------------------

const b = pageBytes(beforeDb);
const a = pageBytes(afterDb);
const n = a.count;
const later = n - firstRunCount;
const per = (x, k) => Math.round(x / k);
const lines = [
  `storage bench: ${SITES} sites, ${RUNS} runs, ${n} measurements${DYNAMIC ? `, ${dynamicSites.size} dynamic pages` : ""}${controlUrl ? ", control helper" : ""}`,
  `                              before (V1)     after    ratio`,
  `file bytes / measurement      ${String(per(beforeSize, n)).padStart(11)} ${String(per(afterSize, n)).padStart(9)} ${(beforeSize / afterSize).toFixed(1).padStart(7)}x`,
  `page bytes / measurement      ${String(per(b.total, n)).padStart(11)} ${String(per(a.total, n)).padStart(9)} ${(b.total / a.total).toFixed(1).padStart(7)}x`,
  `steady: file growth / later m ${String(per(beforeSize - beforeFirst, later)).padStart(11)} ${String(per(afterSize - firstRunSize, later)).padStart(9)} ${((beforeSize - beforeFirst) / (afterSize - firstRunSize)).toFixed(1).padStart(7)}x`,
  `page bytes by table/index, after:`,
  ...a.rows.map((r) => `  ${r.name.padEnd(44)} ${String(r.bytes).padStart(10)}`),
  `page bytes by table/index, before:`,
  ...b.rows.map((r) => `  ${r.name.padEnd(44)} ${String(r.bytes).padStart(10)}`),
  `insert CPU per measurement (Store.addMeasurement): ${cpu.fresh} ms with a new sample, ${cpu.known} ms with known samples`,
];
process.stdout.write(`${lines.join("\n")}\n`);
if (flags.keep) process.stdout.write(`kept ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
