/** Human output of a run: one line per endpoint grouped by service, evidence for anything not ok. */
import type { Status, Verdict } from "../analysis/verdict.js";
import type { ServiceSummary } from "../analysis/service.js";
import type { Paint } from "./style.js";

/** The little a line needs of a result. */
export interface ResultLine {
  target: string;
  service: string;
  verdict: Verdict;
}

/** A verdict in plain words, e.g. "BLOCKED at DNS". */
export function statusWords(v: Pick<Verdict, "status" | "layer">): string {
  const layer = v.layer ? v.layer.toUpperCase() : "";
  switch (v.status) {
    case "ok":
      return "reachable";
    case "blocked":
      return `BLOCKED at ${layer}`;
    case "anomaly":
      return `suspicious at ${layer}`;
    case "down":
      return "down (not censorship)";
    case "inconclusive":
      return "can't tell";
  }
}

const MARK: Record<Status, string> = { ok: "✓", blocked: "✗", anomaly: "!", down: "-", inconclusive: "?" };

function colourOf(p: Paint, s: Status): (x: string) => string {
  return s === "ok" ? p.green : s === "blocked" ? p.red : s === "anomaly" ? p.yellow : p.gray;
}

/** Describes a service summary in a sentence: "WeChat: partly blocked, 5 of 17 endpoints blocked, 2 suspicious, 10 reachable". */
export function serviceLine(s: ServiceSummary): string {
  const parts: string[] = [];
  if (s.counts.blocked) parts.push(`${s.counts.blocked} of ${s.endpoints} blocked`);
  if (s.counts.anomaly) parts.push(`${s.counts.anomaly} suspicious`);
  if (s.counts.ok) parts.push(`${s.counts.ok} reachable`);
  if (s.counts.down) parts.push(`${s.counts.down} down`);
  if (s.counts.inconclusive) parts.push(`${s.counts.inconclusive} can't tell`);
  return `${s.service}: ${s.status}, ${parts.join(", ")}`;
}

/** Renders the whole report as text lines. */
export function renderHuman(results: readonly ResultLine[], services: readonly ServiceSummary[], p: Paint): string {
  const out: string[] = [];
  // A reduce, not Math.max(...list): spreading 200,000 results overflows the stack.
  const width = Math.min(60, results.reduce((w, r) => Math.max(w, r.target.length), 10));
  for (const s of services) {
    out.push("", p.bold(serviceLine(s)));
    const rows = results.filter((r) => r.service === s.service);
    const order: Status[] = ["blocked", "anomaly", "inconclusive", "down", "ok"];
    rows.sort((a, b) => order.indexOf(a.verdict.status) - order.indexOf(b.verdict.status) || a.target.localeCompare(b.target));
    for (const r of rows) {
      const c = colourOf(p, r.verdict.status);
      out.push(`  ${c(MARK[r.verdict.status])} ${r.target.padEnd(width)}  ${c(statusWords(r.verdict))}`);
      for (const e of r.verdict.evidence.slice(0, 4)) out.push(p.gray(`      ${e}`));
    }
  }
  return out.join("\n") + "\n";
}
