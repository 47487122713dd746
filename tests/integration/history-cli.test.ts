/**
 * The real `reachprobe history` and `reachprobe changes` on a database made by two real
 * `reachprobe run`s against loopback servers, between which a target becomes blocked: the
 * test's DNS server first answers 127.0.0.1 (reachable), then 127.0.0.2 (a loopback answer,
 * blocked at DNS). Names resolve only through that server (--no-system-resolver).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { closeAll, dnsServer, webServer, type DnsBehaviour } from "../helpers/servers.js";

const LABEL = "Loopback ISP";
let dir: string;
let db: string;
let flip: string;
let steady: string;
const runIds: string[] = [];

interface RunDoc {
  run: { id: string };
  results: Array<{ target: string; status: string; layer: string | null }>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reachprobe-history-cli-"));
  db = join(dir, "results.db");
  const port = await webServer((_req, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<html><title>Fine site</title></html>");
  });
  // The zone is read at each query, so changing it between runs changes the answers.
  const zone: Record<string, DnsBehaviour> = { "flip.test": { a: ["127.0.0.1"] }, "steady.test": { a: ["127.0.0.1"] } };
  const dns = await dnsServer(zone);
  // An honest outside resolver: the witness that makes the flipped loopback answer a proof of blocking.
  const honest = await dnsServer({ "flip.test": { a: ["127.0.0.1"] }, "steady.test": { a: ["127.0.0.1"] } });
  flip = `http://flip.test:${port}/`;
  steady = `http://steady.test:${port}/`;
  const args = [
    "run", "--json", "--no-system-resolver", "--resolver", `127.0.0.1:${dns.port}`, "--resolver", `127.0.0.1:${honest.port}`, "--public-ranges", "127.0.0.1/32",
    "--timeout", "700", "--dns-window", "150", "--no-canary", "--network-label", LABEL, "--db", db, flip, steady,
  ];
  const expected = [
    { code: 0, flip: ["ok", null] },
    { code: 3, flip: ["blocked", "dns"] },
  ];
  for (const [i, want] of expected.entries()) {
    if (i === 1) zone["flip.test"] = { a: ["127.0.0.2"] };
    const r = await runCli(args);
    expect(r.stderr, `run ${i + 1}`).toBe("");
    expect(r.code, `run ${i + 1}`).toBe(want.code);
    const doc = JSON.parse(r.stdout) as RunDoc;
    const res = doc.results.find((x) => x.target === flip);
    expect([res?.status, res?.layer], `run ${i + 1}: ${flip}`).toEqual(want.flip);
    runIds.push(doc.run.id);
  }
}, 60_000);

afterAll(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("reachprobe changes", () => {
  it("prints the transition in plain words with the run that saw it", async () => {
    const r = await runCli(["changes", "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^1 change since \d{4}-\d\d-\d\d \d\d:\d\d UTC, newest first \(times in UTC\):$/);
    const line = new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  ${LABEL}  ${flip.replace(/[.?]/g, "\\$&")}  reachable -> BLOCKED at DNS  run ${runIds[1]!.slice(0, 8)}$`);
    expect(lines[1]).toMatch(line);
    expect(lines).toHaveLength(2);
  });

  it("gives the same as data with --json: both runs, from and to", async () => {
    const r = await runCli(["changes", "--json", "--db", db]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { since: string; changes: Array<Record<string, unknown>> };
    expect(Date.now() - Date.parse(doc.since), "7 days by default").toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(doc.changes).toEqual([
      expect.objectContaining({
        network: LABEL,
        target: flip,
        service: "(command line)",
        from: { status: "ok", layer: null },
        to: { status: "blocked", layer: "dns", failure: "dns_bogon_error" },
        run_id: runIds[1],
        previous_run_id: runIds[0],
      }),
    ]);
  });

  it("refuses a network the database does not have, naming the ones it has; any case finds one", async () => {
    const r = await runCli(["changes", "--network", "Elsewhere", "--db", db]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('reachprobe: --network: no network "Elsewhere" in the database (known: Loopback ISP)\n');
    const near = await runCli(["changes", "--network", "loopback-isp", "--db", db]);
    expect(near.stderr).toContain('did you mean "Loopback ISP"?');
    const any = await runCli(["changes", "--network", "loopback isp", "--db", db]);
    expect(any.code).toBe(0);
    expect(any.stdout).toMatch(/^1 change on Loopback ISP since/);
  });
});

describe("reachprobe history", () => {
  it("shows each target's spans grouped by network, service and target", async () => {
    const r = await runCli(["history", "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const t = "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d";
    expect(r.stdout).toMatch(
      new RegExp(
        [
          "^History \\(times in UTC\\):",
          "",
          LABEL,
          "  \\(command line\\)",
          `    ${flip.replace(/[.?]/g, "\\$&")}`,
          `      reachable       from ${t} to ${t}, 1 run`,
          `      BLOCKED at DNS  from ${t} to now, 1 run`,
          `    ${steady.replace(/[.?]/g, "\\$&")}`,
          `      reachable       from ${t} to now, 2 runs\n$`,
        ].join("\n"),
      ),
    );
  });

  it("gives the spans as data with --json, for one target", async () => {
    const r = await runCli(["history", flip, "--json", "--network", LABEL, "--db", db]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { spans: Array<Record<string, unknown>> };
    expect(doc.spans.map((s) => [s.status, s.layer, s.runs, s.last_run_id, s.current])).toEqual([
      ["ok", null, 1, runIds[0], false],
      ["blocked", "dns", 1, runIds[1], true],
    ]);
    expect(doc.spans[1]).toMatchObject({ network: LABEL, target: flip, service: "(command line)", failure: "dns_bogon_error" });
  });
});

describe("errors", () => {
  it("refuses a bad --since as a usage error naming the flag", async () => {
    for (const command of ["history", "changes"]) {
      const r = await runCli([command, "--since", "last tuesday", "--db", db]);
      expect(r.code, command).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^reachprobe: --since must be a duration such as 30m, 24h, 7d or 2w`));
      expect(r.stdout).toBe("");
    }
  });

  it("says so when the database does not exist, and does not create it", async () => {
    const missing = join(dir, "nowhere", "missing.db");
    for (const command of ["history", "changes"]) {
      const r = await runCli([command, "--db", missing]);
      expect(r.code, command).toBe(1);
      expect(r.stderr).toContain(`reachprobe: no database at ${missing}`);
      expect(existsSync(join(dir, "nowhere"))).toBe(false);
    }
  });

  it("refuses a database from a newer reachprobe with the store's message", async () => {
    const newer = join(dir, "newer.db");
    const conn = new Database(newer);
    conn.exec("CREATE TABLE future (x)");
    conn.pragma("user_version = 99");
    conn.pragma("application_id = 0x52505242"); // reachprobe's, as a newer reachprobe writes it
    conn.close();
    const r = await runCli(["history", "--db", newer]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has schema version 99, but this reachprobe only knows versions up to \d+; upgrade reachprobe/);
  });

  it("explains a file whose schema lacks what it reads, with nothing on stdout", async () => {
    // A copy of the results without the views and partial indexes, as a development build
    // from before schema 1 was final left its files.
    const old = join(dir, "old.db");
    const src = new Database(db, { readonly: true });
    src.prepare("VACUUM INTO ?").run(old);
    src.close();
    const conn = new Database(old);
    conn.exec("DROP VIEW latest_status; DROP VIEW status_changes; DROP INDEX measurements_firsts; DROP INDEX measurements_changes");
    conn.close();
    // changes reads the measurements themselves, not the status_changes view.
    for (const command of ["history"]) {
      const r = await runCli([command, "--json", "--db", old]);
      expect(r.code, command).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^reachprobe: cannot read .*old\\.db: no such .*development build`));
      expect(r.stdout).toBe("");
    }
  });

  it("refuses a target and --service together", async () => {
    const r = await runCli(["history", flip, "--service", "WeChat", "--db", db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give a target or --service, not both/);
  });
});
