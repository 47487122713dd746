/**
 * Scheduling, pure parts: durations, jitter, the calendar forms of an interval, the systemd
 * units and the crontab line that `reachprobe schedule` prints.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calendarForInterval, cronToOnCalendar, minuteOffset, parseCronExpr, shortestGap } from "../../src/schedule/calendar.js";
import { CRON_BEGIN, CRON_END, mergeCronBlock, removeCronBlock, renderCronBlock, renderCronLine, shQuote } from "../../src/schedule/crontab.js";
import { formatDuration, parseDuration } from "../../src/schedule/duration.js";
import { chooseJitter, defaultJitter } from "../../src/schedule/jitter.js";
import { renderService, renderTimer, systemdQuote, systemdSpan, type Invocation, type TimerSpec } from "../../src/schedule/systemd.js";
import { cronTicker, intervalTicker } from "../../src/schedule/ticks.js";
import { exitMeaning } from "../../src/cli/daemon.js";
import { scheduledChangesArgs, scheduledRunArgs } from "../../src/schedule/command-line.js";

const inv: Invocation = { node: "/usr/local/bin/node", cli: "/opt/reachprobe/dist/cli/main.js", cwd: "/srv/probe", runArgs: ["--quiet", "--config", "/srv/probe/reachprobe.config.json"], changesArgs: ["--db", "/srv/probe/r.db"] };

/** The value of `Key=` in a unit file, or undefined. */
function setting(unit: string, key: string): string | undefined {
  return unit.split("\n").find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
}

describe("durations", () => {
  const any = { min: 0, max: 10 * 86_400 };
  it.each([
    ["90s", 90],
    ["30m", 1800],
    ["15min", 900],
    ["1h", 3600],
    ["6h", 21_600],
    ["1d", 86_400],
    ["1w", 604_800],
    ["1h30m", 5400],
    [" 2H ", 7200],
    ["0", 0],
  ])("%s is %d s", (text, seconds) => {
    expect(parseDuration("--every", text, any)).toBe(seconds);
  });

  it.each([["1"], ["h"], ["1.5h"], ["-1h"], ["1y"], ["1 h"], [""], ["1h 30m"]])("%j is a usage error naming the flag", (text) => {
    expect(() => parseDuration("--every", text, any)).toThrow(/--every takes a duration such as/);
  });

  it("a bare number says a unit is needed", () => {
    expect(() => parseDuration("--jitter", "60", any)).toThrow(/a unit is needed/);
  });

  it("out of bounds names the flag and the bounds", () => {
    expect(() => parseDuration("--every", "30s", { min: 60, max: 604_800 })).toThrow('--every must be from 1m to 7d, got "30s"');
    expect(() => parseDuration("--every", "0", { min: 60, max: 604_800 })).toThrow(/--every takes a duration/);
  });

  it("formats compactly", () => {
    expect([0, 90, 3600, 5400, 86_400 + 60].map(formatDuration)).toEqual(["0s", "1m30s", "1h", "1h30m", "1d1m"]);
  });
});

describe("jitter", () => {
  it("defaults to 10% of the interval, at most 30 minutes", () => {
    expect([2, 900, 3600, 21_600, 86_400].map(defaultJitter)).toEqual([0, 90, 360, 1800, 1800]);
  });
  it("an explicit jitter must be shorter than the interval", () => {
    expect(chooseJitter(0, 3600)).toBe(0);
    expect(chooseJitter(600, 3600)).toBe(600);
    expect(() => chooseJitter(3600, 3600)).toThrow(/--jitter must be shorter than the time between runs \(1h\)/);
  });
});

