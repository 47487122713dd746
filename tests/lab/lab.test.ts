/**
 * End-to-end censorship cases in network namespaces: the REAL built command
 * (`ip netns exec <client> node dist/cli/main.js run --json ...`) against a lab whose censor
 * blocks with real packets, and the REAL control helper (`reachprobe control`) in the lab's
 * internet namespace, where the censor cannot touch it. Four runs (tests/lab/runs.mjs):
 * every case with controls (exact verdicts), every case with a helper that never answers
 * (control-less verdicts only), the slow and throttled origins, and the client's network down.
 * Needs root and `ip netns`; skips with one line otherwise. See tests/lab/README.md.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipTag } from "../helpers/skip.js";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { CLI, CONTROL_LIMITS, CONTROL_URL, DEAD_CONTROL_URL, DOH_URL, assertIsolated, buildLab, labNamespaces, labRunFlags, teardownOnExit } from "./lab.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { CLIENT_RESOLV_OPTIONS, RUNS, TIMEOUT_MS, budgetProblems, probeRun, showVerdict } from "./runs.mjs";
import { CANARY, CASES, NETWORK_DOWN, SITE, SLOW_CASES, THROTTLE, WHOAMI_PUBLIC, casesScenario } from "./scenario.mjs";
import { scrubAddresses } from "../../src/net/scrub.js";
import { decodeBlob } from "../../src/store/blobs.js";
import { ooniConformance } from "../helpers/ooni-conformance.js";
import { QA_CASES, ooniMapped, qaKey, qaScore } from "./ooni-qa.mjs";

interface Expectation {
  status: string;
  layer: string | null;
  failure?: string | null;
  evidence?: RegExp;
}
interface ControlObs {
  helper: string;
  failure: string | null;
  response: Record<string, unknown> | null;
}
interface Result {
  target: string;
  status: string;
  layer: string | null;
  failure: string | null;
  evidence: string[];
  duration_ms: number;
  observations: Array<Record<string, unknown>>;
  control: ControlObs | null;
}
interface JsonDoc {
  run: { id: string | null; state: string; measured: number; targets: number; canary: { target: string; ok: boolean; reason: string | null } | null };
  results: Result[];
}
interface Case {
  name: string;
  technique: string;
  what: string;
  target: string;
  expect: Expectation;
  withControl: Expectation;
  helperSees?: Record<string, unknown>;
  withDohOnly?: Expectation;
  notBlocked?: boolean;
}
interface Lab {
  id: string;
  cli: string;
  fingerprints: string;
  ns: { client: string; censor: string; internet: string };
  caFile: string;
  dir: string;
  stop(): void;
  setClientLink(up: boolean): void;
  runClient(args: string[], opts?: { env?: Record<string, string>; killAfterMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
}
/** What probeRun resolves with. */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  doc: JsonDoc | null;
}

const can = canMakeNamespaces();
if (!can.ok) console.log(`lab: skipped: needs root and ip netns (${can.reason})`);

const cases = CASES as Case[];
const slowCases = SLOW_CASES as Case[];

/** The printed (and, with LAB_REPORT_JSON=path, written) table: one row a case. */
const table = new Map<string, { name: string; technique: string; expectWithout: string; without: string; expectWith: string; with: string }>();
const row = (c: { name: string; technique?: string }) => {
  if (!table.has(c.name)) table.set(c.name, { name: c.name, technique: c.technique ?? "", expectWithout: "", without: "", expectWith: "", with: "" });
  return table.get(c.name)!;
};
/** OONI's QA catalogue: its table and score lines, printed after the cases' table. */
const qaLines: string[] = [];
interface QaCase {
  ooni: string;
  target: string;
  key?: string;
  ooniKeys: { blocking: string | false | null; accessible: boolean | null };
  withControl: Expectation;
  expect: Expectation;
  helperDown?: boolean;
  notBlocked?: boolean;
  differs?: string;
}
/** Wall time of each run, printed with the table. */
const timings: string[] = [];
const timed = (name: string, r: { ms: number; code: number | null }) => timings.push(`${name} ${(r.ms / 1000).toFixed(1)} s (exit ${r.code})`);
const show = (e: { status: string; layer: string | null; failure?: string | null } | undefined) => showVerdict(e ? { failure: null, ...e } : undefined);

/** Evidence of a blocked verdict that stands without any control: the signatures of docs/verdicts.md. */
const SIGNATURE = /but resolver 198\.51\.100\.53:53 resolved|where a block page was served|is a known blocking address|different answers to one query|fingerprint |HTTP 451|a filter on the name in the ClientHello|a filter on the Host header/;

