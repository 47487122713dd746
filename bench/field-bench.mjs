#!/usr/bin/env node
/**
 * `npm run bench:field` (or `npm run bench -- --system-resolver`): the run benchmark as in the
 * field (issue 9). Root only. Builds a lab (tests/lab/: client, censor, internet namespaces with
 * no route out) whose ISP resolver answers after 50-100 ms, and runs the real CLI in the client
 * namespace, as a user would, through the SYSTEM RESOLVER (getaddrinfo): N distinct names, so
 * each needs its own lookup; half lead to a fast working site, half to an address the censor
 * blackholes (packets dropped: connects time out).
 *
 * Prints the wall time against the workload's bound ceil(blackholed / concurrency) x timeout
 * (only the blackholed targets must wait a timeout, and at most C at once), the wrong verdicts
 * (a fast target not `ok`; a blackholed one not `anomaly tcp generic_timeout_error`, the
 * control-less verdict of a connect that times out), CPU time per target, peak RSS, and how
 * long the system lookups took. Exits 1 when a target of issue 9 is missed.
 *
 * Safety: everything runs inside the lab's namespaces, checked by the lab's `assertIsolated`
 * (no default route, no route to public addresses, the client's resolv.conf naming only the
 * lab's ISP resolver, nsswitch `hosts: files dns`) after set-up and again before every run.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { REPO, assertIsolated, buildLab, parseDnsDelay, teardownOnExit } from "../tests/lab/lab.mjs";
import { canMakeNamespaces } from "../tests/lab/netns.mjs";
import { scenarioOf } from "../tests/lab/scenario.mjs";
import { LAB_RANGES } from "../tests/lab/topology.mjs";
import Database from "better-sqlite3";
import { gnuTimeWorks, parseGnuTime } from "./child-usage.mjs";

const HELP = `usage: node bench/field-bench.mjs [options]   (or: npm run bench:field -- [options];
       npm run bench -- --system-resolver [options])

Root only. Builds a network-namespace lab whose ISP resolver answers after 50-100 ms and runs
the reachprobe CLI in its client namespace through the system resolver: N distinct names, half
on a fast site, half on a blackholed address. Prints wall time / bound, wrong verdicts, CPU per
target and peak RSS, and the targets of issue 9.

options:
  --targets N          targets (distinct names; default 1000)
  --blackholed-share S share of targets on the blackholed address, 0..1 (default 0.5)
  --concurrency C      --concurrency passed to the CLI (default 100)
  --timeout MS         --timeout (per step) passed to the CLI (default 2000)
  --dns-delay D        the ISP resolver's answering delay: MS or MIN-MAX (default 50-100)
  --scheme S           http or https for every target (default http; https adds a TLS
                       handshake to each fast target)
  --threadpool LIST    comma-separated UV_THREADPOOL_SIZE settings, one run each: "unset"
                       (removed from the CLI's environment: what a user gets) or a number
                       (default unset)
  --cli CMD            the command that runs reachprobe, split on spaces; relative paths are
                       taken from the repository (default "node bin/reachprobe.cjs", the launcher users run; e.g.
                       "node dist/cli/main.js", which relaunches itself through it). May be
                       given more than once, e.g. to compare a build kept elsewhere with this one:
                       the commands take turns, run after run
  --runs N             runs of each command and thread-pool setting, taking turns (default 1);
                       with more than one, a summary gives each setting's min and median, and
                       each command's CPU per target over the first command's, run by run
  --cpu-prof DIR       add "--cpu-prof --cpu-prof-dir DIR" after the node of --cli (the first
                       word must be node); summarise with bench/profile-summary.mjs
  --output json|human  the run's output: --json (default; the verdicts are read from it) or the
                       report a person reads (no --json, as issue 9's command line; the verdicts
                       are read back from the database)
  --extra ARGS         more arguments for "reachprobe run", split on spaces
  --keep               leave the lab's state directory (targets, databases, JSON, logs) and
                       print its path; the namespaces are removed in any case
  --help               this text

Exit status: 0 when every run met the targets (ratio <= 1.15, no wrong verdict, peak RSS <
150 MB, CPU <= 1.3 ms per target), 1 otherwise, 2 on bad usage or no root.`;

/** Issue 9's targets for this workload. */
export const GOALS = Object.freeze({ ratio: 1.15, wrong: 0, rssMb: 150, cpuMsPerTarget: 1.3 });

