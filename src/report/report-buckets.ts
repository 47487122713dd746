/**
 * The time axis of the report's timelines and the cells along it. With few runs there is one
 * cell per run; past `maxCells` runs (a year of hourly runs is 8,760) the runs fall into
 * fixed-width time buckets, and a bucket shows the worst status of its measurements.
 */
import type { Layer, Status } from "../analysis/verdict.js";
import { STATUS_RANK, STATUSES_WORST_FIRST } from "../analysis/status-words.js";

/** The most cells a timeline strip gets by default. */
export const MAX_CELLS = 400;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bucket widths tried in order, smallest first; each is a whole number of the unit it is named in. */
export const BUCKET_SIZES_MS: readonly number[] = [
  MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY,
];

/** How runs map to cells on one network's timeline. */
export type Axis =
  | {
      /** One cell per run, in run order. */
      mode: "run";
      cells: number;
      /** Start time of each run (ms), one per cell. */
      runTimes: readonly number[];
    }
  | {
      /** Fixed-width time buckets from `startMs`. */
      mode: "time";
      cells: number;
      startMs: number;
      bucketMs: number;
    };

/**
 * Picks the axis for runs started at `runTimesMs` (sorted, oldest first): a cell per run when
 * there are at most `maxCells` runs, else the narrowest bucket from BUCKET_SIZES_MS (or whole
 * days beyond them) that fits the span in `maxCells` cells. Buckets are aligned on the epoch in
 * UTC, so a day bucket is a UTC calendar day.
 */
export function chooseAxis(runTimesMs: readonly number[], maxCells: number = MAX_CELLS): Axis {
  if (!Number.isInteger(maxCells) || maxCells < 2) throw new RangeError(`maxCells must be an integer of at least 2, got ${maxCells}`);
  if (runTimesMs.length <= maxCells) return { mode: "run", cells: runTimesMs.length, runTimes: runTimesMs };
  const first = runTimesMs[0]!;
  const last = runTimesMs[runTimesMs.length - 1]!;
  const fits = (size: number) => Math.floor(last / size) - Math.floor(first / size) + 1 <= maxCells;
  let bucketMs = BUCKET_SIZES_MS.find(fits);
  if (bucketMs === undefined) {
    bucketMs = Math.ceil((last - first) / (maxCells - 1) / DAY) * DAY;
    while (!fits(bucketMs)) bucketMs += DAY;
  }
  const startMs = Math.floor(first / bucketMs) * bucketMs;
  return { mode: "time", cells: Math.floor((last - startMs) / bucketMs) + 1, startMs, bucketMs };
}

/** The cell of the run that is `runIndex`th (oldest first) on this axis and started at `timeMs`. */
export function cellOf(axis: Axis, runIndex: number, timeMs: number): number {
  return axis.mode === "run" ? runIndex : Math.floor((timeMs - axis.startMs) / axis.bucketMs);
}

/** The time span a cell covers, [from, to) in ms; a run cell covers the instant its run started. */
export function cellSpan(axis: Axis, cell: number): { from: number; to: number } {
  if (axis.mode === "run") {
    const t = axis.runTimes[cell]!;
    return { from: t, to: t };
  }
  const from = axis.startMs + cell * axis.bucketMs;
  return { from, to: from + axis.bucketMs };
}

/** A bucket width in words: "1 hour", "15 minutes", "7 days". */
export function durationWords(ms: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (ms % DAY === 0) return unit(ms / DAY, "day");
  if (ms % HOUR === 0) return unit(ms / HOUR, "hour");
  if (ms % MINUTE === 0) return unit(ms / MINUTE, "minute");
  return unit(Math.round(ms / 1000), "second");
}

/** What the legend says a cell is, e.g. "one cell per run" or "each cell is 1 day: the worst status of its runs". */
export function axisWords(axis: Axis): string {
  if (axis.mode === "run") return "one cell per run";
  return `each cell is ${durationWords(axis.bucketMs)}: the worst status measured in it`;
}

const LAYERS: readonly Layer[] = ["dns", "tcp", "tls", "http"];

