/** `reachprobe show RUN|MEASUREMENT`: a stored run's report as `run` printed it, or one measurement's observations. */
import { Command } from "commander";
import { summarizeServices } from "../analysis/service.js";
import { statusWords } from "../analysis/status-words.js";
import type { Observation } from "../probes/observation.js";
import { networkKey, networkName } from "../store/network.js";
import type { MeasurementRecord, RunRecord } from "../store/store.js";
import { EXIT, usageExit } from "./exit-codes.js";
import { minuteUtc, READ_EXIT_HELP, readDbOption } from "./read-command.js";
import { withReadSource } from "./read-source.js";
import { renderHuman, statusPaint } from "./render.js";
import { say } from "./say.js";
import { paintFor, useColor, type Paint } from "./style.js";

/** The parsed flags of `show`. */
interface ShowFlags {
  json?: boolean;
  db: string;
}

/** Builds the `show` command. */
export function showCommand(): Command {
  return new Command("show")
    .description("a stored run's report, as run printed it, or one measurement's observations (DNS answers, connects, handshakes, HTTP hops)")
    .argument("<id>", "a run id or a measurement id, or the start of one (as runs and changes print them)")
    .option("--json", "print the run with its measurements, or the measurement, as JSON on stdout")
    .addOption(readDbOption(true))
    .addHelpText("after", `\n${READ_EXIT_HELP.replace("usage error (a bad flag)", "usage error (a bad flag, or no run or measurement has that id)")}\n\nExamples:\n  reachprobe runs                   # the ids\n  reachprobe show 3f2a9c1e          # that run's report\n  reachprobe show 3f2a9c1e --json`)
    .action(async (id: string, flags: ShowFlags) => {
      process.exitCode = await showMain(id, flags);
    });
}

/** Runs `show` and returns its exit code. */
export async function showMain(id: string, flags: ShowFlags): Promise<number> {
  return withReadSource(flags.db, say, async (source) => {
    let match;
    try {
      match = await source.findById(id);
    } catch (err) {
      return usageExit(err);
    }
    const p = paintFor(useColor(process.stdout));
    if (match.kind === "run") {
      const run = (await source.getRun(match.id))!;
      const ms = await source.listMeasurements(run.id);
      if (flags.json) process.stdout.write(`${JSON.stringify({ run, measurements: ms }, null, 1)}\n`);
      else process.stdout.write(renderRun(run, ms, p));
    } else {
      const m = (await source.getMeasurement(match.id))!;
      const run = (await source.getRun(m.runId))!;
      if (flags.json) process.stdout.write(`${JSON.stringify({ ...m, run: { id: run.id, network: networkKey(run) } }, null, 1)}\n`);
      else process.stdout.write(renderMeasurement(m, run, p));
    }
    return EXIT.OK;
  });
}

function runHeader(run: RunRecord): string {
  const network = networkName(networkKey(run));
  const ended = run.finishedAt ? `, ${run.state} ${minuteUtc(run.finishedAt)}` : `, ${run.state}`;
  return `Run ${run.id} on ${network}, started ${minuteUtc(run.startedAt)}${ended} (UTC)`;
}

/** A stored run as `run` reported it: services, one line an endpoint, evidence; then which run it was. */
export function renderRun(run: RunRecord, ms: readonly MeasurementRecord[], p: Paint): string {
  const lines = ms.map((m) => ({ target: m.target, service: m.service, verdict: m.verdict }));
  const services = summarizeServices(ms.map((m) => ({ service: m.service, status: m.verdict.status })));
  const body = ms.length ? renderHuman(lines, services, p) : "Nothing was measured in this run.\n";
  const total = run.targetCount ?? ms.length;
  return `${p.bold(runHeader(run))}\n\n${body}\n${ms.length} of ${total} targets measured. Look one up with "reachprobe show MEASUREMENT" (ids: reachprobe show ${run.id.slice(0, 8)} --json).\n`;
}

function millis(n: number): string {
  return `${Math.round(n)} ms`;
}

/** One observation in a line: "dns system weixin.qq.com: 1.2.3.4 (0-5 ms)". */
export function observationLine(o: Observation): string {
  const when = `(${millis(o.t0)} to ${millis(o.t)})`;
  const failed = o.failure ? `failed: ${o.failure}` : "";
  switch (o.step) {
    case "dns":
      return `dns   ${o.engine} ${o.resolver} ${o.hostname} ${o.qtype}: ${failed || (o.addresses.length ? o.addresses.join(", ") : "no address")} ${when}`;
    case "tcp":
      return `tcp   connect ${o.address}: ${failed || "connected"} ${when}`;
    case "tls": {
      const leaf = o.certificates[0];
      const ok = `${o.version ?? "handshake done"}${leaf ? `, certificate for ${leaf.subject} from ${leaf.issuer}` : ""}${o.verified ? ", verified" : `, not verified${o.verifyFailure ? ` (${o.verifyFailure})` : ""}`}`;
      return `tls   ${o.address} SNI ${o.serverName}: ${failed || ok} ${when}`;
    }
    case "http": {
      const lossy = o.bodySampleLossy === true ? ", sample stored as text (bytes that were not UTF-8 lost)" : "";
      const ok = `${o.status ?? "no status"}${o.title ? ` "${o.title}"` : ""}${o.bodyLength !== undefined ? `, ${o.bodyLength} bytes${o.bodyTruncated ? " (cut)" : ""}${lossy}` : ""}${o.location ? `, to ${o.location}` : ""}`;
      return `http  ${o.hop > 0 ? `hop ${o.hop} ` : ""}GET ${o.url} via ${o.address}: ${failed || ok}${o.note ? ` (${o.note})` : ""} ${when}`;
    }
  }
}

/** One measurement: its verdict and evidence, then each observation in the order it happened. */
export function renderMeasurement(m: MeasurementRecord, run: RunRecord, p: Paint): string {
  const out = [
    p.bold(`${m.target} (${m.service}): ${statusPaint(p, m.verdict.status)(statusWords(m.verdict))}`),
    `Measured ${minuteUtc(m.startedAt)} UTC in ${millis(m.durationMs)}, measurement ${m.id}, run ${run.id} on ${networkName(networkKey(run))}`,
  ];
  if (m.verdict.evidence.length) out.push("", "Evidence:", ...m.verdict.evidence.map((e) => `  ${e}`));
  out.push("", m.observations.length ? "Observations (times since the run started):" : "No observations were stored.");
  for (const o of m.observations) out.push(`  ${observationLine(o)}`);
  if (m.control) {
    out.push("", `Control helper ${m.control.helper}: ${m.control.failure ? `failed: ${m.control.failure}` : "answered"}`);
  }
  return out.join("\n") + "\n";
}
