/** Pushing a probe's database to the fleet collector, for `reachprobe push` and `run --push` (docs/fleet.md). */
import { existsSync, readFileSync } from "node:fs";
import { UsageError } from "../base/errors.js";
import { push, PushError, type PushSummary } from "../collector/push.js";
import { Store } from "../store/store.js";
import { EXIT, reportError } from "./exit-codes.js";
import { say } from "./say.js";

/** The flags of `push` (and of `run --push`). */
export interface PushFlags {
  to?: string;
  tokenFile?: string;
  db: string;
  batchSize?: number;
  tries?: number;
  quiet?: boolean;
  /** false with --no-scrub: bodies and headers sent as measured, addresses included. */
  scrub?: boolean;
}

/** The token: from --token-file, else $REACHPROBE_PUSH_TOKEN. */
export function pushToken(flags: { tokenFile?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.tokenFile !== undefined) {
    const t = readFileSync(flags.tokenFile, "utf8").trim();
    if (!t) throw new UsageError(`${flags.tokenFile} is empty; it should hold the token that reachprobe collector token add printed`);
    return t;
  }
  const t = env.REACHPROBE_PUSH_TOKEN?.trim();
  if (!t) throw new UsageError("push needs a token: --token-file FILE or REACHPROBE_PUSH_TOKEN (reachprobe collector token add NAME makes one)");
  return t;
}

function pushUrl(to: string | undefined): string {
  if (!to) throw new UsageError("push needs the collector's URL: --to URL or REACHPROBE_PUSH_URL");
  let u: URL;
  try {
    u = new URL(to);
  } catch {
    throw new UsageError(`--to must be a URL such as https://collector.example:8443, got "${to}"`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new UsageError(`--to must be an http(s) URL, got "${to}"`);
  return to;
}

/** The line a push ends with. */
export function formatPushSummary(s: PushSummary): string {
  return `${s.measurementsSent} measurement${s.measurementsSent === 1 ? "" : "s"} sent in ${s.batches} batch${s.batches === 1 ? "" : "es"} (${s.measurementsAdded} new to the collector, ${s.measurementsDuplicate} it had already), ${s.runsSent} run${s.runsSent === 1 ? "" : "s"} sent`;
}

/** Pushes `flags.db` to the collector; returns the exit code (0 done, 1 failed or refused, 2 usage). */
export async function pushMain(flags: PushFlags, command = "push"): Promise<number> {
  let store: Store;
  try {
    const url = pushUrl(flags.to);
    const token = pushToken(flags);
    if (!existsSync(flags.db)) throw new UsageError(`no database at ${flags.db}: nothing to push`);
    store = Store.open(flags.db);
    try {
      const summary = await push(store.db, {
        url,
        token,
        ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
        ...(flags.tries !== undefined ? { tries: flags.tries } : {}),
        // Scrubbed unless asked not to (docs/fleet.md, "Scrubbing"): the collector is someone else's disk.
        scrub: flags.scrub !== false,
        onProgress: (e) => {
          if (e.kind === "retry") say(`try ${e.attempt} failed (${e.reason}); trying again in ${Math.round(e.waitMs / 1000)} s`);
        },
      });
      if (!flags.quiet) say(formatPushSummary(summary));
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof PushError)) throw err;
      process.stderr.write(`reachprobe: ${err.message}\nreachprobe: before that: ${formatPushSummary(err.summary)}\n`);
      return EXIT.FAILURE;
    } finally {
      store.close();
    }
  } catch (err) {
    return reportError(command, err);
  }
}

