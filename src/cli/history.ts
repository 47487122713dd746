/** `reachprobe history`: each target's status over time, as spans of runs with the same status, per network. */
import { plural } from "../base/plural.js";
import { Command, Option } from "commander";
import type { Layer, Status } from "../analysis/verdict.js";
import type { HistoryQuery, Span } from "../store/history.js";
import { networkFromInput, networkName } from "../store/network.js";
import { parseTarget } from "../targets/parse.js";
import { EXIT, usageExit } from "./exit-codes.js";
import { say } from "./say.js";
import { minuteUtc, READ_EXIT_HELP, readDbOption, writeJsonStream } from "./read-command.js";
import { emptyHintOf, withReadSource } from "./read-source.js";
import { statusWords } from "../analysis/status-words.js";
import { statusPaint } from "./render.js";
import { UsageError } from "../base/errors.js";
import { SINCE_FORMS, parseSince } from "./since.js";
import { paintFor, useColor, type Paint } from "./style.js";
import { resolveSourceNetwork, resolveSourceService } from "./filters.js";

/** The parsed flags of `history`. */
interface HistoryFlags {
  service?: string;
  since?: string;
  network?: string;
  json?: boolean;
  db: string;
}

/** Builds the `history` command. */
export function historyCommand(): Command {
  return new Command("history")
    .description("each target's status over time, per network: spans of consecutive runs with the same status and layer")
    .argument("[target]", "only this target (as given to reachprobe run: https://host/path, tcp://host:port or a bare host)")
    .option("--service <name>", "only the targets of this service, e.g. WeChat")
    .option("--since <when>", `only spans current at some time since then: ${SINCE_FORMS}; default: all`)
    .option("--network <label>", "only this network: its label, AS<number> when it has none, or (unlabelled)")
    .option("--json", "print the spans as one JSON document on stdout")
    .addOption(readDbOption(true))
    .addHelpText(
      "after",
      `\nTimes are UTC, to the minute. A span that began before --since is shown whole.\n\n${READ_EXIT_HELP}\n\nExamples:\n  reachprobe history\n  reachprobe history weixin.qq.com --since 30d\n  reachprobe history --service WeChat --network "Rostelecom Moscow" --json`,
    )
    .action(async (target: string | undefined, flags: HistoryFlags) => {
      process.exitCode = await historyMain(target, flags);
    });
}

function queryOf(target: string | undefined, flags: HistoryFlags, now: Date): HistoryQuery {
  if (target !== undefined && flags.service !== undefined) throw new UsageError("give a target or --service, not both");
  const q: HistoryQuery = {};
  if (flags.since !== undefined) q.since = parseSince(flags.since, now);
  if (flags.network !== undefined) q.network = networkFromInput(flags.network);
  if (flags.service !== undefined) q.service = flags.service;
  if (target !== undefined) {
    // Targets are stored in canonical form: "weixin.qq.com" is stored as https://weixin.qq.com/.
    let canonical = target;
    try {
      canonical = parseTarget(target).input;
    } catch {
      // Not a target reachprobe could have measured; looked up as typed, it will find nothing.
    }
    q.target = canonical === target ? [target] : [canonical, target];
  }
  return q;
}

/** Runs `history` and returns its exit code. */
export async function historyMain(target: string | undefined, flags: HistoryFlags, now: Date = new Date()): Promise<number> {
  let query: HistoryQuery;
  try {
    query = queryOf(target, flags, now);
  } catch (err) {
    return usageExit(err);
  }
  return withReadSource(flags.db, say, async (source) => {
    // Any case (wechat finds WeChat); a name the database does not have is an error with the closest ones.
    if (flags.service !== undefined) query.service = await resolveSourceService(source, flags.service);
    if (flags.network !== undefined) query.network = await resolveSourceNetwork(source, flags.network);
    if (flags.json) {
      writeJsonStream(query, "spans", (await source.historySpans(query))[Symbol.iterator](), (s) => ({
        network: s.network,
        target: s.target,
        service: s.service,
        status: s.status,
        layer: s.layer,
        failure: s.failure,
        from: s.from,
        to: s.to,
        runs: s.runs,
        last_run_id: s.lastRunId,
        current: s.current,
      }));
      return EXIT.OK;
    }
    const latest = await source.latestRuns();
    const spans = [...(await source.historySpans(query))];
    process.stdout.write(renderHistory(spans, latest, query, paintFor(useColor(process.stdout))));
    if (spans.length === 0) process.stdout.write(await emptyHintOf(source, query));
    return EXIT.OK;
  });
}

/** What a span's end looks like: "now", or its last time when the target was not measured in the network's latest run. */
function spanEnd(s: Span, latest: Map<string, { runId: string }>): string {
  if (!s.current) return `to ${minuteUtc(s.to)}`;
  if (latest.get(s.network)?.runId === s.lastRunId) return "to now";
  return `to ${minuteUtc(s.to)} (not measured since)`;
}

/**
 * The human report: spans grouped by network, then service, then target, oldest first, e.g.
 * `blocked (dns)  from 2026-05-04 10:00 to now, 37 runs`.
 */
export function renderHistory(spans: readonly Span[], latest: Map<string, { runId: string }>, query: HistoryQuery, p: Paint): string {
  const what = [
    query.target ? `of ${typeof query.target === "string" ? query.target : query.target[0]}` : query.service != null ? `of ${query.service}` : "",
    query.network != null ? `on ${networkName(query.network)}` : "",
    query.since != null ? `since ${minuteUtc(query.since)}` : "",
  ].filter(Boolean);
  if (spans.length === 0) return `No measurements${what.length ? ` ${what.join(" ")}` : ""}.\n`;
  const out: string[] = [`History${what.length ? ` ${what.join(" ")}` : ""} (times in UTC):`];
  const width = Math.max(...spans.map((s) => statusWords(s).length));
  let network: string | null = null;
  let service: string | null = null;
  let target: string | null = null;
  for (const s of spans) {
    if (s.network !== network) {
      out.push("", p.bold(networkName(s.network)));
      network = s.network;
      service = target = null;
    }
    if (s.service !== service) {
      out.push(`  ${s.service}`);
      service = s.service;
      target = null;
    }
    if (s.target !== target) {
      out.push(`    ${s.target}`);
      target = s.target;
    }
    const label = statusPaint(p, s.status)(statusWords(s).padEnd(width));
    out.push(`      ${label}  from ${minuteUtc(s.from)} ${spanEnd(s, latest)}, ${plural(s.runs, "run")}`);
  }
  return out.join("\n") + "\n";
}
