/**
 * The timeline strip's SVG: one rect a run on a short period; on a long one (time buckets),
 * neighbouring buckets that show the same are one rect with one hover text, so that a year's
 * report stays a page a browser opens.
 */
import { describe, expect, it } from "vitest";
import { StripCells, type Axis } from "../../src/report/report-buckets.js";
import { stripSvg } from "../../src/report/report-svg.js";

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

function rects(svg: string): Array<{ x: number; width: number; kind: string; title: string }> {
  return [...svg.matchAll(/<rect x="(\d+)" width="(\d+)" height="1" class="k-([a-z-]+)"><title>(.*?)<\/title><\/rect>/g)].map((m) => ({ x: Number(m[1]), width: Number(m[2]), kind: m[3]!, title: m[4]! }));
}

describe("a strip on a time axis", () => {
  const axis: Axis = { mode: "time", cells: 10, startMs: START, bucketMs: DAY };

  it("joins neighbouring days that show the same into one rect, and says how many", () => {
    const cells = new StripCells(10);
    for (let d = 0; d < 10; d++) cells.add(d, "ok", null, null, 24);
    // Day 6: one blocked measurement among 24: a bucket of its own.
    cells.add(6, "blocked", "dns", "dns_nxdomain_error", 1);
    const svg = stripSvg(axis, cells, "Timeline of x");
    const got = rects(svg);
    expect(got.map((r) => [r.x, r.width, r.kind])).toEqual([
      [0, 6, "ok"],
      [6, 1, "blocked-dns"],
      [7, 3, "ok"],
    ]);
    expect(got[0]!.title).toBe("2026-01-01 00:00 – 2026-01-07 00:00 UTC · 6 cells of 1 day, each: worst: reachable · 24 measurements: 24 reachable");
    expect(got[1]!.title).toMatch(/^2026-01-07 00:00 – 2026-01-08 00:00 UTC · worst: BLOCKED at DNS · dns_nxdomain_error · 25 measurements: 1 blocked, 24 reachable$/);
    // Every day counts as measured, joined or not.
    expect(svg).toContain('aria-label="Timeline of x: 10 of 10 cells measured"');
  });

  it("does not join across a day with nothing measured, nor days with other counts", () => {
    const cells = new StripCells(10);
    for (const d of [0, 1, 3, 4]) cells.add(d, "ok", null, null, 24);
    cells.add(5, "ok", null, null, 23);
    const got = rects(stripSvg(axis, cells, "t"));
    expect(got.map((r) => [r.x, r.width])).toEqual([
      [0, 2],
      [3, 2],
      [5, 1],
    ]);
  });
});

describe("a strip of one cell a run", () => {
  it("keeps a rect a run, each with its run's time, however alike", () => {
    const runTimes = [0, 1, 2, 3].map((h) => START + h * 3_600_000);
    const axis: Axis = { mode: "run", cells: 4, runTimes };
    const cells = new StripCells(4);
    for (let r = 0; r < 4; r++) cells.add(r, "ok", null, null);
    const got = rects(stripSvg(axis, cells, "t"));
    expect(got.map((r) => [r.x, r.width])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(new Set(got.map((r) => r.title)).size).toBe(4);
  });
});

describe("hover texts made once per content", () => {
  it("never give one strip's text to a cell of another that differs only in failure, layer, counts or axis", () => {
    const time: Axis = { mode: "time", cells: 1, startMs: START, bucketMs: DAY };
    const run: Axis = { mode: "run", cells: 1, runTimes: [START] };
    const strip = (axis: Axis, fill: (c: StripCells) => void) => {
      const cells = new StripCells(1);
      fill(cells);
      return rects(stripSvg(axis, cells, "t"))[0]!;
    };
    const a = strip(time, (c) => c.add(0, "blocked", "dns", "dns_nxdomain_error", 2));
    const b = strip(time, (c) => c.add(0, "blocked", "dns", "dns_bogon_error", 2));
    const c = strip(time, (c) => c.add(0, "blocked", "tcp", "dns_nxdomain_error", 2));
    const d = strip(time, (c) => c.add(0, "blocked", "dns", "dns_nxdomain_error", 3));
    const e = strip(time, (c) => c.add(0, "blocked", "dns", null, 2));
    const f = strip(run, (c) => c.add(0, "blocked", "dns", "dns_nxdomain_error", 2));
    expect(a.title).toContain("dns_nxdomain_error · 2 measurements");
    expect(b.title).toContain("dns_bogon_error");
    expect([c.kind, c.title]).toEqual(["blocked-tcp", expect.stringContaining("BLOCKED at TCP")]);
    expect(d.title).toContain("3 measurements");
    expect(e.title).not.toContain("·  ·");
    expect(e.title).not.toContain("dns_nxdomain_error");
    // A run's cell says neither "worst" nor its counts.
    expect(f.title).not.toMatch(/worst|measurements/);
    // And the first again: the same text as the first time.
    expect(strip(time, (c) => c.add(0, "blocked", "dns", "dns_nxdomain_error", 2))).toEqual(a);
  });
});
