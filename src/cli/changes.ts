/** `reachprobe changes`: every change of state of every target, per network, newest first (docs/commands.md). */
import { Command, Option } from "commander";
import type { MeaningfulChangesQuery, StatusChange } from "../store/changes.js";
import { networkName } from "../store/network.js";
import { parseTarget } from "../targets/parse.js";
import { EXIT, usageExit } from "./exit-codes.js";
import { minuteUtc, readDbOption, writeJsonStream } from "./read-command.js";
import { emptyHintOf, withReadSource } from "./read-source.js";
import { statusWords } from "../analysis/status-words.js";
import { statusPaint } from "./render.js";
import { SINCE_FORMS, parseSince } from "./since.js";
import { paintFor, useColor, type Paint } from "./style.js";
import { resolveSourceNetwork, resolveSourceService } from "./filters.js";
import { say } from "./say.js";
import { collect } from "./options.js";

/** How far back `changes` looks without --since. */
export const DEFAULT_CHANGES_SINCE = "7d";

/** The parsed flags of `changes`. */
interface ChangesFlags {
  since: string;
  network?: string;
  service?: string;
  target?: string[];
  exitCode?: boolean;
  lastRun?: boolean;
  quiet?: boolean;
  json?: boolean;
  db: string;
}

const CHANGES_EXIT_HELP = `Exit codes:
  0    done: no changes, or changes without --exit-code
  1    the database is missing, unreadable, or from a newer reachprobe
  2    usage error (a bad flag, a service or network the database does not have)
  ${EXIT.CHANGED}    with --exit-code: there are changes (as git diff --exit-code, which uses 1)`;

/** Builds the `changes` command. */
export function changesCommand(): Command {
  return new Command("changes")
    .description("every change of state (reachable -> BLOCKED at DNS, ...) of every target, per network, newest first, with the run that saw it; runs that could not measure are not changes")
    .option("--since <when>", `only changes since then: ${SINCE_FORMS}`, DEFAULT_CHANGES_SINCE)
    .option("--network <label>", "only this network: its label (any case), AS<number> when it has none, or (unlabelled)")
    .option("--service <name>", "only the targets of this service (any case), e.g. wechat")
    .option("--target <target>", "only this target (as given to reachprobe run); repeatable", collect(String))
    .option("--last-run", "only the changes the newest run (on --network, if given) saw; replaces --since (what schedule's jobs use)")
    .option("--exit-code", `exit with ${EXIT.CHANGED} when there are changes, 0 when there are none (for scripts and cron)`)
    .option("-q, --quiet", "print nothing when there are no changes (cron mails only output)")
    .option("--json", "print the changes as one JSON document on stdout")
    .addOption(readDbOption(true))
    .addHelpText(
      "after",
      `\nA change is a measurement whose status or layer differs from the state of the same target on\nthe same network. A run that could not measure (can't tell) is not a state; next to a run\nwith a control helper's answer, a run without one that says suspicious where the helper said\nBLOCKED is not a change (docs/commands.md, "What is a change"). Times are UTC, to the minute.\nWithout --since, the last 7 days.\n\n${CHANGES_EXIT_HELP}\n\nExamples:\n  reachprobe changes -q --since 1h         # cron: mail only when something changed\n  reachprobe changes --exit-code -q || notify-send "reachprobe: changes"\n  reachprobe changes --since 24h --network "Rostelecom Moscow" --service wechat\n  reachprobe changes --since 2026-05-01 --json`,
    )
    .action(async (flags: ChangesFlags) => {
      process.exitCode = await changesMain(flags);
    });
}

function targetsOf(typed: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of typed) {
    out.add(t);
    try {
      // Targets are stored in canonical form: "weixin.qq.com" is stored as https://weixin.qq.com/.
      out.add(parseTarget(t).input);
    } catch {
      // Not a target reachprobe could have measured; looked up as typed, it will find nothing.
    }
  }
  return [...out];
}

/** Runs `changes` and returns its exit code. */
export async function changesMain(flags: ChangesFlags, now: Date = new Date()): Promise<number> {
  const query: MeaningfulChangesQuery = {};
  try {
    query.since = parseSince(flags.since, now);
  } catch (err) {
    return usageExit(err);
  }
  if (flags.target?.length) query.targets = targetsOf(flags.target);
  return withReadSource(flags.db, say, async (source) => {
    if (flags.network !== undefined) query.network = await resolveSourceNetwork(source, flags.network);
    if (flags.service !== undefined) query.service = await resolveSourceService(source, flags.service);
    if (flags.lastRun) {
      const newest = await source.newestRun(query.network ?? null);
      if (!newest) return flags.quiet ? EXIT.OK : (process.stdout.write((await emptyHintOf(source, query)) || "No runs.\n"), EXIT.OK);
      query.since = newest.startedAt;
      query.runId = newest.id;
    }
    const changes = await source.meaningfulChanges(query);
    const code = flags.exitCode && changes.length > 0 ? EXIT.CHANGED : EXIT.OK;
    if (flags.quiet && changes.length === 0) return code;
    if (flags.json) {
      writeJsonStream(query, "changes", changes[Symbol.iterator](), (c) => ({
        network: c.network,
        target: c.target,
        service: c.service,
        from: c.from,
        to: c.to,
        at: c.at,
        run_id: c.runId,
        measurement_id: c.measurementId,
        previous_at: c.previousAt,
        previous_run_id: c.previousRunId,
      }));
      return code;
    }
    process.stdout.write(renderChanges(changes, query, paintFor(useColor(process.stdout))));
    if (changes.length === 0) process.stdout.write(await emptyHintOf(source, query));
    return code;
  });
}

/** A run id shortened for people, as `git log --oneline` does: enough to find it again (`reachprobe show`). */
export function shortRunId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/**
 * The human report, one change a line, newest first, columns aligned:
 * `2026-05-04 10:00  Rostelecom Moscow  https://weixin.qq.com/  reachable -> BLOCKED at DNS  run 3f2a9c1e`.
 */
export function renderChanges(changes: readonly StatusChange[], query: MeaningfulChangesQuery, p: Paint): string {
  const where = [query.service != null ? ` of ${query.service}` : "", query.network != null ? ` on ${networkName(query.network)}` : ""].join("");
  const since = query.runId != null ? ` in run ${shortRunId(query.runId)}` : query.since != null ? ` since ${minuteUtc(query.since)} UTC` : "";
  if (changes.length === 0) return `No changes${where}${since}.\n`;
  const n = changes.length;
  const out = [`${n} ${n === 1 ? "change" : "changes"}${where}${since}, newest first (times in UTC):`];
  // Each cell once: a year of changes is tens of thousands of lines.
  const cells = changes.map((c) => ({ c, network: networkName(c.network), from: statusWords(c.from), to: statusWords(c.to) }));
  let netWidth = 0;
  let targetWidth = 0;
  let moveWidth = 0;
  for (const x of cells) {
    netWidth = Math.max(netWidth, x.network.length);
    targetWidth = Math.max(targetWidth, x.c.target.length);
    moveWidth = Math.max(moveWidth, x.from.length + 4 + x.to.length);
  }
  targetWidth = Math.min(60, targetWidth);
  for (const { c, network, from, to } of cells) {
    const pad = " ".repeat(moveWidth - from.length - 4 - to.length);
    out.push(`${minuteUtc(c.at)}  ${network.padEnd(netWidth)}  ${c.target.padEnd(targetWidth)}  ${from} -> ${statusPaint(p, c.to.status)(to)}${pad}  run ${shortRunId(c.runId)}`);
  }
  return out.join("\n") + "\n";
}
