#!/usr/bin/env node
/**
 * `npm run fixtures:regen` (root): regenerates the golden fixtures in tests/fixtures/ from a lab
 * run. Builds the cases' lab with its control helper, makes the suite's runs (tests/lab/runs.mjs)
 * with --json, and writes, for every case:
 *
 *   tests/fixtures/<case>/probe.json     {target, service, publicRanges, fingerprints, observations[, networkDown]}
 *   tests/fixtures/<case>/control.json   the control helper's observation (or null)
 *   tests/fixtures/<case>/expected.json  {status, layer, failure?, evidence?}: the CASE's expectation
 *                                        in scenario.mjs, never what the analysis said
 *
 * from the run with controls (`withControl`), and `<case>--no-control` for a few cases from the
 * run whose helper never answers (`expect`), `<case>--doh-only` from the run whose helper never
 * answers but DoH does (`withDohOnly`), plus `network-down--<case>` and `offline-no-canary--<case>`
 * from the offline runs. Then the golden test, in update mode, writes each fixture's
 * analysis.json, result.json and ooni.json (tests/unit/golden.test.ts).
 * Observations and control answers are the run's own, unedited. tests/unit/golden.test.ts reads
 * them. The script prints what the analysis said next to what each fixture expects and exits 1
 * when they differ (the fixtures are written anyway, so that the diff can be read).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { CLI, CONTROL_LIMITS, LAB_FINGERPRINTS, REPO, buildLab, teardownOnExit } from "./lab.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { CLIENT_RESOLV_OPTIONS, RUNS, probeRun, showVerdict } from "./runs.mjs";
import { CASES, NETWORK_DOWN, SLOW_CASES, casesScenario } from "./scenario.mjs";
import { LAB_RANGES } from "./topology.mjs";

const FIXTURES = join(REPO, "tests", "fixtures");
/** Cases that also get a fixture from the run whose helper never answers: one of each kind of verdict. */
const NO_CONTROL = ["dns-nxdomain", "dns-bogon-everywhere", "dns-no-data", "dns-injection", "tcp-drop", "tls-sni-rst", "tls-sni-drop", "tls-mitm", "tls-redirect-sni", "http-host-rst", "http-host-case", "http-blockpage", "server-down", "origin-resets", "ok-https"];
/** The offline run's targets that get a fixture, by case name (from the run with a canary, and the one without). */
const NETWORK_DOWN_CASES = ["dns-bogon", "tcp-drop"];
const OFFLINE_NO_CANARY_CASES = ["ok-https", "tcp-drop"];

const can = canMakeNamespaces();
if (!can.ok) {
  process.stderr.write(`fixtures:regen: needs root and ip netns (${can.reason})\n`);
  process.exit(1);
}
if (!existsSync(CLI)) {
  process.stderr.write(`fixtures:regen: ${CLI} is missing; run "npm run build" first (npm run fixtures:regen does)\n`);
  process.exit(1);
}

/** An expectation from scenario.mjs as stored: the evidence pattern as its source text. */
function expectedOf(e) {
  return { status: e.status, layer: e.layer, ...(e.failure !== undefined ? { failure: e.failure } : {}), ...(e.evidence ? { evidence: e.evidence.source } : {}) };
}

const json = (v) => `${JSON.stringify(v, null, 2)}\n`;
const written = [];
const mismatches = [];

function writeFixture(name, result, expected, extra = {}) {
  if (!result) throw new Error(`fixtures:regen: no result for ${name}`);
  const d = join(FIXTURES, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, "probe.json"),
    json({
      target: result.target,
      service: result.service,
      publicRanges: LAB_RANGES.join(","),
      fingerprints: `bundled,${relative(REPO, LAB_FINGERPRINTS)}`,
      ...extra,
      observations: result.observations,
    }),
  );
  writeFileSync(join(d, "control.json"), json(result.control ?? null));
  writeFileSync(join(d, "expected.json"), json(expected));
  const want = showVerdict({ failure: null, ...expected });
  const got = showVerdict(result);
  const same = result.status === expected.status && result.layer === expected.layer && (expected.failure === undefined || result.failure === expected.failure);
  written.push({ name, want, got, same });
  if (!same) mismatches.push(`${name}: expected ${want}, the lab run said ${got}: ${result.evidence.join(" | ")}`);
}

