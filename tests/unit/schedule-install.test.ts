/**
 * `reachprobe schedule --install` as a user runs it, in a throwaway HOME: unit files written
 * (and re-written idempotently), systemctl and crontab replaced by fake scripts so that
 * neither the real user manager nor the real crontab is ever touched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { CLI, LAUNCHER, runCli } from "../helpers/cli.js";
import { stateFile } from "../../src/cli/notice.js";
import { minuteOffset } from "../../src/schedule/calendar.js";
import { CRON_BEGIN, CRON_END } from "../../src/schedule/crontab.js";

/** What a scheduled run starts: the launcher, which sizes the run's thread pool (README "Thread pool"). */

let root: string;
let home: string;
let fakeCrontab: string;
let crontabFile: string;
let fakeSystemctl: string;
let systemctlLog: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "reachprobe-schedule-"));
  home = join(root, "home");
  crontabFile = join(root, "crontab.txt");
  fakeCrontab = join(root, "fake-crontab");
  writeFileSync(
    fakeCrontab,
    `#!/bin/sh
case "$1" in
  -l) if [ -f "$FAKE_CRONTAB_FILE" ]; then cat "$FAKE_CRONTAB_FILE"; else echo "no crontab for tester" >&2; exit 1; fi ;;
  -) cat > "$FAKE_CRONTAB_FILE" ;;
  *) echo "fake crontab: unexpected arguments: $*" >&2; exit 64 ;;
esac
`,
  );
  chmodSync(fakeCrontab, 0o755);
  systemctlLog = join(root, "systemctl.log");
  fakeSystemctl = join(root, "fake-systemctl");
  writeFileSync(fakeSystemctl, `#!/bin/sh\necho "$*" >> "${systemctlLog}"\n[ -z "$FAKE_SYSTEMCTL_FAIL" ] || { echo "Failed to connect to bus: No medium found" >&2; exit 1; }\n`);
  chmodSync(fakeSystemctl, 0o755);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The environment of every command here: the throwaway HOME, fake systemctl and crontab. */
function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    REACHPROBE_SYSTEMCTL: fakeSystemctl,
    REACHPROBE_CRONTAB: fakeCrontab,
    FAKE_CRONTAB_FILE: crontabFile,
    REACHPROBE_CONFIG: undefined,
    ...extra,
  };
}

const unitDir = () => join(home, ".config", "systemd", "user");

