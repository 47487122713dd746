/** What the commands that read the results database (history, changes) share: opening, errors, JSON streaming, hints. */
import { existsSync } from "node:fs";
import type { Option } from "commander";
import { dbOption } from "./db-option.js";
import { listNetworks, networkName } from "../store/network.js";
import { Store } from "../store/store.js";
import { isPgUrl, redactUrl } from "../store/pg/connect.js";
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
 * Opens `db` read-only, runs `body`, and turns a database that cannot be read into a message and
 * exit 1, and a filter that names nothing in it (a UsageError) into a message and exit 2.
 */
export function withReadStore(db: string, say: (text: string) => void, body: (store: Store) => number): number {
  if (isPgUrl(db)) {
    // runs and show read SQLite files only (docs/fleet.md, "Reading"); never echo the URL's password.
    say(`${redactUrl(db)} is a fleet database: this command reads only an SQLite file; history, changes, report and export read a fleet database`);
    return EXIT.USAGE;
  }
  const store = openForReading(db);
  if (typeof store === "string") {
    say(store);
    return EXIT.FAILURE;
  }
  try {
    return body(store);
  } catch (err) {
    return readErrorCode(db, err, say);
  } finally {
    store.close();
  }
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

/** Why an empty answer is empty: no measurements at all, or a network that is not in the file. */
export function emptyHint(store: Store, query: { network?: string | null }): string {
  const networks = listNetworks(store.db);
  if (networks.length === 0) return `The database ${store.path} holds no measurements yet.\n`;
  if (query.network != null && !networks.some((n) => n.network === query.network)) {
    return `No network "${networkName(query.network)}" in ${store.path}; its networks: ${networks.map((n) => networkName(n.network)).join(", ")}.\n`;
  }
  return "";
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
