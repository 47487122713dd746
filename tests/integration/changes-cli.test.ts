/**
 * The real `reachprobe changes` on the operator's week from issue 12, seeded through the Store:
 * hourly runs with a control helper find a target blocked at TCP; one run is offline (every
 * target can't tell), one has the helper unreachable (suspicious instead of BLOCKED); then the
 * target becomes reachable. One change, with the helper's verdict; filters; exit codes for cron.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlResponse } from "../../src/probes/control-wire.js";
import { Store } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";
import { controlObs } from "../helpers/observations.js";
import { seedRun, verdict, type SeedRow } from "../helpers/seed.js";

let dir: string;
let db: string;
let quietDb: string;
const HOUR = 3_600_000;
const t0 = Date.now() - 10 * HOUR;
const answered = controlObs({ dns: { failure: null, addrs: ["203.0.113.10"] }, tcp_connect: {}, tls_handshake: {}, http_request: { failure: null, status_code: 200, body_length: 20, title: "Site", headers: {} }, ip_info: {} } as ControlResponse);
const unreachable = controlObs(null, { failure: "connection_refused" });
const TARGETS = ["https://weixin.qq.com/", "tcp://long.weixin.qq.com:8080", "https://other.example/"];
const SERVICE = ["WeChat", "WeChat", "Other"];

function rows(kind: "helper" | "offline" | "no-helper" | "unblocked"): SeedRow[] {
  return TARGETS.map((t, i) => {
    const blocked = i === 1 && kind !== "unblocked";
    if (kind === "offline") return [t, SERVICE[i]!, verdict("inconclusive")];
    if (kind === "no-helper") return [t, SERVICE[i]!, verdict(blocked ? "anomaly/tcp" : "ok"), { control: unreachable }];
    return [t, SERVICE[i]!, verdict(blocked ? "blocked/tcp" : "ok"), { control: answered }];
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-changes-cli-"));
  db = join(dir, "r.db");
  const store = Store.open(db);
  const week: Array<Parameters<typeof rows>[0]> = ["helper", "helper", "offline", "helper", "no-helper", "helper", "offline", "unblocked", "unblocked"];
  // As run records them: the helper in the run's options (also when it did not answer).
  const options = { control: "https://control.example/" };
  week.forEach((kind, i) => seedRun(store, { at: t0 + i * HOUR, network: { label: "Home ISP" }, options, rows: rows(kind) }));
  store.close();
  quietDb = join(dir, "quiet.db");
  const q = Store.open(quietDb);
  seedRun(q, { at: t0, network: { label: "Home ISP" }, options, rows: rows("helper") });
  seedRun(q, { at: t0 + HOUR, network: { label: "Home ISP" }, options, rows: rows("offline") });
  q.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reachprobe changes", () => {
  it("shows the one real event with the helper's verdict, not the outages", async () => {
    const r = await runCli(["changes", "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^1 change since .* UTC, newest first/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/ Home ISP {2}tcp:\/\/long\.weixin\.qq\.com:8080 {2}BLOCKED at TCP -> reachable {2}run [0-9a-f]{8}$/)]);
    // The run id it prints is one reachprobe show takes.
    const shown = await runCli(["show", lines[1]!.slice(-8), "--db", db]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^Run [0-9a-f-]{36} on Home ISP/);
  });

  it("starts a window from the state before it, past the offline run just before", async () => {
    const r = await runCli(["changes", "--since", "250m", "--json", "--db", db]);
    const doc = JSON.parse(r.stdout) as { changes: Array<{ from: unknown; previous_at: string }> };
    expect(doc.changes).toEqual([expect.objectContaining({ from: { status: "blocked", layer: "tcp" }, previous_at: new Date(t0 + 5 * HOUR).toISOString() })]);
  });

  it("finds the service in any case, and the target as typed", async () => {
    const s = await runCli(["changes", "--service", "wechat", "--json", "--db", db]);
    expect(s.code).toBe(0);
    expect((JSON.parse(s.stdout) as { changes: Array<{ service: string; from: unknown }> }).changes).toEqual([expect.objectContaining({ service: "WeChat", from: { status: "blocked", layer: "tcp" } })]);
    const other = await runCli(["changes", "--service", "OTHER", "--db", db]);
    expect(other.stdout).toMatch(/^No changes of Other on|^No changes of Other since/);
    const t = await runCli(["changes", "--target", "weixin.qq.com", "--db", db]);
    expect(t.stdout).toMatch(/^No changes since/);
    const bad = await runCli(["changes", "--service", "wechatt", "--db", db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('reachprobe: --service: no service "wechatt" in the database; did you mean "WeChat"?\n');
  });

  it("exits 7 with --exit-code when there are changes, 0 when there are none", async () => {
    expect((await runCli(["changes", "--exit-code", "--db", db])).code).toBe(7);
    const none = await runCli(["changes", "--exit-code", "--db", quietDb]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^No changes since/);
  });

  it("prints nothing at all with -q when there are none (an offline run is none), so cron mails nothing", async () => {
    const r = await runCli(["changes", "-q", "--db", quietDb]);
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const some = await runCli(["changes", "--quiet", "--exit-code", "--db", db]);
    expect(some.code).toBe(7);
    expect(some.stdout).toContain("BLOCKED at TCP -> reachable");
  });
});
