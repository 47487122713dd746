/**
 * `reachprobe doctor` on an offline machine: a network namespace with only `lo` up (no route
 * out, and /etc/resolv.conf naming only 127.0.0.1, so nothing could leave even by mistake).
 * There every run exits 5, so the doctor must not say "Nothing to fix." and exit 0.
 * Needs root and unshare(1); skipped with the reason otherwise.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LAUNCHER } from "../helpers/cli.js";
import { skipTag } from "../helpers/skip.js";

const why = process.getuid?.() !== 0 ? "needs root for unshare --net" : spawnSync("unshare", ["--version"]).status !== 0 ? "unshare(1) is not installed" : null;
const dir = mkdtempSync(join(tmpdir(), "reachprobe-doctor-offline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `node LAUNCHER ARGS` in a fresh network namespace with only lo, and returns what it printed. */
function offline(args: string[]) {
  const resolv = join(dir, "resolv.conf");
  writeFileSync(resolv, "nameserver 127.0.0.1\n");
  const quoted = [process.execPath, LAUNCHER, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  return spawnSync("unshare", ["--net", "--mount", "sh", "-c", `ip link set lo up && mount --bind ${resolv} /etc/resolv.conf && exec ${quoted}`], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1" },
  });
}

describe(`doctor on a machine with no route out${skipTag(why)}`, () => {
  it.skipIf(why !== null)("a run there exits 5, and the doctor says so and exits 1", () => {
    const run = offline(["run", "--no-notice", "--no-store", "--no-canary", "--no-system-resolver", "--resolver", "127.0.0.1:9", "tcp://192.0.2.1:443"]);
    expect(run.status, run.stderr).toBe(5);
    const doctor = offline(["doctor", "--no-config", "--db", join(dir, "x.db")]);
    expect(doctor.status, doctor.stderr).toBe(1);
    expect(doctor.stdout).not.toContain("Nothing to fix.");
    expect(doctor.stdout).toMatch(/✗ network +no route to the internet: .* exit 5/);
    const json = JSON.parse(offline(["doctor", "--no-config", "--json", "--db", join(dir, "x.db")]).stdout) as { ok: boolean; checks: Array<{ id: string; status: string }> };
    expect(json.ok).toBe(false);
    expect(json.checks.find((c) => c.id === "network")?.status).toBe("fail");
  });
});
