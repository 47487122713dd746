/**
 * Runs every doctor check in a fixed order and returns one Check a line. The I/O lives in
 * DoctorDeps (swappable in tests) and in inspect-database.ts / probe-endpoints.ts; the
 * judgements are the pure functions of the files beside this one.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defaultDbPath } from "../store/db-path.js";
import { hostname } from "node:os";
import { rootCertificates } from "node:tls";
import { X509Certificate } from "node:crypto";
import { CURRENT_SCHEMA_VERSION } from "../store/schema.js";
import { hashHostname, isProcessAlive, processStartTime } from "../base/process-identity.js";
import { lockPathFor, readLockFile } from "../store/lock.js";
import { check, type Check } from "./check.js";
import { judgeBundledCa, judgeExtraCa } from "./ca.js";
import { BUILD_FLOOR, judgeClock } from "./clock.js";
import { judgeDatabase } from "./database.js";
import { judgeControl, judgeDns } from "./endpoints.js";
import { inspectDatabase } from "./inspect-database.js";
import { judgeLock, type LockInput } from "./lock.js";
import { probeControl, probeDoh, probeResolver } from "./probe-endpoints.js";
import { judgeRoute, type RouteTables } from "./route.js";
import { fdsPerTarget, judgeFdLimit, judgeNodeVersion, parseOpenFilesLimit } from "./runtime.js";

/** What to check: the same database and endpoints a run would use. */
export interface DoctorSettings {
  db: string;
  control?: string;
  controlToken?: string;
  doh: string[];
  resolvers: Array<{ host: string; port: number }>;
  /** The name asked of each DoH endpoint and resolver (only ever sent to them). */
  dohProbeName: string;
  /** Bound on each network exchange, ms. */
  timeoutMs: number;
  /** The --concurrency the open-file limit is judged against. */
  concurrency: number;
  /** integrity_check instead of quick_check. */
  full: boolean;
}

/** A file's text, or why it could not be read; undefined when it does not exist. */
export type FileRead = { text: string } | { code: string | undefined; message: string } | undefined;

/** Everything the checks read from the machine. */
export interface DoctorDeps {
  now: () => Date;
  env: NodeJS.ProcessEnv;
  nodeVersion: string;
  /** package.json's engines.node. */
  engines: string | undefined;
  /** This reachprobe's version. */
  version: string;
  hostHash: string;
  isAlive: (pid: number) => boolean;
  /** A live process's start time in clock ticks since boot (Linux), as the lock records it. */
  procStartOf: (pid: number) => number | null;
  /** A live process's command line, when the platform tells (Linux /proc). */
  commandOf: (pid: number) => string | null;
  readFile: (path: string) => FileRead;
  /** Reads the run lock as a run does (src/store/lock.ts). */
  readLock: (path: string) => LockInput["file"];
  /** /proc/self/limits or null where there is none. */
  procLimits: () => string | null;
  /** Node's bundled CA certificates (tls.rootCertificates). */
  rootCertificates: readonly string[];
  /** Node's own flags, where --use-openssl-ca would show. */
  execArgv: readonly string[];
  /** The routing tables (Linux /proc/net), read without sending anything. */
  routes: () => RouteTables;
}

/** Reads a file as text, telling "absent" (undefined) from "unreadable". */
export function readFileFact(path: string): FileRead {
  try {
    return { text: readFileSync(path, "utf8") };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") return undefined;
    return { code: e.code, message: e.message };
  }
}

function commandOfPid(pid: number): string | null {
  if (process.platform !== "linux") return null;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    if (args.length === 0) return null;
    const text = args.join(" ");
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return null;
  }
}

/** The real machine. */
export function defaultDeps(version: string, engines: string | undefined): DoctorDeps {
  return {
    now: () => new Date(),
    env: process.env,
    nodeVersion: process.versions.node,
    engines,
    version,
    hostHash: hashHostname(hostname()),
    isAlive: isProcessAlive,
    procStartOf: processStartTime,
    commandOf: commandOfPid,
    readFile: readFileFact,
    readLock: (path) => {
      try {
        return readLockFile(path);
      } catch (err) {
        return { code: (err as NodeJS.ErrnoException).code, message: (err as Error).message };
      }
    },
    procLimits: () => {
      if (process.platform !== "linux") return null;
      const r = readFileFact("/proc/self/limits");
      return r && "text" in r ? r.text : null;
    },
    rootCertificates,
    execArgv: process.execArgv,
    routes: () => {
      const text = (path: string) => {
        const r = readFileFact(path);
        return r && "text" in r ? r.text : null;
      };
      return { v4: text("/proc/net/route"), v6: text("/proc/net/ipv6_route") };
    },
  };
}

