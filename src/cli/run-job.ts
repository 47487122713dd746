/**
 * One run, from checked input to exit code: the plan and analysis settings, the notice, the
 * helper's preflight, the lock and the store, the probes through the runner, the output, and
 * signals. The command file (run.ts) only parses flags and the configuration file.
 */
import { ooniArchitecture, ooniPlatform } from "../export/export-ooni.js";
import { basename } from "node:path";
import { planTargets, type Plan } from "./run-plan.js";
import { type RunFlags } from "./run-options.js";
import { loadFingerprints } from "../fingerprints/load.js";
import { parsePublicRanges } from "../net/bogons.js";
import { summarizeServices } from "../analysis/service.js";
import type { AnalysisContext } from "../analysis/context.js";
import type { AsnDb } from "../geo/asn.js";
import { DEFAULT_PROBE_CONFIG, type ProbeConfig } from "../probes/config.js";
import { CompactPlan, runTargets, type TargetResult } from "../runner/runner.js";
import { collectGarbage } from "../runner/memory.js";
import { Store } from "../store/store.js";
import { defaultDbPath, ensureDbDir } from "../store/db-path.js";
import { EXIT, exitCodeFor, reportError } from "./exit-codes.js";
import { pingControl, queryControl, redactControlUrl } from "../control/client.js";
import { closeSharedPool } from "../net/bounded-request.js";
import type { Failure } from "../net/failures.js";
import { acquireLockWaiting, LockHeldError, type RunLock } from "../store/lock.js";
import { ownAddresses } from "../runner/privacy.js";
import { classifyAddress } from "../net/bogons.js";
import { JsonStream, printHuman } from "./run-output.js";
import { stateFile } from "./notice.js";
import { dryRunReport, settleConsent } from "./run-consent.js";
import { VERSION } from "../base/package-info.js";
import type { ResultLine } from "./render.js";
import type { Status } from "../analysis/verdict.js";
import { makeLogger } from "./log.js";
import { Progress } from "./progress.js";
import { renderMetrics, type MetricsTarget } from "../report/metrics.js";
import { writeFileAtomically } from "../report/report-file.js";
import { networkKey } from "../store/network.js";

/** `reachprobe run`: probe targets, print verdicts, store every measurement as it finishes. */

/** How long a finished result may wait to be committed with the ones that finish after it. */
const COMMIT_EVERY_MS = 500;
/** How many finished results are committed at once without waiting longer. */
const COMMIT_BATCH = 256;

function isLoopback(ip: string): boolean {
  return classifyAddress(ip).kind === "a loopback address";
}

