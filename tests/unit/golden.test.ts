/**
 * Golden fixtures: what the probe and the control helper really saw in the lab, for every case
 * (tests/fixtures/<case>/, written by `npm run fixtures:regen` from a lab run), run through the
 * analysis again. The expected verdict comes from the case's expectation in tests/lab/scenario.mjs,
 * never from the analysis, so a change to the analysis that would misjudge a real measurement fails
 * here, without root and without a lab.
 *
 * Every stage is kept too, as file snapshots beside the fixture: analysis.json (the flattened
 * table, the facts, the verdict and the fact that decided it), result.json (the record `run
 * --json` prints) and, for a few cases, ooni.json (the OONI export). A change to any of them fails
 * until it is accepted with `npx vitest run tests/unit/golden.test.ts -u` (fixtures:regen does it),
 * so that the review of a diff shows exactly what changed.
 */
import { describe, expect, test } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePublicRanges } from "../../src/net/bogons.js";
import type { AnalysisContext } from "../../src/analysis/context.js";
import { explainTarget } from "../../src/analysis/target.js";
import { JsonStream } from "../../src/cli/run-output.js";
import { toOoniMeasurement } from "../../src/export/export-ooni.js";
import { Writable } from "node:stream";
import { loadFingerprints } from "../../src/fingerprints/load.js";
import type { ControlObservation, Observation } from "../../src/probes/observation.js";
import { parseTarget } from "../../src/targets/parse.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(REPO, "tests", "fixtures");

/** tests/fixtures/<case>/probe.json */
interface ProbeFixture {
  target: string;
  service: string;
  publicRanges: string;
  /** A --fingerprints spec; paths relative to the repository root. */
  fingerprints: string;
  /** Set when the run's canary failed (the offline run). */
  networkDown?: { canary: string; reason: string };
  observations: Observation[];
}
/** tests/fixtures/<case>/expected.json: the case's expectation from scenario.mjs. */
interface Expected {
  status: string;
  layer: string | null;
  failure?: string | null;
  /** A pattern (RegExp source) the evidence must match. */
  evidence?: string;
}

/** Cases whose OONI export is kept as a golden too: one of each kind of verdict and layer. */
const OONI_CASES = new Set(["dns-injection", "tcp-drop", "tls-mitm", "tls-redirect-sni", "http-blockpage", "http-host-rst", "http-redirect", "server-down", "ok-https", "ok-https--no-control", "dns-nxdomain"]);
const FIXED_START = "2026-01-01T00:00:00.000Z";
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** The record `run --json` writes for one result, pretty-printed. */
function jsonRecord(r: Parameters<JsonStream["results"]>[0][number]): string {
  let text = "";
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  new JsonStream(sink).results([r]);
  return json(JSON.parse(text.slice(text.indexOf("\n") + 1)));
}

const read = <T>(dir: string, file: string): T => JSON.parse(readFileSync(join(FIXTURES, dir, file), "utf8")) as T;

/** Resolves the spec's paths against the repository root, so the test runs from any directory. */
function fromRepo(spec: string): string {
  return spec
    .split(",")
    .map((item) => item.trim())
    .map((item) => {
      if (item === "bundled" || item === "") return item;
      if (item.startsWith("ooni:")) {
        const p = item.slice("ooni:".length);
        return `ooni:${isAbsolute(p) ? p : resolve(REPO, p)}`;
      }
      return isAbsolute(item) ? item : resolve(REPO, item);
    })
    .join(",");
}

const fingerprintCache = new Map<string, Promise<AnalysisContext["fingerprints"]>>();
function fingerprints(spec: string) {
  if (!fingerprintCache.has(spec)) fingerprintCache.set(spec, loadFingerprints(fromRepo(spec)).then((l) => l.fingerprints));
  return fingerprintCache.get(spec)!;
}

const cases = existsSync(FIXTURES)
  ? readdirSync(FIXTURES, { withFileTypes: true })
      // http-request/ holds request bytes for tests/integration/http-bytes.test.ts, not a lab case.
      .filter((d) => d.isDirectory() && d.name !== "http-request")
      .map((d) => d.name)
      .sort()
  : [];

describe("golden fixtures from the lab (tests/fixtures)", () => {
  test("there are fixtures, each with probe.json, control.json and expected.json", () => {
    expect(cases.length, `no fixtures in ${FIXTURES}: run "npm run fixtures:regen" as root`).toBeGreaterThan(0);
    for (const c of cases) for (const f of ["probe.json", "control.json", "expected.json"]) expect(existsSync(join(FIXTURES, c, f)), `${c}/${f}`).toBe(true);
  });

  test.each(cases)("%s", async (name) => {
    const probe = read<ProbeFixture>(name, "probe.json");
    const control = read<ControlObservation | null>(name, "control.json");
    const want = read<Expected>(name, "expected.json");
    const ctx: AnalysisContext = {
      publicRanges: parsePublicRanges(probe.publicRanges),
      fingerprints: await fingerprints(probe.fingerprints),
      networkDown: probe.networkDown ?? null,
    };
    const target = parseTarget(probe.target, probe.service);
    const analysis = explainTarget(target, probe.observations, ctx, control);
    const v = analysis.verdict;
    const got = [v.status, v.layer, v.failure].filter((x) => x !== null).join(" ");
    const why = `${name} (${probe.target}) got ${got}; evidence:\n  ${v.evidence.join("\n  ")}`;
    expect({ status: v.status, layer: v.layer }, why).toEqual({ status: want.status, layer: want.layer });
    if (want.failure !== undefined) expect(v.failure, why).toBe(want.failure);
    if (want.evidence) expect(v.evidence.join("\n"), why).toMatch(new RegExp(want.evidence));

    await expect(json(analysis)).toMatchFileSnapshot(join(FIXTURES, name, "analysis.json"));
    // What `run --json` prints for it (times fixed: the fixture keeps observations, not clocks).
    const startedAt = new Date(FIXED_START);
    await expect(jsonRecord({ target, verdict: v, observations: probe.observations, control, startedAt, finishedAt: startedAt, durationMs: 0 })).toMatchFileSnapshot(
      join(FIXTURES, name, "result.json"),
    );
    if (OONI_CASES.has(name)) {
      const measurement = { id: `m-${name}`, runId: "r-golden", target: target.input, service: target.service, verdict: v, observations: probe.observations, control, startedAt: FIXED_START, finishedAt: FIXED_START, durationMs: 0 };
      const run = { id: "r-golden", startedAt: FIXED_START, finishedAt: FIXED_START, state: "completed" as const, version: "0.0.0-golden", pid: null, hostnameHash: null, networkLabel: null, probeAsn: null, probeCc: null, options: null, targetCount: 1, summary: null, canary: null };
      await expect(json(toOoniMeasurement({ run, measurement }, { softwareVersion: "0.0.0-golden" }))).toMatchFileSnapshot(join(FIXTURES, name, "ooni.json"));
    }
  });
});