/** The fast site and the blackholed address (documentation range, internet side of the lab). */
const FAST = "203.0.113.70";
const HOLE = "203.0.113.71";
const FAST_ZONE = "fast.bench.lab.example";
const HOLE_ZONE = "hole.bench.lab.example";

function usage(msg) {
  process.stderr.write(`bench:field: ${msg}\n\n${HELP}\n`);
  process.exit(2);
}

/** Parses the flags (argv without the node and script paths). */
export function parseFieldFlags(argv) {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        targets: { type: "string", default: "1000" },
        "blackholed-share": { type: "string", default: "0.5" },
        concurrency: { type: "string", default: "100" },
        timeout: { type: "string", default: "2000" },
        "dns-delay": { type: "string", default: "50-100" },
        scheme: { type: "string", default: "http" },
        threadpool: { type: "string", default: "unset" },
        cli: { type: "string", multiple: true, default: ["node bin/reachprobe.cjs"] },
        runs: { type: "string", default: "1" },
        extra: { type: "string", default: "" },
        output: { type: "string", default: "json" },
        "cpu-prof": { type: "string" },
        keep: { type: "boolean", default: false },
        "system-resolver": { type: "boolean", default: true }, // accepted from `npm run bench -- --system-resolver`
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    usage(err.message);
  }
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const int = (name, min) => {
    const text = v[name];
    const n = Number(text);
    if (!/^\d+$/.test(String(text).trim()) || !Number.isSafeInteger(n) || n < min) usage(`--${name} must be a whole number >= ${min}, got "${text}"`);
    return n;
  };
  const share = Number(v["blackholed-share"]);
  if (!Number.isFinite(share) || share < 0 || share > 1) usage(`--blackholed-share must be a number from 0 to 1, got "${v["blackholed-share"]}"`);
  if (!["http", "https"].includes(v.scheme)) usage(`--scheme must be http or https, got "${v.scheme}"`);
  if (!["json", "human"].includes(v.output)) usage(`--output must be json or human, got "${v.output}"`);
  let dnsDelay;
  try {
    dnsDelay = parseDnsDelay(v["dns-delay"]);
  } catch (err) {
    usage(`--dns-delay: ${err.message}`);
  }
  const pools = v.threadpool.split(",").map((s) => s.trim());
  for (const p of pools) if (p !== "unset" && !/^[1-9]\d{0,3}$/.test(p)) usage(`--threadpool: each entry must be "unset" or a number from 1 to 1024, got "${p}"`);
  const clis = v.cli.map((text) => {
    const cli = text.split(/\s+/).filter(Boolean);
    if (cli.length === 0) usage("--cli must name a command");
    if (v["cpu-prof"]) {
      if (!/(^|\/)node$/.test(cli[0])) usage(`--cpu-prof needs a --cli that starts with node, got "${text}"`);
      cli.splice(1, 0, "--cpu-prof", "--cpu-prof-dir", resolve(v["cpu-prof"]));
    }
    return cli;
  });
  return {
    targets: int("targets", 1),
    share,
    concurrency: int("concurrency", 1),
    timeout: int("timeout", 1),
    dnsDelay,
    scheme: v.scheme,
    pools,
    clis,
    runs: int("runs", 1),
    extra: v.extra.split(/\s+/).filter(Boolean),
    output: v.output,
    keep: v.keep,
  };
}

/** The command line: words that name a file in the repository become absolute paths. */
function resolveCli(words) {
  return words.map((w) => (!w.startsWith("/") && existsSync(join(REPO, w)) ? resolve(REPO, w) : w));
}

/** Target i is blackholed when floor((i+1)S) > floor(iS): spread evenly through the list. */
function blackholed(i, share) {
  return Math.floor((i + 1) * share + 1e-9) > Math.floor(i * share + 1e-9);
}

/** The targets: distinct names, so each needs its own lookup; returns the list and each one's kind. */
function makeTargets(o) {
  const kinds = new Map();
  for (let i = 0; i < o.targets; i++) {
    const hole = blackholed(i, o.share);
    const url = `${o.scheme}://t${String(i).padStart(5, "0")}.${hole ? HOLE_ZONE : FAST_ZONE}/`;
    kinds.set(url, hole ? "blackholed" : "fast");
  }
  return kinds;
}

