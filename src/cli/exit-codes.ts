/** Exit codes, documented in `--help` and the README ("Exit codes"), so that cron jobs can act on them. */
import { ReachprobeError, UsageError } from "../base/errors.js";
import { runOutcome } from "../analysis/classify.js";
import { SAY_PREFIX, say } from "./say.js";

export const EXIT = {
  /** The run finished and nothing looked blocked. */
  OK: 0,
  /** Could not run: the database could not be opened, an unexpected crash. */
  FAILURE: 1,
  /** Usage or input error: a bad flag, an invalid target file; or the first-run notice was answered no. Nothing ran. */
  USAGE: 2,
  /** The run finished and at least one target is blocked. */
  BLOCKED: 3,
  /** The run finished, nothing is confirmed blocked, but some targets show anomalies. */
  ANOMALY: 4,
  /** The run finished but every target is inconclusive: the local network seems down, or the helper failed on plain-HTTP pages. */
  INCONCLUSIVE: 5,
  /** Another run holds the database's lock (and --wait was not given, or ran out). */
  LOCKED: 6,
  /** `changes --exit-code`: there are changes (git diff --exit-code says 1, which here means "could not run"). */
  CHANGED: 7,
  /** Stopped by SIGINT (128 + 2); finished measurements are kept. */
  SIGINT: 130,
  /** Stopped by SIGTERM (128 + 15); finished measurements are kept. */
  SIGTERM: 143,
} as const;

/** The exit-code table as printed by `--help`. */
export const EXIT_HELP = `Exit codes:
  0    ran; nothing blocked, no anomaly
  1    could not run (database, crash)
  2    usage or input error, or the notice answered no; nothing sent, nothing written
  3    ran; blocking found
  4    ran; anomalies found, nothing confirmed blocked
  5    ran; every target inconclusive (the local network seems down, or the helper failed)
  6    another run is writing the same database (use --wait to wait for it)
  7    (changes --exit-code) there are changes
  130  interrupted by SIGINT, 143 by SIGTERM (finished measurements kept)`;

/** The exit code of a finished run, from what its verdicts add up to (decided in src/analysis/classify.ts). */
export function exitCodeFor(statuses: Iterable<string>): number {
  const outcome = runOutcome(statuses);
  return outcome === "blocked" ? EXIT.BLOCKED : outcome === "anomaly" ? EXIT.ANOMALY : outcome === "inconclusive" ? EXIT.INCONCLUSIVE : EXIT.OK;
}

/**
 * The exit code of an error that stopped a command, decided here and nowhere else: reachprobe's
 * own errors by their kind (bad input 2, another run holds the database 6, could not run 1);
 * anything else, a bug or the system, 1.
 */
export function exitCodeOf(err: unknown): number {
  if (!(err instanceof ReachprobeError)) return EXIT.FAILURE;
  return err.exit === "usage" ? EXIT.USAGE : err.exit === "busy" ? EXIT.LOCKED : EXIT.FAILURE;
}

/**
 * Says on stderr what stopped `command` (`reachprobe: ...`, the one prefix), with `context` before the
 * message when given, and returns its exit code. A message is enough for reachprobe's own errors
 * and the system's (ENOENT, EACCES...); anything else is a bug, and its stack is printed.
 */
export function reportError(_command: string, err: unknown, context?: string): number {
  const known = err instanceof ReachprobeError || (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string");
  const text = known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  // One prefix for every command's errors (src/cli/say.ts), whichever command: "reachprobe: ...".
  process.stderr.write(`${SAY_PREFIX}${context ? `${context}: ` : ""}${text}\n`);
  return exitCodeOf(err);
}

/** What a command answers a UsageError it caught with: the message on stderr and EXIT.USAGE. Anything else is thrown on. */
export function usageExit(err: unknown): number {
  if (!(err instanceof UsageError)) throw err;
  say(err.message);
  return EXIT.USAGE;
}
