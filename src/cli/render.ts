/** Human output of a run: one line per endpoint grouped by service, evidence for anything not ok. */
import type { Status, Verdict } from "../analysis/verdict.js";
import type { ServiceSummary } from "../analysis/service.js";
import type { Paint } from "./style.js";
import { countsWords, serviceStatusWords, STATUS_MARK, STATUS_RANK, STATUS_TONE, statusWords } from "../analysis/status-words.js";

export { statusWords };

/** The little a line needs of a result. */
export interface ResultLine {
  target: string;
  service: string;
  verdict: Verdict;
}

/** The terminal colour of a status's tone. */
export function statusPaint(p: Paint, s: Status): (x: string) => string {
  const tone = STATUS_TONE[s];
  return tone === "good" ? p.green : tone === "bad" ? p.red : tone === "warn" ? p.yellow : p.gray;
}

/** Describes a service summary in a sentence: "WeChat: partly blocked, 5 of 17 endpoints blocked, 2 suspicious, 10 reachable". */
export function serviceLine(s: ServiceSummary): string {
  return `${s.service}: ${serviceStatusWords(s.status)}, ${countsWords(s.counts, s.endpoints)}`;
}

/** Renders the whole report as text lines. */
export function renderHuman(results: readonly ResultLine[], services: readonly ServiceSummary[], p: Paint): string {
  return [...renderHumanChunks(results, services, p)].join("");
}

/** Lines written at a time by renderHumanChunks. */
const CHUNK_LINES = 4096;

/**
 * The same report in pieces of some thousand lines, so that a long run's report is written as it
 * is made: 100,000 targets' report held whole at the end of a run took some 65 MB more (the
 * chaos suite's 100k-target row went past its 256 MB).
 */
export function* renderHumanChunks(results: readonly ResultLine[], services: readonly ServiceSummary[], p: Paint): Generator<string> {
  // A reduce, not Math.max(...list): spreading 200,000 results overflows the stack.
  const width = Math.min(60, results.reduce((w, r) => Math.max(w, r.target.length), 10));
  let first = true;
  for (const s of services) {
    let out: string[] = [];
    // A blank line between services, none before the first: a report starts with its first line.
    if (!first) out.push("");
    first = false;
    out.push(p.bold(serviceLine(s)));
    const rows = results.filter((r) => r.service === s.service);
    rows.sort((a, b) => STATUS_RANK[b.verdict.status] - STATUS_RANK[a.verdict.status] || a.target.localeCompare(b.target));
    for (const r of rows) {
      const c = statusPaint(p, r.verdict.status);
      out.push(`  ${c(STATUS_MARK[r.verdict.status])} ${r.target.padEnd(width)}  ${c(statusWords(r.verdict))}`);
      for (const e of r.verdict.evidence.slice(0, 4)) out.push(p.gray(`      ${e}`));
      if (out.length >= CHUNK_LINES) {
        yield out.join("\n") + "\n";
        out = [];
      }
    }
    if (out.length) yield out.join("\n") + "\n";
  }
}
