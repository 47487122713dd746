/** The report's time axis: a cell per run while they fit, else time buckets holding their worst status. */
import { describe, expect, test } from "vitest";
import { axisWords, BUCKET_SIZES_MS, cellOf, cellSpan, chooseAxis, durationWords, MAX_CELLS, StripCells } from "../../src/report/report-buckets.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 1);
const hourly = (n: number, from = T0) => Array.from({ length: n }, (_, i) => from + i * HOUR);

describe("chooseAxis", () => {
  test("one cell per run while the runs fit, whatever their spacing", () => {
    const times = [T0, T0 + 5 * 60_000, T0 + 40 * DAY];
    const axis = chooseAxis(times, 400);
    expect(axis).toEqual({ mode: "run", cells: 3, runTimes: times });
    expect(times.map((t, i) => cellOf(axis, i, t))).toEqual([0, 1, 2]);
    expect(axisWords(axis)).toBe("one cell per run");
  });

  test("no runs: no cells", () => expect(chooseAxis([]).cells).toBe(0));

  test(`exactly ${MAX_CELLS} runs still get a cell each; one more and they are bucketed`, () => {
    expect(chooseAxis(hourly(MAX_CELLS)).mode).toBe("run");
    const axis = chooseAxis(hourly(MAX_CELLS + 1));
    expect(axis).toMatchObject({ mode: "time", bucketMs: 2 * HOUR });
    expect(axis.cells).toBeLessThanOrEqual(MAX_CELLS);
  });

  test("a year of hourly runs: one cell a UTC day, at most 400 cells, every run in a cell", () => {
    const times = hourly(8760);
    const axis = chooseAxis(times);
    expect(axis.mode).toBe("time");
    if (axis.mode !== "time") return;
    expect(axis.bucketMs).toBe(DAY);
    expect(axis.cells).toBe(365);
    expect(axis.startMs).toBe(T0);
    const cells = times.map((t, i) => cellOf(axis, i, t));
    expect(Math.min(...cells)).toBe(0);
    expect(Math.max(...cells)).toBe(364);
    // 24 hourly runs a day, each in its own day.
    expect(cells.filter((c) => c === 100)).toHaveLength(24);
    expect(cellSpan(axis, 1)).toEqual({ from: T0 + DAY, to: T0 + 2 * DAY });
    expect(axisWords(axis)).toBe("each cell is 1 day: the worst status measured in it");
  });

  test("buckets are aligned on UTC boundaries, so a run at 23:59 and one at 00:01 fall in different days", () => {
    const times = [...hourly(500, T0 + 30 * 60_000)];
    const axis = chooseAxis(times, 30);
    if (axis.mode !== "time") throw new Error("expected time buckets");
    expect(axis.bucketMs).toBe(DAY);
    expect(axis.startMs % DAY).toBe(0);
    expect(cellOf(axis, 0, T0 + DAY - 60_000)).toBe(0);
    expect(cellOf(axis, 0, T0 + DAY + 60_000)).toBe(1);
  });

  test("spans longer than the largest listed bucket fall back to whole days and still fit", () => {
    const times = Array.from({ length: 1000 }, (_, i) => T0 + i * 30 * DAY);
    const axis = chooseAxis(times, 50);
    if (axis.mode !== "time") throw new Error("expected time buckets");
    expect(axis.bucketMs % DAY).toBe(0);
    expect(axis.bucketMs).toBeGreaterThan(BUCKET_SIZES_MS[BUCKET_SIZES_MS.length - 1]!);
    expect(axis.cells).toBeLessThanOrEqual(50);
    expect(cellOf(axis, 999, times[999]!)).toBe(axis.cells - 1);
  });

  test("the smallest bucket that fits is chosen", () => {
    // 1,000 runs a minute apart: 1,000 minutes; 5-minute buckets give 200 cells.
    const times = Array.from({ length: 1000 }, (_, i) => T0 + i * 60_000);
    const axis = chooseAxis(times, 400);
    expect(axis).toMatchObject({ mode: "time", bucketMs: 5 * 60_000, cells: 200 });
  });

  test("rejects a cell limit below 2", () => expect(() => chooseAxis([T0], 1)).toThrow(/maxCells/));
});