/** The lab for the workload: the ISP's resolver answers both zones after the delay; the censor drops HOLE. */
function fieldScenario() {
  return scenarioOf("field-bench", [
    {
      ispZone: { [`*.${FAST_ZONE}`]: { a: [FAST] }, [`*.${HOLE_ZONE}`]: { a: [HOLE] } },
      sites: [{ addresses: [FAST], http: [80], https: [443], mode: "ok" }],
      nftForward: [`ip daddr ${HOLE} drop`],
      // A wildcard covers one label: t00001.fast.bench.lab.example needs its own.
      certNames: [`*.${FAST_ZONE}`, `*.${HOLE_ZONE}`],
    },
  ]);
}

/**
 * The verdict a target must get, without a control: a fast target `ok`; a blackholed one
 * `anomaly tcp generic_timeout_error` (its connect timed out; without a control the analysis
 * cannot tell blocking from an outage). Anything else, a missing result included, is wrong.
 */
export function isRight(kind, r) {
  if (!r) return false;
  if (kind === "fast") return r.status === "ok";
  return r.status === "anomaly" && r.layer === "tcp" && r.failure === "generic_timeout_error";
}

const pctl = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * One run of the CLI `cli` (words) in the client namespace with UV_THREADPOOL_SIZE `pool`
 * ("unset" or a number); `label` names its files (the database is kept from run to run, as
 * an hourly run's is).
 */
async function fieldRun(lab, o, kinds, listFile, cli, pool, label, useTime) {
  const dir = join(lab.dir, "bench");
  const stdoutFile = join(dir, `${label}.json`);
  const stderrFile = join(dir, `${label}.stderr`);
  const timeFile = join(dir, `${label}.time`);
  const db = join(dir, `${label}.db`);
  const cliWords = resolveCli(cli);
  const runArgs = [
    "run", "--file", listFile, "--db", db, ...(o.output === "json" ? ["--json"] : []), "--no-canary", "--no-notice", "--no-dns-control",
    "--public-ranges", LAB_RANGES.join(","),
    "--timeout", String(o.timeout), "--concurrency", String(o.concurrency),
    "--log-level", "warn", ...o.extra,
  ];
  // The environment a user's run has: none of ours, no thread pool size, no NODE_OPTIONS, and no
  // NODE_EXTRA_CA_CERTS unless the targets are https (the lab's sites need the lab's CA then).
  // Node reads that file and builds its whole root store at every start when the variable is
  // set, whether or not a TLS connection follows: 18 ms of CPU for the lab's one certificate,
  // 38 ms for a system bundle (a `--version` takes 47 ms without it), a cost no user of plain
  // http targets pays.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("REACHPROBE_") && k !== "UV_THREADPOOL_SIZE" && k !== "NODE_OPTIONS" && k !== "NODE_EXTRA_CA_CERTS"),
  );
  if (o.scheme === "https") env.NODE_EXTRA_CA_CERTS = lab.caFile;
  env.NO_COLOR = "1";
  if (pool !== "unset") env.UV_THREADPOOL_SIZE = pool;
  // Checked again right before the probe: the lab is still sealed.
  assertIsolated(lab);
  const timed = useTime ? ["/usr/bin/time", "-v", "-o", timeFile] : [];
  const argv = ["netns", "exec", lab.ns.client, ...timed, ...cliWords, ...runArgs];
  const shown = `${env.NODE_EXTRA_CA_CERTS ? `NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS} ` : ""}${pool === "unset" ? "" : `UV_THREADPOOL_SIZE=${pool} `}${[...cliWords, ...runArgs].join(" ")}`;
  const out = openSync(stdoutFile, "w");
  const err = openSync(stderrFile, "w");
  const t0 = performance.now();
  const child = spawn("ip", argv, { cwd: dir, env, stdio: ["ignore", out, err] });
  closeSync(out);
  closeSync(err);
  const limitMs = Math.max(120_000, 10 * Math.ceil(o.targets / o.concurrency) * o.timeout);
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const [code] = await once(child, "exit");
  const wallMs = performance.now() - t0;
  clearTimeout(guard);
  const usage = useTime && existsSync(timeFile) ? parseGnuTime(readFileSync(timeFile, "utf8")) : { rssKb: null, cpuMs: null, userMs: null, sysMs: null, signal: null };

  const problems = [];
  if (killed) problems.push(`killed after ${limitMs / 1000} s (a hang)`);
  let doc = null;
  try {
    // --output human: the report a person reads went to stdout; the verdicts are read back from
    // the run's stored rows instead (the run is the database's newest).
    doc = o.output === "json" ? JSON.parse(readFileSync(stdoutFile, "utf8")) : storedRun(db);
  } catch (e) {
    problems.push(`${o.output === "json" ? "stdout is not one JSON document" : "the stored run cannot be read"} (${e.message}); stderr: ${readFileSync(stderrFile, "utf8").trim().slice(-800)}`);
  }
  const byTarget = new Map((doc?.results ?? []).map((r) => [r.target, r]));
  const wrong = new Map(); // "kind -> verdict" -> count
  let wrongCount = 0;
  const dnsMs = [];
  const holeMs = [];
  let busyMs = 0;
  for (const [url, kind] of kinds) {
    const r = byTarget.get(url);
    busyMs += r?.duration_ms ?? 0;
    if (kind === "blackholed" && r) holeMs.push(r.duration_ms);
    for (const ob of r?.observations ?? []) if (ob.step === "dns" && ob.engine === "system") dnsMs.push(ob.t - ob.t0);
    if (isRight(kind, r)) continue;
    wrongCount++;
    const v = r ? [r.status, r.layer, r.failure].filter(Boolean).join(" ") : "(no result)";
    const key = `${kind} -> ${v}`;
    wrong.set(key, (wrong.get(key) ?? 0) + 1);
  }
  const holes = [...kinds.values()].filter((k) => k === "blackholed").length;
  const boundMs = Math.ceil(holes / o.concurrency) * o.timeout;
  const inRunMs = doc?.run?.started_at && doc?.run?.finished_at ? Date.parse(doc.run.finished_at) - Date.parse(doc.run.started_at) : null;
  return { pool, shown, code, wallMs, inRunMs, holeMs, busyMs, boundMs, holes, fast: kinds.size - holes, usage, wrong, wrongCount, dnsMs, problems, stderrTail: readFileSync(stderrFile, "utf8").trim().split("\n").slice(-5).join("\n") };
}

