/** Progress on stderr while a run works: a redrawn bar on a terminal, nothing otherwise. */
import type { Status } from "../analysis/verdict.js";
import { noColorAsked, paintFor, useColor, type Paint } from "./style.js";

/** Formats seconds left as "12 s", "3 min", "1 h 5 min". */
export function formatLeft(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** The progress line for a state: a bar, targets done, blocked so far, time left. */
export function progressLine(done: number, total: number, blocked: number, elapsedMs: number, width: number, p: Paint): string {
  const cells = Math.max(10, Math.min(30, width - 60));
  const filled = total > 0 ? Math.round((done / total) * cells) : cells;
  const bar = `${"█".repeat(filled)}${"░".repeat(cells - filled)}`;
  const b = blocked > 0 ? p.red(`${blocked} blocked`) : "0 blocked";
  const estimate = done > 0 ? ((elapsedMs / done) * (total - done)) / 1000 : null;
  // The average says nothing about the last targets: they are the slow ones, still inside their
  // budget. "About 0 s left" with targets in flight is not true; say what is going on instead.
  const left = estimate === null ? "about … left" : estimate < 1 && done < total ? `waiting for the last ${total - done}` : `about ${formatLeft(estimate)} left`;
  return `${bar} ${done}/${total} targets, ${b}, ${left}`;
}

/** Least time between two redraws on a finished target: a terminal write per target costs more than it shows. */
export const REDRAW_MS = 100;

/** Counts finished targets and redraws one status line on a terminal, at most every REDRAW_MS. */
export class Progress {
  private done_ = 0;
  private blocked = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly live: boolean;
  private readonly paint: Paint;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly total: number,
    enabled: boolean,
    private readonly clock: () => number = Date.now,
  ) {
    // NO_COLOR (and --no-color) means plain output: no bar either (docs/volunteers.md).
    this.live = enabled && Boolean(out.isTTY) && !noColorAsked();
    this.paint = paintFor(useColor(out));
    // Redraw once a second too, so "time left" moves while slow targets run.
    if (this.live) this.timer = setInterval(() => this.draw(), 1000).unref();
  }

  private draw(): void {
    if (!this.live) return;
    this.lastDraw = this.clock();
    this.out.write(`\r\u001b[2K${progressLine(this.done_, this.total, this.blocked, Date.now() - this.started, this.out.columns ?? 80, this.paint)}`);
  }

  /** Records one finished target; redraws unless the line was drawn less than REDRAW_MS ago (the last target always redraws). */
  tick(status: Status): void {
    this.done_++;
    if (status === "blocked") this.blocked++;
    if (this.done_ >= this.total || this.clock() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  /** Prints a message on its own line, above the progress line. */
  note(message: string): void {
    this.out.write(`${this.live ? "\r\u001b[2K" : ""}reachprobe: ${message}\n`);
    this.draw();
  }

  /** Clears the progress line. */
  done(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.live) this.out.write("\r\u001b[2K");
  }
}
