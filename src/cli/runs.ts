/** `reachprobe runs`: the stored runs, newest first, with their measurements counted per status. */
import { Command } from "commander";
import { countsWords } from "../analysis/status-words.js";
import { positiveInt } from "../base/positive-int.js";
import type { RunListEntry, RunListQuery } from "../store/runs.js";
import { networkName } from "../store/network.js";
import { resolveSourceNetwork } from "./filters.js";
import { EXIT, usageExit } from "./exit-codes.js";
import { minuteUtc, READ_EXIT_HELP, readDbOption } from "./read-command.js";
import { emptyHintOf, withReadSource } from "./read-source.js";
import { SINCE_FORMS, parseSince } from "./since.js";
import { paintFor, useColor, type Paint } from "./style.js";
import { say } from "./say.js";

/** The parsed flags of `runs`. */
interface RunsFlags {
  limit: number;
  since?: string;
  network?: string;
  json?: boolean;
  db: string;
}

/** Builds the `runs` command. */
export function runsCommand(): Command {
  return new Command("runs")
    .description("the stored runs, newest first, with how many targets each found blocked, suspicious, down, can't tell or reachable")
    .option("-n, --limit <count>", "show at most this many runs", positiveInt("--limit", 1, 1_000_000), 20)
    .option("--since <when>", `only runs started since then: ${SINCE_FORMS}`)
    .option("--network <label>", "only this network: its label, AS<number> when it has none, or (unlabelled)")
    .option("--json", "print the runs as one JSON document on stdout")
    .addOption(readDbOption(true))
    .addHelpText("after", `\nTimes are UTC, to the minute. Look one run up with "reachprobe show RUN" (a prefix of its id is enough).\n\n${READ_EXIT_HELP}\n\nExamples:\n  reachprobe runs\n  reachprobe runs -n 5 --network "Rostelecom Moscow"\n  reachprobe show 3f2a9c1e`)
    .action(async (flags: RunsFlags) => {
      process.exitCode = await runsMain(flags);
    });
}

/** Runs `runs` and returns its exit code. */
export async function runsMain(flags: RunsFlags, now: Date = new Date()): Promise<number> {
  const query: RunListQuery = { limit: flags.limit };
  try {
    if (flags.since !== undefined) query.since = parseSince(flags.since, now);
  } catch (err) {
    return usageExit(err);
  }
  return withReadSource(flags.db, say, async (source) => {
    if (flags.network !== undefined) query.network = await resolveSourceNetwork(source, flags.network);
    const runs = await source.listRuns(query);
    if (flags.json) {
      const doc = runs.map((r) => ({ id: r.id, started_at: r.startedAt, finished_at: r.finishedAt, state: r.state, network: r.network, targets: r.targetCount, counts: r.counts }));
      process.stdout.write(`${JSON.stringify({ since: query.since ?? null, network: query.network ?? null, runs: doc }, null, 1)}\n`);
      return EXIT.OK;
    }
    process.stdout.write(renderRuns(runs, paintFor(useColor(process.stdout))));
    if (runs.length === 0) process.stdout.write(await emptyHintOf(source, query));
    return EXIT.OK;
  });
}

/**
 * One run a line, newest first:
 * `3f2a9c1e  2026-05-04 10:00  Rostelecom Moscow  completed    5 of 17 blocked, 2 suspicious, 10 reachable`.
 */
export function renderRuns(runs: readonly RunListEntry[], p: Paint): string {
  if (runs.length === 0) return "No runs.\n";
  const netWidth = Math.max(...runs.map((r) => networkName(r.network).length));
  const out = [p.gray(`${"run".padEnd(8)}  ${"started (UTC)".padEnd(16)}  ${"network".padEnd(netWidth)}  ${"state".padEnd(11)}  results`)];
  for (const r of runs) {
    const measured = Object.values(r.counts).reduce((a, b) => a + b, 0);
    const counts = measured === 0 ? "nothing measured" : countsWords(r.counts, measured);
    const partial = r.targetCount !== null && measured < r.targetCount ? ` (${measured} of ${r.targetCount} targets measured)` : "";
    out.push(`${r.id.slice(0, 8)}  ${minuteUtc(r.startedAt)}  ${networkName(r.network).padEnd(netWidth)}  ${r.state.padEnd(11)}  ${counts}${partial}`);
  }
  return out.join("\n") + "\n";
}