/** The newest run of `db` as the fields of `--json`'s document that the figures read. */
function storedRun(db) {
  const conn = new Database(db, { readonly: true });
  try {
    const run = conn.prepare("SELECT id, started_at, finished_at FROM runs ORDER BY started_at DESC LIMIT 1").get();
    const results = conn
      .prepare("SELECT target, status, layer, failure, duration_ms, observations_json FROM measurements WHERE run_id = ?")
      .all(run.id)
      .map((m) => ({ target: m.target, status: m.status, layer: m.layer, failure: m.failure, duration_ms: m.duration_ms, observations: JSON.parse(m.observations_json) }));
    return { run: { started_at: run.started_at, finished_at: run.finished_at }, results };
  } finally {
    conn.close();
  }
}

/** The run's figures, and which of issue 9's targets it misses. */
function report(r, o) {
  const n = o.targets;
  const ratio = r.boundMs > 0 ? r.wallMs / r.boundMs : NaN;
  const rssMb = r.usage.rssKb === null ? null : r.usage.rssKb / 1024;
  const cpuPer = r.usage.cpuMs === null ? null : r.usage.cpuMs / n;
  const lines = [];
  lines.push(`$ ${r.shown}`);
  lines.push(`wall ${(r.wallMs / 1000).toFixed(2)} s; bound ceil(${r.holes}/${o.concurrency}) x ${(o.timeout / 1000).toFixed(1)} s = ${(r.boundMs / 1000).toFixed(1)} s; ratio ${ratio.toFixed(3)} (goal <= ${GOALS.ratio})`);
  const wrongList = [...r.wrong].map(([k, c]) => `${c} ${k}`).join("; ");
  lines.push(`wrong verdicts ${r.wrongCount} of ${n} (${((r.wrongCount / n) * 100).toFixed(1)}%; goal ${GOALS.wrong})${wrongList ? `: ${wrongList}` : ""}`);
  lines.push(
    `CPU ${r.usage.cpuMs === null ? "unknown" : `${(r.usage.cpuMs / 1000).toFixed(2)} s (user ${(r.usage.userMs / 1000).toFixed(2)} + sys ${(r.usage.sysMs / 1000).toFixed(2)})`}, ${cpuPer === null ? "?" : cpuPer.toFixed(2)} ms per target (goal <= ${GOALS.cpuMsPerTarget}); peak RSS ${rssMb === null ? "unknown" : `${rssMb.toFixed(0)} MB`} (goal < ${GOALS.rssMb}); exit ${r.code}`,
  );
  if (r.inRunMs !== null) lines.push(`in-run ${(r.inRunMs / 1000).toFixed(2)} s (the rest, ${((r.wallMs - r.inRunMs) / 1000).toFixed(2)} s, is process start-up and exit)${r.holeMs.length ? `; blackholed target median ${pctl(r.holeMs, 50)} ms, max ${Math.max(...r.holeMs)} ms` : ""}`);
  // No schedule of these targets at this concurrency beats the sum of their durations / C: the
  // gap between it and the bound is what each target spends beyond its timeout (DNS, the fast
  // targets' work), the gap between it and the in-run time is scheduling (the last wave's tail).
  if (r.busyMs > 0) lines.push(`packing floor sum(target durations) / ${o.concurrency} = ${(r.busyMs / o.concurrency / 1000).toFixed(2)} s (ratio ${(r.busyMs / o.concurrency / r.boundMs).toFixed(3)})`);
  if (r.dnsMs.length) lines.push(`system lookups: ${r.dnsMs.length}, median ${pctl(r.dnsMs, 50)} ms, p90 ${pctl(r.dnsMs, 90)} ms, p99 ${pctl(r.dnsMs, 99)} ms, max ${Math.max(...r.dnsMs)} ms`);
  const misses = [...r.problems];
  if (!(ratio <= GOALS.ratio)) misses.push(`ratio ${ratio.toFixed(3)} > ${GOALS.ratio}`);
  if (r.wrongCount > GOALS.wrong) misses.push(`${r.wrongCount} wrong verdicts`);
  if (rssMb === null || !(rssMb < GOALS.rssMb)) misses.push(`peak RSS ${rssMb === null ? "unknown" : `${rssMb.toFixed(0)} MB`} >= ${GOALS.rssMb} MB`);
  if (cpuPer === null || !(cpuPer <= GOALS.cpuMsPerTarget)) misses.push(`CPU ${cpuPer === null ? "unknown" : cpuPer.toFixed(2)} ms per target > ${GOALS.cpuMsPerTarget}`);
  if (r.code !== 4) misses.push(`exit ${r.code}, expected 4 (anomalies found)`);
  lines.push(misses.length ? `MISSED: ${misses.join("; ")}` : "met every target");
  if (r.code !== 4 && r.stderrTail) lines.push(`stderr (last lines):\n  ${r.stderrTail.replace(/\n/g, "\n  ")}`);
  return { text: lines.join("\n"), ok: misses.length === 0, ratio, cpuPer, rssMb };
}

