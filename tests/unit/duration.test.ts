/** The one duration parser (src/base/duration.ts): units, bare numbers in the flag's unit, bounds named. */
import { describe, expect, it } from "vitest";
import { durationIn, durationMs, formatMs } from "../../src/base/duration.js";

describe("durations", () => {
  it("reads units and combinations; a bare number only where the flag has a unit", () => {
    expect(["1500ms", "5s", "2m", "1h30m", "1d", "1w", "5S", " 2m "].map((v) => durationMs(v, null))).toEqual([1500, 5000, 120_000, 5_400_000, 86_400_000, 604_800_000, 5000, 120_000]);
    expect(durationMs("700", "ms")).toBe(700);
    expect(durationMs("30", "s")).toBe(30_000);
    expect(durationMs("30", null)).toBeNull();
    for (const bad of ["1.5h", "5 parsecs", "", "-5s", "s", "5x"]) expect(durationMs(bad, "ms"), bad).toBeNull();
  });

  it("gives a whole number in the flag's unit, within its bounds, or a usage error naming it", () => {
    const timeout = durationIn("--timeout", "ms", 1, 600_000);
    expect([timeout("5s"), timeout("1500ms"), timeout("2m"), timeout("700")]).toEqual([5000, 1500, 120_000, 700]);
    expect(() => timeout("11m")).toThrow('--timeout must be a duration from 1ms to 10m, such as 5s, 1500ms or 2m (a bare number is milliseconds), got "11m"');
    const wait = durationIn("--wait", "s", 1, 86_400);
    expect([wait("30"), wait("2m"), wait("1h")]).toEqual([30, 120, 3600]);
    expect(() => wait("500ms")).toThrow('--wait counts whole seconds, got "500ms"');
    expect(() => wait("2d")).toThrow(/--wait must be a duration from 1s to 1d/);
  });

  it("writes milliseconds compactly", () => {
    expect([0, 1500, 5_400_000, 600_000].map(formatMs)).toEqual(["0s", "1s500ms", "1h30m", "10m"]);
  });
});
