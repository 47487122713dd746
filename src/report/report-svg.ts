/**
 * The report's inline SVG: an endpoint's timeline strip (one rect a cell, each with a
 * `<title>` that a pointer shows) and a service's bar of endpoint counts. Sizes come from a
 * viewBox stretched to the page's width, so the charts follow any screen or paper.
 */
import type { Status } from "../analysis/verdict.js";
import { cellSpan, durationWords, type Axis, type CellView, type StripCells } from "./report-buckets.js";
import { escapeHtml, formatTime } from "./report-format.js";
import { cellKind } from "./report-palette.js";
import { countsWords, STATUSES_WORST_FIRST, statusWords } from "../analysis/status-words.js";

/** Up to this many cells a strip leaves a gap between cells; beyond, cells touch. */
export const SPARSE_CELLS = 60;

// The time part of each cell's hover text, as text and as HTML, made once per axis: a year's
// strips share 365 of them, and formatting a time for each of their 110,000 cells was most of
// the page's cost. `from` and `to` are a time bucket's two ends (HTML), which a rect across
// several buckets joins: formatting those per rect was a twentieth of a year's report.
interface CellTimes {
  text: string[];
  html: string[];
  from: string[];
  to: string[];
}
const cellTimes = new WeakMap<Axis, CellTimes>();

function cellTimesOf(axis: Axis): CellTimes {
  let times = cellTimes.get(axis);
  if (!times) {
    times = { text: [], html: [], from: [], to: [] };
    for (let i = 0; i < axis.cells; i++) {
      const span = cellSpan(axis, i);
      const from = formatTime(span.from).replace(/ UTC$/, "");
      const to = formatTime(span.to);
      const text = axis.mode === "run" ? formatTime(span.from, true) : `${from} – ${to}`;
      times.text.push(text);
      times.html.push(escapeHtml(text));
      times.from.push(escapeHtml(from));
      times.to.push(escapeHtml(to));
    }
    cellTimes.set(axis, times);
  }
  return times;
}

// A cell's class and the rest of its hover text (HTML), by its content (StripCells.key) and the
// axis's mode, made once: a year's strips are 54,000 rects of a few hundred different contents.
const cellTexts = { run: new Map<string, [string, string]>(), time: new Map<string, [string, string]>() };

/** What follows the time in a cell's hover text: status, failure, and for a bucket its counts. */
function restOf(axis: Axis, v: CellView): string {
  let rest = ` · ${axis.mode === "run" ? "" : "worst: "}${statusWords(v)}`;
  if (v.failure) rest += ` · ${v.failure}`;
  if (axis.mode === "time") {
    const n = v.counts.ok + v.counts.blocked + v.counts.anomaly + v.counts.down + v.counts.inconclusive;
    rest += ` · ${n} measurement${n === 1 ? "" : "s"}: ${countsWords(v.counts)}`;
  }
  return rest;
}

/** The hover text of one cell: when, the status in words, the failure, and for a bucket what it holds. */
export function cellTitle(axis: Axis, cell: number, cells: StripCells): string | null {
  const v = cells.get(cell);
  return v ? (cellTimesOf(axis).text[cell] ?? "") + restOf(axis, v) : null;
}

/**
 * One endpoint's strip: a rect for every measured cell; unmeasured cells show the track behind.
 * On a time axis (a long period, one cell a bucket) neighbouring buckets that show the same
 * (status, layer, failure and counts) are one rect across them, with one hover text saying how
 * many: a year of daily cells for a thousand endpoints was 365,000 rects, a 79 MB page that
 * took half a second to write and longer for a browser to open; a stable endpoint is now a few.
 * One cell a run (a short period) keeps a rect a run, each with its run's time.
 */
export function stripSvg(axis: Axis, cells: StripCells, label: string): string {
  const { html: times, from, to } = cellTimesOf(axis);
  const texts = cellTexts[axis.mode];
  let rects = "";
  let measured = 0;
  // A cell like the one before it (a week of ok days) reuses its class and text.
  let previous = -1;
  let kind = "";
  let rest = "";
  for (let i = 0; i < axis.cells; i++) {
    if (!cells.has(i)) continue;
    measured++;
    if (previous < 0 || !cells.same(i, previous)) {
      const key = cells.key(i);
      let text = texts.get(key);
      if (!text) {
        const v = cells.get(i)!;
        texts.set(key, (text = [cellKind(v.status, v.layer), escapeHtml(restOf(axis, v))]));
      }
      [kind, rest] = text;
    }
    previous = i;
    let n = 1;
    if (axis.mode === "time") while (i + n < axis.cells && cells.has(i + n) && cells.same(i + n, i)) n++;
    if (n === 1) {
      rects += `<rect x="${i}" width="1" height="1" class="k-${kind}"><title>${times[i]}${rest}</title></rect>`;
      continue;
    }
    measured += n - 1;
    previous = i + n - 1;
    const span = `${from[i]} – ${to[i + n - 1]}`;
    const bucket = axis.mode === "time" ? durationWords(axis.bucketMs) : "";
    rects += `<rect x="${i}" width="${n}" height="1" class="k-${kind}"><title>${span} · ${n} cells of ${bucket}, each:${rest.replace(/^ ·/, "")}</title></rect>`;
    i += n - 1;
  }
  const sparse = axis.cells <= SPARSE_CELLS ? " sparse" : "";
  const aria = `${label}: ${measured} of ${axis.cells} cells measured`;
  // preserveAspectRatio none: the strip is as wide as its column and as tall as CSS says;
  // crispEdges keeps thin neighbouring cells from blurring into each other.
  return `<svg class="strip${sparse}" viewBox="0 0 ${Math.max(axis.cells, 1)} 1" preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="${escapeHtml(aria)}">${rects}</svg>`;
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
    rects.push(`<rect x="${x}" width="${n}" height="1" class="k-${kind}"><title>${n} ${escapeHtml(statusWords({ status: s, layer: null }))}</title></rect>`);
    x += n;
  }
  return `<svg class="bar" viewBox="0 0 ${Math.max(total, 1)} 1" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(countsWords(counts))}">${rects.join("")}</svg>`;
}
