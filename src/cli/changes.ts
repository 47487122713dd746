/** `reachprobe changes`: every status change of every target, per network, newest first. */
import { Command, Option } from "commander";
import { statusChanges, type ChangesQuery, type StatusChange } from "../store/changes.js";
import { listNetworks, networkFromInput, networkName } from "../store/network.js";
import { EXIT } from "./exit-codes.js";
import { emptyHint, minuteUtc, READ_EXIT_HELP, readDbOption, withReadStore, writeJsonStream } from "./read-command.js";
import { statusWords } from "../analysis/status-words.js";
import { statusPaint } from "./render.js";
import { UsageError } from "../base/errors.js";
import { SINCE_FORMS, parseSince } from "./since.js";
import { paintFor, useColor, type Paint } from "./style.js";

/** How far back `changes` looks without --since. */
export const DEFAULT_CHANGES_SINCE = "7d";

/** The parsed flags of `changes`. */
interface ChangesFlags {
  since: string;
  network?: string;
  json?: boolean;
  db: string;
}

/** Builds the `changes` command. */
export function changesCommand(): Command {
  return new Command("changes")
    .description("every status change (ok -> blocked, blocked (dns) -> blocked (tcp), ...) of every target, per network, newest first, with the run that saw it")
    .option("--since <when>", `only changes since then: ${SINCE_FORMS}`, DEFAULT_CHANGES_SINCE)
    .option("--network <label>", "only this network: its label, AS<number> when it has none, or (unlabelled)")
    .option("--json", "print the changes as one JSON document on stdout")
    .addOption(readDbOption())
    .addHelpText(
      "after",
      `\nA change is a measurement whose status or layer differs from the previous measurement of\nthe same target on the same network. Times are UTC, to the minute. Without --since, the\nlast 7 days.\n\n${READ_EXIT_HELP}\n\nExamples:\n  reachprobe changes                       # what changed this week: a morning cron job\n  reachprobe changes --since 24h --network "Rostelecom Moscow"\n  reachprobe changes --since 2026-05-01 --json`,
    )
    .action((flags: ChangesFlags) => {
      process.exitCode = changesMain(flags);
    });
}

/** Runs `changes` and returns its exit code. */
export function changesMain(flags: ChangesFlags, now: Date = new Date()): number {
  const say = (text: string) => process.stderr.write(`reachprobe changes: ${text}\n`);
  const query: ChangesQuery = {};
  try {
    query.since = parseSince(flags.since, now);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(err.message);
    return EXIT.USAGE;
  }
  if (flags.network !== undefined) query.network = networkFromInput(flags.network);
  return withReadStore(flags.db, say, (store) => {
    if (flags.json) {
      writeJsonStream(query, "changes", statusChanges(store.db, query), (c) => ({
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
      return EXIT.OK;
    }
    // The human report does not show the measurement before each change: not reading it keeps
    // a year of changes to one index.
    const changes = [...statusChanges(store.db, { ...query, withPrevious: false })];
    process.stdout.write(renderChanges(changes, query, paintFor(useColor(process.stdout))));
    if (changes.length === 0) process.stdout.write(emptyHint(store, query));
    return EXIT.OK;
  });
}

/** A run id shortened for people, as `git log --oneline` does: enough to find it again. */
export function shortRunId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/**
 * The human report, one change a line, newest first, columns aligned:
 * `2026-05-04 10:00  Rostelecom Moscow  https://weixin.qq.com/  ok -> blocked (dns)  run 3f2a9c1e…`.
 */
export function renderChanges(changes: readonly StatusChange[], query: ChangesQuery, p: Paint): string {
  const where = query.network != null ? ` on ${networkName(query.network)}` : "";
  const since = query.since != null ? ` since ${minuteUtc(query.since)} UTC` : "";
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
