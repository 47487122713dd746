/** `reachprobe collector`: the fleet's endpoint that writes probes' pushes into PostgreSQL, and its tokens. */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Command, Option } from "commander";
import { UsageError } from "../base/errors.js";
import { collectorServer } from "../collector/server.js";
import { isPgUrl, pgFailure, pgPool, redactUrl } from "../store/pg/connect.js";
import { migratePg } from "../store/pg/schema.js";
import { addToken, listTokens, revokeTokens } from "../store/pg/tokens.js";
import { EXIT, reportError } from "./exit-codes.js";

interface CollectorFlags {
  listen: string;
  db?: string;
  tlsCert?: string;
  tlsKey?: string;
  quiet?: boolean;
}

// --db is the collector's option, given before or after the subcommand's name.
function dbOf(command: Command): string {
  const db = command.optsWithGlobals<{ db?: string }>().db;
  if (db === undefined) throw new UsageError("give the fleet database: --db postgresql://... (or REACHPROBE_PG)");
  return db;
}

/** HOST:PORT (or [v6]:PORT) as given to --listen. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen takes HOST:PORT, e.g. 127.0.0.1:8443, got "${text}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/** When a token given --expires WHEN stops working: a duration from now (12h, 90d, 8w) or a date. */
export function parseExpiry(text: string, now: Date): Date {
  const d = /^(\d{1,6})([hdw])$/i.exec(text);
  if (d) return new Date(now.getTime() + Number(d[1]) * { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[d[2]!.toLowerCase() as "h" | "d" | "w"]);
  const t = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(t)) return new Date(t);
  throw new UsageError(`--expires takes a duration (12h, 90d, 8w) or a date (2027-01-01), got "${text}"`);
}

function checkUrl(db: string): void {
  if (!isPgUrl(db)) throw new UsageError(`--db must be a postgresql:// URL, got "${db}"`);
}

async function withDb<T>(db: string, body: (client: import("pg").PoolClient) => Promise<T>): Promise<T> {
  checkUrl(db);
  const pool = pgPool(db, 1);
  try {
    const client = await pool.connect().catch((err: unknown) => {
      throw pgFailure(db, err);
    });
    try {
      await migratePg(client, redactUrl(db));
      return await body(client);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

function tokenCommand(): Command {
  const token = new Command("token").description("make, list and revoke the probes' bearer tokens");
  token
    .command("add")
    .description("make a token for probe NAME (created if new) and print it; only its hash is stored")
    .argument("<name>", "the probe's name: letters, digits, . _ - (at most 64)")
    .option("--expires <when>", "stop accepting it after a duration (12h, 90d, 8w) or on a date; default: never")
    .action(async (name: string, flags: { expires?: string }, command: Command) => {
      try {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`a probe name is letters, digits, . _ - (at most 64), got "${name}"`);
        const expires = flags.expires === undefined ? null : parseExpiry(flags.expires, new Date());
        const t = await withDb(dbOf(command), (c) => addToken(c, name, expires));
        process.stdout.write(`${t}\n`);
        process.stderr.write(`reachprobe collector: token for probe ${name}${expires ? `, valid until ${expires.toISOString()}` : ""}; it is shown once: give it to the probe (reachprobe push --token-file)\n`);
      } catch (err) {
        process.exitCode = reportError("collector token add", err);
      }
    });
  token
    .command("revoke")
    .description("revoke every token of probe NAME: its pushes are refused from now on (its rows stay)")
    .argument("<name>")
    .action(async (name: string, _flags: unknown, command: Command) => {
      try {
        const n = await withDb(dbOf(command), (c) => revokeTokens(c, name));
        process.stderr.write(`reachprobe collector: ${n} token${n === 1 ? "" : "s"} of ${name} revoked\n`);
        if (n === 0) process.exitCode = EXIT.FAILURE;
      } catch (err) {
        process.exitCode = reportError("collector token revoke", err);
      }
    });
  token
    .command("list")
    .description("list the tokens by probe: created, expires, revoked (the tokens themselves are not stored)")
    .action(async (_flags: unknown, command: Command) => {
      try {
        const rows = await withDb(dbOf(command), (c) => listTokens(c));
        for (const r of rows) process.stdout.write(`${r.probe}\tcreated ${r.createdAt}\texpires ${r.expiresAt ?? "never"}\t${r.revokedAt ? `revoked ${r.revokedAt}` : "live"}\n`);
      } catch (err) {
        process.exitCode = reportError("collector token list", err);
      }
    });
  return token;
}

/** Builds the `collector` command. */
export function collectorCommand(): Command {
  return new Command("collector")
    .description("accept probes' pushes over HTTP(S) and write them into a PostgreSQL fleet database (docs/fleet.md)")
    .option("--listen <host:port>", "where to listen", "127.0.0.1:8443")
    .addOption(new Option("--db <url>", "the fleet database, postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME (required)").env("REACHPROBE_PG"))
    .option("--tls-cert <file>", "serve HTTPS with this certificate chain (PEM); without it, plain HTTP for behind a TLS proxy")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--quiet", "log only failures")
    .addCommand(tokenCommand())
    .addHelpText(
      "after",
      `\nEach batch is checked whole and written in one transaction, or refused whole with a message.\nThe token decides which probe the rows belong to.\n\nExit codes: 0 stopped by SIGINT/SIGTERM, 1 the database or the address could not be used, 2 a bad flag.\n\nExamples:\n  reachprobe collector token add probe-berlin --expires 365d --db postgresql://reachprobe@db/fleet\n  reachprobe collector --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --db postgresql://reachprobe@db/fleet`,
    )
    .action(async (flags: CollectorFlags) => {
      process.exitCode = await collectorMain(flags);
    });
}

async function collectorMain(flags: CollectorFlags): Promise<number> {
  let pool: import("pg").Pool | undefined;
  try {
    if (flags.db === undefined) throw new UsageError("collector needs --db postgresql://... (or REACHPROBE_PG)");
    const db = flags.db;
    const { host, port } = parseListen(flags.listen);
    if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
    const tls = flags.tlsCert && flags.tlsKey ? { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) } : undefined;
    await withDb(db, async () => {});
    pool = pgPool(db, 20);
    const log = (line: string) => process.stderr.write(`reachprobe collector: ${line}\n`);
    const server = collectorServer({ pool, database: redactUrl(db), ...(tls ? { tls } : {}), ...(flags.quiet ? {} : { log }) });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    // On stdout, alone on its line: what a supervisor (or a test) waits for.
    process.stdout.write(`reachprobe collector: listening on ${tls ? "https" : "http"}://${shown}:${addr.port}, writing to ${redactUrl(db)}\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    process.stderr.write(`reachprobe collector: ${signal}: finishing the batches in progress\n`);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return EXIT.OK;
  } catch (err) {
    return reportError("collector", err);
  } finally {
    await pool?.end();
  }
}
