/**
 * The report's inline SVG: an endpoint's timeline strip (one rect a cell, each with a
 * `<title>` that a pointer shows) and a service's bar of endpoint counts. Sizes come from a
 * viewBox stretched to the page's width, so the charts follow any screen or paper.
 */
import type { Status } from "../analysis/verdict.js";
import { cellSpan, type Axis, type StripCells } from "./report-buckets.js";
import { escapeHtml, formatTime } from "./report-format.js";
import { cellKind, statusLabel, STATUSES_WORST_FIRST } from "./report-palette.js";

/** Up to this many cells a strip leaves a gap between cells; beyond, cells touch. */
export const SPARSE_CELLS = 60;

function countsWords(counts: Record<Status, number>): string {
  return STATUSES_WORST_FIRST.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s === "anomaly" ? "suspicious" : s === "inconclusive" ? "can't tell" : s}`)
    .join(", ");
}

/** The hover text of one cell: when, the status in words, the failure, and for a bucket what it holds. */
export function cellTitle(axis: Axis, cell: number, cells: StripCells): string | null {
  const v = cells.get(cell);
  if (!v) return null;
  const span = cellSpan(axis, cell);
  const parts: string[] = [];
  if (axis.mode === "run") {
    parts.push(formatTime(span.from, true), statusLabel(v.status, v.layer));
  } else {
    parts.push(`${formatTime(span.from).replace(/ UTC$/, "")} – ${formatTime(span.to)}`, `worst: ${statusLabel(v.status, v.layer)}`);
  }
  if (v.failure) parts.push(v.failure);
  if (axis.mode === "time") {
    const n = Object.values(v.counts).reduce((a, b) => a + b, 0);
    parts.push(`${n} measurement${n === 1 ? "" : "s"}: ${countsWords(v.counts)}`);
  }
  return parts.join(" · ");
}

/** One endpoint's strip: a rect for every measured cell; unmeasured cells show the track behind. */
export function stripSvg(axis: Axis, cells: StripCells, label: string): string {
  const out: string[] = [];
  let measured = 0;
  for (let i = 0; i < axis.cells; i++) {
    const v = cells.get(i);
    if (!v) continue;
    measured++;
    const title = cellTitle(axis, i, cells)!;
    out.push(`<rect x="${i}" width="1" height="1" class="k-${cellKind(v.status, v.layer)}"><title>${escapeHtml(title)}</title></rect>`);
  }
  const sparse = axis.cells <= SPARSE_CELLS ? " sparse" : "";
  const aria = `${label}: ${measured} of ${axis.cells} cells measured`;
  // preserveAspectRatio none: the strip is as wide as its column and as tall as CSS says;
  // crispEdges keeps thin neighbouring cells from blurring into each other.
  return `<svg class="strip${sparse}" viewBox="0 0 ${Math.max(axis.cells, 1)} 1" preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="${escapeHtml(aria)}">${out.join("")}</svg>`;
}

/** A service's endpoints as a stacked bar, worst first. */
export function countsBarSvg(counts: Record<Status, number>): string {
  const total = STATUSES_WORST_FIRST.reduce((n, s) => n + counts[s], 0);
  let x = 0;
  const rects: string[] = [];
  for (const s of STATUSES_WORST_FIRST) {
    const n = counts[s];
    if (n === 0) continue;
    const kind = s === "blocked" ? "blocked-tls" : s;
    rects.push(`<rect x="${x}" width="${n}" height="1" class="k-${kind}"><title>${n} ${escapeHtml(statusLabel(s, null))}</title></rect>`);
    x += n;
  }
  return `<svg class="bar" viewBox="0 0 ${Math.max(total, 1)} 1" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(countsWords(counts))}">${rects.join("")}</svg>`;
}
