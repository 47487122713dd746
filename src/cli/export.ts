/** `reachprobe export`: stored measurements as JSON Lines, CSV or OONI's data format, streamed. */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { Command, Option } from "commander";
import { csvLines } from "../export/export-csv.js";
import { jsonlLines } from "../export/export-jsonl.js";
import { ooniAsn, ooniCc, ooniLines } from "../export/export-ooni.js";
import { networkIn, resolveNetwork } from "./filters.js";
import { say } from "./say.js";
import { Store, type MeasurementWithRun } from "../store/store.js";
import { EXIT, reportError } from "./exit-codes.js";
import { isPgUrl } from "../store/pg/connect.js";
import { openPgReader } from "./read-source.js";
import { VERSION } from "../base/package-info.js";
import { dbOption } from "./db-option.js";
import { SINCE_FORMS, parseSince } from "./since.js";

/** The formats `--format` takes. */
export const EXPORT_FORMATS = ["jsonl", "csv", "ooni"] as const;

/** One of the export formats. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The parsed flags of `export`. */
interface ExportFlags {
  format: ExportFormat;
  since?: string;
  network?: string;
  db: string;
  output?: string;
  networkLabel?: boolean;
}

// Lines are gathered into chunks of about this many characters before each write.
const CHUNK_CHARS = 64 * 1024;

/** Builds the `export` command. */
export function exportCommand(): Command {
  return new Command("export")
    .description("write stored measurements as JSON Lines, CSV or OONI's measurement format, on stdout or to a file")
    .addOption(new Option("--format <format>", "jsonl (everything, one measurement a line), csv (the summary columns) or ooni (OONI measurements, one a line: web_connectivity, tcp_connect for tcp:// targets)").choices(EXPORT_FORMATS).makeOptionMandatory())
    .option("--since <when>", `only measurements started since then: ${SINCE_FORMS}`)
    .option("--network <name>", 'only measurements from this network: its label (reachprobe run --network-label), or AS<number> for an unlabelled run with an ASN, or "(unlabelled)"')
    .addOption(dbOption("SQLite database to read (opened read-only), or a fleet database's postgresql:// URL"))
    .option("--output <file>", "write to this file instead of stdout; it appears only once complete, replacing any file of that name")
    .option("--network-label", "ooni: write each run's network label as probe_network_name (by default nothing in the export says where the probe was)")
    .addHelpText(
      "after",
      `\nExit codes: 0 exported (even nothing), 1 the database could not be read or the file written, 2 a bad flag.\n\nExamples:\n  reachprobe export --format csv --since 7d > last-week.csv\n  reachprobe export --format ooni --network home-isp --output ooni.jsonl`,
    )
    .action(async (flags: ExportFlags) => {
      process.exitCode = await exportMain(flags);
    });
}

/**
 * The lines of an export from rows read asynchronously (the fleet database): read a page at a
 * time and turned into lines with exportLines, the CSV header once.
 */
async function* pagedExportLines(format: ExportFormat, rows: AsyncIterable<MeasurementWithRun>, counted: (row: MeasurementWithRun) => void, options: { networkLabel?: boolean }): AsyncGenerator<string> {
  const PAGE = 500;
  let page: MeasurementWithRun[] = [];
  let first = true;
  const flush = function* () {
    let i = 0;
    for (const line of exportLines(format, page, options)) if (first || format !== "csv" || i++ > 0) yield line;
    first = false;
    page = [];
  };
  for await (const row of rows) {
    counted(row);
    page.push(row);
    if (page.length >= PAGE) yield* flush();
  }
  if (page.length > 0 || first) yield* flush();
}

/** The lines of an export in `format`, produced as `rows` are read. */
export function exportLines(format: ExportFormat, rows: Iterable<MeasurementWithRun>, options: { networkLabel?: boolean } = {}): Iterable<string> {
  if (format === "csv") return csvLines(rows);
  if (format === "ooni") return ooniLines(rows, { softwareVersion: VERSION, networkLabel: options.networkLabel === true });
  return jsonlLines(rows);
}

