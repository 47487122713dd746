/** The progress line on a terminal: redrawn as targets finish, but not once per target on a long list. */
import { describe, expect, it } from "vitest";
import { Progress, REDRAW_MS } from "../../src/cli/progress.js";

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
