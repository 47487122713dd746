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
  const out: string[] = [];
  // A reduce, not Math.max(...list): spreading 200,000 results overflows the stack.
  const width = Math.min(60, results.reduce((w, r) => Math.max(w, r.target.length), 10));
  for (const s of services) {
    // A blank line between services, none before the first: a report starts with its first line.
    if (out.length) out.push("");
    out.push(p.bold(serviceLine(s)));
    const rows = results.filter((r) => r.service === s.service);
    rows.sort((a, b) => STATUS_RANK[b.verdict.status] - STATUS_RANK[a.verdict.status] || a.target.localeCompare(b.target));
    for (const r of rows) {
      const c = statusPaint(p, r.verdict.status);
      out.push(`  ${c(STATUS_MARK[r.verdict.status])} ${r.target.padEnd(width)}  ${c(statusWords(r.verdict))}`);
      for (const e of r.verdict.evidence.slice(0, 4)) out.push(p.gray(`      ${e}`));
    }
  }
  return out.join("\n") + "\n";
}
