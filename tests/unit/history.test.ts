/**
 * Spans (reachprobe history) and the derived columns behind them, on small hand-made
 * databases written through the Store with chosen times and network labels.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import { renderHistory } from "../../src/cli/history.js";
import { paintFor } from "../../src/cli/style.js";
import { statusChanges, statusChangesSql } from "../../src/store/changes.js";
import { historySpans, historySpansSql, latestRuns, latestStatuses, type Span } from "../../src/store/history.js";
import { listNetworks, networkFromInput, networkKey, networkKeySql, networkName } from "../../src/store/network.js";
import { Store } from "../../src/store/store.js";
import { seedRun, verdict, type SeedRow } from "../helpers/seed.js";

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-history-"));
  store = Store.open(join(dir, "h.db"));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A verdict as a test writes it: "ok", "blocked/dns", "anomaly/tcp". */
type V = `${Status}` | `${Status}/${Layer}`;

const failureOf = (status: Status, layer: Layer | null) => (status === "blocked" && layer === "dns" ? "dns_bogon_error" : null);

/** Records one run at `at` (an hour of 2026-05-04 when a number) on a network, with one verdict a target. */
function run(at: string | number, network: { label?: string; asn?: number }, verdicts: Record<string, V>, service = "WeChat"): string {
  const rows = Object.entries(verdicts).map(([target, v]): SeedRow => [target, service, verdict(v, failureOf)]);
  return seedRun(store, { at: typeof at === "number" ? Date.UTC(2026, 4, 4, at) : at, network, rows, spacingMs: 1000, durationMs: 5 }).runId;
}

const WX = "https://weixin.qq.com/";
const LONG = "tcp://long.weixin.qq.com:8080";
const RT = { label: "Rostelecom Moscow" };
const MTS = { label: "MTS" };

/** The spans without the ids and services, for compact expectations. */
function brief(spans: Iterable<Span>): Array<[string, string, string, string, string, number, boolean]> {
  return [...spans].map((s) => [s.network, s.target, s.layer ? `${s.status}/${s.layer}` : s.status, s.from.slice(11, 16), s.to.slice(11, 16), s.runs, s.current]);
}

describe("the network key", () => {
  it("is the label, else AS<asn>, else empty, the same in SQL and in TypeScript", () => {
    const cases: Array<[string | null, number | null, string]> = [
      ["Rostelecom Moscow", 12389, "Rostelecom Moscow"],
      ["  home isp  ", null, "home isp"],
      ["", 12389, "AS12389"],
      ["   ", 12389, "AS12389"],
      [null, 12389, "AS12389"],
      [null, null, ""],
      ["", null, ""],
    ];
    const sql = store.db.prepare<[string | null, number | null], { key: string }>(
      `SELECT ${networkKeySql("r")} AS key FROM (SELECT ? AS network_label, ? AS probe_asn) AS r`,
    );
    for (const [label, asn, key] of cases) {
      expect(networkKey({ networkLabel: label, probeAsn: asn }), `label ${JSON.stringify(label)}, asn ${asn}`).toBe(key);
      expect(sql.get(label, asn)?.key, `SQL: label ${JSON.stringify(label)}, asn ${asn}`).toBe(key);
    }
    expect(networkName("")).toBe("(unlabelled)");
    expect(networkFromInput("(unlabelled)")).toBe("");
    expect(networkFromInput(" MTS ")).toBe("MTS");
  });

  it("is written on every measurement of a run, whoever inserts it", () => {
    run(1, RT, { [WX]: "ok" });
    run(2, { asn: 8359 }, { [WX]: "ok" });
    run(3, {}, { [WX]: "ok" });
    // A writer that does not know the column (as merge copies rows) still gets it right.
    const runId = store.startRun({ startedAt: "2026-05-04T04:00:00.000Z", version: "0.1.0", options: {}, networkLabel: "MTS", targetCount: 1 });
    store.db
      .prepare(`INSERT INTO measurements (id, run_id, target, service, status, started_at, finished_at, duration_ms, evidence_json, observations_json)
                VALUES ('m-raw', ?, ?, 'WeChat', 'ok', '2026-05-04T04:00:00.000Z', '2026-05-04T04:00:00.000Z', 1, '[]', '[]')`)
      .run(runId, WX);
    const rows = store.db.prepare("SELECT network FROM measurements ORDER BY started_at").pluck().all();
    expect(rows).toEqual(["Rostelecom Moscow", "AS8359", "", "MTS"]);
    expect(listNetworks(store.db).map((n) => n.network)).toEqual(["", "AS8359", "MTS", "Rostelecom Moscow"]);
  });
});

