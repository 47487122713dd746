/** What counts as a change for `reachprobe changes` (src/store/change-rules.ts, docs/commands.md "What is a change"). */
import { describe, expect, it } from "vitest";
import { judge, type ChangePoint } from "../../src/store/change-rules.js";

const p = (text: string, controlled = true): ChangePoint => {
  const [status, layer] = text.split("/") as [ChangePoint["status"], ChangePoint["layer"] | undefined];
  return { status, layer: layer ?? null, controlled };
};

/** The changes a fold over `points` reports, as "from -> to". */
function fold(points: ChangePoint[], start: ChangePoint | null = null): string[] {
  let state = start;
  const out: string[] = [];
  const name = (x: ChangePoint) => `${x.status}${x.layer ? `/${x.layer}` : ""}`;
  for (const x of points) {
    const j = judge(state, x);
    if (j === "skip") continue;
    if (j === "change" && state) out.push(`${name(state)} -> ${name(x)}`);
    state = x;
  }
  return out;
}

describe("changes of state", () => {
  it("does not count an offline run: blocked, can't tell, blocked is no change", () => {
    expect(fold([p("blocked/tcp"), p("inconclusive", false), p("inconclusive"), p("blocked/tcp")])).toEqual([]);
  });

  it("does not count a run whose helper did not answer next to helper runs, and reports the real event from the helper's verdict", () => {
    const issue = [p("blocked/tcp"), p("anomaly/tcp", false), p("blocked/tcp"), p("inconclusive"), p("anomaly/tcp", false), p("ok")];
    expect(fold(issue)).toEqual(["blocked/tcp -> ok"]);
  });

  it("takes the helper's verdict over an earlier helper-less one, silently", () => {
    expect(fold([p("anomaly/tcp", false), p("blocked/tls"), p("ok", false)])).toEqual(["blocked/tls -> ok"]);
  });

  it("still reports every change between runs of one kind, and reachable after blocked across kinds", () => {
    expect(fold([p("ok", false), p("anomaly/tcp", false), p("anomaly/tls", false), p("ok", false)])).toEqual(["ok -> anomaly/tcp", "anomaly/tcp -> anomaly/tls", "anomaly/tls -> ok"]);
    expect(fold([p("blocked/dns"), p("ok", false)])).toEqual(["blocked/dns -> ok"]);
    expect(fold([p("ok"), p("down", false)])).toEqual(["ok -> down"]);
  });
});