/** Runs the targets of `args` and the flags, and returns the exit code. */
export async function runMain(args: string[], flags: RunFlags, configPath: string | null): Promise<number> {
  const log = makeLogger(flags.logLevel);
  // Everything that can be wrong with the input is checked before anything is written.
  let plan: Plan;
  let ctx: Omit<AnalysisContext, "networkDown">;
  let asnDb: AsnDb | null = null;
  try {
    plan = await planTargets(args, flags);
    const fps = await loadFingerprints(flags.fingerprints);
    for (const w of fps.warnings) log.debug({ warning: w }, "fingerprint skipped");
    // Loaded only when asked: mmdb-lib is not needed by a run without --asn-db.
    asnDb = flags.asnDb ? (await import("../geo/asn.js")).openAsnDb(flags.asnDb) : null;
    const lookupAsn = asnDb ? asnDb.lookup : null;
    ctx = {
      publicRanges: flags.publicRanges ? parsePublicRanges(flags.publicRanges) : [],
      fingerprints: fps.fingerprints,
      ...(lookupAsn ? { asnOf: (ip: string) => lookupAsn(ip).asn } : {}),
    };
  } catch (err) {
    // Bad input (a UsageError, TargetError, FingerprintsError...) is exit 2; a bug is not.
    return reportError("run", err);
  }

  if (!flags.systemResolver && !flags.resolver?.length && !flags.doh?.length && plan.targets.some((t) => !t.isIp)) {
    process.stderr.write("reachprobe: --no-system-resolver needs at least one --resolver to look names up\n");
    return EXIT.USAGE;
  }
  // Credentials in the helper's URL are used, never stored or printed: everything else gets this.
  const controlShown = flags.control ? redactControlUrl(flags.control) : null;
  if (flags.dryRun) {
    process.stdout.write(`${JSON.stringify(dryRunReport(plan, flags, controlShown, stateFile()), null, 2)}\n`);
    return EXIT.OK;
  }
  // The notice, and consent for the default third parties: before anything is sent.
  const settled = await settleConsent(plan, flags, controlShown);
  if (typeof settled === "number") return settled;
  const dns = settled.dns;

  const start = Date.now();
  const probe: ProbeConfig = {
    ...DEFAULT_PROBE_CONFIG,
    stepTimeoutMs: flags.timeout,
    targetBudgetMs: flags.budget ?? flags.timeout * 4 + flags.dnsWindow,
    systemResolver: flags.systemResolver,
    resolvers: dns.resolvers,
    doh: dns.doh,
    dnsWindowMs: flags.dnsWindow,
    maxAddresses: flags.maxAddresses,
    maxBodyBytes: flags.maxBody,
    bodySampleBytes: flags.bodySample,
    userAgent: flags.userAgent,
    sniSwap: flags.swap ? flags.sniSwap : null,
    hostSwap: flags.swap ? flags.hostSwap : null,
    addressSwap: flags.swap,
    publicRanges: ctx.publicRanges,
    now: () => Date.now() - start,
  };
  let helperDown: Failure | null = null;
  if (flags.control) {
    const url = flags.control;
    const helper = controlShown ?? "";
    probe.control = async (request, signal) => {
      const t0 = probe.now();
      // A helper the preflight found dead is not asked again for every target: each would
      // wait out its whole budget for nothing.
      if (helperDown) return { helper, t0, t: t0, failure: helperDown, response: null };
      const r = await queryControl({ url, token: flags.controlToken, request, timeoutMs: probe.targetBudgetMs, signal });
      return { helper, t0, t: probe.now(), failure: r.failure, ...(r.status !== undefined ? { status: r.status } : {}), response: r.response };
    };
  }
  const options = {
    list: plan.listName,
    timeout_ms: probe.stepTimeoutMs,
    budget_ms: probe.targetBudgetMs,
    concurrency: flags.concurrency,
    resolvers: probe.resolvers.map((r) => `${r.host}:${r.port}`),
    doh: probe.doh,
    dns_control: dns.origin,
    control: controlShown,
    system_resolver: probe.systemResolver,
    dns_window_ms: probe.dnsWindowMs,
    sni_swap: probe.sniSwap ?? null,
    host_swap: probe.hostSwap ?? null,
    address_swap: probe.addressSwap ?? false,
    fingerprints: flags.fingerprints,
    public_ranges: flags.publicRanges ?? null,
    asn_db: flags.asnDb ? basename(flags.asnDb) : null,
    config: configPath ? basename(configPath) : null,
    // What OONI's annotations call them (docs/ooni-pipeline.md): the OS family and Go's name of the CPU.
    platform: ooniPlatform(process.platform),
    architecture: ooniArchitecture(process.arch),
  };

  // The helper's health check is part of the preflight, and tells the probe its public
  // address: mapped to an ASN and a country when --asn-db is given, then forgotten.
  const ping = flags.control ? await pingControl(flags.control, flags.controlToken, probe.stepTimeoutMs) : null;
  if (ping && !ping.ok) {
    helperDown = ping.failure ?? "http_request_failed";
    if (!flags.quiet) process.stderr.write(`reachprobe: the control helper ${controlShown} does not answer (${helperDown}); measuring without it (a plain-HTTP page nothing can compare will be "can't tell")\n`);
  }
  const network = asnDb && ping?.clientIp ? asnDb.lookup(ping.clientIp) : null;
  if (network) log.info({ asn: network.asn, cc: network.cc }, "probe network identified");

  // One writer at a time: the lock is taken before the database is opened.
  let lock: RunLock | null = null;
  let store: Store | null = null;
  let runId: string | null = null;
  try {
    if (flags.store) {
      const db = flags.db ?? defaultDbPath();
      // The default database's directory is made unasked (a first run, a cron job); any other needs --create-dirs.
      ensureDbDir(db, flags.createDirs === true || db === defaultDbPath());
      const waitMs = flags.wait === undefined ? 0 : (typeof flags.wait === "number" ? flags.wait : 3600) * 1000;
      lock = await acquireLockWaiting(db, waitMs, (holder) => {
        if (!flags.quiet) process.stderr.write(`reachprobe: waiting for the lock, held by ${holder}, to be released\n`);
      });
      store = Store.open(db);
      const stale = store.markStaleRuns() + (lock.tookOver ? store.markRunsOfHolder(lock.tookOver.hostname_hash, lock.tookOver.pid) : 0);
      if (stale) log.info({ stale }, "marked runs left by killed processes as interrupted");
      runId = store.startRun({ startedAt: new Date(start), version: VERSION, options, targetCount: plan.targets.length, networkLabel: flags.networkLabel ?? null, probeAsn: network?.asn ?? null, probeCc: network?.cc ?? null });
    }
  } catch (err) {
    lock?.release();
    return reportError("run", err, err instanceof LockHeldError ? undefined : "could not open the database");
  }
  const releaseLock = () => lock?.release();
  process.on("exit", releaseLock);

  const stopper = new AbortController();
  const stopped = { code: null as number | null };
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === "SIGINT" ? EXIT.SIGINT : EXIT.SIGTERM;
    if (stopped.code !== null) {
      // A second signal: the user means it. Finished measurements are committed first.
      commitFinished();
      if (store && runId) store.finishRun(runId, "interrupted");
      process.exit(code);
    }
    stopped.code = code;
    // Plain words for the person who pressed Ctrl-C (a JSON log line is for log files), on a
    // line of its own above the progress bar.
    process.stderr.write(`${process.stderr.isTTY ? "\r\u001b[2K" : ""}reachprobe: ${sig === "SIGINT" ? "interrupted (Ctrl-C)" : "stopped (SIGTERM)"}: stopping, the targets in flight dropped; finished measurements are kept${sig === "SIGINT" ? " (Ctrl-C again stops at once)" : ""}\n`);
    log.debug({ signal: sig }, "stopping");
    stopper.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const onCrash = (err: unknown) => {
    if (store && runId) store.finishRun(runId, "failed");
    process.stderr.write(`reachprobe: crashed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(EXIT.FAILURE);
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);

  // Per result, only what the end needs: its service and status (the summary, the exit code),
  // and for the human report its line with at most the 4 evidence lines it prints.
  const statuses: Array<{ service: string; status: Status }> = [];
  // --metrics: each target's status, layer and duration, the little the exposition needs.
  const measured: MetricsTarget[] | null = flags.metrics ? [] : null;
  const lines: ResultLine[] = [];
  const json = flags.json ? new JsonStream() : null;
  const total = plan.targets.length;
  const planned = new CompactPlan(plan.targets);
  plan.targets = [];
  // A long plan's loading leaves much garbage; collected now (after a turn of the event loop,
  // which lets go of what the loader's promises still hold), the run's heap stays near what it uses.
  if (total > 10_000) {
    await new Promise((r) => setImmediate(r));
    collectGarbage();
  }
  const progress = new Progress(process.stderr, total, !flags.quiet);
  let networkDown: string | null = null;
  log.info({ run: runId, targets: total }, "run started");
  // Results that finished and are not yet committed: a killed run loses only these, and none of
  // them was reported (stdout, progress) yet. They are committed together COMMIT_EVERY_MS after
  // the first of them finished (at once when COMMIT_BATCH are waiting): a commit a result cost
  // 0.4-0.6 ms of CPU per target in bench/field-bench.mjs, because SQLite writes every page a
  // commit touched to the WAL, and a batch of random keys touches a page of each index a row.
  // Half a second: a field run's 1,000 rows in 9 commits, not the 29 of a tenth of a second
  // (a commit's own cost, 23 us a row in batches of 35, 6-7 in batches of 100: a microbenchmark
  // of Store.addMeasurements; and half the bytes written to the WAL, which a small server's
  // flash storage wears by). A run is not slowed by reporting a result half a second later.
  const finished: TargetResult[] = [];
  let commitTimer: NodeJS.Timeout | null = null;
  const commitFinished = () => {
    if (commitTimer !== null) clearTimeout(commitTimer);
    commitTimer = null;
    if (finished.length === 0) return;
    const batch = finished.splice(0);
    if (store && runId) {
      store.addMeasurements(
        runId,
        batch.map((r) => ({ target: r.target.input, service: r.target.service, verdict: r.verdict, observations: r.observations, control: r.control, startedAt: r.startedAt, finishedAt: r.finishedAt, durationMs: r.durationMs })),
      );
    }
    json?.results(batch);
    for (const r of batch) {
      statuses.push({ service: r.target.service, status: r.verdict.status });
      measured?.push({ target: r.target.input, service: r.target.service, status: r.verdict.status, layer: r.verdict.layer, durationMs: r.durationMs });
      // An internationalised name is measured as xn--; a person reads it in its own script too.
      const shown = r.target.unicodeHost ? `${r.target.input} (${r.target.unicodeHost})` : r.target.input;
      if (!json) lines.push({ target: shown, service: r.target.service, verdict: { ...r.verdict, evidence: r.verdict.evidence.slice(0, 4) } });
      progress.tick(r.verdict.status);
      log.debug({ target: r.target.input, status: r.verdict.status, layer: r.verdict.layer }, "target done");
    }
  };
  const outcome = await runTargets(
    {
      // Taken one by one and forgotten once measured: memory holds only what is in flight.
      targets: planned,
      canary: plan.canary,
      probe,
      concurrency: flags.concurrency,
      context: ctx,
      stop: stopper.signal,
      // A helper on this machine sees a loopback address: nothing to hide there.
      ownAddresses: [...ownAddresses(), ...(ping?.clientIp && !isLoopback(ping.clientIp) ? [ping.clientIp] : [])],
      controlUp: ping,
    },
    {
      onCanary: (c) => {
        if (store && runId) store.recordCanary(runId, c);
        if (c.networkDown) networkDown = `the canary ${c.target} could not be reached (${c.reason})`;
        else if (!c.ok) progress.note(`the canary ${c.target} failed (${c.reason}), but the control helper answers: the canary itself may be filtered`);
      },
      onResult: (r: TargetResult) => {
        // Committed with the others that finish within COMMIT_EVERY_MS, then reported.
        finished.push(r);
        if (finished.length >= COMMIT_BATCH) commitFinished();
        else if (finished.length === 1) commitTimer = setTimeout(commitFinished, COMMIT_EVERY_MS);
      },
    },
  );
  commitFinished();
  progress.done();
  // The report is built in memory: make room for it first (see memory.ts).
  if (total > 10_000) collectGarbage();
  const services = summarizeServices(statuses);
  const finishedAt = new Date();
  const state = outcome.interrupted ? "interrupted" : "completed";
  if (store && runId) {
    store.finishRun(runId, state, services);
    store.close();
  }
  releaseLock();
  process.off("exit", releaseLock);
  // A control query cut short by its budget may still hold a connect attempt in the shared
  // pool; it would keep the process alive for seconds after the run is done.
  await closeSharedPool();
  process.off("uncaughtException", onCrash);
  process.off("unhandledRejection", onCrash);
  const run = {
    id: runId,
    started_at: new Date(start).toISOString(),
    finished_at: finishedAt.toISOString(),
    state,
    version: VERSION,
    network_label: flags.networkLabel ?? null,
    probe_asn: network?.asn ?? null,
    probe_cc: network?.cc ?? null,
    targets: total,
    measured: outcome.completed,
    canary: outcome.canary,
    options,
    db: store ? flags.db : null,
  };
  if (json) json.end(run, services);
  else {
    await printHuman(lines, services, {
      measured: outcome.completed,
      total,
      seconds: (finishedAt.getTime() - start) / 1000,
      db: store ? (flags.db ?? null) : null,
      runId,
      networkDown,
      quiet: Boolean(flags.quiet),
      interrupted: stopped.code === null ? null : stopped.code === EXIT.SIGINT ? "interrupted (Ctrl-C)" : "stopped (SIGTERM)",
    });
  }
  if (flags.metrics && measured) {
    const metricsRun = { network: networkKey({ networkLabel: flags.networkLabel ?? null, probeAsn: network?.asn ?? null }), startedAt: new Date(start), finishedAt, planned: total, measured: outcome.completed, interrupted: outcome.interrupted };
    try {
      await writeFileAtomically(flags.metrics, [renderMetrics(metricsRun, measured, services)]);
    } catch (err) {
      // The measurements are stored; only the file is missing, which a cron job must hear about.
      process.stderr.write(`reachprobe: could not write the metrics file ${flags.metrics}: ${(err as Error).message}\n`);
      return stopped.code ?? EXIT.FAILURE;
    }
  }
  if (stopped.code !== null) return stopped.code;
  return exitCodeFor(statuses.map((l) => l.status));
}