describe("history spans", () => {
  it("collapses consecutive runs with the same status and layer, a layer change starting a new span", () => {
    const ids = [
      run(1, RT, { [WX]: "ok" }),
      run(2, RT, { [WX]: "ok" }),
      run(3, RT, { [WX]: "blocked/dns" }),
      run(4, RT, { [WX]: "blocked/dns" }),
      run(5, RT, { [WX]: "blocked/dns" }),
      run(6, RT, { [WX]: "blocked/tcp" }),
      run(7, RT, { [WX]: "ok" }),
    ];
    const spans = [...historySpans(store.db)];
    expect(brief(spans)).toEqual([
      ["Rostelecom Moscow", WX, "ok", "01:00", "02:00", 2, false],
      ["Rostelecom Moscow", WX, "blocked/dns", "03:00", "05:00", 3, false],
      ["Rostelecom Moscow", WX, "blocked/tcp", "06:00", "06:00", 1, false],
      ["Rostelecom Moscow", WX, "ok", "07:00", "07:00", 1, true],
    ]);
    expect(spans.map((s) => s.lastRunId), "each span names the run of its last measurement").toEqual([ids[1], ids[4], ids[5], ids[6]]);
    expect(spans[1]).toMatchObject({ service: "WeChat", failure: "dns_bogon_error" });
  });

  it("does not split a span when only the failure string changes", () => {
    run(1, RT, { [WX]: "blocked/dns" });
    seedRun(store, { at: "2026-05-04T02:00:00.000Z", network: RT, rows: [[WX, "WeChat", { status: "blocked", layer: "dns", failure: "dns_nxdomain_error", evidence: [] }]] });
    expect(brief(historySpans(store.db))).toEqual([["Rostelecom Moscow", WX, "blocked/dns", "01:00", "02:00", 2, true]]);
    expect([...historySpans(store.db)][0]?.failure, "the span's latest failure").toBe("dns_nxdomain_error");
  });

  it("keeps networks apart: interleaved runs from two networks never make changes of each other", () => {
    for (let h = 1; h <= 6; h++) {
      run(h, RT, { [WX]: h >= 4 ? "blocked/dns" : "ok" });
      run(`2026-05-04T0${h}:30:00.000Z`, MTS, { [WX]: "ok" });
    }
    expect(brief(historySpans(store.db))).toEqual([
      ["MTS", WX, "ok", "01:30", "06:30", 6, true],
      ["Rostelecom Moscow", WX, "ok", "01:00", "03:00", 3, false],
      ["Rostelecom Moscow", WX, "blocked/dns", "04:00", "06:00", 3, true],
    ]);
    expect(brief(historySpans(store.db, { network: "MTS" }))).toEqual([["MTS", WX, "ok", "01:30", "06:30", 6, true]]);
    expect([...statusChanges(store.db)].map((c) => [c.network, c.from.status, c.to.status])).toEqual([["Rostelecom Moscow", "ok", "blocked"]]);
  });

  it("orders by network, service, then target, and filters by target and by service", () => {
    run(1, RT, { [WX]: "ok", [LONG]: "blocked/tcp" });
    run(1, RT, { "https://line.me/": "ok" }, "LINE");
    run(2, RT, { [WX]: "ok", [LONG]: "blocked/tcp" });
    expect(brief(historySpans(store.db)).map((s) => s[1])).toEqual(["https://line.me/", WX, LONG]);
    expect(brief(historySpans(store.db, { target: LONG }))).toEqual([["Rostelecom Moscow", LONG, "blocked/tcp", "01:00", "02:00", 2, true]]);
    expect(brief(historySpans(store.db, { service: "LINE" })).map((s) => s[1])).toEqual(["https://line.me/"]);
    expect([...historySpans(store.db, { target: "https://nowhere.example/" })]).toEqual([]);
  });

  it("with since, gives the spans current at some time since then, whole", () => {
    for (let h = 1; h <= 9; h++) run(h, RT, { [WX]: h <= 3 ? "ok" : h <= 6 ? "blocked/dns" : "blocked/http" });
    expect(brief(historySpans(store.db, { since: "2026-05-04T05:00:00.000Z" }))).toEqual([
      ["Rostelecom Moscow", WX, "blocked/dns", "04:00", "06:00", 3, false],
      ["Rostelecom Moscow", WX, "blocked/http", "07:00", "09:00", 3, true],
    ]);
    // At 03:30 the status was still the ok of 01:00-03:00: that span was current then.
    expect(brief(historySpans(store.db, { since: "2026-05-04T03:30:00.000Z" })).map((s) => s[2])).toEqual(["ok", "blocked/dns", "blocked/http"]);
    expect(brief(historySpans(store.db, { since: "2026-05-04T23:00:00.000Z" })).map((s) => s[2]), "the latest span is always current").toEqual(["blocked/http"]);
  });
});