describe("durationWords", () => {
  test.each([
    [60_000, "1 minute"],
    [15 * 60_000, "15 minutes"],
    [HOUR, "1 hour"],
    [6 * HOUR, "6 hours"],
    [DAY, "1 day"],
    [7 * DAY, "7 days"],
    [90_000, "90 seconds"],
  ])("%d ms is %s", (ms, words) => expect(durationWords(ms)).toBe(words));
});

describe("StripCells", () => {
  test("an empty cell is not measured", () => {
    const c = new StripCells(3);
    expect(c.get(0)).toBeNull();
    expect(c.get(2)).toBeNull();
  });

  test("a bucket shows its worst status, with that measurement's layer and failure, and counts every status", () => {
    const c = new StripCells(2);
    c.add(0, "ok", null, null);
    c.add(0, "anomaly", "tcp", "connection_reset");
    c.add(0, "blocked", "dns", "dns_bogon_error");
    c.add(0, "ok", null, null);
    c.add(0, "down", null, "dns_nxdomain_error");
    expect(c.get(0)).toEqual({
      status: "blocked",
      layer: "dns",
      failure: "dns_bogon_error",
      counts: { blocked: 1, anomaly: 1, down: 1, inconclusive: 0, ok: 2 },
    });
    expect(c.get(1)).toBeNull();
  });

  test("worst first: blocked, anomaly, down, can't tell, ok", () => {
    const order = ["ok", "inconclusive", "down", "anomaly", "blocked"] as const;
    for (let i = 0; i < order.length; i++) {
      const c = new StripCells(1);
      // Added best first and worst first: the result is the same.
      for (const s of order.slice(0, i + 1)) c.add(0, s, null, null);
      expect(c.get(0)?.status).toBe(order[i]);
      const r = new StripCells(1);
      for (const s of order.slice(0, i + 1).reverse()) r.add(0, s, null, null);
      expect(r.get(0)?.status).toBe(order[i]);
    }
  });

  test("between equally bad measurements the later one names the layer", () => {
    const c = new StripCells(1);
    c.add(0, "blocked", "dns", "dns_bogon_error");
    c.add(0, "blocked", "tls", "connection_reset");
    expect(c.get(0)).toMatchObject({ status: "blocked", layer: "tls", failure: "connection_reset" });
  });

  test("a stretch of runs adds as many measurements at once; its position, not the call order, decides the layer", () => {
    const c = new StripCells(1);
    // Runs 10 to 13 blocked at TLS (the latest at 13), then run 5 at DNS, added later.
    c.add(0, "blocked", "tls", "connection_reset", 4, 13);
    c.add(0, "blocked", "dns", "dns_bogon_error", 1, 5);
    c.add(0, "ok", null, null, 3, 20);
    c.add(0, "ok", null, null, 0, 30);
    expect(c.get(0)).toEqual({ status: "blocked", layer: "tls", failure: "connection_reset", counts: { blocked: 5, anomaly: 0, down: 0, inconclusive: 0, ok: 3 } });
    expect(() => c.add(0, "ok", null, null, -1, 1)).toThrow(RangeError);
    expect(() => c.add(0, "ok", null, null, 1.5, 1)).toThrow(RangeError);
  });

  test("has and same compare what cells show", () => {
    const c = new StripCells(4);
    c.add(0, "ok", null, null, 24, 1);
    c.add(1, "ok", null, null, 24, 2);
    c.add(2, "ok", null, null, 23, 3);
    expect([0, 1, 2, 3].map((i) => c.has(i))).toEqual([true, true, true, false]);
    expect(c.same(0, 1)).toBe(true);
    expect(c.same(1, 2)).toBe(false);
    expect(c.same(2, 3)).toBe(false);
  });

  test("a cell outside the strip is a bug, not a silent drop", () => {
    expect(() => new StripCells(2).add(2, "ok", null, null)).toThrow(RangeError);
    expect(() => new StripCells(2).add(-1, "ok", null, null)).toThrow(RangeError);
  });
});
