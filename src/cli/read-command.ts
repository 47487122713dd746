/** What the commands that read the results database (history, changes, runs, show) share: opening, errors, JSON streaming, hints. */
import { existsSync } from "node:fs";
import type { Option } from "commander";
import { dbOption } from "./db-option.js";
import { Store } from "../store/store.js";
import { EXIT } from "./exit-codes.js";
import { UsageError } from "../base/errors.js";

/** The `--db` option of a command that only reads the database; `fleet`: it also reads a fleet database by its postgresql:// URL (docs/fleet.md). */
export function readDbOption(fleet = false): Option {
  return dbOption(`SQLite database to read (opened read-only, never created)${fleet ? ", or a fleet database's postgresql:// URL" : ""}`);
}

/**
 * Opens the database read-only for a reading command; a missing file is an error that says
 * what to do (it is never created). Errors come back as the message to print.
 */
export function openForReading(path: string): Store | string {
  if (!existsSync(path)) {
    return `no database at ${path}: nothing has been measured into it yet; run "reachprobe run --db ${path}" first, or name another file with --db (or REACHPROBE_DB)`;
  }
  try {
    return Store.open(path, { readonly: true });
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The message for an SQLite error met while reading `path`, or null when `err` is not one.
 * A file written by a development build from before schema 1 was final lacks the views and
 * derived columns these commands read.
 */
export function readFailure(path: string, err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return null;
  const message = (err as Error).message;
  const hint = /no such (table|column|index)/.test(message)
    ? " (the file lacks part of the schema: it was probably written by a development build of reachprobe; measure into a new file)"
    : "";
  return `cannot read ${path}: ${message}${hint}`;
}

/**
 * The exit code of an error a reading command met, said in one line: bad input (2), a database
 * that could not be read (1); anything else is thrown on, a bug.
 */
export function readErrorCode(db: string, err: unknown, say: (text: string) => void): number {
  if (err instanceof UsageError) {
    say(err.message);
    return EXIT.USAGE;
  }
  const message = readFailure(db, err);
  if (message === null) throw err;
  say(message);
  return EXIT.FAILURE;
}

/**
 * Writes `{"since", "network", KEY: [...]}` on stdout as rows are read. The first row is read
 * before anything is written, so that a file that cannot be queried leaves stdout empty.
 */
export function writeJsonStream<T>(query: { since?: string | null; network?: string | null }, key: string, rows: Iterator<T>, toDoc: (row: T) => unknown): void {
  let next = rows.next();
  process.stdout.write(`{"since":${JSON.stringify(query.since ?? null)},"network":${JSON.stringify(query.network ?? null)},${JSON.stringify(key)}:[`);
  let first = true;
  for (; !next.done; next = rows.next()) {
    process.stdout.write((first ? "\n" : ",\n") + JSON.stringify(toDoc(next.value)));
    first = false;
  }
  process.stdout.write("\n]}\n");
}

/** The exit codes of the commands that only read the database, as `--help` prints them. */
export const READ_EXIT_HELP = `Exit codes:
  0    done (also when there is nothing to show: it says so)
  1    the database is missing, unreadable, or from a newer reachprobe
  2    usage error (a bad flag)`;

/** A stored time as people read it: UTC to the minute, "2026-05-04 10:00". */
export function minuteUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
