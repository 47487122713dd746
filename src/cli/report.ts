/** `reachprobe report --html FILE`: the results database as one self-contained HTML page. */
import { existsSync } from "node:fs";
import { Command } from "commander";
import { loadReport, runsReadAhead } from "../report/report-data.js";
import { writeFileAtomically } from "../report/report-file.js";
import { renderReport } from "../report/report-html.js";
import { reportRows } from "../store/report-rows.js";
import { Store } from "../store/store.js";
import { EXIT, exitCodeOf } from "./exit-codes.js";
import { isPgUrl } from "../store/pg/connect.js";
import { computeWithPgRows } from "../store/pg/report-rows.js";
import { openPgReader } from "./read-source.js";
import { VERSION } from "../base/package-info.js";
import { parseSince } from "./since.js";
import { readDbOption } from "./read-command.js";
import { networkIn, resolveNetwork } from "./filters.js";
import { UsageError } from "../base/errors.js";

/** The parsed flags of `report`. */
export interface ReportFlags {
  /** The file to write; undefined or "-": stdout. */
  html?: string;
  since?: string;
  network?: string;
  db: string;
}

/** What reportMain needs from the outside world, replaceable in tests. */
export interface ReportDeps {
  now: () => Date;
  stderr: { write(text: string): unknown };
}

const EXIT_HELP = `Exit codes:
  0    the report was written (also for an empty database: it says so)
  1    the database is missing or unreadable, or the file could not be written
  2    usage error (a bad flag); nothing was written
  130  interrupted by SIGINT, 143 by SIGTERM (nothing was written)`;

/** Builds the `report` command. */
export function reportCommand(): Command {
  return new Command("report")
    .description("write (to --html FILE, or stdout) one self-contained HTML page from the results database: current status per service, each endpoint's timeline per network, the changes and the runs")
    .option("--html <file>", "the HTML file to write; it appears only once complete, replacing any file of that name (default, or -: the page on stdout, which must not be a terminal)")
    .option("--since <when>", "only runs started since then: a duration back from now (7d, 12h, 30m, 2w) or a date (2025-05-01, or an ISO time)")
    .option("--network <label>", "only runs from this network: its label, AS<number> when it has none, or (unlabelled)")
    .addOption(readDbOption(true))
    .addHelpText(
      "after",
      `\nThe page needs nothing else to open: styles and charts are inline, it loads nothing.\n\n${EXIT_HELP}\n\nExamples:\n  reachprobe report --html report.html\n  reachprobe report --html last-week.html --since 7d --network home-isp`,
    )
    .action(async (flags: ReportFlags) => {
      process.exitCode = await reportMain(flags);
    });
}

/** Runs `report` and returns its exit code. */
export async function reportMain(flags: ReportFlags, deps: ReportDeps = { now: () => new Date(), stderr: process.stderr }): Promise<number> {
  const say = (text: string) => deps.stderr.write(`reachprobe: ${text}\n`);
  const now = deps.now();
  let since: string | null = null;
  if (flags.since !== undefined) {
    try {
      since = parseSince(flags.since, now);
    } catch (err) {
      say((err as Error).message);
      return exitCodeOf(err);
    }
  }
  const toStdout = flags.html === undefined || flags.html === "-";
  if (flags.html !== undefined && flags.html.trim() === "") {
    say("--html needs a file name");
    return EXIT.USAGE;
  }
  if (toStdout && process.stdout.isTTY) {
    say("report writes an HTML page: give --html FILE, or send stdout to a file (reachprobe report > report.html)");
    return EXIT.USAGE;
  }
  if (isPgUrl(flags.db)) {
    const opened = await openPgReader(flags.db);
    if (typeof opened === "string") {
      say(opened);
      return EXIT.FAILURE;
    }
    let data: ReturnType<typeof loadReport>;
    try {
      // Any case; a network the database does not have is an error with the closest names.
      const network = flags.network === undefined ? null : networkIn((await opened.reader.listNetworks()).map((n) => n.network), flags.network);
      data = await computeWithPgRows(opened.reader, (rows) => loadReport(rows, { since, network }), (runs) => runsReadAhead(runs, { since, network }));
    } catch (err) {
      if (err instanceof UsageError) {
        say(err.message);
        return EXIT.USAGE;
      }
      say(`could not read ${opened.reader.path}: ${(err as Error).message}`);
      return EXIT.FAILURE;
    } finally {
      await opened.close();
    }
    return writeReport(flags, data, opened.reader.path, now, say);
  }
  // Read-only opens never create a file, but the message for a missing one is worth its own words.
  if (!existsSync(flags.db)) {
    say(`no database at ${flags.db}: measure first (reachprobe run --db ${flags.db}), or name another with --db`);
    return EXIT.FAILURE;
  }
  let store: Store;
  try {
    store = Store.open(flags.db, { readonly: true });
  } catch (err) {
    say((err as Error).message);
    return exitCodeOf(err);
  }

  let data: ReturnType<typeof loadReport>;
  try {
    data = loadReport(reportRows(store.db), { since, network: flags.network === undefined ? null : resolveNetwork(store.db, flags.network) });
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return EXIT.USAGE;
    }
    say(`could not read ${flags.db}: ${(err as Error).message}`);
    return EXIT.FAILURE;
  } finally {
    store.close();
  }
  return writeReport(flags, data, flags.db, now, say);
}

async function writeReport(flags: ReportFlags, data: ReturnType<typeof loadReport>, database: string, now: Date, say: (text: string) => void): Promise<number> {
  // Signals are only noted: the writer checks between chunks, then removes its temporary file.
  const stop: { signal: NodeJS.Signals | null } = { signal: null };
  const onSignal = (sig: NodeJS.Signals) => {
    stop.signal = sig;
  };
  try {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const page = renderReport(data, { database, generatedAt: now, version: VERSION });
    if (flags.html === undefined || flags.html === "-") {
      for (const chunk of page) if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once("drain", r));
      return EXIT.OK;
    }
    const html = flags.html as string;
    const outcome = await writeFileAtomically(html, page, () => stop.signal !== null);
    if (!outcome.written) {
      say(`${stop.signal}: stopped; ${html} was not written`);
      return stop.signal === "SIGINT" ? EXIT.SIGINT : EXIT.SIGTERM;
    }
    const what = data.runCount === 0 ? (data.databaseRunCount === 0 ? "the database has no runs yet" : "no run matches") : `${data.networks.length} network${data.networks.length === 1 ? "" : "s"}, ${data.runCount} run${data.runCount === 1 ? "" : "s"}, ${data.changeCount} change${data.changeCount === 1 ? "" : "s"}`;
    say(`wrote ${html} (${what}; ${Math.ceil(outcome.bytes / 1024)} KiB)`);
    return EXIT.OK;
  } catch (err) {
    say(`could not write ${flags.html ?? "stdout"}: ${(err as Error).message}`);
    return EXIT.FAILURE;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
