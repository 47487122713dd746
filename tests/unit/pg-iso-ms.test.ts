import { describe, expect, it } from "vitest";
import { isoMs } from "../../src/store/pg/iso-ms.js";

describe("isoMs (the fleet report's run times)", () => {
  it("gives what toISOString gives, at day, leap-day and epoch edges and before 1970", () => {
    const times = [0, 1, 999, 86_399_999, 86_400_000, -1, -86_400_001, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2026, 3, 30, 23, 11, 0, 5)];
    for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000 * 7 + 61_013) times.push(t);
    for (const t of times) expect(isoMs(t)).toBe(new Date(t).toISOString());
  });

  it("rounds the server's floating milliseconds to the nearest one", () => {
    const t = Date.UTC(2025, 3, 28, 23, 11, 0, 123);
    expect(isoMs(t + 0.0001)).toBe("2025-04-28T23:11:00.123Z");
    expect(isoMs(t - 0.0001)).toBe("2025-04-28T23:11:00.123Z");
  });
});
