/** `--since` values: durations back from now and UTC dates, and the errors a user sees. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/base/errors.js";
import { parseSince } from "../../src/cli/since.js";

const NOW = new Date("2026-05-11T10:30:00.000Z");

describe("parseSince", () => {
  const good: Array<[string, string]> = [
    ["30m", "2026-05-11T10:00:00.000Z"],
    ["24h", "2026-05-10T10:30:00.000Z"],
    ["7d", "2026-05-04T10:30:00.000Z"],
    ["2w", "2026-04-27T10:30:00.000Z"],
    ["365d", "2025-05-11T10:30:00.000Z"],
    [" 7D ", "2026-05-04T10:30:00.000Z"],
    ["2026-05-04", "2026-05-04T00:00:00.000Z"],
    ["2026-05-04T10:00", "2026-05-04T10:00:00.000Z"],
    ["2026-05-04 10:00", "2026-05-04T10:00:00.000Z"],
    ["2026-05-04T10:00:30Z", "2026-05-04T10:00:30.000Z"],
    ["2026-05-04T10:00:30.5Z", "2026-05-04T10:00:30.500Z"],
    ["2026-05-04T10:00:30.123456Z", "2026-05-04T10:00:30.123Z"],
    ["2026-05-04T13:00+03:00", "2026-05-04T10:00:00.000Z"],
    ["2026-05-04T05:00-0500", "2026-05-04T10:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
  ];
  for (const [text, iso] of good) {
    it(`reads "${text}" as ${iso}`, () => expect(parseSince(text, NOW)).toBe(iso));
  }

  it("takes now as a number too, and defaults to the clock", () => {
    expect(parseSince("1h", NOW.getTime())).toBe("2026-05-11T09:30:00.000Z");
    const before = Date.now();
    const t = Date.parse(parseSince("1h"));
    expect(t).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(t).toBeLessThanOrEqual(Date.now() - 3_600_000);
  });

  const bad: Array<[string, RegExp]> = [
    ["", /--since must be a duration such as 30m, 24h, 7d or 2w, or a UTC date such as 2026-05-04/],
    ["yesterday", /--since must be a duration .*got "yesterday"/],
    ["7", /--since must be a duration/],
    ["7y", /--since must be a duration/],
    ["-7d", /--since must be a duration/],
    ["1.5h", /--since must be a duration/],
    ["0d", /--since must be a duration longer than zero/],
    ["2026-02-30", /--since is not a real date or time, got "2026-02-30"/],
    ["2025-02-29", /not a real date/],
    ["2026-05-04T24:00", /not a real date/],
    ["2026-05-04T10:61", /not a real date/],
    ["2026-05-04T10:00+25:00", /invalid time zone offset/],
    ["2026-5-4", /--since must be a duration/],
    ["2026-05-12", /--since is in the future \(now is 2026-05-11T10:30:00.000Z\), got "2026-05-12"/],
    ["999999999w", /--since is too far back/],
  ];
  for (const [text, message] of bad) {
    it(`refuses "${text}" with a usage error naming the flag`, () => {
      let err: unknown;
      try {
        parseSince(text, NOW);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it("names another flag when asked to", () => {
    expect(() => parseSince("soon", NOW, "--from")).toThrow(/^--from must be/);
  });
});