/** The newest `notBefore` among Node's bundled CAs: this Node was built after it. */
function newestRootNotBefore(roots: readonly string[]): Date | null {
  let newest: Date | null = null;
  for (const pem of roots) {
    try {
      const d = new Date(new X509Certificate(pem).validFrom);
      if (!Number.isNaN(d.getTime()) && (newest === null || d > newest)) newest = d;
    } catch {
      // A root Node cannot parse tells nothing about the date.
    }
  }
  return newest;
}

/** The checks that contact configured servers; a "not configured" line for each kind with none. */
async function endpointChecks(s: DoctorSettings, deps: DoctorDeps): Promise<Check[]> {
  const jobs: Array<Promise<Check>> = [];
  if (s.control) jobs.push(probeControl(s.control, s.controlToken, s.timeoutMs).then((f) => judgeControl(f, deps.version)));
  else jobs.push(Promise.resolve(check("control", "skip", "no control helper configured (--control): nothing contacted; without one, failures are reported as anomalies, not as blocking")));
  for (const url of s.doh) jobs.push(probeDoh(url, s.dohProbeName, s.timeoutMs).then(judgeDns));
  if (s.doh.length === 0) jobs.push(Promise.resolve(check("doh", "skip", "no DoH endpoint configured (--doh): nothing contacted")));
  for (const r of s.resolvers) jobs.push(probeResolver(r, s.dohProbeName, s.timeoutMs).then(judgeDns));
  if (s.resolvers.length === 0) jobs.push(Promise.resolve(check("resolver", "skip", "no UDP resolver configured (--resolver): nothing contacted")));
  return Promise.all(jobs);
}

/** Runs every check and returns them in display order. */
export async function runDoctor(s: DoctorSettings, deps: DoctorDeps): Promise<Check[]> {
  const now = deps.now();
  // Started first: the network checks wait on servers while the local ones run.
  const network = endpointChecks(s, deps);
  const checks: Check[] = [];

  checks.push(judgeRoute(deps.routes()));
  checks.push(judgeNodeVersion(deps.nodeVersion, deps.engines));
  const limits = deps.procLimits();
  checks.push(judgeFdLimit(limits === null ? null : parseOpenFilesLimit(limits), s.concurrency, fdsPerTarget(s.resolvers.length, s.doh.length)));

  const dbFacts = inspectDatabase(s.db, { full: s.full, hostHash: deps.hostHash, isAlive: deps.isAlive, isDefault: resolve(s.db) === defaultDbPath() });
  const lastRun = dbFacts.runs && "last" in dbFacts.runs && dbFacts.runs.last ? new Date(dbFacts.runs.last.startedAt) : null;
  const rootsFloor = newestRootNotBefore(deps.rootCertificates);
  checks.push(
    judgeClock({
      now,
      floors: [{ what: "this reachprobe's release", at: BUILD_FLOOR }, ...(rootsFloor ? [{ what: "the newest of Node's bundled CA certificates", at: rootsFloor }] : [])],
      lastRunAt: lastRun,
    }),
  );
  checks.push(judgeBundledCa({ count: deps.rootCertificates.length, nodeOptions: [deps.env.NODE_OPTIONS ?? "", ...deps.execArgv].join(" ").trim(), rejectUnauthorized: deps.env.NODE_TLS_REJECT_UNAUTHORIZED }));
  const extra = deps.env.NODE_EXTRA_CA_CERTS;
  const extraFile = extra ? (deps.readFile(extra) ?? { code: "ENOENT", message: "no such file" }) : undefined;
  checks.push(judgeExtraCa({ path: extra, ...(extraFile ? { file: extraFile } : {}), now }));

  checks.push(...judgeDatabase(dbFacts, { currentVersion: CURRENT_SCHEMA_VERSION, now }));
  const lockPath = lockPathFor(s.db);
  checks.push(judgeLock({ path: lockPath, file: deps.readLock(lockPath), hostHash: deps.hostHash, isAlive: deps.isAlive, procStartOf: deps.procStartOf, commandOf: deps.commandOf, now }));

  checks.push(...(await network));
  return checks;
}
