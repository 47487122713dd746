/** The progress line on a terminal: redrawn as targets finish, but not once per target on a long list. */
import { describe, expect, it } from "vitest";
import { Progress, progressLine, REDRAW_MS } from "../../src/cli/progress.js";
import { paintFor } from "../../src/cli/style.js";

/** A fake terminal that records what is written to it. */
function terminal() {
  const writes: string[] = [];
  const out = { isTTY: true, columns: 100, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { out, writes };
}

describe("Progress", () => {
  it("draws a burst of finished targets once, then the final count", () => {
    const { out, writes } = terminal();
    let now = 1_000_000;
    const p = new Progress(out, 1000, true, () => now);
    for (let i = 0; i < 999; i++) p.tick("ok");
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain("1/1000 targets");
    now += REDRAW_MS;
    p.tick("blocked");
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain("1000/1000 targets");
    expect(writes[1]).toContain("1 blocked");
    p.done();
  });

  it("redraws again once REDRAW_MS has passed", () => {
    const { out, writes } = terminal();
    let now = 5_000;
    const p = new Progress(out, 10, true, () => now);
    p.tick("ok");
    p.tick("ok");
    now += REDRAW_MS - 1;
    p.tick("ok");
    expect(writes).toHaveLength(1);
    now += 1;
    p.tick("ok");
    expect(writes.map((w) => /(\d+)\/10 targets/.exec(w)?.[1])).toEqual(["1", "4"]);
    p.done();
  });

  it("writes nothing when stderr is not a terminal", () => {
    const { out, writes } = terminal();
    (out as { isTTY: boolean }).isTTY = false;
    const p = new Progress(out, 3, true, () => 0);
    p.tick("ok");
    p.tick("ok");
    p.tick("ok");
    p.done();
    expect(writes).toEqual([]);
  });
});

describe("time left", () => {
  it("never says 0 s left while targets are still in flight", () => {
    // 19 fast targets in 190 ms, 3 slow ones still inside their budget: the average says 30 ms.
    expect(progressLine(19, 22, 0, 190, 100, paintFor(false))).toMatch(/19\/22 targets, 0 blocked, waiting for the last 3$/);
    expect(progressLine(22, 22, 0, 190, 100, paintFor(false))).toMatch(/22\/22 targets, 0 blocked, about 0 s left$/);
    expect(progressLine(2, 22, 0, 2000, 100, paintFor(false))).toMatch(/about 20 s left$/);
  });
});