/** One line a setting: min and median of CPU per target and of the wall ratio over its runs, worst wrong count and peak RSS. */
function summary(label, reps, wrongs) {
  const min = (xs) => Math.min(...xs);
  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const cpu = reps.map((r) => r.cpuPer ?? NaN);
  const ratio = reps.map((r) => r.ratio);
  const rss = reps.map((r) => r.rssMb ?? NaN);
  return `${label}: ${reps.length} runs; CPU ms per target min ${min(cpu).toFixed(2)} median ${med(cpu).toFixed(2)}; wall ratio min ${min(ratio).toFixed(3)} median ${med(ratio).toFixed(3)}; wrong verdicts at most ${Math.max(...wrongs)}; peak RSS at most ${Math.max(...rss).toFixed(0)} MB`;
}

/** CPU per target of `reps` over `base`, run by run (the runs took turns), and their median. */
export function pairedLine(label, base, reps) {
  const ratios = reps.map((r, i) => (r.cpuPer ?? NaN) / (base[i]?.cpuPer ?? NaN)).filter((x) => Number.isFinite(x));
  if (ratios.length === 0) return `${label}: CPU per target unknown`;
  const s = [...ratios].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return `${label}: CPU per target run by run ${ratios.map((x) => x.toFixed(2)).join(" ")}; median ${median.toFixed(2)}`;
}

