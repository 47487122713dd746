/** The human report written in pieces: the same text as whole, every piece ending a line, none too big. */
import { describe, expect, it } from "vitest";
import { renderHumanChunks } from "../../src/cli/render.js";
import { summarizeServices } from "../../src/analysis/service.js";
import { paintFor } from "../../src/cli/style.js";

describe("renderHumanChunks", () => {
  it("writes 5,000 targets' report in pieces that end lines, with every line once and in order", () => {
    const lines = Array.from({ length: 5000 }, (_, i) => ({
      target: `tcp://127.0.${Math.floor(i / 250)}.${i % 250}:9`,
      service: i < 4000 ? "big" : "small",
      verdict: { status: "anomaly" as const, layer: "tcp" as const, failure: "connection_refused" as const, evidence: [`TCP connect ${i} was refused`] },
    }));
    const services = summarizeServices(lines.map((l) => ({ service: l.service, status: l.verdict.status })));
    const pieces = [...renderHumanChunks(lines, services, paintFor(false))];
    expect(pieces.length).toBeGreaterThan(2);
    for (const p of pieces) expect(p.endsWith("\n")).toBe(true);
    const text = pieces.join("");
    const rows = text.split("\n");
    // Two service headers, one blank line between them, 5,000 targets with one evidence line each.
    expect(rows.filter((r) => /^\S/.test(r))).toHaveLength(2);
    expect(rows.filter((r) => r === "")).toHaveLength(2);
    expect(rows.filter((r) => r.startsWith("  ! "))).toHaveLength(5000);
    expect(rows.filter((r) => /^ {6}TCP connect \d+ was refused$/.test(r))).toHaveLength(5000);
    expect(rows[1]).toMatch(/^ {2}! tcp:\/\/127\.0\.0\.0:9\b/);
  });
});
