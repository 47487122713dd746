/** Transition detection (reachprobe changes) on small hand-made databases written through the Store. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import { renderChanges, shortRunId } from "../../src/cli/changes.js";
import { paintFor } from "../../src/cli/style.js";
import { statusChanges, type StatusChange } from "../../src/store/changes.js";
import { Store } from "../../src/store/store.js";
import { seedRun, verdict, type SeedRow } from "../helpers/seed.js";

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-changes-"));
  store = Store.open(join(dir, "c.db"));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const WX = "https://weixin.qq.com/";
const LONG = "tcp://long.weixin.qq.com:8080";

/** Records one run at 2026-05-DAY HOUR:00 UTC on a network, one verdict a target ("blocked/dns", "ok"). */
function run(day: number, hour: number, label: string | null, verdicts: Record<string, string>): string {
  const failureOf = (status: Status, layer: Layer | null) => (status === "blocked" && layer === "dns" ? "dns_bogon_error" : null);
  const rows = Object.entries(verdicts).map(([target, v]): SeedRow => [target, "WeChat", verdict(v, failureOf)]);
  return seedRun(store, { at: Date.UTC(2026, 4, day, hour), network: { label }, rows, targetCount: 2 }).runId;
}

function moves(changes: Iterable<StatusChange>): string[] {
  const words = (s: { status: string; layer: string | null }) => (s.layer ? `${s.status} (${s.layer})` : s.status);
  return [...changes].map((c) => `${c.at.slice(5, 13)} ${c.network || "-"} ${c.target} ${words(c.from)} -> ${words(c.to)}`);
}

describe("status changes", () => {
  it("finds every kind of transition, newest first, with the run that saw it and the one before", () => {
    const r1 = run(1, 10, "RT", { [WX]: "ok", [LONG]: "anomaly/tcp" });
    const r2 = run(2, 10, "RT", { [WX]: "blocked/dns", [LONG]: "blocked/tcp" });
    run(3, 10, "RT", { [WX]: "blocked/dns", [LONG]: "blocked/tcp" });
    const r4 = run(4, 10, "RT", { [WX]: "blocked/tcp", [LONG]: "blocked/tcp" });
    run(5, 10, "RT", { [WX]: "ok", [LONG]: "inconclusive" });
    expect(moves(statusChanges(store.db))).toEqual([
      `05-05T10 RT ${WX} blocked (tcp) -> ok`,
      `05-05T10 RT ${LONG} blocked (tcp) -> inconclusive`,
      `05-04T10 RT ${WX} blocked (dns) -> blocked (tcp)`,
      `05-02T10 RT ${WX} ok -> blocked (dns)`,
      `05-02T10 RT ${LONG} anomaly (tcp) -> blocked (tcp)`,
    ]);
    const first = [...statusChanges(store.db, { oldestFirst: true })][0]!;
    expect(first).toMatchObject({
      network: "RT",
      target: WX,
      service: "WeChat",
      from: { status: "ok", layer: null },
      to: { status: "blocked", layer: "dns", failure: "dns_bogon_error" },
      at: "2026-05-02T10:00:00.000Z",
      runId: r2,
      previousAt: "2026-05-01T10:00:00.000Z",
      previousRunId: r1,
    });
    const layerChange = [...statusChanges(store.db)].find((c) => c.from.layer === "dns" && c.to.layer === "tcp");
    expect(layerChange?.runId, "a layer change is a change, seen by the run that saw the new layer").toBe(r4);
  });

  it("never counts a target's first measurement on a network, nor a change of failure string alone", () => {
    run(1, 10, "RT", { [WX]: "blocked/dns" });
    run(1, 11, "MTS", { [WX]: "ok" });
    seedRun(store, { at: "2026-05-01T12:00:00.000Z", network: { label: "RT" }, rows: [[WX, "WeChat", { status: "blocked", layer: "dns", failure: "dns_nxdomain_error", evidence: [] }]] });
    expect([...statusChanges(store.db)]).toEqual([]);
  });

  it("filters by time window and network, the window's first change compared with what came before it", () => {
    run(1, 10, "RT", { [WX]: "ok" });
    run(1, 10, null, { [WX]: "ok" });
    run(3, 10, "RT", { [WX]: "blocked/dns" });
    run(3, 11, null, { [WX]: "blocked/http" });
    run(6, 10, "RT", { [WX]: "ok" });
    expect(moves(statusChanges(store.db, { since: "2026-05-03T10:00:00.000Z" }))).toEqual([
      `05-06T10 RT ${WX} blocked (dns) -> ok`,
      `05-03T11 - ${WX} ok -> blocked (http)`,
      `05-03T10 RT ${WX} ok -> blocked (dns)`,
    ]);
    expect(moves(statusChanges(store.db, { since: "2026-05-03T10:00:00.001Z", until: "2026-05-06T00:00:00.000Z" }))).toEqual([
      `05-03T11 - ${WX} ok -> blocked (http)`,
    ]);
    expect(moves(statusChanges(store.db, { network: "" }))).toEqual([`05-03T11 - ${WX} ok -> blocked (http)`]);
    expect(moves(statusChanges(store.db, { network: "RT", target: WX })).length).toBe(2);
  });
});

describe("rendering", () => {
  it("prints one plain line a change, columns aligned, times in UTC to the minute", () => {
    run(1, 9, "Rostelecom Moscow", { [WX]: "ok", [LONG]: "ok" });
    const r2 = run(4, 10, "Rostelecom Moscow", { [WX]: "blocked/dns", [LONG]: "ok" });
    const r3 = run(4, 12, "Rostelecom Moscow", { [WX]: "blocked/dns", [LONG]: "anomaly/tcp" });
    const text = renderChanges([...statusChanges(store.db)], { since: "2026-04-27T10:00:00.000Z" }, paintFor(false));
    expect(text).toBe(
      [
        "2 changes since 2026-04-27 10:00 UTC, newest first (times in UTC):",
        `2026-05-04 12:00  Rostelecom Moscow  tcp://long.weixin.qq.com:8080  reachable -> suspicious at TCP  run ${r3.slice(0, 8)}`,
        `2026-05-04 10:00  Rostelecom Moscow  https://weixin.qq.com/         reachable -> BLOCKED at DNS     run ${r2.slice(0, 8)}`,
        "",
      ].join("\n"),
    );
  });

  it("says so plainly when nothing changed", () => {
    expect(renderChanges([], { since: "2026-04-27T10:00:00.000Z" }, paintFor(false))).toBe("No changes since 2026-04-27 10:00 UTC.\n");
    expect(renderChanges([], { since: "2026-04-27T10:00:00.000Z", network: "" }, paintFor(false))).toBe(
      "No changes on (unlabelled) since 2026-04-27 10:00 UTC.\n",
    );
    expect(shortRunId("3f2a9c1e-0000-4000-8000-000000000000")).toBe("3f2a9c1e"); // as reachprobe show takes it: no ellipsis to copy along
  });
});
