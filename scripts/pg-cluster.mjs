/**
 * A throwaway PostgreSQL cluster in a temporary directory (docs/fleet.md, "A PostgreSQL for
 * tests"): Debian's server binaries, run as the `postgres` user when we are root (the server
 * refuses root), listening on 127.0.0.1 only, trust authentication on that address only.
 * Used by `npm run pg:up` / `pg:down` and by the tests (tests/helpers/pg.ts).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The directory of the newest installed server's binaries, or null when there is none. */
export function pgBinDir() {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, "initdb"))) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], "bin") : null;
}

/** Why a cluster cannot be started here, or null when it can. */
export function pgUnavailable() {
  if (pgBinDir() === null) return "no PostgreSQL server binaries (apt-get install postgresql, or set PG_BIN)";
  if (process.getuid?.() === 0) {
    try {
      execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
    } catch {
      return "running as root and there is no postgres user to run the server as";
    }
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Runs a server binary as the postgres user when we are root, else as ourselves.
function asServerUser(bin, args, options = {}) {
  const file = join(pgBinDir(), bin);
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
  return execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", ...options });
}

/**
 * Creates and starts a cluster; returns { dir, port, url, stop() }. `url` names the
 * `postgres` database as the `postgres` superuser over 127.0.0.1.
 */
export async function startCluster() {
  const why = pgUnavailable();
  if (why) throw new Error(`cannot start PostgreSQL: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), "reachprobe-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  asServerUser("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
  // initdb's pg_hba.conf trusts the local socket and loopback only; the server listens on
  // 127.0.0.1 and a socket in our own directory, nothing else.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const options = [
      `-p ${port}`, "-c listen_addresses=127.0.0.1", `-k ${dir}`,
      // A test cluster: durability is not the point, and 2 cores are shared.
      "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
      "-c max_connections=200", "-c shared_buffers=256MB", "-c max_locks_per_transaction=256",
    ].join(" ");
    try {
      asServerUser("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
    } catch (err) {
      if (attempt < 3) continue; // the port was taken between our probe and the server's bind
      throw new Error(`PostgreSQL did not start: ${err.stderr || err.message}`);
    }
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    const stop = () => {
      try {
        asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    };
    return { dir, port, url, stop };
  }
}

/** Stops a cluster started by startCluster() given its directory, and removes the directory. */
export function stopClusterAt(dir) {
  const data = join(dir, "data");
  if (existsSync(data)) {
    try {
      asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // already stopped
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