/** The bench: builds the lab, runs once per thread-pool setting, tears the lab down. */
export async function main(argv = process.argv.slice(2)) {
  const o = parseFieldFlags(argv);
  const can = canMakeNamespaces();
  if (!can.ok) {
    process.stderr.write(`bench:field: needs root and ip netns (${can.reason})\n`);
    process.exit(2);
  }
  for (const cli of o.clis) {
    const script = resolveCli(cli).find((w) => /\.(c|m)?js$/.test(w));
    if (script && !existsSync(script)) usage(`${script} not found: run "npm run build" first (npm run bench:field does)`);
  }
  const useTime = gnuTimeWorks();
  if (!useTime) process.stderr.write("bench:field: warning: /usr/bin/time -v does not work here: CPU and peak RSS are unknown\n");

  const t0 = performance.now();
  const lab = await buildLab(fieldScenario(), {
    // glibc's own timeout outlasts --timeout, so a lookup that is merely queued is never cut by glibc.
    resolvOptions: `timeout:${Math.ceil(o.timeout / 1000) + 1} attempts:1`,
    dnsDelayMs: { isp: o.dnsDelay, outside: o.dnsDelay },
    snapshot: false,
  });
  const removeHandlers = teardownOnExit(lab);
  let allOk = true;
  try {
    const dir = join(lab.dir, "bench");
    mkdirSync(dir, { recursive: true });
    const kinds = makeTargets(o);
    const listFile = join(dir, "targets.txt");
    writeFileSync(listFile, `# reachprobe field bench: ${kinds.size} distinct names\n${[...kinds.keys()].join("\n")}\n`);
    const holes = [...kinds.values()].filter((k) => k === "blackholed").length;
    process.stdout.write(
      `reachprobe field bench: node ${process.version}; lab ${lab.id} built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
        `isolation checked:\n${lab.isolation.replace(/^/gm, "  ")}\n` +
        `workload: ${kinds.size} targets (${o.scheme}, distinct names through the system resolver), ${kinds.size - holes} on a fast site ${FAST}, ${holes} on ${HOLE} (dropped by the censor); ` +
        `the ISP resolver answers after ${o.dnsDelay[0]}-${o.dnsDelay[1]} ms; --concurrency ${o.concurrency} --timeout ${o.timeout}\n\n`,
    );
    const settings = o.clis.flatMap((cli, i) => o.pools.map((pool) => ({ cli, pool, label: `${o.clis.length > 1 ? `cli${i + 1}-` : ""}pool-${pool}`, reps: [], wrongs: [] })));
    for (let run = 1; run <= o.runs; run++) {
      for (const st of settings) {
        process.stdout.write(`${o.clis.length > 1 ? `command ${st.label.split("-")[0].slice(3)}, ` : ""}UV_THREADPOOL_SIZE ${st.pool}${o.runs > 1 ? `, run ${run} of ${o.runs}` : ""}: running ...\n`);
        const r = await fieldRun(lab, o, kinds, listFile, st.cli, st.pool, st.label, useTime);
        const rep = report(r, o);
        allOk &&= rep.ok;
        st.reps.push(rep);
        st.wrongs.push(r.wrongCount);
        process.stdout.write(`${rep.text.replace(/^/gm, "  ")}\n\n`);
      }
    }
    if (o.runs > 1 || settings.length > 1) {
      process.stdout.write("summary:\n");
      for (const st of settings) process.stdout.write(`  ${summary(`${st.cli.join(" ")}${st.pool === "unset" ? "" : ` (UV_THREADPOOL_SIZE ${st.pool})`}`, st.reps, st.wrongs)}\n`);
      // Run by run against the first command: the machine's speed moves between runs, both
      // commands of a run saw the same moment, so their ratio is the steadier figure.
      for (const st of settings) {
        const base = settings.find((b) => b.pool === st.pool);
        if (base === undefined || base === st) continue;
        process.stdout.write(`  ${pairedLine(`command ${st.label.split("-")[0].slice(3)} / command 1${st.pool === "unset" ? "" : ` (UV_THREADPOOL_SIZE ${st.pool})`}`, base.reps, st.reps)}\n`);
      }
    }
    if (o.keep) {
      const kept = `${lab.dir}-kept`;
      // The state directory goes with the lab; keep a copy of the bench's files.
      const { cpSync } = await import("node:fs");
      cpSync(dir, kept, { recursive: true });
      process.stdout.write(`kept ${kept}\n`);
    }
  } finally {
    lab.stop();
    removeHandlers();
  }
  if (!allOk) {
    process.stdout.write("bench:field: MISSED a target of issue 9 (see MISSED above)\n");
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
