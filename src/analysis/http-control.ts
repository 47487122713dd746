/**
 * HTTP analysis with the control helper: fetch failures the control does not share, redirects
 * to a domain the control never sees, and responses that differ from the control's (status,
 * body length, title, uncommon headers), as OONI's web-connectivity compares them.
 */
import type { HttpObservation } from "../probes/observation.js";
import type { ControlHttp } from "../probes/control-wire.js";
import type { AnalysisContext, Finding } from "./context.js";
import type { ControlView } from "./control-view.js";
import { httpSignatures } from "./http.js";
import { describeFailure } from "./words.js";

// Headers nearly every server sends; only the others say something about who answered.
const COMMON_HEADERS = new Set(
  "date content-type server cache-control vary set-cookie location expires x-powered-by content-encoding last-modified accept-ranges pragma x-frame-options etag x-content-type-options age via p3p x-xss-protection content-language cf-ray strict-transport-security link x-varnish connection content-length transfer-encoding keep-alive alt-svc".split(
    " ",
  ),
);

/** How the probe's final response compares with the control's; each field true when they agree. */
export interface HttpComparison {
  status: boolean;
  body: boolean;
  title: boolean;
  headers: boolean;
  /** Body length proportion, smaller over larger, 0..1. */
  proportion: number;
}

/** Compares a final response with the control's. */
export function compareWithControl(last: HttpObservation, c: ControlHttp): HttpComparison {
  const probeLen = last.bodyLength ?? 0;
  // A probe body cut at the cap is as long as the control's if the control's is longer still.
  const controlLen = last.bodyTruncated ? Math.min(c.body_length, probeLen) : c.body_length;
  const big = Math.max(probeLen, controlLen);
  const proportion = big === 0 ? 1 : Math.min(probeLen, controlLen) / big;
  const norm = (t: string | null | undefined) => (t ?? "").trim().toLowerCase();
  const uncommon = (h: Record<string, string> | undefined) => new Set(Object.keys(h ?? {}).map((k) => k.toLowerCase()).filter((k) => !COMMON_HEADERS.has(k)));
  const mine = uncommon(last.headers);
  const theirs = uncommon(c.headers);
  const headers = (mine.size === 0 && theirs.size === 0) || [...mine].some((k) => theirs.has(k));
  return { status: last.status === c.status_code, body: proportion > 0.7, title: norm(last.title) === norm(c.title), headers, proportion };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return "";
  }
}

/** Decides the HTTP layer with the helper's fetch; undefined when the helper did not fetch. */
export function analyzeHttpWithControl(hops: HttpObservation[], view: ControlView, ctx: AnalysisContext): Finding | null | undefined {
  if (hops.length === 0) return null;
  const sig = httpSignatures(hops, ctx);
  if (sig) return sig;
  const c = view.http;
  if (!c) return undefined;
  const last = hops[hops.length - 1]!;
  const controlSaw = c.failure === null ? `HTTP ${c.status_code}, ${c.body_length} bytes${c.title ? `, "${c.title}"` : ""}` : null;
  if (last.failure !== null) {
    const what = `GET ${last.url} over ${last.address} ${describeFailure(last.failure)}${last.note ? ` (${last.note})` : ""}`;
    if (controlSaw) return { status: "blocked", layer: "http", failure: last.failure, evidence: [`${what} here, but the control fetched it (${controlSaw})`] };
    return { status: "down", layer: "http", failure: last.failure, evidence: [`${what}, and the control's fetch failed too (${c.failure})`] };
  }
  if (!controlSaw) return undefined;

  if (c.x_urls && c.x_urls.length > 0) {
    const seen = new Set(c.x_urls.map(hostOf));
    const foreign = hops.map((h) => hostOf(h.url)).find((h) => h && !seen.has(h));
    if (foreign) {
      return {
        status: "blocked",
        layer: "http",
        failure: null,
        evidence: [`the probe was redirected to ${foreign}, where the control never went (its chain: ${c.x_urls.join(" -> ")})`],
      };
    }
  }
  const cmp = compareWithControl(last, c);
  if (cmp.status && (cmp.body || cmp.headers || cmp.title)) return null;
  const mine = `HTTP ${last.status}, ${last.bodyLength ?? 0} bytes${last.title ? `, "${last.title}"` : ""}`;
  const diffs = [!cmp.status && "status", !cmp.body && `body length (${Math.round(cmp.proportion * 100)}%)`, !cmp.title && "title", !cmp.headers && "uncommon headers"].filter(Boolean);
  return {
    status: "blocked",
    layer: "http",
    failure: null,
    evidence: [`${last.url} answered ${mine} here, but the control saw ${controlSaw}; they differ in ${diffs.join(", ")}`],
  };
}