const lab = await buildLab(casesScenario(), { resolvOptions: CLIENT_RESOLV_OPTIONS, control: CONTROL_LIMITS });
const removeHandlers = teardownOnExit(lab);
try {
  const dir = join(lab.dir, "runs");
  mkdirSync(dir);
  const runs = {};
  for (const name of ["withControls", "deadControl", "slow", "helperDownDoh"]) {
    process.stderr.write(`fixtures:regen: lab ${lab.id}: run ${name}...\n`);
    runs[name] = await probeRun(lab, RUNS[name], dir);
    if (!runs[name].doc) throw new Error(`fixtures:regen: run ${name} printed no JSON (exit ${runs[name].code}); stderr:\n${runs[name].stderr}`);
  }
  lab.setClientLink(false);
  try {
    process.stderr.write(`fixtures:regen: lab ${lab.id}: run networkDown...\n`);
    runs.networkDown = await probeRun(lab, RUNS.networkDown, dir);
    process.stderr.write(`fixtures:regen: lab ${lab.id}: run offlineNoCanary...\n`);
    runs.offlineNoCanary = await probeRun(lab, RUNS.offlineNoCanary, dir);
  } finally {
    lab.setClientLink(true);
  }
  for (const name of ["networkDown", "offlineNoCanary"]) if (!runs[name].doc) throw new Error(`fixtures:regen: run ${name} printed no JSON; stderr:\n${runs[name].stderr}`);

  // Every fixture directory is this script's: start from a clean slate so that removed cases go.
  // http-request/ holds hand-written request bytes (tests/integration/http-bytes.test.ts), not a lab case.
  if (existsSync(FIXTURES)) for (const e of readdirSync(FIXTURES, { withFileTypes: true })) if (e.isDirectory() && e.name !== "http-request") rmSync(join(FIXTURES, e.name), { recursive: true });
  const find = (run, target) => run.doc.results.find((r) => r.target === target);

  for (const c of CASES) writeFixture(c.name, find(runs.withControls, c.target), expectedOf(c.withControl));
  for (const c of SLOW_CASES) writeFixture(c.name, find(runs.slow, c.target), expectedOf(c.withControl));
  for (const name of NO_CONTROL) {
    const c = CASES.find((x) => x.name === name);
    writeFixture(`${name}--no-control`, find(runs.deadControl, c.target), expectedOf(c.expect));
  }
  const canary = runs.networkDown.doc.run.canary;
  if (!canary || canary.ok) throw new Error(`fixtures:regen: the offline run's canary did not fail: ${JSON.stringify(canary)}`);
  for (const name of NETWORK_DOWN_CASES) {
    const c = CASES.find((x) => x.name === name);
    if (!NETWORK_DOWN.targets.includes(c.target)) throw new Error(`fixtures:regen: ${c.target} is not a target of the offline run`);
    writeFixture(`network-down--${name}`, find(runs.networkDown, c.target), expectedOf(NETWORK_DOWN.expect), { networkDown: { canary: canary.target, reason: canary.reason ?? "failed" } });
  }
  for (const name of OFFLINE_NO_CANARY_CASES) {
    const c = CASES.find((x) => x.name === name);
    writeFixture(`offline-no-canary--${name}`, find(runs.offlineNoCanary, c.target), expectedOf(NETWORK_DOWN.expect));
  }
  for (const c of CASES.filter((x) => x.withDohOnly)) writeFixture(`${c.name}--doh-only`, find(runs.helperDownDoh, c.target), expectedOf(c.withDohOnly));
} finally {
  lab.stop();
  removeHandlers();
}

// Every stage's golden (analysis.json, result.json, ooni.json) from the new fixtures: written by
// the golden test itself, in update mode, so that it and this script can never disagree on them.
const golden = spawnSync(process.execPath, [join(REPO, "node_modules", "vitest", "vitest.mjs"), "run", "tests/unit/golden.test.ts", "-u"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
if (golden.status !== 0) mismatches.push(`the golden test failed on the new fixtures (exit ${golden.status}): run "npx vitest run tests/unit/golden.test.ts" to see why`);

const w = Math.max(...written.map((r) => r.name.length));
process.stdout.write(`fixtures:regen: wrote ${written.length} fixtures in ${relative(REPO, FIXTURES)}/\n`);
for (const r of written) process.stdout.write(`  ${r.name.padEnd(w)}  expected ${r.want.padEnd(36)} lab run: ${r.got}${r.same ? "" : "   <-- differs"}\n`);
if (mismatches.length) {
  process.stderr.write(`fixtures:regen: ${mismatches.length} fixture(s) where the lab run disagrees with the case's expectation:\n  ${mismatches.join("\n  ")}\n`);
  process.exit(1);
}
