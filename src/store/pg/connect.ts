/**
 * Connecting to the fleet database: a `postgresql://` URL (docs/fleet.md), a pool, and what a
 * failed connection means in plain words. The password is never printed.
 */
import pg from "pg";
import { StoreError } from "../errors.js";

// int8 (bigint: ASNs, counts, seq) as JS numbers: every value reachprobe stores fits in 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * Settings of every reachprobe session. jit=off: the reading queries are many small index
 * lookups whose estimated cost is high enough that PostgreSQL would compile them to machine code
 * first, which took 2 s of a 2.4 s history query over 10 million measurements (bench:history).
 */
export const SESSION_OPTIONS = "-c jit=off";

/** True when `db` names a PostgreSQL database rather than an SQLite file. */
export function isPgUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL with its password replaced by ***, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/** A pool of connections to the database at `url` (nothing is connected until first use). */
export function pgPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, application_name: "reachprobe", options: SESSION_OPTIONS });
  // An idle connection that the server drops (a restart) is discarded, not thrown.
  pool.on("error", () => {});
  return pool;
}

/** A connection failure (or a query's) as a StoreError naming the database without its password. */
export function pgFailure(url: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string };
  const where = redactUrl(url);
  let reason = e?.message ?? String(err);
  if (e?.code === "ECONNREFUSED") reason = "nothing listens there (is the server up?)";
  else if (e?.code === "3D000") reason = "no such database (create it first: createdb)";
  else if (e?.code === "28P01" || e?.code === "28000") reason = "the server refused the credentials";
  return new StoreError("E_DB_OPEN", `cannot use ${where}: ${reason}`, { cause: err });
}
