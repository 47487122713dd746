/** Exit codes a cron job acts on: one per outcome of a finished run. */
import { describe, expect, test } from "vitest";
import { EXIT, EXIT_HELP, exitCodeFor } from "../../src/cli/exit-codes.js";

describe("exitCodeFor", () => {
  // [verdict statuses of a run, exit code]
  const cases: Array<[string[], number]> = [
    [["blocked"], 3],
    [["ok", "blocked", "anomaly", "inconclusive"], 3],
    [["anomaly", "ok", "blocked"], 3],
    [["anomaly"], 4],
    [["ok", "anomaly", "down", "inconclusive"], 4],
    [["inconclusive"], 5],
    [["inconclusive", "inconclusive"], 5],
    [["ok"], 0],
    [["down"], 0],
    [["ok", "down"], 0],
    [["ok", "inconclusive"], 0],
    [["down", "inconclusive"], 0],
    [[], 0],
  ];
  test.each(cases)("%j -> %i", (statuses, code) => {
    expect(exitCodeFor(statuses)).toBe(code);
  });

  test("takes any iterable, read once", () => {
    function* statuses() {
      yield "ok";
      yield "anomaly";
    }
    expect(exitCodeFor(statuses())).toBe(EXIT.ANOMALY);
    expect(exitCodeFor(new Set(["inconclusive"]))).toBe(EXIT.INCONCLUSIVE);
  });
});

describe("EXIT", () => {
  test("the codes cron jobs rely on", () => {
    expect(EXIT).toMatchObject({ OK: 0, FAILURE: 1, USAGE: 2, BLOCKED: 3, ANOMALY: 4, INCONCLUSIVE: 5, SIGINT: 130, SIGTERM: 143 });
  });

  test("--help documents every code", () => {
    for (const code of new Set(Object.values(EXIT))) {
      expect(EXIT_HELP, `exit code ${code} is missing from EXIT_HELP`).toMatch(new RegExp(`(^|\\s)${code}(\\s|,|$)`, "m"));
    }
  });
});