/** Checks one result against an expectation; the failure message shows the evidence. */
function expectVerdict(r: Result | undefined, want: Expectation, c: Case, stderr: string) {
  expect(r, `no result for ${c.target}; stderr: ${stderr}`).toBeDefined();
  const why = `${c.name} (${c.target}) got ${showVerdict(r)}; evidence: ${r!.evidence.join(" | ")}`;
  if (c.notBlocked) expect(r!.status, `not censorship, must never be blocked: ${why}`).not.toBe("blocked");
  expect({ status: r!.status, layer: r!.layer, failure: r!.failure }, why).toEqual({ status: want.status, layer: want.layer, failure: want.failure ?? null });
  if (want.evidence) expect(r!.evidence.join("\n"), why).toMatch(want.evidence);
}

describe.skipIf(!can.ok)(`censorship lab (network namespaces)${skipTag(can.ok ? null : `needs root and ip netns: ${can.reason}`)}`, () => {
  let lab: Lab;
  let removeHandlers: () => void;
  let dir: string;
  const t0 = performance.now();
  const byTarget = (run: Run, target: string) => run.doc?.results.find((x) => x.target === target);

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
    // glibc's resolver timeout outlasts --timeout (see CLIENT_RESOLV_OPTIONS in runs.mjs).
    const b0 = performance.now();
    lab = (await buildLab(casesScenario(), { resolvOptions: CLIENT_RESOLV_OPTIONS, control: CONTROL_LIMITS })) as Lab;
    timings.push(`build ${((performance.now() - b0) / 1000).toFixed(1)} s`);
    removeHandlers = teardownOnExit(lab);
    // Databases live in the lab's state directory, so tear-down (also on SIGINT) removes them.
    dir = join(lab.dir, "runs");
    mkdirSync(dir);
  }, 90_000);

  afterAll(() => {
    lab?.stop();
    removeHandlers?.();
    const rows = [...table.values()];
    const cols = ["name", "expectWith", "with", "expectWithout", "without"] as const;
    const head = { name: "case", technique: "", expectWith: "expected (controls)", with: "with controls", expectWithout: "expected (no control)", without: "helper unreachable" };
    const w = (k: (typeof cols)[number]) => Math.max(head[k].length, ...rows.map((r) => r[k].length));
    const line = (r: typeof head) => cols.map((k) => r[k].padEnd(w(k))).join("  ").trimEnd();
    console.log([`lab ${lab?.id ?? "?"}: ${rows.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s; runs: ${timings.join(", ")}`, line(head), ...rows.map(line), ...qaLines].join("\n"));
    if (process.env.LAB_REPORT_JSON) writeFileSync(process.env.LAB_REPORT_JSON, JSON.stringify(rows, null, 2));
  });

  it("has no way out: each namespace has only its lab links and no route beyond the documentation ranges", () => {
    expect(assertIsolated(lab)).toMatch(/no namespace has a route to 8\.8\.8\.8/);
  });

  it("serves the outside resolver over TCP and DoH (GET and POST), and the control helper, to the client", async () => {
    const script = fileURLToPath(new URL("./check-client.mjs", import.meta.url));
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile("ip", ["netns", "exec", lab.ns.client, process.execPath, script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: lab.caFile }, timeout: 15_000 }, (e, out, err) =>
        resolve({ code: e ? 1 : 0, out, err }),
      );
    });
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out) as Record<string, unknown>;
    expect(got).toEqual({
      tcp: ["203.0.113.11"],
      dohGet: { status: 200, type: "application/dns-message", addresses: ["203.0.113.11"] },
      dohPost: { status: 200, type: "application/dns-message", addresses: ["203.0.113.11"] },
      control: { status: 200, ok: true },
    });
  });

  it("resets what a browser sends and nothing else: `Host: hostcase...` but not `host: hostcase...`; the redirect target's SNI but not another name on its address", async () => {
    const script = fileURLToPath(new URL("./check-filters.mjs", import.meta.url));
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile("ip", ["netns", "exec", lab.ns.client, process.execPath, script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: lab.caFile }, timeout: 15_000 }, (e, out, err) =>
        resolve({ code: e ? 1 : 0, out, err }),
      );
    });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      hostCase: { browser: "ECONNRESET", lowerCase: 200 },
      redirectSni: { first: { status: 302, location: "https://sni-redir-target.lab.example/" }, target: "ECONNRESET", sameAddressOtherName: "ok" },
    });
  });

  it("gives every target a budget that outlasts its DNS step plus the helper's --request-timeout", () => {
    expect(budgetProblems()).toEqual([]);
  });

  describe(`every case, with controls (the helper at ${CONTROL_URL} and DoH ${DOH_URL})`, () => {
    let run: Run;
    beforeAll(async () => {
      run = (await probeRun(lab, RUNS.withControls, dir)) as Run;
      timed("with controls", run);
      for (const c of cases) Object.assign(row(c), { expectWith: show(c.withControl), with: showVerdict(byTarget(run, c.target)) });
    }, 60_000);

    it("finishes with a JSON document, the canary ok, and exit code 3 (blocking found)", () => {
      expect(run.doc, `stdout was not JSON; stderr: ${run.stderr}`).not.toBeNull();
      expect(run.doc!.run.canary, run.stderr).toMatchObject({ target: CANARY, ok: true, reason: null });
      expect(run.doc!.run.state).toBe("completed");
      expect(run.doc!.results).toHaveLength(cases.length);
      expect(run.code, run.stderr).toBe(3);
    });

    it("got an answer from the helper and from DoH for every target (no verdict fell back to the control-less rules)", () => {
      for (const r of run.doc!.results) {
        expect(r.control, `${r.target}: no control observation`).not.toBeNull();
        expect(r.control!.failure, `${r.target}: the helper could not be used: ${r.evidence.join(" | ")}`).toBeNull();
        const host = new URL(r.target).hostname;
        const doh = r.observations.filter((o) => o.step === "dns" && o.engine === "doh" && o.hostname === host);
        expect(doh, `${r.target}: no DoH lookup`).toHaveLength(1);
      }
    });

    for (const c of cases) {
      it(`${c.name}: ${c.what} -> ${show(c.withControl)}`, () => {
        const r = byTarget(run, c.target);
        expectVerdict(r, c.withControl, c, run.stderr);
        // The helper stands in the internet namespace: the censor's filters never touch it.
        if (c.helperSees) expect(r!.control?.response, `${c.name}: what the helper saw`).toMatchObject(c.helperSees);
      });
    }

    it("stores one row per target, with the verdicts printed", () => {
      const conn = new Database(join(dir, RUNS.withControls.db), { readonly: true });
      const rows = conn.prepare("SELECT target, status, layer FROM measurements").all() as Array<{ target: string; status: string; layer: string | null }>;
      const runs = conn.prepare("SELECT state FROM runs").all();
      conn.close();
      expect(runs).toEqual([{ state: "completed" }]);
      expect(rows).toHaveLength(cases.length);
      for (const r of run.doc!.results) expect(rows).toContainEqual({ target: r.target, status: r.status, layer: r.layer });
    });
  });

  describe(`every case, with a helper that never answers (${DEAD_CONTROL_URL}) and no DoH`, () => {
    let run: Run;
    beforeAll(async () => {
      run = (await probeRun(lab, RUNS.deadControl, dir)) as Run;
      timed("helper unreachable", run);
      for (const c of cases) Object.assign(row(c), { expectWithout: show(c.expect), without: showVerdict(byTarget(run, c.target)) });
    }, 60_000);

    it("finishes, every target measured, exit code 3 (signatures still prove blocking)", () => {
      expect(run.doc, `stdout was not JSON; stderr: ${run.stderr}`).not.toBeNull();
      expect(run.doc!.run.state).toBe("completed");
      expect(run.doc!.results).toHaveLength(cases.length);
      expect(run.code, run.stderr).toBe(3);
    });

    it("says, for every target that is not ok, that the helper could not be used", () => {
      for (const r of run.doc!.results) {
        expect(r.control?.failure, `${r.target}: the dead helper answered?`).not.toBeNull();
        if (r.status !== "ok") expect(r.evidence.join("\n"), r.target).toContain(`the control helper ${DEAD_CONTROL_URL} could not be used`);
      }
    });

    it("calls nothing blocked without a signature, nothing down but a name with no address outside, only working sites ok, and only a plain-HTTP page can't tell", () => {
      for (const c of cases) {
        const r = byTarget(run, c.target)!;
        const why = `${c.name} got ${showVerdict(r)}: ${r.evidence.join(" | ")}`;
        if (c.notBlocked) expect(r.status, `not censorship, must never be blocked: ${why}`).not.toBe("blocked");
        if (r.status === "blocked") expect(r.evidence[0], `blocked without a signature: ${why}`).toMatch(SIGNATURE);
        // Down without a helper only where the outside resolver (--resolver) says the name has no address, or the same bogon.
        if (r.status === "down") expect(["dns_nxdomain_error", "dns_no_answer", "dns_bogon_error"], `down because of the unreachable helper: ${why}`).toContain(r.failure);
        if (r.status === "ok") expect(c.notBlocked, `a censored case called ok: ${why}`).toBe(true);
        // Can't tell only for a plain-HTTP page that loaded, which the dead helper could not compare.
        if (r.status === "inconclusive") expect(r.evidence[0], `inconclusive for another reason: ${why}`).toMatch(/over plain HTTP with no sign of a block, but the control helper this run was given could not be used/);
        expect(["ok", "blocked", "anomaly", "down", "inconclusive"], why).toContain(r.status);
      }
    });

    for (const c of cases) {
      it(`${c.name}: without a control -> ${show(c.expect)}`, () => {
        expectVerdict(byTarget(run, c.target), c.expect, c, run.stderr);
      });
    }

    // Proof without a helper (docs/verdicts.md): the censor matches our name, not the address,
    // so the same address answers the swap's innocuous name (example.com, the default).
    type Obs = Record<string, unknown>;
    const sameStep = (a: Obs, b: Obs) => a.address === b.address && (a.hop ?? 0) === (b.hop ?? 0);
    for (const c of cases.filter((x) => /^SNI filter/.test(x.technique))) {
      it(`${c.name}: the handshake with our SNI failed, the SNI swap to the same address completed`, () => {
        const obs = byTarget(run, c.target)!.observations;
        const failed = obs.filter((o) => o.step === "tls" && !o.purpose && o.failure !== null);
        expect(failed, `${c.name}: no failed handshake`).not.toEqual([]);
        for (const f of failed) {
          const swap = obs.find((o) => o.step === "tls" && o.purpose === "sni_swap" && sameStep(o, f));
          expect(swap, `${c.name}: no SNI swap for ${String(f.address)}`).toMatchObject({ serverName: "example.com", failure: null });
        }
      });
    }
    for (const c of cases.filter((x) => /^Host filter/.test(x.technique))) {
      it(`${c.name}: the request with our Host failed, the Host swap to the same address got HTTP 200`, () => {
        const obs = byTarget(run, c.target)!.observations;
        const failed = obs.filter((o) => o.step === "http" && !o.purpose && o.failure !== null);
        expect(failed, `${c.name}: no failed request`).toHaveLength(1);
        const swap = obs.find((o) => o.step === "http" && o.purpose === "host_swap" && sameStep(o, failed[0]!));
        expect(swap, `${c.name}: no Host swap`).toMatchObject({ url: c.target, swappedHost: "example.com", failure: null, status: 200, requestHeaders: { Host: "example.com" } });
      });
    }
    it("makes no swap for the working sites", () => {
      const working = cases.filter((x) => new URL(x.target).hostname === "ok.lab.example");
      expect(working.map((x) => x.target).sort()).toEqual(["http://ok.lab.example/", "https://ok.lab.example/"]);
      for (const c of working) {
        expect(byTarget(run, c.target)!.observations.filter((o) => o.purpose), c.name).toEqual([]);
      }
    });
  });

  describe("OONI's web_connectivity QA catalogue (tests/lab/ooni-qa.mjs), with the controls and without a helper", () => {
    let withRun: Run;
    let noHelperRun: Run;
    let deadRun: Run;
    const qa = QA_CASES as QaCase[];
    const get = (run: Run, c: QaCase) => run.doc?.results.find((x) => x.target === qaKey(c));
    /** Our verdict "with the helper": the dead-helper run's for the scenarios that are the helper failing. */
    const withHelper = (c: QaCase) => get(c.helperDown ? deadRun : withRun, c);
    beforeAll(async () => {
      // QUIRK: the throttling scenarios' tc shaper is one FIFO per address (tbf, up to 2 s queued;
      // this kernel has no fair-queueing qdisc). Two runs measuring at once put two connections
      // through it: one run's 4 MiB transfer queued ahead of the other's TLS handshake, which then
      // timed out (throttlingWithHTTPS `blocked tls generic_timeout_error`, once in a lab run, where
      // the handshake completes and the body stalls). So the runs that measure the throttled sites
      // go one after the other; the dead-helper run (two other scenarios) goes alongside.
      const both = (async () => [await probeRun(lab, RUNS.qaWithControls, dir), await probeRun(lab, RUNS.qaNoHelper, dir)])();
      const [[first, second], dead] = await Promise.all([both, probeRun(lab, RUNS.qaDeadControl, dir)]);
      [withRun, noHelperRun, deadRun] = [first, second, dead] as [Run, Run, Run];
      timed("OONI QA with controls", withRun);
      timed("OONI QA without a helper", noHelperRun);
      timed("OONI QA helper unreachable", deadRun);
      const mapped = (c: QaCase) => {
        const m = ooniMapped(c) as { status: string[]; layer: string | null | undefined };
        return `${m.status.join("|")}${m.layer ? ` ${m.layer}` : ""}`;
      };
      const rows = qa.map((c) => [c.ooni, `${String(c.ooniKeys.blocking)}/${String(c.ooniKeys.accessible)}`, mapped(c), showVerdict(withHelper(c)), showVerdict(get(noHelperRun, c)), c.differs ? "deliberate" : ""]);
      const head = ["OONI scenario", "OONI blocking/accessible", "mapped", "with helper", "no helper", ""];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const fmt = (r: string[]) => r.map((x, i) => x.padEnd(w[i]!)).join("  ").trimEnd();
      const a = qaScore((c: QaCase) => withHelper(c), { withHelper: true });
      const b = qaScore((c: QaCase) => get(noHelperRun, c), { withHelper: false });
      qaLines.push("", fmt(head), ...rows.map(fmt), a.line, b.line);
      if (a.misses.length) qaLines.push(`  with the helper, not agreeing: ${a.misses.join(", ")}`);
    }, 120_000);

    for (const c of QA_CASES as QaCase[]) {
      it(`${c.ooni} (${c.target}): with the helper -> ${show(c.withControl)}; no helper -> ${show(c.expect)}`, () => {
        const check = (r: Result | undefined, want: Expectation, stderr: string) => {
          expect(r, `no result for ${qaKey(c)}; stderr: ${stderr}`).toBeDefined();
          const why = `${c.ooni} (${qaKey(c)}) got ${showVerdict(r)}; evidence: ${r!.evidence.join(" | ")}`;
          if (c.notBlocked) expect(r!.status, `OONI calls it unblocked, must never be blocked: ${why}`).not.toBe("blocked");
          expect({ status: r!.status, layer: r!.layer }, why).toEqual({ status: want.status, layer: want.layer });
          if (want.evidence) expect(r!.evidence.join("\n"), why).toMatch(want.evidence);
        };
        check(withHelper(c), c.withControl, (c.helperDown ? deadRun : withRun).stderr);
        check(get(noHelperRun, c), c.expect, noHelperRun.stderr);
      });
    }

    it("prints the score; without the helper no scenario OONI calls unblocked is blocked", () => {
      const b = qaScore((c: QaCase) => get(noHelperRun, c), { withHelper: false });
      expect(b.total).toBe(qa.length);
      for (const c of qa.filter((x) => x.ooniKeys.blocking === false)) expect(get(noHelperRun, c)?.status, c.ooni).not.toBe("blocked");
    });
  });

  describe(`a slow origin and a throttled one, with controls (--timeout ${TIMEOUT_MS})`, () => {
    let run: Run;
    beforeAll(async () => {
      run = (await probeRun(lab, RUNS.slow, dir)) as Run;
      timed("slow", run);
      for (const c of slowCases) Object.assign(row(c), { expectWith: show(c.withControl), with: showVerdict(byTarget(run, c.target)) });
      const t = byTarget(run, THROTTLE.target);
      const http = t?.observations.find((o) => o.step === "http") as { t0: number; t: number; bodyLength?: number; failure: string | null } | undefined;
      const ms = http ? http.t - http.t0 : 0;
      const got = http ? `${showVerdict(t)}; ${http.bodyLength ?? 0} B in ${ms} ms (${ms ? Math.round(((http.bodyLength ?? 0) * 8) / ms) : 0} kbit/s)` : showVerdict(t);
      Object.assign(row({ name: THROTTLE.name, technique: "throttling (tc tbf 1 Mbit/s)" }), { expectWith: "(recorded)", with: got });
    }, 60_000);

    for (const c of slowCases) {
      it(`${c.name}: ${c.what} -> ${show(c.withControl)}`, () => {
        const r = byTarget(run, c.target);
        expectVerdict(r, c.withControl, c, run.stderr);
        expect(r!.control?.failure, `${c.name}: the helper could not be used`).toBeNull();
        if (c.helperSees) expect(r!.control?.response).toMatchObject(c.helperSees);
      });
    }

    it(`${THROTTLE.name}: ${THROTTLE.what} (recorded, no verdict asserted)`, () => {
      const r = byTarget(run, THROTTLE.target);
      expect(r, `no result for ${THROTTLE.target}; stderr: ${run.stderr}`).toBeDefined();
      expect(r!.status, `throttling is not blocking: ${r!.evidence.join(" | ")}`).not.toBe("blocked");
    });
  });

  describe("the client's whole network is down, with controls", () => {
    let run: Run;
    beforeAll(async () => {
      lab.setClientLink(false);
      try {
        run = (await probeRun(lab, RUNS.networkDown, dir)) as Run;
        timed("network down", run);
      } finally {
        lab.setClientLink(true);
      }
      const statuses = run.doc ? [...new Set(run.doc.results.map((r) => r.status))].join(", ") : "(no JSON)";
      Object.assign(row({ name: NETWORK_DOWN.name, technique: "(not censorship) client offline" }), {
        expectWith: `inconclusive x${NETWORK_DOWN.targets.length}, exit 5`,
        with: `${statuses} x${run.doc?.results.length ?? 0}, exit ${run.code}`,
      });
    }, 60_000);

    it(`${NETWORK_DOWN.name}: ${NETWORK_DOWN.what} -> every target inconclusive, exit code 5`, () => {
      expect(run.doc, `stdout was not JSON; stderr: ${run.stderr}`).not.toBeNull();
      expect(run.doc!.run.canary?.ok).toBe(false);
      expect(run.doc!.results.map((r) => [r.target, r.status])).toEqual(expect.arrayContaining(NETWORK_DOWN.targets.map((t) => [t, "inconclusive"])));
      expect(run.doc!.results).toHaveLength(NETWORK_DOWN.targets.length);
      // The helper was asked and could not be reached either: it must not turn "offline" into "down".
      for (const r of run.doc!.results) expect(r.control?.failure, r.target).not.toBeNull();
      expect(run.code, run.stderr).toBe(5);
    });
  });

  describe("the client's whole network is down, targets on the command line and no canary, with controls", () => {
    let run: Run;
    beforeAll(async () => {
      lab.setClientLink(false);
      try {
        run = (await probeRun(lab, RUNS.offlineNoCanary, dir)) as Run;
        timed("offline, no canary", run);
      } finally {
        lab.setClientLink(true);
      }
      const statuses = run.doc ? [...new Set(run.doc.results.map((r) => r.status))].join(", ") : "(no JSON)";
      Object.assign(row({ name: "offline-no-canary", technique: "(not censorship) client offline, no canary" }), {
        expectWith: `inconclusive x${NETWORK_DOWN.targets.length}, exit 5`,
        with: `${statuses} x${run.doc?.results.length ?? 0}, exit ${run.code}`,
      });
    }, 60_000);

    it("every target is inconclusive from its own failures (no route to any resolver, the helper or the site), exit code 5", () => {
      expect(run.doc, `stdout was not JSON; stderr: ${run.stderr}`).not.toBeNull();
      expect(run.doc!.run.canary ?? null).toBeNull();
      for (const r of run.doc!.results) {
        expect(r.status, `${r.target}: ${showVerdict(r)}: ${r.evidence.join(" | ")}`).toBe("inconclusive");
        expect(r.evidence.join("\n"), r.target).toMatch(/local network/);
      }
      expect(run.doc!.results).toHaveLength(NETWORK_DOWN.targets.length);
      expect(run.code, run.stderr).toBe(5);
    });
  });

  describe(`the helper unreachable (${DEAD_CONTROL_URL}), DoH working`, () => {
    let run: Run;
    const dohCases = cases.filter((c) => c.withDohOnly);
    beforeAll(async () => {
      run = (await probeRun(lab, RUNS.helperDownDoh, dir)) as Run;
      timed("helper down, DoH up", run);
      for (const c of dohCases) Object.assign(row({ name: `${c.name} (DoH only)`, technique: c.technique }), { expectWith: show(c.withDohOnly), with: showVerdict(byTarget(run, c.target)) });
    }, 60_000);

    for (const c of dohCases) {
      it(`${c.name}: helper unreachable, DoH up -> ${show(c.withDohOnly)}`, () => {
        expectVerdict(byTarget(run, c.target), c.withDohOnly!, c, run.stderr);
      });
    }
  });

  // Issue 15, "Done means": the OONI export of a lab run (binary body, repeated headers,
  // interception, redirect, injection, no helper, tcp:// targets) passes the conformance
  // checker line by line, and no address from a body or a header survives the export.
  describe("issue 15: the OONI export of a lab run", () => {
    type Line = Record<string, unknown> & { test_name: string; input: string; test_keys: Record<string, unknown>; annotations: Record<string, string> };
    let lines: Line[] = [];
    let raw = "";
    let stored = "";
    let exported: { code: number | null; stderr: string } = { code: null, stderr: "" };
    const db = () => join(dir, RUNS.exportWithControls.db);
    // The line of `target` in the run with controls (the first) or without a helper (the second).
    const find = (run: "with" | "without", target: string): Line => {
      const l = lines.filter((x) => x.input === target || x.input === target.replace(/^tcp:\/\//, ""))[run === "with" ? 0 : 1];
      if (!l) throw new Error(`no exported line for ${target} (${run} controls); stderr: ${exported.stderr}`);
      return l;
    };

    beforeAll(async () => {
      const withControls = (await probeRun(lab, RUNS.exportWithControls, dir)) as Run;
      timed("export, with controls", withControls);
      expect(withControls.doc, withControls.stderr).not.toBeNull();
      const noHelper = (await probeRun(lab, RUNS.exportNoHelper, dir)) as Run;
      timed("export, no helper", noHelper);
      expect(noHelper.doc, noHelper.stderr).not.toBeNull();
      // In the client namespace too, though export opens no socket.
      const r = await lab.runClient(["export", "--format", "ooni", "--db", db()]);
      exported = { code: r.code, stderr: r.stderr };
      raw = r.stdout;
      lines = raw.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);
      // What the database holds (blobs decoded), to show the addresses were there to scrub.
      const conn = new Database(db(), { readonly: true });
      const rows = conn.prepare("SELECT observations_json FROM measurements").pluck().all() as string[];
      const blobs = (conn.prepare("SELECT sha256, size, compression, data FROM blobs").all() as Array<{ sha256: string; size: number; compression: string; data: Buffer }>).map((b) => decodeBlob(b).toString("latin1"));
      conn.close();
      stored = [...rows, ...blobs].join("\n");
    }, 120_000);

    it("exports every measurement of both runs, web_connectivity and tcp_connect, exit 0", () => {
      expect(exported.code, exported.stderr).toBe(0);
      expect(lines).toHaveLength(2 * RUNS.exportWithControls.targets.length);
      expect(new Set(lines.map((l) => l.test_name))).toEqual(new Set(["web_connectivity", "tcp_connect"]));
    });

    it("passes the conformance checker on every line", () => {
      for (const l of lines) expect(ooniConformance(l), `${l.input} (${l.annotations.reachprobe_run_id})`).toEqual([]);
    });

    it("carries the binary body byte for byte and both Set-Cookie headers", () => {
      const req = (find("with", "http://binary.lab.example/").test_keys.requests as Array<{ response: { body: unknown; body_is_truncated: boolean; headers_list: Array<[string, string]> } }>)[0]!;
      expect(req.response.body).toEqual({ format: "base64", data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x41, 0x42]).toString("base64") });
      expect(req.response.body_is_truncated).toBe(false);
      expect(req.response.headers_list.filter(([k]) => k === "Set-Cookie")).toEqual([["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2; Path=/"]]);
    });

    it("carries the interception's certificate, the redirect's hops, the injection's second answer, and tcp:// as tcp_connect", () => {
      const mitm = find("with", "https://tls-mitm.lab.example/").test_keys.tls_handshakes as Array<{ peer_certificates: unknown[] }>;
      expect(mitm.some((h) => h.peer_certificates.length > 0)).toBe(true);
      expect((find("with", "http://http-redirect.lab.example/").test_keys.requests as unknown[]).length).toBeGreaterThanOrEqual(2);
      expect((find("with", "https://inject.lab.example/").test_keys.x_dns_duplicate_responses as unknown[]).length).toBeGreaterThan(0);
      expect(find("with", `tcp://${SITE.ok}:443`)).toMatchObject({ test_name: "tcp_connect", input: `${SITE.ok}:443`, test_keys: { connection: "success" } });
      expect(find("with", "tcp://tcp-rst.lab.example:443")).toMatchObject({ test_name: "tcp_connect", input: "tcp-rst.lab.example:443", test_keys: { connection: "connection_refused" } });
    });

    it("writes the run without a helper with control null and control_failure null", () => {
      const without = lines.filter((x) => x.test_name === "web_connectivity" && x === find("without", x.input));
      expect(without).toHaveLength(RUNS.exportNoHelper.targets.filter((t) => !t.startsWith("tcp://")).length);
      for (const l of without) {
        expect({ control: l.test_keys.control, control_failure: l.test_keys.control_failure }, l.input).toEqual({ control: null, control_failure: null });
      }
    });

    it("leaves no address from a body or a header in the export: the block page's public addresses were stored, none is exported", () => {
      // The probe's own address was replaced when it was stored (src/runner/privacy.ts); the
      // public ones behind the ISP's NAT are not the probe's and were kept, in the body, a
      // header and a cookie: the export's scrubbing must take them out.
      expect(stored).toContain("[probe address]");
      for (const a of [WHOAMI_PUBLIC.v4, WHOAMI_PUBLIC.v6]) expect(stored, a).toContain(a);
      for (const a of [WHOAMI_PUBLIC.v4, WHOAMI_PUBLIC.v6, "2001:db8:cafe"]) expect(raw, a).not.toContain(a);
      expect(raw).not.toMatch(/(?<![\d.])192\.0\.2\.2(?!\d)/);
      // And in every response body and header value of the export, no address at all is left.
      const bodiesAndHeaders: string[] = [];
      for (const l of lines) {
        const reqs = [...((l.test_keys.requests as Array<{ response: { body: unknown; headers_list: Array<[string, string]> } }> | undefined) ?? [])];
        for (const r of reqs) {
          const b = r.response.body;
          bodiesAndHeaders.push(typeof b === "string" ? b : Buffer.from((b as { data: string }).data, "base64").toString("latin1"));
          for (const [, v] of r.response.headers_list) bodiesAndHeaders.push(v);
        }
      }
      const whoami = find("with", "http://whoami.lab.example/").test_keys.requests as Array<{ response: { body: unknown; headers_list: Array<[string, string]> } }>;
      expect(JSON.stringify(whoami)).toContain("[scrubbed]");
      expect(bodiesAndHeaders.length).toBeGreaterThan(10);
      for (const text of bodiesAndHeaders) expect(scrubAddresses(text), "an address the scrubber would still take out").toBe(text);
    });
  });

  // Issue 6: a cron run killed in the middle (kill -9, an OOM kill, a reboot) loses nothing it
  // finished, and the next run goes ahead: real processes in the client namespace.
  describe("a run killed with kill -9 in the middle, then the next run", () => {
    it("keeps the finished measurement, leaves a stale lock, and the next run takes over", async () => {
      const db = join(dir, "killed.db");
      const flags = [...labRunFlags(lab), "--no-canary", "--db", db, "--timeout", "30000", "--budget", "30000"];
      const child = spawn("ip", ["netns", "exec", lab.ns.client, process.execPath, lab.cli, "run", ...flags, "https://ok.lab.example/", "https://tcp-drop.lab.example/"], {
        cwd: lab.dir,
        env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REACHPROBE_"))), NODE_EXTRA_CA_CERTS: lab.caFile },
        stdio: "ignore",
      });
      const exited = new Promise((r) => child.on("close", r));
      const rows = () => {
        try {
          const c = new Database(db, { readonly: true, timeout: 1000 });
          const n = (c.prepare("SELECT count(*) AS n FROM measurements").get() as { n: number }).n;
          c.close();
          return n;
        } catch {
          return 0;
        }
      };
      // The ok site finishes in well under a second; the dropped one hangs for 30 s.
      await expect.poll(rows, { timeout: 20_000, interval: 100 }).toBe(1);
      child.kill("SIGKILL");
      await exited;
      expect(existsSync(`${db}.lock`), "kill -9 leaves the lock behind").toBe(true);
      const c1 = new Database(db, { readonly: true });
      expect(c1.prepare("SELECT target, status FROM measurements").all()).toEqual([{ target: "https://ok.lab.example/", status: "ok" }]);
      expect((c1.prepare("SELECT state FROM runs").get() as { state: string }).state).toBe("running");
      c1.close();

      const next = await lab.runClient(["run", ...labRunFlags(lab), "--no-canary", "--db", db, "https://ok.lab.example/"]);
      expect(next.code, next.stderr).toBe(0);
      const c2 = new Database(db, { readonly: true });
      const runs = c2.prepare("SELECT state, (SELECT count(*) FROM measurements m WHERE m.run_id = runs.id) AS n FROM runs ORDER BY started_at").all();
      const integrity = c2.pragma("integrity_check", { simple: true });
      c2.close();
      expect(runs).toEqual([
        { state: "interrupted", n: 1 },
        { state: "completed", n: 1 },
      ]);
      expect(integrity).toBe("ok");
      expect(existsSync(`${db}.lock`)).toBe(false);
    }, 60_000);
  });

  it("leaves no namespace behind after tear-down", () => {
    const before = labNamespaces().filter((n: string) => n.includes(`-${lab.id}-`));
    expect(before).toHaveLength(3);
    lab.stop();
    expect(labNamespaces().filter((n: string) => n.includes(`-${lab.id}-`))).toEqual([]);
    expect(existsSync(`/etc/netns/${lab.ns.client}`)).toBe(false);
    expect(existsSync(`/etc/netns/${lab.ns.internet}`)).toBe(false);
  });
});
