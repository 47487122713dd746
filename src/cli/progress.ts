/** Progress on stderr while a run works: a redrawn line on a TTY, nothing otherwise. */
import type { Status } from "../analysis/verdict.js";

/** Counts finished targets and redraws one status line on a terminal. */
export class Progress {
  private done_ = 0;
  private blocked = 0;
  private readonly started = Date.now();
  private readonly live: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly total: number,
    enabled: boolean,
  ) {
    this.live = enabled && Boolean(out.isTTY);
  }

  /** Records one finished target and redraws. */
  tick(status: Status): void {
    this.done_++;
    if (status === "blocked") this.blocked++;
    if (!this.live) return;
    const elapsed = (Date.now() - this.started) / 1000;
    const left = this.done_ > 0 ? Math.round((elapsed / this.done_) * (this.total - this.done_)) : 0;
    this.out.write(`\r\u001b[2Kprobing: ${this.done_}/${this.total} done, ${this.blocked} blocked, about ${left} s left`);
  }

  /** Prints a message on its own line, above the progress line. */
  note(message: string): void {
    this.out.write(`${this.live ? "\r\u001b[2K" : ""}reachprobe: ${message}\n`);
  }

  /** Clears the progress line. */
  done(): void {
    if (this.live) this.out.write("\r\u001b[2K");
  }
}
