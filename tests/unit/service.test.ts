/** Service summaries: how one service's endpoint verdicts add up to one line a user reads. */
import { describe, expect, test } from "vitest";
import { summarizeServices, type ServiceStatus } from "../../src/analysis/service.js";
import type { Status } from "../../src/analysis/verdict.js";

describe("summarizeServices: one service", () => {
  // [endpoint statuses, service status]
  const cases: Array<[Status[], ServiceStatus]> = [
    [["blocked", "blocked", "blocked"], "blocked"],
    [["blocked"], "blocked"],
    [["blocked", "ok", "ok"], "partly blocked"],
    [["ok", "blocked"], "partly blocked"],
    [["blocked", "anomaly"], "partly blocked"],
    [["blocked", "down", "inconclusive"], "partly blocked"],
    [["anomaly", "ok"], "anomalies"],
    [["anomaly", "anomaly"], "anomalies"],
    [["anomaly", "inconclusive"], "anomalies"],
    [["ok", "ok"], "ok"],
    [["ok", "down"], "ok"],
    [["ok", "inconclusive"], "ok"],
    [["down", "down"], "down"],
    [["inconclusive", "inconclusive"], "inconclusive"],
    // No endpoint was reached: never "ok".
    [["down", "inconclusive"], "down"],
  ];
  test.each(cases)("%j -> %s", (statuses, want) => {
    const [summary, ...rest] = summarizeServices(statuses.map((status) => ({ service: "WeChat", status })));
    expect(rest).toEqual([]);
    expect(summary?.status).toBe(want);
    expect(summary?.endpoints).toBe(statuses.length);
  });
});

describe("summarizeServices: several services", () => {
  test("one line per service, in order of first appearance, with counts of every status", () => {
    const results: Array<{ service: string; status: Status }> = [
      { service: "WeChat", status: "blocked" },
      { service: "LINE", status: "anomaly" },
      { service: "WeChat", status: "ok" },
      { service: "(none)", status: "ok" },
      { service: "WeChat", status: "blocked" },
      { service: "LINE", status: "ok" },
    ];
    expect(summarizeServices(results)).toEqual([
      { service: "WeChat", status: "partly blocked", endpoints: 3, counts: { ok: 1, blocked: 2, anomaly: 0, down: 0, inconclusive: 0 } },
      { service: "LINE", status: "anomalies", endpoints: 2, counts: { ok: 1, blocked: 0, anomaly: 1, down: 0, inconclusive: 0 } },
      { service: "(none)", status: "ok", endpoints: 1, counts: { ok: 1, blocked: 0, anomaly: 0, down: 0, inconclusive: 0 } },
    ]);
  });

  test("no results, no lines", () => {
    expect(summarizeServices([])).toEqual([]);
  });
});
