/**
 * The `reachprobe run` invocations of the lab, shared by the suite (lab.test.ts) and the golden
 * fixtures' regenerator (regen-fixtures.mjs), so that the fixtures hold exactly what the suite
 * measures.
 *
 * - `withControls`: every case, with the control helper and the lab's DoH; each case must get its
 *   exact verdict (`withControl` in scenario.mjs).
 * - `deadControl`: every case, with a helper that never answers and no DoH; only the
 *   control-less rules apply (`expect`), and the evidence says the helper could not be used.
 * - `slow`: the slow and throttled origins, with controls, a longer --timeout.
 * - `networkDown`: the client's link is down (the caller takes it down), with controls; every
 *   target inconclusive, exit 5. `offlineNoCanary`: the same without a canary.
 * - `helperDownDoh`: the helper unreachable but DoH working, over the cases with `withDohOnly`.
 * - `qaWithControls`, `qaNoHelper`, `qaDeadControl`: OONI's QA catalogue (ooni-qa.mjs) with the
 *   controls, with no helper and no DoH, and, for the scenarios that are the helper failing
 *   (`helperDown`), with a helper that never answers.
 */
import { join } from "node:path";
import { CONTROL_LIMITS, CONTROL_URL, DEAD_CONTROL_URL, DOH_URL, labRunFlags } from "./lab.mjs";
import { CANARY, CASES, EXPORT_CASES, NETWORK_DOWN, SLOW_CASES, THROTTLE } from "./scenario.mjs";
import { QA_CASES } from "./ooni-qa.mjs";

/**
 * Step timeout and UDP window of the runs over every case. Every silent case (drops, the
 * silent resolver, the injector's forged address) waits the whole step timeout, so it sets the
 * suite's pace; but it must also leave room for steps that take a millisecond on an idle
 * machine. QUIRK: on a busy 2-core machine (load 10, other builds running) lab steps that
 * should be instant took 0.8-1.4 s, and DoH lookups up to 2.06 s, against a 2 s timeout: a
 * working site's connect timing out where the helper's worked would be a false "blocked".
 * 4 s keeps a margin of 2 at that load.
 */
export const TIMEOUT_MS = 4000;
export const DNS_WINDOW_MS = 300;
/**
 * The client's resolv.conf options. QUIRK: getaddrinfo gives up on a silent resolver with
 * EAI_AGAIN (dns_server_misbehaving, as a SERVFAIL), and Node cannot cancel it; glibc's timeout must outlast
 * --timeout so that reachprobe's own timer sees the silence (generic_timeout_error).
 */
export const CLIENT_RESOLV_OPTIONS = `timeout:${Math.ceil(TIMEOUT_MS / 1000) + 1} attempts:1`;
/**
 * A target's budget. The helper is asked once DNS is done (at most TIMEOUT_MS + DNS_WINDOW_MS
 * in), and answers within its --request-timeout; the budget must cover both, or the answer of a
 * target with a slow resolver would be cut off and the verdict fall back to the control-less rules.
 */
export const BUDGET_MS = 13000;

/** Timeouts, budget and concurrency of the runs over every case. */
export const STEP_FLAGS = ["--timeout", String(TIMEOUT_MS), "--dns-window", String(DNS_WINDOW_MS), "--concurrency", "64", "--budget", String(BUDGET_MS)];
/** The controls: the helper in the internet namespace and the lab's DoH. */
export const CONTROL_FLAGS = ["--control", CONTROL_URL, "--doh", DOH_URL];
const FAST = STEP_FLAGS;
const CONTROLS = CONTROL_FLAGS;

/** The export runs' targets: EXPORT_CASES and the cases with interception, a redirect and injection. */
function exportTargets() {
  const named = ["tls-mitm", "http-redirect", "dns-injection", "http-blockpage"];
  return [...EXPORT_CASES.map((c) => c.target), ...CASES.filter((c) => named.includes(c.name)).map((c) => c.target)];
}

