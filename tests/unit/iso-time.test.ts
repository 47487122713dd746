import { describe, expect, it } from "vitest";
import { isoTimeMs } from "../../src/base/iso-time.js";

describe("isoTimeMs", () => {
  it("reads stored times as Date.parse does", () => {
    const times = [
      "2026-05-04T10:00:00.000Z",
      "2026-05-04T23:59:59.999Z",
      "1970-01-01T00:00:00.000Z",
      "2024-02-29T12:34:56.789Z",
      "2025-12-31T00:00:00.001Z",
    ];
    for (const t of times) expect(isoTimeMs(t), t).toBe(Date.parse(t));
    // Many of one day, as a year of runs has: the cached day must not leak into another time.
    for (let ms = Date.parse("2026-03-01T00:00:00.000Z"); ms < Date.parse("2026-03-03T00:00:00.000Z"); ms += 3_599_999) {
      expect(isoTimeMs(new Date(ms).toISOString())).toBe(ms);
    }
  });

  it("leaves any other text to Date.parse, NaN included", () => {
    for (const t of ["", "soon", "2026-05-04", "2026-05-04T10:00:00Z", "2026-05-04T24:00:00.000Z", "2026-13-04T10:00:00.000Z", "2026-05-04T1x:00:00.000Z", "2026-05-04 10:00:00.000Z"]) {
      expect(Object.is(isoTimeMs(t), Date.parse(t)), t).toBe(true);
    }
  });
});
