/** HTTP analysis without a control: block-page fingerprints, status 451, failed exchanges. */
import type { HttpObservation } from "../probes/observation.js";
import type { AnalysisContext, Finding } from "./context.js";
import { blockPageMatch, matchHttp } from "./fingerprints.js";
import { describeFailure } from "./words.js";

/** Block-page fingerprints and status 451 on any hop: blocked on their own, with or without a control. */
export function httpSignatures(hops: HttpObservation[], ctx: AnalysisContext): Finding | null {
  for (const h of hops) {
    if (h.status === undefined) continue;
    const m = blockPageMatch(matchHttp(ctx.fingerprints, { status: h.status, headers: h.headers ?? {}, bodySample: h.bodySample ?? "" }));
    if (m) return { status: "blocked", layer: "http", failure: null, evidence: [`${h.url}: ${m.evidence}`] };
    if (h.status === 451) {
      return { status: "blocked", layer: "http", failure: null, evidence: [`${h.url} answered HTTP 451 (Unavailable For Legal Reasons)${h.title ? `, titled "${h.title}"` : ""}`] };
    }
  }
  return null;
}

/** Analyses the hops of one fetch, in order; null when the chain ended in a plain response. */
export function analyzeHttp(hops: HttpObservation[], ctx: AnalysisContext): Finding | null {
  if (hops.length === 0) return null;
  const sig = httpSignatures(hops, ctx);
  if (sig) return sig;
  const last = hops[hops.length - 1]!;
  if (last.failure === null) return null;
  const where = last.status !== undefined ? `after HTTP ${last.status}, ` : "";
  const note = last.note ? `: ${last.note}` : "";
  return { status: "anomaly", layer: "http", failure: last.failure, evidence: [`GET ${last.url} over ${last.address} ${where}${describeFailure(last.failure)}${note}`] };
}