/** The runs, by name: flags beyond the lab's own, and targets. */
export const RUNS = Object.freeze({
  withControls: { name: "withControls", db: "cases.db", flags: [...FAST, ...CONTROLS], targets: CASES.map((c) => c.target) },
  deadControl: { name: "deadControl", db: "dead-control.db", flags: [...FAST, "--control", DEAD_CONTROL_URL], targets: CASES.map((c) => c.target) },
  slow: { name: "slow", db: "slow.db", flags: ["--timeout", String(TIMEOUT_MS), "--dns-window", String(DNS_WINDOW_MS), "--concurrency", "8", "--budget", String(BUDGET_MS), ...CONTROLS], targets: [...SLOW_CASES.map((c) => c.target), THROTTLE.target] },
  networkDown: { name: "networkDown", db: "down.db", flags: [...FAST, ...CONTROLS], targets: NETWORK_DOWN.targets },
  // Offline with targets on the command line and no canary: the controls' own failures must say so.
  offlineNoCanary: { name: "offlineNoCanary", db: "down-no-canary.db", canary: false, flags: [...FAST, ...CONTROLS], targets: NETWORK_DOWN.targets },
  // OONI's QA catalogue (tests/lab/ooni-qa.mjs): with the controls; without a helper (none
  // configured, no DoH: a configured helper that fails is another case, docs/verdicts.md "A helper
  // that fails"); and the scenarios that are the helper failing, with a dead one.
  qaWithControls: { name: "qaWithControls", db: "qa.db", flags: [...FAST, ...CONTROLS], targets: QA_CASES.filter((c) => !c.helperDown).map((c) => c.target) },
  qaNoHelper: { name: "qaNoHelper", db: "qa-no-helper.db", flags: [...FAST], targets: QA_CASES.map((c) => c.target) },
  qaDeadControl: { name: "qaDeadControl", db: "qa-dead-control.db", flags: [...FAST, "--control", DEAD_CONTROL_URL], targets: QA_CASES.filter((c) => c.helperDown).map((c) => c.target) },
  // Issue 15's export: a binary body, repeated headers, a block page quoting addresses,
  // interception, a redirect, injection and tcp:// targets; with the controls, and with no helper.
  exportWithControls: { name: "exportWithControls", db: "export.db", flags: [...FAST, ...CONTROLS], targets: exportTargets() },
  exportNoHelper: { name: "exportNoHelper", db: "export.db", flags: [...FAST], targets: exportTargets() },
  // The helper unreachable, DoH working: DNS is still compared with a control.
  helperDownDoh: {
    name: "helperDownDoh",
    db: "helper-down-doh.db",
    flags: [...FAST, "--control", DEAD_CONTROL_URL, "--doh", DOH_URL],
    targets: CASES.filter((c) => c.withDohOnly).map((c) => c.target),
  },
});

/** What the budgets must satisfy; returns the problems (empty when fine). */
export function budgetProblems() {
  const out = [];
  for (const run of Object.values(RUNS)) {
    const get = (flag) => Number(run.flags[run.flags.indexOf(flag) + 1]);
    if (!run.flags.includes("--control")) continue;
    const need = get("--timeout") + get("--dns-window") + CONTROL_LIMITS.requestTimeoutMs;
    if (!(get("--budget") > need)) out.push(`${run.name}: --budget ${get("--budget")} must exceed --timeout + --dns-window + the helper's --request-timeout (${need})`);
  }
  return out;
}

/** The full argument list of `reachprobe run` for `run`, its database in `dir`. */
export function runArgs(lab, run, dir) {
  const canary = run.canary === false ? ["--no-canary"] : ["--canary", CANARY];
  return ["run", "--json", ...labRunFlags(lab), ...canary, "--db", join(dir, run.db), ...run.flags, ...run.targets];
}

/** Runs `run` in the lab's client; resolves with code, stdout, stderr, wall time and the parsed JSON document (null if stdout was not JSON). */
export async function probeRun(lab, run, dir) {
  const r = await lab.runClient(runArgs(lab, run, dir));
  let doc = null;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    /* the caller reports stderr */
  }
  return { ...r, doc };
}

/** A verdict in one line: "blocked dns dns_nxdomain_error", "ok". */
export function showVerdict(v) {
  return v ? [v.status, v.layer, v.failure].filter((x) => x !== null && x !== undefined).join(" ") : "(no result)";
}