describe("derived columns stay right whatever the writer does", () => {
  /** Every measurement's derived columns next to what a window function over the whole table says. */
  function mismatches(): unknown[] {
    return store.db
      .prepare(
        `SELECT id, prev_status, prev_layer, changed, w_status, w_layer FROM (
           SELECT id, prev_status, prev_layer, changed, status, layer,
                  LAG(status) OVER w AS w_status, LAG(layer) OVER w AS w_layer, ROW_NUMBER() OVER w AS n
           FROM measurements WINDOW w AS (PARTITION BY network, target ORDER BY started_at, rowid))
         WHERE prev_status IS NOT w_status OR prev_layer IS NOT w_layer
            OR changed IS NOT (CASE WHEN n = 1 THEN NULL ELSE (w_status IS NOT status OR w_layer IS NOT layer) END)`,
      )
      .all();
  }

  it("inserted out of order (a merge adds older rows after newer ones)", () => {
    // A deterministic shuffle of 60 hours of two targets on two networks.
    const statuses: V[] = ["ok", "ok", "blocked/dns", "blocked/tcp", "anomaly/tls", "ok", "blocked/dns"];
    const hours = Array.from({ length: 60 }, (_v, h) => h);
    let seed = 7;
    for (let i = hours.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [hours[i], hours[j]] = [hours[j]!, hours[i]!];
    }
    for (const h of hours) {
      const at = new Date(Date.UTC(2026, 4, 1) + h * 3_600_000).toISOString();
      run(at, h % 3 === 0 ? MTS : RT, { [WX]: statuses[(h * 5) % 7]!, [LONG]: statuses[(h * 3) % 7]! });
    }
    expect(mismatches()).toEqual([]);
    expect(store.db.prepare("SELECT COUNT(*) FROM measurements WHERE changed IS NULL").pluck().get(), "one first measurement per target and network").toBe(4);
  });

  it("measurements sharing a start time to the millisecond are ordered by insertion, and counted once", () => {
    // Two probes with the same label measuring at the same instant: every row ties with another.
    for (let h = 1; h <= 4; h++) {
      run(h, RT, { [WX]: h <= 2 ? "ok" : "blocked/dns" });
      run(h, RT, { [WX]: h === 1 ? "blocked/dns" : h <= 2 ? "ok" : "blocked/dns" });
    }
    expect(mismatches()).toEqual([]);
    const spans = [...historySpans(store.db)];
    expect(brief(spans).map((s) => [s[2], s[3], s[4], s[5]])).toEqual([
      ["ok", "01:00", "01:00", 1],
      ["blocked/dns", "01:00", "01:00", 1],
      ["ok", "02:00", "02:00", 2],
      ["blocked/dns", "03:00", "04:00", 4],
    ]);
    expect(spans.reduce((n, s) => n + s.runs, 0), "every measurement in exactly one span").toBe(8);
  });

  it("a deleted measurement relinks the one after it", () => {
    run(1, RT, { [WX]: "ok" });
    run(2, RT, { [WX]: "blocked/dns" });
    run(3, RT, { [WX]: "ok" });
    store.db.prepare("DELETE FROM measurements WHERE status = 'blocked'").run();
    expect(mismatches()).toEqual([]);
    expect(brief(historySpans(store.db))).toEqual([["Rostelecom Moscow", WX, "ok", "01:00", "03:00", 2, true]]);
    expect([...statusChanges(store.db)]).toEqual([]);
  });

  it("a run labelled after its measurements were written moves them to that network", () => {
    run(1, RT, { [WX]: "ok" });
    const late = run(2, {}, { [WX]: "blocked/dns" });
    run(3, RT, { [WX]: "blocked/dns" });
    expect(brief(historySpans(store.db)).map((s) => s[0])).toEqual(["", "Rostelecom Moscow", "Rostelecom Moscow"]);
    store.db.prepare("UPDATE runs SET network_label = ? WHERE id = ?").run(RT.label, late);
    expect(mismatches()).toEqual([]);
    expect(brief(historySpans(store.db))).toEqual([
      ["Rostelecom Moscow", WX, "ok", "01:00", "01:00", 1, false],
      ["Rostelecom Moscow", WX, "blocked/dns", "02:00", "03:00", 2, true],
    ]);
  });

  it("a verdict corrected in place re-derives it and the row after it", () => {
    run(1, RT, { [WX]: "ok" });
    run(2, RT, { [WX]: "anomaly/tcp" });
    run(3, RT, { [WX]: "blocked/tcp" });
    store.db.prepare("UPDATE measurements SET status = 'blocked' WHERE status = 'anomaly'").run();
    expect(mismatches()).toEqual([]);
    expect(brief(historySpans(store.db)).map((s) => [s[2], s[5]])).toEqual([["ok", 1], ["blocked/tcp", 2]]);
  });
});