async function exportMain(flags: ExportFlags): Promise<number> {
  let since: string | null = null;
  if (flags.since !== undefined) {
    try {
      since = parseSince(flags.since, new Date());
    } catch (err) {
      return reportError("export", err);
    }
  }
  let count = 0;
  let unlocated = 0;
  const counted = (row: MeasurementWithRun) => {
    count++;
    if (ooniDiscards(row.run)) unlocated++;
  };
  const options = { networkLabel: flags.networkLabel === true };
  let lines: Iterable<string> | AsyncIterable<string>;
  let close: () => unknown;
  if (isPgUrl(flags.db)) {
    const opened = await openPgReader(flags.db);
    if (typeof opened === "string") {
      say(opened);
      return EXIT.FAILURE;
    }
    let network: string | null = null;
    try {
      // Any case; a network the database does not have is an error with the closest names, not an empty file.
      if (flags.network !== undefined) network = networkIn((await opened.reader.listNetworks()).map((n) => n.network), flags.network);
    } catch (err) {
      await opened.close();
      return reportError("export", err);
    }
    lines = pagedExportLines(flags.format, opened.reader.iterateMeasurements({ since, network }), counted, options);
    close = opened.close;
  } else {
    let store: Store;
    try {
      store = Store.open(flags.db, { readonly: true });
    } catch (err) {
      return reportError("export", err);
    }
    let network: string | null = null;
    try {
      // Any case; a network the database does not have is an error with the closest names, not an empty file.
      if (flags.network !== undefined) network = resolveNetwork(store.db, flags.network);
    } catch (err) {
      store.close();
      return reportError("export", err);
    }
    const rows = (function* read() {
      for (const row of store.iterateMeasurements({ since, network })) {
        counted(row);
        yield row;
      }
    })();
    lines = exportLines(flags.format, rows, options);
    close = () => store.close();
  }
  try {
    if (flags.output === undefined) {
      await pump(lines, process.stdout, () => false);
      warnUnlocated(flags.format, unlocated, count);
      return EXIT.OK;
    }
    const outcome = await writeFileWhole(flags.output, lines);
    if (outcome !== "written") return outcome === "SIGINT" ? EXIT.SIGINT : EXIT.SIGTERM;
    process.stderr.write(`reachprobe: ${count} measurement${count === 1 ? "" : "s"} written to ${flags.output}\n`);
    warnUnlocated(flags.format, unlocated, count);
    return EXIT.OK;
  } catch (err) {
    const where = flags.output ? `could not write ${flags.output}` : "could not export";
    process.stderr.write(`reachprobe: ${where}: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  } finally {
    await close();
  }
}

/** True when OONI's pipeline would discard a run's measurements: no country (ZZ) or no ASN (AS0), as without --asn-db. */
export function ooniDiscards(run: { probeAsn: number | null; probeCc: string | null }): boolean {
  return ooniAsn(run.probeAsn) === "AS0" || ooniCc(run.probeCc) === "ZZ";
}

// Warns, without failing: the export still reads in OONI's tools, only OONI's own pipeline
// drops it (docs/ooni-pipeline.md).
function warnUnlocated(format: ExportFormat, unlocated: number, count: number): void {
  if (format !== "ooni" || unlocated === 0) return;
  process.stderr.write(
    `reachprobe export: warning: ${unlocated} of ${count} measurement${count === 1 ? "" : "s"} ${unlocated === 1 ? "has" : "have"} no country or ASN (probe_cc ZZ or probe_asn AS0): ` +
      `OONI's pipeline discards them. Runs made with --asn-db (and a country) have both; see docs/ooni-pipeline.md.\n`,
  );
}

/**
 * Writes `lines` to `stream` in chunks, waiting whenever it asks to (so a slow reader keeps
 * memory flat). Returns false when it stopped early: the stream failed or closed (a reader
 * that went away, as with `| head`), or `stopped()` said so. Leaving the loop early closes the
 * lines' generators, which ends the database read.
 */
async function pump(lines: Iterable<string> | AsyncIterable<string>, stream: Writable, stopped: () => boolean): Promise<boolean> {
  const gone = () => stream.destroyed || stream.errored !== null || stream.writableEnded;
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        stream.off("error", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
      stream.on("error", done);
    });
  let chunk = "";
  // A file's rows come synchronously, the fleet database's asynchronously.
  for await (const line of lines) {
    chunk += line;
    if (chunk.length < CHUNK_CHARS) continue;
    if (gone()) return false;
    if (!stream.write(chunk)) await drained();
    chunk = "";
    if (gone() || stopped()) return false;
  }
  if (gone()) return false;
  if (chunk) stream.write(chunk);
  return true;
}

/**
 * Writes `lines` to a temporary file beside `path`, flushes it to disk, then renames it over
 * `path`: readers of `path` see the old file or the whole new one, never half of it. On an
 * error or a SIGINT/SIGTERM the temporary file is removed and `path` is left as it was.
 */
async function writeFileWhole(path: string, lines: Iterable<string> | AsyncIterable<string>): Promise<"written" | "SIGINT" | "SIGTERM"> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let signal: "SIGINT" | "SIGTERM" | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    signal = sig === "SIGINT" ? "SIGINT" : "SIGTERM";
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // flush: fsync before close, so that the rename never publishes bytes that are not on disk.
  const stream = createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true });
  let error: Error | null = null;
  stream.on("error", (err) => {
    error ??= err;
  });
  try {
    const complete = await pump(lines, stream, () => signal !== null);
    // end() then close: every byte written, flushed and the descriptor closed (or the error).
    await new Promise<void>((resolve) => {
      if (stream.closed) return resolve();
      stream.once("close", () => resolve());
      stream.end();
    });
    const failed = error as Error | null;
    if (failed) throw failed;
    if (signal !== null) {
      await unlink(tmp).catch(() => {});
      return signal;
    }
    if (!complete) throw new Error("the file was closed before the export was complete");
    await rename(tmp, path);
    return "written";
  } catch (err) {
    stream.destroy();
    await unlink(tmp).catch(() => {});
    // The temporary name means nothing to the user; say which file could not be written.
    throw new Error(((err as Error).message ?? String(err)).replace(tmp, path));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
