/** `reachprobe merge`: copy other reachprobe databases (volunteers' files) into this one. */
import { plural } from "../base/plural.js";
import { Command } from "commander";
import { acquireLockWaiting, LockHeldError, type RunLock } from "../store/lock.js";
import { MergeError, mergeDatabase, type MergeSummary } from "../store/merge.js";
import { Store } from "../store/store.js";
import { parseWaitFlag, takeBackWait } from "./options.js";
import { UsageError } from "../base/errors.js";
import { defaultDbPath, ensureDbDir } from "../store/db-path.js";
import { createDirsOption, dbOption } from "./db-option.js";
import { EXIT, reportError } from "./exit-codes.js";

/** The parsed flags of `merge`. */
interface MergeFlags {
  db: string;
  createDirs?: boolean;
  wait?: number | true | string;
  scrub?: boolean;
}

/** Builds the `merge` command. */
export function mergeCommand(): Command {
  return new Command("merge")
    .description("merge other reachprobe databases (e.g. volunteers' files) into this one; ids are kept, so merging a file twice adds nothing")
    .argument("[files...]", "reachprobe .db files to merge in (opened read-only, never changed)")
    .addOption(dbOption("SQLite database to merge into (created if missing)"))
    .addOption(createDirsOption())
    .option("--scrub", "replace every IPv4 and IPv6 address in the HTTP responses' bodies, titles and header values with [scrubbed] as the rows are merged, for a database that will be passed on (docs/fleet.md)")
    .option("--wait [duration]", "if a run is writing the database, wait for it (up to DURATION, default 1h; a bare number is seconds) instead of exiting with 6", parseWaitFlag("--wait"))
    .addHelpText(
      "after",
      `\nEach file is merged in one transaction, all of it or nothing. A row whose id is already there\nwith different content is a conflict: reported on stderr and skipped, never overwritten.\nA file that is not a reachprobe database, or has a newer schema, is refused and the others are merged.\n\nExit codes: 0 every file merged (conflicts are reported, not failures), 1 a file was refused or the\ndatabase could not be written, 2 a bad flag, 6 a run is writing the database (see --wait).\n\nExample:\n  reachprobe merge --db data/reachprobe.db volunteer-a.db volunteer-b.db`,
    )
    .action(async (given: string[], flags: MergeFlags) => {
      // `--wait volunteer.db`: the file is a file, not the time to wait.
      const files = takeBackWait(flags, given);
      if (files.length === 0) throw new UsageError("merge needs the .db files to merge in, e.g. reachprobe merge volunteer-a.db");
      process.exitCode = await mergeMain(files, flags);
    });
}

/** The one line printed for a merged file. */
export function formatMergeSummary(s: MergeSummary): string {
  return (
    `${s.file}: ${plural(s.runsAdded, "run")} and ${plural(s.measurementsAdded, "measurement")} added; ` +
    `${plural(s.runsDuplicate + s.measurementsDuplicate, "duplicate")} skipped ` +
    `(${plural(s.runsDuplicate, "run")}, ${plural(s.measurementsDuplicate, "measurement")}); ` +
    `${plural(s.conflictCount, "conflict")}`
  );
}

async function mergeMain(files: string[], flags: MergeFlags): Promise<number> {
  // The run lock: a merge holds the write lock for a whole file, longer than a run's writes
  // would wait for it, so the two never write the database at once.
  let lock: RunLock;
  let dest: Store;
  try {
    const waitMs = flags.wait === undefined ? 0 : (typeof flags.wait === "number" ? flags.wait : 3600) * 1000;
    ensureDbDir(flags.db, flags.createDirs === true || flags.db === defaultDbPath());
    lock = await acquireLockWaiting(flags.db, waitMs, (holder) => {
      process.stderr.write(`reachprobe: waiting for the lock, held by ${holder}, to be released\n`);
    });
  } catch (err) {
    return reportError("merge", err);
  }
  try {
    dest = Store.open(flags.db);
  } catch (err) {
    lock.release();
    return reportError("merge", err);
  }
  let code: number = EXIT.OK;
  try {
    for (const file of files) {
      try {
        const summary = mergeDatabase(dest, file, { scrub: flags.scrub === true });
        process.stdout.write(`${formatMergeSummary(summary)}\n`);
        for (const c of summary.conflicts) {
          process.stderr.write(`reachprobe: ${file}: conflict: ${c.table === "runs" ? "run" : "measurement"} ${c.id} skipped: ${c.reason}\n`);
        }
        if (summary.conflictCount > summary.conflicts.length) {
          process.stderr.write(`reachprobe: ${file}: ${summary.conflictCount - summary.conflicts.length} more conflicts not listed\n`);
        }
      } catch (err) {
        code = EXIT.FAILURE;
        const message = err instanceof MergeError ? err.message : `could not merge ${file} into ${flags.db}: ${(err as Error).message}; nothing was merged from it.`;
        process.stderr.write(`reachprobe: ${message}\n`);
      }
    }
  } finally {
    dest.close();
    lock.release();
  }
  return code;
}
