/**
 * meaningfulChanges on stored runs (src/store/changes.ts): the rules of change-rules.ts applied
 * to a target's stretches, including a helper's answer that comes later in a stretch, the
 * measurement before a change across an outage, and a window that starts after the old state.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ControlResponse } from "../../src/probes/control-wire.js";
import { meaningfulChanges } from "../../src/store/changes.js";
import { Store } from "../../src/store/store.js";
import { controlObs } from "../helpers/observations.js";
import { seedRun, verdict } from "../helpers/seed.js";

const T = "tcp://long.weixin.qq.com:8080";
const answered = controlObs({ dns: { failure: null, addrs: [] }, tcp_connect: {}, tls_handshake: {}, http_request: { failure: null }, ip_info: {} } as unknown as ControlResponse);
const down = controlObs(null, { failure: "connection_refused" });
let dir: string;
let store: Store;
const hour = (h: number) => new Date(Date.UTC(2026, 4, 4, h)).toISOString();

/** One run at hour `h` measuring T as `v`, with a helper that answered (true), did not (false), or no helper (null). */
function run(h: number, v: string, helper: boolean | null): string {
  const extra = helper === null ? {} : { control: helper ? answered : down };
  return seedRun(store, { at: hour(h), options: helper === null ? {} : { control: "https://control.example/" }, rows: [[T, "WeChat", verdict(v), extra]] }).runId;
}
const moves = (q = {}) => meaningfulChanges(store.db, q).map((c) => `${c.from.status}/${c.from.layer ?? ""} -> ${c.to.status}/${c.to.layer ?? ""} at ${c.at.slice(11, 13)}`);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-meaningful-"));
  store = Store.open(join(dir, "r.db"));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("meaningfulChanges", () => {
  it("takes a helper's answer that comes later in a stretch as the stretch's verdict", () => {
    run(1, "ok", true);
    run(2, "anomaly/tcp", false); // the helper did not answer: suspicious
    run(3, "anomaly/tcp", true); // it answered, and could not confirm either
    run(4, "blocked/tcp", false); // blocked without the helper (a signature): no change from the helper's suspicious
    run(5, "blocked/tcp", true); // the helper confirms: that is the change
    expect(moves()).toEqual(["anomaly/tcp -> blocked/tcp at 05", "ok/ -> anomaly/tcp at 02"]);
  });

  it("names the measurement before a change across an outage: the old state's last", () => {
    run(1, "blocked/tcp", true);
    const last = run(2, "blocked/tcp", true);
    run(3, "inconclusive", true);
    run(4, "inconclusive", null);
    const seen = run(5, "ok", true);
    const [c, ...rest] = meaningfulChanges(store.db);
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ from: { status: "blocked", layer: "tcp" }, to: { status: "ok" }, at: hour(5), runId: seen, previousAt: hour(2), previousRunId: last });
  });

  it("reports no change across a helper outage that made plain-HTTP pages inconclusive (docs/verdicts.md), and reports a real change after it", () => {
    run(1, "ok", true);
    run(2, "inconclusive", false); // the helper failed: a plain-HTTP page nothing could compare
    run(3, "inconclusive", false);
    run(4, "ok", true);
    expect(moves()).toEqual([]);
    run(5, "inconclusive", false);
    run(6, "blocked/http", true);
    expect(moves()).toEqual(["ok/ -> blocked/http at 06"]);
  });

  it("starts a window from the state before it, and lists only what happened in it", () => {
    run(1, "ok", null);
    run(2, "blocked/dns", null);
    run(3, "inconclusive", null);
    run(4, "ok", null);
    expect(moves({ since: hour(3) })).toEqual(["blocked/dns -> ok/ at 04"]);
    expect(moves()).toEqual(["blocked/dns -> ok/ at 04", "ok/ -> blocked/dns at 02"]);
  });
});
