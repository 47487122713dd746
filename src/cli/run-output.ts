/** What `run` writes to stdout: the streamed --json document, or the human report. */
import type { TargetResult } from "../runner/runner.js";
import type { ServiceSummary } from "../analysis/service.js";
import { renderHumanChunks, type ResultLine } from "./render.js";
import { paintFor, useColor } from "./style.js";

/** Writes the --json document as results arrive, so memory stays flat for long lists. */
export class JsonStream {
  private first = true;
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    out.write('{"results":[');
  }

  /** Writes some targets' results, in one write (to a file or a pipe, each write is a system call). */
  results(rs: readonly TargetResult[]): void {
    let text = "";
    for (const r of rs) {
      const doc = { target: r.target.input, ...(r.target.unicodeHost ? { unicode_host: r.target.unicodeHost } : {}), service: r.target.service, ...r.verdict, started_at: r.startedAt.toISOString(), duration_ms: r.durationMs, observations: r.observations, control: r.control };
      text += (this.first ? "\n" : ",\n") + JSON.stringify(doc);
      this.first = false;
    }
    if (text) this.out.write(text);
  }

  /** Closes the document with the run and the service summaries. */
  end(run: unknown, services: unknown): void {
    this.out.write(`\n],\n"run":${JSON.stringify(run)},\n"services":${JSON.stringify(services)}}\n`);
  }
}

/** What the human report needs to know about the run as a whole. */
export interface HumanSummary {
  measured: number;
  total: number;
  seconds: number;
  db: string | null;
  runId: string | null;
  /** Set when the preflight found the network down: one clear message replaces the list. */
  networkDown: string | null;
  /** --quiet: only what needs a human (blocked and suspicious endpoints), nothing when all is well. */
  quiet: boolean;
  /** How the run was stopped early ("interrupted (Ctrl-C)"), or null when it ran to the end. */
  interrupted: string | null;
}

/**
 * Writes the pieces in order, each once the stream has taken the one before: to a pipe that a
 * slow reader empties, writing them all at once kept the whole report queued in memory (a
 * 100,000-target report, 14 MB, cost some 40 MB more RSS than to a file).
 */
async function writePieces(out: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (out.write(piece)) continue;
    // A closed or broken stdout says so with close or error, not drain: stop waiting then too.
    const gone = await new Promise<boolean>((resolve) => {
      const done = (closed: boolean) => () => {
        out.off("drain", onDrain);
        out.off("close", onClose);
        out.off("error", onClose);
        resolve(closed);
      };
      const onDrain = done(false);
      const onClose = done(true);
      out.once("drain", onDrain);
      out.once("close", onClose);
      out.once("error", onClose);
    });
    if (gone) return;
  }
}

/** Prints the human report on stdout. */
export async function printHuman(lines: ResultLine[], services: ServiceSummary[], s: HumanSummary): Promise<void> {
  const out = process.stdout;
  const paint = paintFor(useColor(out));
  if (s.networkDown) {
    out.write(`${paint.bold("Your network seems down")}: ${s.networkDown}.\n`);
    out.write(`Nothing was measured; the ${s.total} targets are recorded as "can't tell". Check your connection and run again.\n`);
    return;
  }
  if (s.quiet) {
    const flagged = lines.filter((l) => l.verdict.status === "blocked" || l.verdict.status === "anomaly");
    if (flagged.length === 0) return;
    const names = new Set(flagged.map((l) => l.service));
    await writePieces(out, renderHumanChunks(flagged, services.filter((x) => names.has(x.service)), paint));
    return;
  }
  if (lines.length) {
    await writePieces(out, renderHumanChunks(lines, services, paint));
    out.write("\n");
  }
  const where = s.db ? ` Stored in ${s.db} (run ${s.runId}).` : " Nothing stored (--no-store).";
  const how = s.interrupted ? `, then ${paint.bold(s.interrupted)}: the other ${s.total - s.measured} were not measured` : "";
  out.write(`${s.measured} of ${s.total} targets measured in ${s.seconds.toFixed(1)} s${how}.${where}\n`);
}
