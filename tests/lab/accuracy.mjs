#!/usr/bin/env node
/**
 * `npm run lab:accuracy [-- --runs N] [--write-docs]` (root): the accuracy table of
 * docs/verdicts.md, measured. Builds the cases' lab once, makes the suite's runs
 * (tests/lab/runs.mjs) N times in a row (default 1), and prints, for every case, the verdict
 * expected and the one measured with controls, with the helper unreachable and no DoH, and with
 * the helper unreachable but DoH up. A cell shows one verdict when all N runs agreed, and each
 * verdict with its count when they did not; a measured verdict that is not the expected one is
 * marked. The summary counts exact verdicts and any case that is not censorship called blocked.
 * With --write-docs, the table replaces the one between the accuracy markers in docs/verdicts.md.
 * Exits 1 when a verdict is not the expected one or a non-censorship case was called blocked.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CLI, CONTROL_LIMITS, REPO, buildLab, teardownOnExit } from "./lab.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { CLIENT_RESOLV_OPTIONS, RUNS, probeRun, showVerdict } from "./runs.mjs";
import { CASES, NETWORK_DOWN, SLOW_CASES, casesScenario } from "./scenario.mjs";
import { QA_CASES, qaKey, qaScore } from "./ooni-qa.mjs";

const DOCS = join(REPO, "docs", "verdicts.md");
const BEGIN = "<!-- accuracy:begin (written by npm run lab:accuracy -- --write-docs) -->";
const END = "<!-- accuracy:end -->";

const { values } = parseArgs({ options: { runs: { type: "string", default: "1" }, "write-docs": { type: "boolean", default: false } } });
const n = Number(values.runs);
if (!Number.isInteger(n) || n < 1 || n > 100) {
  process.stderr.write(`lab:accuracy: --runs must be a whole number from 1 to 100, not "${values.runs}"\n`);
  process.exit(2);
}
const can = canMakeNamespaces();
if (!can.ok) {
  process.stderr.write(`lab:accuracy: needs root and ip netns (${can.reason})\n`);
  process.exit(1);
}
if (!existsSync(CLI)) {
  process.stderr.write(`lab:accuracy: ${CLI} is missing; run "npm run build" first (npm run lab:accuracy does)\n`);
  process.exit(1);
}

/** Verdict strings seen per run name and target, one per repetition. */
const seen = new Map();
const note = (run, target, v) => {
  const k = `${run}|${target}`;
  if (!seen.has(k)) seen.set(k, []);
  seen.get(k).push(v);
};
const walls = [];

const lab = await buildLab(casesScenario(), { resolvOptions: CLIENT_RESOLV_OPTIONS, control: CONTROL_LIMITS });
const removeHandlers = teardownOnExit(lab);
try {
  for (let i = 1; i <= n; i++) {
    const dir = join(lab.dir, `accuracy-${i}`);
    mkdirSync(dir);
    const t0 = performance.now();
    const record = (name, r) => {
      if (!r.doc) throw new Error(`lab:accuracy: run ${name} printed no JSON (exit ${r.code}); stderr:\n${r.stderr}`);
      for (const x of r.doc.results) note(name, x.target, showVerdict(x));
      note(name, "(exit)", String(r.code));
    };
    for (const name of ["withControls", "deadControl", "helperDownDoh", "slow", "qaWithControls", "qaNoHelper", "qaDeadControl"]) record(name, await probeRun(lab, RUNS[name], dir));
    lab.setClientLink(false);
    try {
      for (const name of ["networkDown", "offlineNoCanary"]) record(name, await probeRun(lab, RUNS[name], dir));
    } finally {
      lab.setClientLink(true);
    }
    rmSync(dir, { recursive: true, force: true });
    walls.push((performance.now() - t0) / 1000);
    process.stderr.write(`lab:accuracy: lab ${lab.id}: repetition ${i} of ${n} in ${walls.at(-1).toFixed(1)} s\n`);
  }
} finally {
  lab.stop();
  removeHandlers();
}

let wrong = 0;
let falseBlocked = 0;
let exact = 0;
let cells = 0;
/** One cell: the verdict (or each verdict with its count), marked when not the expected one. */
function cell(run, target, expected, notBlocked, statusOnly = false) {
  // The offline runs expect a status, whatever failure the target's own steps met.
  const got = (seen.get(`${run}|${target}`) ?? []).map((v) => (statusOnly ? v.split(" ")[0] : v));
  const counts = new Map();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  cells++;
  const bad = [...counts.keys()].some((v) => v !== expected);
  if (bad) wrong++;
  else exact++;
  if (notBlocked && got.some((v) => v.startsWith("blocked"))) falseBlocked++;
  const mark = (v) => (v === expected ? "" : " **(differs)**");
  if (counts.size === 1) return `\`${got[0]}\`${mark(got[0])}`;
  return [...counts].map(([v, c]) => `\`${v}\` ${c}/${got.length}${mark(v)}`).join(", ");
}
const show = (e) => (e ? showVerdict({ failure: null, ...e }) : "");