describe("schedule --format systemd --install", () => {
  it("writes the two units it prints, and a second install changes nothing", async () => {
    const printed = await runCli(["schedule", "--every", "1h", "--format", "systemd"], { env: env(), cwd: root });
    expect(printed.code, printed.stderr).toBe(0);
    const r1 = await runCli(["schedule", "--every", "1h", "--format", "systemd", "--install", "--no-enable"], { env: env(), cwd: root });
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toContain(`wrote ${join(unitDir(), "reachprobe.service")}`);
    expect(r1.stdout).toContain(`wrote ${join(unitDir(), "reachprobe.timer")}`);
    expect(r1.stderr).toContain("systemctl --user daemon-reload && systemctl --user enable --now reachprobe.timer");
    const service = readFileSync(join(unitDir(), "reachprobe.service"), "utf8");
    const timer = readFileSync(join(unitDir(), "reachprobe.timer"), "utf8");
    expect(printed.stdout).toContain(service);
    expect(printed.stdout).toContain(timer);
    expect(service).toContain(`ExecStart=${process.execPath} ${LAUNCHER} run --quiet\n`);
    expect(service).toContain(`WorkingDirectory=${root}\n`);
    expect(timer).toContain("OnCalendar=hourly\n");
    expect(timer).toContain("RandomizedDelaySec=6min\n");

    const r2 = await runCli(["schedule", "--every", "1h", "--format", "systemd", "--install", "--no-enable"], { env: env(), cwd: root });
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/^unchanged .*reachprobe\.service\nunchanged .*reachprobe\.timer\n/);
    expect(existsSync(systemctlLog)).toBe(false);
  });

  it("units pass systemd-analyze verify, where it is installed", async (ctx) => {
    if (spawnSync("systemd-analyze", ["--version"]).status !== 0) return ctx.skip();
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", join(unitDir(), "reachprobe.service"), join(unitDir(), "reachprobe.timer")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe("");
  });

  it("enables the timer with systemctl --user (a fake one here)", async () => {
    const r = await runCli(["schedule", "--every", "15m", "--format", "systemd", "--install"], { env: env(), cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(systemctlLog, "utf8")).toBe("--user daemon-reload\n--user enable --now reachprobe.timer\n");
    const timer = readFileSync(join(unitDir(), "reachprobe.timer"), "utf8");
    expect(timer).toContain("OnCalendar=*-*-* *:00/15:00\n");
    expect(timer).toContain("RandomizedDelaySec=90s\n");
    expect(r.stdout).toContain("enabled and started reachprobe.timer");
  });

  it("when systemctl fails, says the files are written and what to run, and exits 1", async () => {
    const r = await runCli(["schedule", "--every", "1h", "--format", "systemd", "--install"], { env: env({ FAKE_SYSTEMCTL_FAIL: "1" }), cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the files are written, but starting the timer failed");
    expect(r.stderr).toContain("Failed to connect to bus");
    expect(existsSync(join(unitDir(), "reachprobe.timer"))).toBe(true);
  });

  it("--uninstall --no-enable removes the files", async () => {
    const r = await runCli(["schedule", "--uninstall", "--format", "systemd", "--no-enable"], { env: env(), cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(unitDir(), "reachprobe.timer"))).toBe(false);
    expect(existsSync(join(unitDir(), "reachprobe.service"))).toBe(false);
  });
});

describe("schedule --format cron --install (a fake crontab)", () => {
  const mine = "MAILTO=me@example.org\n# nightly backup\n15 3 * * * /usr/local/bin/backup\n";

  it("with no crontab yet, creates one holding the block, and the log directory", async () => {
    rmSync(crontabFile, { force: true });
    const r = await runCli(["schedule", "--every", "1h", "--format", "cron", "--install"], { env: env(), cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const tab = readFileSync(crontabFile, "utf8");
    const lines = tab.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(CRON_BEGIN);
    expect(lines[2]).toBe(CRON_END);
    expect(lines[1]).toMatch(new RegExp(`^${minuteOffset(hostname())} \\* \\* \\* \\* cd ${root} && sleep `));
    expect(lines[1]).toContain(`${process.execPath} ${LAUNCHER} run --quiet >>${join(home, ".local", "state", "reachprobe", "cron.log")} 2>&1; rc=$?;`);
    expect(lines[1]).toContain(`NO_COLOR=1 ${process.execPath} ${LAUNCHER} changes --quiet --last-run;;`);
    expect(existsSync(join(home, ".local", "state", "reachprobe"))).toBe(true);
  });

  it("creates the directory of a --db given to the runs, which a run would refuse to make", async () => {
    rmSync(crontabFile, { force: true });
    const r = await runCli(["schedule", "--every", "1h", "--format", "cron", "--install", "--", "--quiet", "--db", "probes/2026/p.db"], { env: env(), cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(root, "probes", "2026"))).toBe(true);
    expect(readFileSync(crontabFile, "utf8")).toContain("changes --quiet --last-run --db probes/2026/p.db;;");
  });

  it("keeps the user's lines, is idempotent, and replaces its own line on re-install", async () => {
    writeFileSync(crontabFile, mine);
    const r1 = await runCli(["schedule", "--every", "1h", "--format", "cron", "--install"], { env: env(), cwd: root });
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toContain("added the reachprobe line");
    const first = readFileSync(crontabFile, "utf8");
    expect(first.startsWith(mine)).toBe(true);

    const r2 = await runCli(["schedule", "--every", "1h", "--format", "cron", "--install"], { env: env(), cwd: root });
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toContain("crontab unchanged");
    expect(readFileSync(crontabFile, "utf8")).toBe(first);

    const r3 = await runCli(["schedule", "--every", "6h", "--jitter", "0", "--format", "cron", "--install", "--", "--db", "/srv/p.db"], { env: env(), cwd: root });
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stdout).toContain("replaced the reachprobe line");
    const third = readFileSync(crontabFile, "utf8");
    expect(third.startsWith(mine)).toBe(true);
    expect(third.split(CRON_BEGIN)).toHaveLength(2);
    expect(third).toMatch(/\n\d{1,2} \d,\d{1,2},\d{1,2},\d{1,2} \* \* \* cd .* && \{ NO_COLOR=1 nice -n 10 .* run --db \/srv\/p\.db >>.* changes --quiet --last-run --db \/srv\/p\.db;;/);
    expect(third).not.toContain("sleep");

    const r4 = await runCli(["schedule", "--uninstall", "--format", "cron"], { env: env(), cwd: root });
    expect(r4.code, r4.stderr).toBe(0);
    expect(readFileSync(crontabFile, "utf8")).toBe(mine);
  });

  it("a crontab that cannot be read is an error (exit 1) and nothing is written", async () => {
    writeFileSync(crontabFile, mine);
    const r = await runCli(["schedule", "--every", "1h", "--format", "cron", "--install"], { env: env({ REACHPROBE_CRONTAB: join(root, "no-such-crontab") }), cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not run .*no-such-crontab.*install cron, or use reachprobe daemon/);
    expect(readFileSync(crontabFile, "utf8")).toBe(mine);
  });
});

// Node 20's mkdirSync(..., { recursive: true }) spins forever on such a path (src/base/make-dirs.ts);
// a hang is killed after 15 s and fails on the exit code.
describe("a directory that cannot be made under /proc fails at once with the path", () => {
  it("systemd: the unit directory", async () => {
    const r = await runCli(["schedule", "--every", "1h", "--format", "systemd", "--install", "--no-enable"], { env: env({ XDG_CONFIG_HOME: "/proc/1/nope" }), cwd: root, killAfterMs: 15_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("could not write the unit files in /proc/1/nope/systemd/user: cannot create directory /proc/1/nope: ENOENT");
  });

  it("cron: the log directory, before the crontab is touched", async () => {
    rmSync(crontabFile, { force: true });
    const r = await runCli(["schedule", "--every", "1h", "--format", "cron", "--install"], { env: env({ XDG_STATE_HOME: "/proc/1/nope" }), cwd: root, killAfterMs: 15_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("reachprobe: cannot create directory /proc/1/nope: ENOENT");
    expect(existsSync(crontabFile)).toBe(false);
  });

  it("the first-run notice's state file: not remembered, no error, no hang", () => {
    // In a child process, so that a spinning mkdir is killed instead of hanging the test run.
    const notice = pathToFileURL(join(dirname(CLI), "notice.js")).href;
    const file = stateFile({ XDG_CONFIG_HOME: "/proc/1/nope" });
    const script = `import { rememberNotice, noticeSeen } from ${JSON.stringify(notice)}; rememberNotice(${JSON.stringify(file)}); console.log(noticeSeen(${JSON.stringify(file)}));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 15_000 });
    expect(r.signal, "killed: it hung").toBeNull();
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("false\n");
  });
});

describe("usage errors exit 2 and name the flag", () => {
  it.each([
    [["schedule", "--every", "60"], /--every takes a duration .*\(a unit is needed/],
    [["schedule", "--every", "30s"], /--every must be from 1m to 7d/],
    [["schedule"], /schedule needs --every DURATION/],
    [["schedule", "--every", "1h", "--cron", "0 * * * *"], /--every and --cron cannot go together/],
    [["schedule", "--every", "45m", "--format", "cron"], /--every 45m cannot be a crontab time/],
    [["schedule", "--every", "1h", "--jitter", "2h"], /--jitter must be shorter than the time between runs \(1h\)/],
    [["schedule", "--cron", "0 3 1 * 1", "--format", "systemd"], /--cron "0 3 1 \* 1" names both a day of the month and a weekday/],
    [["schedule", "--cron", "every hour"], /--cron must be a cron expression|--cron "every hour"/],
    [["daemon", "--every", "1x"], /--every takes a duration/],
    [["daemon"], /daemon needs --every DURATION/],
    [["daemon", "--cron", "* * *"], /--cron must be a cron expression of 5 fields .* or 6/],
  ])("%j", async (args, message) => {
    const r = await runCli(args, { env: env(), cwd: root });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });
});