/** What one cell ended up showing. */
export interface CellView {
  /** The worst status measured in the cell. */
  status: Status;
  layer: Layer | null;
  failure: string | null;
  /** How many measurements of each status fell in the cell. */
  counts: Record<Status, number>;
}

/**
 * The cells of one endpoint's strip, filled as measurements are counted. Typed arrays keep a
 * year of data for a hundred endpoints in a few megabytes. Measurements may arrive in any
 * order and in blocks of several (a stretch of runs with the same verdict): each addition
 * carries its position in time (`order`), and a cell's layer and failure are those of its
 * worst measurement that is latest by that position, whatever the order of the calls.
 */
export class StripCells {
  readonly size: number;
  // -1: not measured; otherwise a STATUS_RANK.
  private readonly worst: Int8Array;
  // 0: no layer; otherwise 1 + index in LAYERS.
  private readonly layer: Int8Array;
  private readonly failure: Array<string | null>;
  // Five counters a cell, indexed by STATUS_RANK.
  private readonly counts: Uint32Array;
  // The position in time of the measurement that names the cell's layer and failure.
  private readonly latest: Float64Array;
  // The position given to additions without one: the order of the calls.
  private calls = 0;

  constructor(size: number) {
    this.size = size;
    this.worst = new Int8Array(size).fill(-1);
    this.layer = new Int8Array(size);
    this.failure = new Array<string | null>(size).fill(null);
    this.counts = new Uint32Array(size * 5);
    this.latest = new Float64Array(size).fill(-Infinity);
  }

  /**
   * Adds `count` measurements with the same verdict to a cell, the latest of them at position
   * `order` (a run's index, say; by default the order of the calls). Among equally bad
   * measurements, the latest names the cell's layer and failure; at equal positions, the later call.
   */
  add(cell: number, status: Status, layer: Layer | null, failure: string | null, count = 1, order?: number): void {
    if (!(cell >= 0 && cell < this.size)) throw new RangeError(`cell ${cell} is outside 0..${this.size - 1}`);
    if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`count must be a whole number, got ${count}`);
    if (count === 0) return;
    const at = order ?? this.calls++;
    const rank = STATUS_RANK[status];
    this.counts[cell * 5 + rank]! += count;
    const worst = this.worst[cell]!;
    if (rank > worst || (rank === worst && at >= this.latest[cell]!)) {
      this.worst[cell] = rank;
      this.layer[cell] = layer ? LAYERS.indexOf(layer) + 1 : 0;
      this.failure[cell] = failure;
      this.latest[cell] = at;
    }
  }

  /** Whether anything was measured in the cell. */
  has(cell: number): boolean {
    return (this.worst[cell] ?? -1) >= 0;
  }

  /** Whether two cells show the same: status, layer, failure and counts (their times aside). */
  same(a: number, b: number): boolean {
    if (this.worst[a] !== this.worst[b] || this.layer[a] !== this.layer[b] || this.failure[a] !== this.failure[b]) return false;
    for (let s = 0; s < 5; s++) if (this.counts[a * 5 + s] !== this.counts[b * 5 + s]) return false;
    return true;
  }

  /** A text that two cells share exactly when they are the same (same()); the cell must be measured. */
  key(cell: number): string {
    const c = cell * 5;
    const f = this.failure[cell];
    return `${this.worst[cell]} ${this.layer[cell]} ${this.counts[c]} ${this.counts[c + 1]} ${this.counts[c + 2]} ${this.counts[c + 3]} ${this.counts[c + 4]} ${f === null ? "-" : `=${f}`}`;
  }

  /** The cell's content, or null when nothing was measured in it. */
  get(cell: number): CellView | null {
    const rank = this.worst[cell];
    if (rank === undefined || rank < 0) return null;
    const counts = {} as Record<Status, number>;
    for (const s of STATUSES_WORST_FIRST) counts[s] = this.counts[cell * 5 + STATUS_RANK[s]]!;
    const status = STATUSES_WORST_FIRST.find((s) => STATUS_RANK[s] === rank)!;
    const l = this.layer[cell]!;
    return { status, layer: l === 0 ? null : LAYERS[l - 1]!, failure: this.failure[cell] ?? null, counts };
  }
}