const rows = [];
for (const c of CASES) {
  const withControls = cell("withControls", c.target, show(c.withControl), c.notBlocked);
  const without = cell("deadControl", c.target, show(c.expect), c.notBlocked);
  const doh = c.withDohOnly ? cell("helperDownDoh", c.target, show(c.withDohOnly), c.notBlocked) : "";
  rows.push(`| ${c.name} | ${c.technique} | \`${show(c.withControl)}\` | ${withControls} | \`${show(c.expect)}\` | ${without} | ${doh} |`);
}
for (const c of SLOW_CASES) rows.push(`| ${c.name} | ${c.technique} | \`${show(c.withControl)}\` | ${cell("slow", c.target, show(c.withControl), c.notBlocked)} | | | |`);
for (const [run, name, what] of [
  ["networkDown", NETWORK_DOWN.name, "(not censorship) the client is offline; the canary fails"],
  ["offlineNoCanary", "offline-no-canary", "(not censorship) the client is offline; targets on the command line, no canary"],
]) {
  const each = NETWORK_DOWN.targets.map((t) => cell(run, t, "inconclusive", true, true));
  const exits = cell(run, "(exit)", "5", false);
  const same = each.every((x) => x === each[0]);
  rows.push(`| ${name} | ${what} | \`inconclusive\` x${NETWORK_DOWN.targets.length}, exit 5 | ${same ? `${each[0]} x${each.length}` : each.join("; ")}, exit ${exits} | | | |`);
}

const table = [
  `Measured by \`npm run lab:accuracy -- --runs ${n}\`: ${n} consecutive run${n > 1 ? "s" : ""} of every case on one lab, ${new Date().toISOString().slice(0, 10)}.`,
  "",
  "| case | technique | expected with controls | with controls | expected without | helper unreachable, no DoH | helper unreachable, DoH up |",
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...rows,
  "",
  `${exact} of ${cells} cells exact in every run; ${falseBlocked} case${falseBlocked === 1 ? "" : "s"} that ${falseBlocked === 1 ? "is" : "are"} not censorship called \`blocked\`. Repetitions took ${walls.map((w) => w.toFixed(0)).join(", ")} s.`,
].join("\n");
process.stdout.write(`${table}\n`);

// OONI's QA catalogue (tests/lab/ooni-qa.mjs): status and layer, and the score of each repetition.
const verdictAt = (run, c, i) => {
  const v = seen.get(`${run}|${qaKey(c)}`)?.[i];
  if (!v) return undefined;
  const [status, layer] = v.split(" ");
  return { status, layer: ["dns", "tcp", "tls", "http"].includes(layer) ? layer : null };
};
const qaOf = (i, withHelper) => (c) => verdictAt(withHelper ? (c.helperDown ? "qaDeadControl" : "qaWithControls") : "qaNoHelper", c, i);
const qaCell = (run, c) => {
  const got = seen.get(`${run}|${qaKey(c)}`) ?? [];
  const counts = new Map();
  for (const v of got) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts.size === 1 ? `\`${got[0]}\`` : [...counts].map(([v, k]) => `\`${v}\` ${k}/${got.length}`).join(", ");
};
const qaRows = QA_CASES.map((c) => `| ${c.ooni} | ${String(c.ooniKeys.blocking)}/${String(c.ooniKeys.accessible)} | ${qaCell(c.helperDown ? "qaDeadControl" : "qaWithControls", c)} | ${qaCell("qaNoHelper", c)} |${c.differs ? " deliberate |" : " |"}`);
const scoreLines = new Set();
for (let i = 0; i < n; i++) for (const w of [true, false]) scoreLines.add(qaScore(qaOf(i, w), { withHelper: w }).line);
process.stdout.write(
  `${["", "| OONI scenario | OONI blocking/accessible | with the helper | no helper | |", "| --- | --- | --- | --- | --- |", ...qaRows, "", ...[...scoreLines].map((l) => `${l}.`)].join("\n")}\n`,
);

if (values["write-docs"]) {
  const doc = readFileSync(DOCS, "utf8");
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) {
    process.stderr.write(`lab:accuracy: ${DOCS} has no accuracy markers (${BEGIN} ... ${END})\n`);
    process.exit(1);
  }
  writeFileSync(DOCS, `${doc.slice(0, a + BEGIN.length)}\n${table}\n${doc.slice(b)}`);
  process.stderr.write(`lab:accuracy: wrote the table into ${DOCS}\n`);
}
process.exit(wrong > 0 || falseBlocked > 0 ? 1 : 0);