describe("latest status", () => {
  it("gives one row per target and network: the latest measurement and when its status began", () => {
    run(1, RT, { [WX]: "ok", [LONG]: "ok" });
    run(2, RT, { [WX]: "blocked/dns", [LONG]: "ok" });
    const last = run(3, RT, { [WX]: "blocked/dns" });
    run(4, MTS, { [WX]: "ok" });
    const rows = [...latestStatuses(store.db)].map((r) => [r.network, r.target, r.status, r.layer, r.measuredAt.slice(11, 16), r.statusSince.slice(11, 16)]);
    expect(rows).toEqual([
      ["MTS", WX, "ok", null, "04:00", "04:00"],
      ["Rostelecom Moscow", WX, "blocked", "dns", "03:00", "02:00"],
      ["Rostelecom Moscow", LONG, "ok", null, "02:00", "01:00"],
    ]);
    expect([...latestStatuses(store.db, { network: "MTS" })]).toHaveLength(1);
    expect(latestRuns(store.db).get("Rostelecom Moscow")?.runId, "the run of the network's latest measurement").toBe(last);
  });
});

describe("rendering", () => {
  it("groups by network, service and target, in UTC to the minute, 'to now' only for what the latest run measured", () => {
    run(1, RT, { [WX]: "ok", [LONG]: "ok" });
    run(2, RT, { [WX]: "blocked/dns", [LONG]: "ok" });
    run(3, RT, { [WX]: "blocked/dns" });
    run(1, {}, { [WX]: "ok" });
    const spans = [...historySpans(store.db)];
    const text = renderHistory(spans, latestRuns(store.db), {}, paintFor(false));
    expect(text).toBe(
      [
        "History (times in UTC):",
        "",
        "(unlabelled)",
        "  WeChat",
        "    https://weixin.qq.com/",
        "      reachable       from 2026-05-04 01:00 to now, 1 run",
        "",
        "Rostelecom Moscow",
        "  WeChat",
        "    https://weixin.qq.com/",
        "      reachable       from 2026-05-04 01:00 to 2026-05-04 01:00, 1 run",
        "      BLOCKED at DNS  from 2026-05-04 02:00 to now, 2 runs",
        "    tcp://long.weixin.qq.com:8080",
        "      reachable       from 2026-05-04 01:00 to 2026-05-04 02:00 (not measured since), 2 runs",
        "",
      ].join("\n"),
    );
    expect(renderHistory([], new Map(), { network: "MTS", since: "2026-05-01T00:00:00.000Z" }, paintFor(false))).toBe(
      "No measurements on MTS since 2026-05-01 00:00.\n",
    );
  });
});

describe("query plans", () => {
  // Built the way reachprobe leaves real files: with and without the planner's statistics.
  for (const analyzed of [false, true]) {
    it(`read spans through the indexes, never by scanning measurements (${analyzed ? "after ANALYZE" : "no statistics"})`, () => {
      for (let h = 1; h <= 30; h++) run(h % 24, h % 2 ? RT : MTS, { [WX]: h % 7 ? "ok" : "blocked/dns", [LONG]: "ok" });
      if (analyzed) store.db.exec("ANALYZE");
      const queries = [{}, { network: "MTS" }, { target: [WX] }, { network: "MTS", target: [WX] }, { since: "2026-05-04T00:00:00.000Z" }, { service: "WeChat" }];
      for (const q of queries) {
        const params: Record<string, string> = { network: "MTS", since: "2026-05-04T00:00:00.000Z", service: "WeChat", t0: WX };
        const sql = historySpansSql(q);
        const used = Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`@${k}`)));
        const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(used).map((r) => (r as { detail: string }).detail);
        const scans = plan.filter((d) => /^SCAN (m|x|l|f|measurements)\b/.test(d) && !/measurements_(firsts|span_starts)/.test(d));
        expect(scans, `${JSON.stringify(q)}:\n${plan.join("\n")}`).toEqual([]);
        expect(plan.join("\n"), JSON.stringify(q)).not.toMatch(/measurements_(target|service)_started_at|\(network=\?\)/);
      }
      // The views, filtered as analysts and the changes command filter them.
      for (const sql of [
        "SELECT * FROM latest_status WHERE network = 'MTS'",
        "SELECT * FROM latest_status WHERE target = 'x'",
        statusChangesSql({ since: "2026-05-04T00:00:00.000Z", network: "MTS" }),
        statusChangesSql({ network: "MTS", target: WX }),
      ]) {
        const params = Object.fromEntries(["since", "network", "target"].filter((k) => sql.includes(`@${k}`)).map((k) => [k, "x"]));
        const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params).map((r) => (r as { detail: string }).detail);
        expect(plan.join("\n"), sql).not.toMatch(/^SCAN (m|f|l|measurements)$|measurements_(target|service)_started_at|\(network=\?\)/m);
        expect(plan.join("\n"), sql).toMatch(/measurements_(firsts|changes)/);
      }
    });
  }
});