describe("systemd units", () => {
  /** The timer and service for `--every` on host "probe-1", as `schedule` builds them. */
  function unitsFor(everyS: number): { service: string; timer: string } {
    const onCalendar = calendarForInterval(everyS, "probe-1")?.onCalendar;
    const spec: TimerSpec = { when: onCalendar ? { onCalendar } : { everyS }, intervalS: everyS, jitterS: defaultJitter(everyS), madeBy: "reachprobe schedule" };
    return { service: renderService(inv, spec), timer: renderTimer(spec) };
  }

  it.each([
    [900, "*-*-* *:00/15:00", "90s"],
    [1800, "*-*-* *:00/30:00", "3min"],
    [3600, "hourly", "6min"],
    [21_600, "*-*-* 00/6:00:00", "30min"],
    [86_400, "daily", "30min"],
    [604_800, "weekly", "30min"],
  ])("every %d s: OnCalendar=%s, RandomizedDelaySec=%s, Persistent", (everyS, onCalendar, delay) => {
    const { timer } = unitsFor(everyS);
    expect(setting(timer, "OnCalendar")).toBe(onCalendar);
    expect(setting(timer, "RandomizedDelaySec")).toBe(delay);
    expect(setting(timer, "Persistent")).toBe("true");
    expect(setting(timer, "OnUnitActiveSec")).toBeUndefined();
    expect(setting(timer, "WantedBy")).toBe("timers.target");
  });

  it.each([
    [2700, "45min"],
    [7 * 3600, "7h"],
    [2 * 86_400, "2d"],
  ])("every %d s (not a calendar step): OnUnitActiveSec=%s and no OnCalendar", (everyS, span) => {
    const { timer } = unitsFor(everyS);
    expect(setting(timer, "OnCalendar")).toBeUndefined();
    expect(setting(timer, "OnUnitActiveSec")).toBe(span);
    expect(setting(timer, "OnActiveSec")).toBe("1min");
  });

  it("the service runs one oneshot run with absolute paths, niced, NO_COLOR, hardened", () => {
    const { service } = unitsFor(3600);
    expect(setting(service, "Type")).toBe("oneshot");
    expect(setting(service, "ExecStart")).toBe("/usr/local/bin/node /opt/reachprobe/dist/cli/main.js run --quiet --config /srv/probe/reachprobe.config.json");
    expect(setting(service, "WorkingDirectory")).toBe("/srv/probe");
    expect(setting(service, "Nice")).toBe("10");
    expect(setting(service, "Environment")).toBe("NO_COLOR=1");
    expect(setting(service, "NoNewPrivileges")).toBe("yes");
    expect(setting(service, "SuccessExitStatus")).toBe("3 4 5");
    expect(setting(service, "TimeoutStartSec")).toBe("1h");
    // Then only the changes that run saw, in the journal (which journald rotates).
    expect(setting(service, "ExecStartPost")).toBe("/usr/local/bin/node /opt/reachprobe/dist/cli/main.js changes --quiet --last-run --db /srv/probe/r.db");
    // Options that need a mount namespace fail in a user manager without user namespaces.
    for (const key of ["ProtectSystem", "ProtectHome", "PrivateTmp", "DynamicUser", "MemoryDenyWriteExecute"]) expect(setting(service, key), key).toBeUndefined();
  });

  it("ExecStart quotes spaces and escapes systemd's specifiers and variables", () => {
    const service = renderService({ ...inv, cli: "/home/a b/dist/cli/main.js", runArgs: ["--db", "/data/100%$HOME.db", 'say "hi"'] }, { when: { onCalendar: "hourly" }, intervalS: 3600, jitterS: 0, madeBy: "x" });
    expect(setting(service, "ExecStart")).toBe('/usr/local/bin/node "/home/a b/dist/cli/main.js" run --db "/data/100%%$$HOME.db" "say \\"hi\\""');
    expect(systemdQuote("a%b")).toBe("a%%b");
    expect(() => systemdQuote("a\nb")).toThrow(/line break/);
  });

  it("time spans use the largest whole unit", () => {
    expect([0, 45, 90, 360, 3600, 5400, 86_400].map(systemdSpan)).toEqual(["0s", "45s", "90s", "6min", "1h", "90min", "1d"]);
  });

  it("a cron expression becomes an OnCalendar systemd accepts the same way", () => {
    expect(cronToOnCalendar("--cron", "*/15 * * * *")).toBe("*-*-* *:0,15,30,45:00");
    expect(cronToOnCalendar("--cron", "7 */6 * * *")).toBe("*-*-* 0,6,12,18:7:00");
    expect(cronToOnCalendar("--cron", "30 9 * * MON-FRI")).toBe("Mon,Tue,Wed,Thu,Fri *-*-* 9:30:00");
    expect(cronToOnCalendar("--cron", "0 3 1 */3 *")).toBe("*-1,4,7,10-1 3:0:00");
    expect(() => cronToOnCalendar("--cron", "0 3 1 * 1")).toThrow(/both a day of the month and a weekday/);
    expect(() => cronToOnCalendar("--cron", "0 3 L * *")).toThrow(/L, W or #/);
    expect(() => cronToOnCalendar("--cron", "0 3 * *")).toThrow(/--cron must have 5 fields/);
    expect(() => cronToOnCalendar("--cron", "61 * * * *")).toThrow(/--cron "61 \* \* \* \*" is not a valid cron expression/);
  });
});

describe("per-machine offset", () => {
  it("is stable for a host name and within 0-59", () => {
    for (const host of ["probe-1", "raspberrypi", "vps.example.org", ""]) {
      const m = minuteOffset(host);
      expect(m).toBeGreaterThanOrEqual(0);
      expect(m).toBeLessThan(60);
      expect(minuteOffset(host)).toBe(m);
      expect(minuteOffset(host.toUpperCase())).toBe(m);
    }
  });

  it("spreads machines over the hour", () => {
    const minutes = new Set(Array.from({ length: 60 }, (_, i) => minuteOffset(`probe-${i}`)));
    expect(minutes.size).toBeGreaterThan(25);
  });

  it.each([
    [900, /^(\d{1,2}),(\d{1,2}),(\d{1,2}),(\d{1,2}) \* \* \* \*$/],
    [3600, /^(\d{1,2}) \* \* \* \*$/],
    [21_600, /^(\d{1,2}) (\d{1,2}),(\d{1,2}),(\d{1,2}),(\d{1,2}) \* \* \*$/],
    [86_400, /^(\d{1,2}) (\d{1,2}) \* \* \*$/],
  ])("every %d s: the crontab time has the right shape and values in range, for many hosts", (everyS, shape) => {
    for (let i = 0; i < 40; i++) {
      const host = `host-${i}.example`;
      const cal = calendarForInterval(everyS, host);
      const m = shape.exec(cal?.cron5 ?? "");
      expect(m, `${host}: ${cal?.cron5}`).not.toBeNull();
      const nums = (m as RegExpExecArray).slice(1).map(Number);
      if (everyS === 900) {
        expect(nums[0]).toBeLessThan(15);
        expect(nums).toEqual([0, 1, 2, 3].map((k) => (nums[0] as number) + 15 * k));
      } else {
        expect(nums[0]).toBe(minuteOffset(host));
      }
      if (everyS === 21_600) {
        expect(nums[1]).toBeLessThan(6);
        expect(nums.slice(1)).toEqual([0, 1, 2, 3].map((k) => (nums[1] as number) + 6 * k));
      }
      if (everyS === 86_400) expect(nums[1]).toBeLessThan(24);
      expect(cal?.cron6).toBe(`0 ${cal?.cron5}`);
    }
  });

  it("intervals that do not divide the clock have no calendar form", () => {
    expect(calendarForInterval(2700, "h")).toBeNull();
    expect(calendarForInterval(7 * 3600, "h")).toBeNull();
    expect(calendarForInterval(2 * 86_400, "h")).toBeNull();
    expect(calendarForInterval(7, "h")).toBeNull();
    expect(calendarForInterval(2, "h")?.cron6).toMatch(/^[01]-59\/2 \* \* \* \* \*$/);
    expect(calendarForInterval(60, "h")).toEqual({ onCalendar: "minutely", cron5: "* * * * *", cron6: "0 * * * * *" });
  });
});

describe("crontab line", () => {
  const spec = { time: "26 * * * *", jitterS: 360, logFile: "/home/u/.local/state/reachprobe/cron.log" };

  it("runs in the working directory, after a random sleep, niced, with absolute paths, its output appended to a rotated log, then the changes", () => {
    const log = "/home/u/.local/state/reachprobe/cron.log";
    expect(renderCronLine(inv, spec)).toBe(
      `26 * * * * cd /srv/probe && sleep $(( $(od -An -N2 -tu2 /dev/urandom || echo 0) * 361 / 65536 )) && { [ ! -f ${log} ] || [ "$(wc -c <${log})" -lt 1000000 ] || mv -f ${log} ${log}.1; } && { NO_COLOR=1 nice -n 10 /usr/local/bin/node /opt/reachprobe/dist/cli/main.js run --quiet --config /srv/probe/reachprobe.config.json >>${log} 2>&1; rc=$?; case $rc in [0345]) NO_COLOR=1 /usr/local/bin/node /opt/reachprobe/dist/cli/main.js changes --quiet --last-run --db /srv/probe/r.db;; *) echo "reachprobe: the scheduled run exited with $rc; the end of ${log}:"; tail -n 5 ${log};; esac; }`,
    );
  });

  it("has no flock (the run locks the database itself) and no bare %", () => {
    const line = renderCronLine({ ...inv, runArgs: ["--db", "/data/100%.db"] }, spec);
    expect(line).not.toContain("flock");
    expect(line.replace(/\\%/g, "")).not.toContain("%");
    expect(line).toContain("/data/100\\%.db");
  });

  it("no jitter, no sleep", () => {
    expect(renderCronLine(inv, { ...spec, jitterS: 0 })).not.toContain("sleep");
  });

  it("quotes for sh", () => {
    expect(shQuote("/a b/it's")).toBe(`'/a b/it'\\''s'`);
    expect(shQuote("--db=/x.db")).toBe("--db=/x.db");
    expect(shQuote("$HOME")).toBe("'$HOME'");
  });

  /** Runs the command part of a crontab line under /bin/sh with a fake node that exits `code` for run, and prints for changes. */
  function cronCommand(code: number, logBefore = "") {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-cronline-"));
    const fake = join(dir, "fake node");
    writeFileSync(fake, `#!/bin/sh\nif [ "$2" = run ]; then echo "argv: $*"; echo "NO_COLOR=$NO_COLOR"; echo oops >&2; exit ${code}; fi\necho "changed: $*"\n`);
    chmodSync(fake, 0o755);
    const log = join(dir, "cron.log");
    if (logBefore) writeFileSync(log, logBefore);
    const line = renderCronLine({ node: fake, cli: "/x/main.js", cwd: dir, runArgs: ["--db", "a b.db"], changesArgs: ["--db", "a b.db"] }, { time: "* * * * *", jitterS: 1, logFile: log });
    const command = line.split(" ").slice(5).join(" ");
    const t0 = Date.now();
    const r = spawnSync("/bin/sh", ["-c", command], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    return { r, log, ms: Date.now() - t0, dir };
  }

  it("the command part runs under /bin/sh: the run's output goes to the log, only the changes to cron's mail", () => {
    for (const code of [0, 3, 4, 5]) {
      const { r, log, ms } = cronCommand(code);
      expect(r.status, r.stderr).toBe(0);
      expect(ms).toBeLessThan(1900);
      expect(readFileSync(log, "utf8")).toBe("argv: /x/main.js run --db a b.db\nNO_COLOR=1\noops\n");
      expect(r.stdout).toBe("changed: /x/main.js changes --quiet --last-run --db a b.db\n");
      expect(r.stderr).toBe("");
    }
  });

  it("a run that could not run is mailed with its exit code and the end of the log, and no changes", () => {
    const { r, log } = cronCommand(6);
    expect(r.stdout).toBe(`reachprobe: the scheduled run exited with 6; the end of ${log}:\nargv: /x/main.js run --db a b.db\nNO_COLOR=1\noops\n`);
  });

  it("moves a log over the size limit to .1 before the run appends", () => {
    const big = "x".repeat(1_000_001);
    const { log } = cronCommand(0, big);
    expect(readFileSync(`${log}.1`, "utf8")).toBe(big);
    expect(readFileSync(log, "utf8")).toMatch(/^argv: /);
    const small = cronCommand(0, "kept\n");
    expect(readFileSync(small.log, "utf8")).toMatch(/^kept\nargv: /);
  });
});

describe("changes after each scheduled run", () => {
  it("reads the run's database: its --db, else the config file's", () => {
    expect(scheduledChangesArgs(["--quiet", "--db", "/d/x.db"], "/c.db")).toEqual(["--db", "/d/x.db"]);
    expect(scheduledChangesArgs(["--db=/d/y.db"], null)).toEqual(["--db", "/d/y.db"]);
    expect(scheduledChangesArgs(["--quiet", "--config", "/c.json"], "/c.db")).toEqual(["--db", "/c.db"]);
    expect(scheduledChangesArgs(["--quiet"], null)).toEqual([]);
  });

  it("is left out when the runs store nothing (--no-store): nothing to compare", () => {
    expect(scheduledChangesArgs(["--no-store", "--db", "/d/x.db"], null)).toBeNull();
    const none = { ...inv, runArgs: ["--no-store"], changesArgs: null };
    expect(setting(renderService(none, { when: { onCalendar: "hourly" }, intervalS: 3600, jitterS: 0, madeBy: "x" }), "ExecStartPost")).toBeUndefined();
    const line = renderCronLine(none, { time: "* * * * *", jitterS: 0, logFile: "/l" });
    expect(line).not.toContain("changes");
    expect(line).toContain("case $rc in [0345]) ;; *) echo");
  });
});

describe("crontab block merge", () => {
  const block = renderCronBlock("0 * * * * echo new");
  const mine = "MAILTO=me@example.org\n# my backups\n15 3 * * * /usr/local/bin/backup\n";

  it("is added after the user's lines, which are kept", () => {
    expect(mergeCronBlock(mine, block)).toBe(`${mine}${CRON_BEGIN}\n0 * * * * echo new\n${CRON_END}\n`);
    expect(mergeCronBlock("", block)).toBe(block);
  });

  it("replaces an earlier block wherever it is, keeping the lines around it", () => {
    const before = `MAILTO=me@example.org\n${renderCronBlock("5 * * * * echo old")}15 3 * * * /usr/local/bin/backup`;
    const after = mergeCronBlock(before, block);
    expect(after).toBe(`MAILTO=me@example.org\n15 3 * * * /usr/local/bin/backup\n${block}`);
    expect(after).not.toContain("echo old");
    expect(mergeCronBlock(after, block)).toBe(after);
  });

  it("removal leaves the user's lines", () => {
    expect(removeCronBlock(mergeCronBlock(mine, block))).toBe(mine);
    expect(removeCronBlock(block)).toBe("");
  });

  it("a block whose end marker was deleted by hand loses only its first line", () => {
    expect(removeCronBlock(`${CRON_BEGIN}\n0 * * * * echo old\n15 3 * * * backup\n`)).toBe("0 * * * * echo old\n15 3 * * * backup\n");
  });
});

describe("run arguments", () => {
  const dir = mkdtempSync(join(tmpdir(), "reachprobe-runargs-"));
  it("the user's arguments, a leading run dropped", () => {
    expect(scheduledRunArgs(["run", "--db", "x.db"], undefined, {}, dir)).toEqual(["--db", "x.db"]);
    expect(scheduledRunArgs(["--json"], "/c.json", {}, dir)).toEqual(["--json"]);
  });
  it("by default --quiet, and --config made absolute when there is a config file", () => {
    expect(scheduledRunArgs([], undefined, {}, dir)).toEqual(["--quiet"]);
    expect(scheduledRunArgs([], "conf/r.json", {}, dir)).toEqual(["--quiet", "--config", join(dir, "conf/r.json")]);
    expect(scheduledRunArgs([], undefined, { REACHPROBE_CONFIG: "/etc/r.json" }, dir)).toEqual(["--quiet", "--config", "/etc/r.json"]);
    writeFileSync(join(dir, "reachprobe.config.json"), "{}");
    expect(scheduledRunArgs([], undefined, {}, dir)).toEqual(["--quiet", "--config", join(dir, "reachprobe.config.json")]);
  });
});

describe("daemon ticks", () => {
  it("a cron pattern ticks strictly after the time given", () => {
    const t = cronTicker(parseCronExpr("--cron", "*/2 * * * * *", true));
    const base = Date.parse("2026-01-01T00:00:00.000Z");
    expect(t.next(base)).toBe(base + 2000);
    expect(t.next(base + 2000)).toBe(base + 4000);
    expect(t.next(base + 2001)).toBe(base + 4000);
  });
  it("a fixed interval counts from its origin and skips ticks already past", () => {
    const t = intervalTicker(1000, 500);
    expect(t.next(500)).toBe(1500);
    expect(t.next(1499)).toBe(1500);
    expect(t.next(1500)).toBe(2500);
    expect(t.next(10_700)).toBe(11_500);
  });
  it("the shortest gap of a cron expression, and one that never runs", () => {
    const from = new Date("2026-01-01T00:00:00Z");
    expect(shortestGap("--cron", parseCronExpr("--cron", "0 9,10 * * 1", false), from)).toBe(3600);
    expect(() => shortestGap("--cron", parseCronExpr("--cron", "0 9 31 2 *", false), from)).toThrow(/never runs/);
    expect(() => parseCronExpr("--cron", "* * * * * *", false)).toThrow(/--cron must be a cron expression of 5 fields/);
  });
  it("exit codes are named from the --help table", () => {
    expect(exitMeaning(0)).toBe("ran; nothing blocked, no anomaly");
    expect(exitMeaning(3)).toBe("ran; blocking found");
    expect(exitMeaning(143)).toBe("interrupted by SIGTERM");
    expect(exitMeaning(77)).toBe("unknown exit code");
  });
});
