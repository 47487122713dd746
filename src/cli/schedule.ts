/**
 * `reachprobe schedule`: print (or with --install, install for the current user) a systemd
 * timer and service, or a crontab line where there is no systemd, that run `reachprobe run`
 * on a schedule with a random delay each time.
 */
import { ReachprobeError } from "../base/errors.js";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, hostname, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Command, Option } from "commander";
import { calendarForInterval, cronToOnCalendar, parseCronExpr, shortestGap } from "../schedule/calendar.js";
import { CRON_BEGIN, mergeCronBlock, removeCronBlock, renderCronBlock, renderCronLine } from "../schedule/crontab.js";
import { durationFlag, formatDuration } from "../schedule/duration.js";
import { chooseJitter } from "../schedule/jitter.js";
import { SERVICE_NAME, TIMER_NAME, renderService, renderTimer, type Invocation, type TimerWhen } from "../schedule/systemd.js";
import { EXIT } from "./exit-codes.js";
import { cliPath, scheduledChangesArgs, scheduledRunArgs } from "../schedule/command-line.js";
import { parseConfigText } from "../config/read.js";
import { runOptions } from "./run-options.js";
import { UsageError } from "../base/errors.js";
import { makeDirs } from "../base/make-dirs.js";
import { ensureDbDir } from "../store/db-path.js";

/** The parsed flags of `schedule`. */
interface ScheduleFlags {
  every?: number;
  cron?: string;
  jitter?: number;
  format?: "systemd" | "cron";
  install?: boolean;
  uninstall?: boolean;
  enable: boolean;
  config?: string;
}

/** Where systemd says it is the init system (sd_booted(3) checks the same directory). */
export const SYSTEMD_RUN_DIR = "/run/systemd/system";

/** True when the machine runs systemd. */
export function hasSystemd(runDir = SYSTEMD_RUN_DIR): boolean {
  return existsSync(runDir);
}

/** Where systemd user units live: $XDG_CONFIG_HOME/systemd/user, or ~/.config/systemd/user. */
export function userUnitDir(env: NodeJS.ProcessEnv, home: string): string {
  return join(env.XDG_CONFIG_HOME || join(home, ".config"), "systemd", "user");
}

/** Where cron runs append their output: $XDG_STATE_HOME/reachprobe/cron.log, or ~/.local/state/reachprobe/cron.log. */
export function cronLogFile(env: NodeJS.ProcessEnv, home: string): string {
  return join(env.XDG_STATE_HOME || join(home, ".local", "state"), "reachprobe", "cron.log");
}

/** Builds the `schedule` command. */
export function scheduleCommand(): Command {
  return new Command("schedule")
    .description("print (or --install) a systemd timer, or a crontab line where there is no systemd, that runs reachprobe run on a schedule")
    .usage("(--every DURATION | --cron EXPR) [options] [-- RUN-ARGS...]")
    .argument("[run-args...]", "after --: the arguments of each run (default: --quiet, and --config when there is a config file)")
    .option("--every <duration>", "time between runs: 15m, 30m, 1h, 6h, 1d, ... (at least 1m)", durationFlag("--every", { min: 60, max: 604_800 }))
    .option("--cron <expr>", 'when to run, as a five-field cron expression instead of --every, e.g. "*/20 * * * *"')
    .option("--jitter <duration>", "longest random delay before each run (default: 10% of the interval, at most 30m; 0 for none)", durationFlag("--jitter", { min: 0, max: 86_400 }))
    .addOption(new Option("--format <format>", "what to write (default: systemd when it runs this machine, else cron)").choices(["systemd", "cron"]))
    .option("--install", "install for the current user: the unit files in ~/.config/systemd/user/ (then enable the timer), or the line in your crontab")
    .option("--uninstall", "remove what --install installed")
    .option("--no-enable", "with --install or --uninstall and systemd: only write or remove the files, do not run systemctl")
    .option("-c, --config <path>", "the config file each run reads (default: $REACHPROBE_CONFIG, or ./reachprobe.config.json if it exists)")
    .addHelpText(
      "after",
      `
Each run is "reachprobe run" started in the current directory (relative paths are read from
there) by the same node and the same reachprobe, then "reachprobe changes -q --last-run".
Runs never overlap: under systemd a run still going when the next is due is stopped (it keeps
what it measured); under cron the next run finds the database locked and exits with code 6.
Run this command again after moving reachprobe or upgrading node: the paths are absolute.

Exit codes: 0 done; 1 a file, systemctl or crontab failed (the message says what to run by
hand); 2 a bad flag.

Examples:
  reachprobe schedule --every 1h                        # print the timer and service
  reachprobe schedule --every 1h --install              # install and start them
  reachprobe schedule --every 6h --format cron --install -- --quiet --db /srv/probe.db
  reachprobe schedule --uninstall`,
    )
    .action(async (runArgs: string[], flags: ScheduleFlags) => {
      process.exitCode = scheduleMain(runArgs, flags);
    });
}

function scheduleMain(runArgsGiven: string[], flags: ScheduleFlags): number {
  const format = flags.format ?? (hasSystemd() ? "systemd" : "cron");
  const home = homedir();
  if (flags.install && flags.uninstall) throw new UsageError("--install and --uninstall cannot go together");
  if (flags.uninstall) return format === "systemd" ? uninstallSystemd(home, flags.enable) : uninstallCron();
  if (flags.every === undefined && flags.cron === undefined) throw new UsageError("schedule needs --every DURATION (e.g. --every 1h) or --cron EXPR");
  if (flags.every !== undefined && flags.cron !== undefined) throw new UsageError("--every and --cron cannot go together: give one");

  const cwd = process.cwd();
  const runArgs = scheduledRunArgs(runArgsGiven, flags.config, process.env, cwd);
  const inv: Invocation = { node: process.execPath, cli: cliPath(), cwd, runArgs, changesArgs: scheduledChangesArgs(runArgs, configDb(runArgs)) };
  const madeBy = ["reachprobe schedule", flags.every !== undefined ? `--every ${formatDuration(flags.every)}` : `--cron "${flags.cron}"`, flags.jitter !== undefined ? `--jitter ${formatDuration(flags.jitter)}` : ""].filter(Boolean).join(" ");
  warnAboutEnvironment();
  // A scheduled run makes no directory for a --db it was given (docs/database.md): installing it does.
  if (flags.install && inv.changesArgs?.[0] === "--db") ensureDbDir(resolve(cwd, inv.changesArgs[1]!), true);

  if (format === "systemd") {
    let when: TimerWhen;
    let intervalS: number;
    if (flags.cron !== undefined) {
      when = { onCalendar: cronToOnCalendar("--cron", flags.cron) };
      intervalS = shortestGap("--cron", parseCronExpr("--cron", flags.cron, false), new Date());
    } else {
      intervalS = flags.every as number;
      const onCalendar = calendarForInterval(intervalS, hostname())?.onCalendar;
      when = onCalendar ? { onCalendar } : { everyS: intervalS };
    }
    const spec = { when, intervalS, jitterS: chooseJitter(flags.jitter, intervalS), madeBy };
    const files = { [SERVICE_NAME]: renderService(inv, spec), [TIMER_NAME]: renderTimer(spec) };
    const dir = userUnitDir(process.env, home);
    if (flags.install) return installSystemd(dir, files, flags.enable);
    for (const [name, text] of Object.entries(files)) process.stdout.write(`# ---- ${join(dir, name)}\n${text}\n`);
    note("to install these files and start the timer, run the same command with --install");
    note(`or copy them there yourself, then: systemctl --user daemon-reload && systemctl --user enable --now ${TIMER_NAME}`);
    note(`so that the timer also runs while you are logged out (and after a reboot): loginctl enable-linger ${safeUser()}`);
    return EXIT.OK;
  }

  let time: string;
  let intervalS: number;
  if (flags.cron !== undefined) {
    const cron = parseCronExpr("--cron", flags.cron, false);
    time = flags.cron.trim().split(/\s+/).join(" ");
    intervalS = shortestGap("--cron", cron, new Date());
  } else {
    intervalS = flags.every as number;
    const cron5 = calendarForInterval(intervalS, hostname())?.cron5;
    if (!cron5) {
      throw new UsageError(`--every ${formatDuration(intervalS)} cannot be a crontab time: use a number of minutes that divides an hour (15m, 20m, 30m), of hours that divides a day (1h, 2h, 6h), 1d or 7d; or --cron EXPR; or reachprobe daemon`);
    }
    time = cron5;
  }
  const logFile = cronLogFile(process.env, home);
  const block = renderCronBlock(renderCronLine(inv, { time, jitterS: chooseJitter(flags.jitter, intervalS), logFile }));
  if (flags.install) return installCron(block, logFile);
  process.stdout.write(block);
  note("to add it to your crontab (replacing an earlier one), run the same command with --install");
  note(`or add it with crontab -e after creating the log's directory: mkdir -p ${dirname(logFile)}`);
  return EXIT.OK;
}

/** The `db` of the config file among a run's arguments (absolute), or null: the one `changes` after each run must read. */
function configDb(runArgs: readonly string[]): string | null {
  const i = runArgs.indexOf("--config");
  const path = i >= 0 ? runArgs[i + 1] : undefined;
  if (!path) return null;
  try {
    const db = parseConfigText(readFileSync(path, "utf8"), path, runOptions()).settings.find((x) => x.key === "db");
    return typeof db?.json === "string" ? db.json : null;
  } catch {
    // A bad config file: each run says so (and cron mails it); changes then reads the default.
    return null;
  }
}

/** A hint on stderr (stdout carries only what was asked for). */
function note(text: string): void {
  process.stderr.write(`reachprobe: ${text}\n`);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "$USER";
  }
}

/** Settings in this shell's environment do not reach runs started by systemd or cron: say so. */
function warnAboutEnvironment(): void {
  const ignored = new Set(["REACHPROBE_CONFIG", "REACHPROBE_CRONTAB", "REACHPROBE_SYSTEMCTL"]);
  const vars = Object.keys(process.env).filter((k) => k.startsWith("REACHPROBE_") && !ignored.has(k));
  if (vars.length > 0) note(`${vars.sort().join(", ")} set here will not reach the scheduled runs: put the settings in the config file or the arguments after --`);
}

/** Writes a file through a temporary one and a rename, so that a reader never sees half of it; false when it was already so. */
function writeIfChanged(path: string, text: string): boolean {
  try {
    if (readFileSync(path, "utf8") === text) return false;
  } catch {
    // absent: written below
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
  return true;
}

/** Runs systemctl (or $REACHPROBE_SYSTEMCTL) with `--user ARGS`; the error in words, or null. */
function systemctl(args: string[]): string | null {
  const cmd = process.env.REACHPROBE_SYSTEMCTL || "systemctl";
  const r = spawnSync(cmd, ["--user", ...args], { encoding: "utf8", stdio: ["ignore", "inherit", "pipe"] });
  if (r.error) return `${cmd}: ${r.error.message}`;
  if (r.status !== 0) return `${cmd} --user ${args.join(" ")} exited with ${r.status ?? r.signal}: ${(r.stderr ?? "").trim()}`;
  return null;
}

function installSystemd(dir: string, files: Record<string, string>, enable: boolean): number {
  const enableCmd = `systemctl --user daemon-reload && systemctl --user enable --now ${TIMER_NAME}`;
  try {
    makeDirs(dir);
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      process.stdout.write(`${writeIfChanged(path, text) ? "wrote" : "unchanged"} ${path}\n`);
    }
  } catch (err) {
    process.stderr.write(`reachprobe: could not write the unit files in ${dir}: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  if (!enable) {
    note(`now run: ${enableCmd}`);
    note(`so that the timer also runs while you are logged out (and after a reboot): loginctl enable-linger ${safeUser()}`);
    return EXIT.OK;
  }
  const failure = systemctl(["daemon-reload"]) ?? systemctl(["enable", "--now", TIMER_NAME]);
  if (failure) {
    process.stderr.write(`reachprobe: the files are written, but starting the timer failed: ${failure}\nreachprobe: once the user's systemd runs (log in, or loginctl enable-linger ${safeUser()}), run: ${enableCmd}\n`);
    return EXIT.FAILURE;
  }
  process.stdout.write(`enabled and started ${TIMER_NAME}; see it with: systemctl --user list-timers ${TIMER_NAME}\n`);
  note(`so that the timer also runs while you are logged out (and after a reboot): loginctl enable-linger ${safeUser()}`);
  return EXIT.OK;
}

function uninstallSystemd(home: string, enable: boolean): number {
  const dir = userUnitDir(process.env, home);
  if (enable) {
    const failure = systemctl(["disable", "--now", TIMER_NAME]);
    if (failure) note(`could not stop the timer (removing the files anyway): ${failure}`);
  }
  // The wants link is what `systemctl disable` removes; without systemctl it is removed here.
  for (const path of [join(dir, "timers.target.wants", TIMER_NAME), join(dir, TIMER_NAME), join(dir, SERVICE_NAME)]) {
    if (existsSync(path) || isLink(path)) {
      rmSync(path);
      process.stdout.write(`removed ${path}\n`);
    }
  }
  if (enable) systemctl(["daemon-reload"]);
  else note(`now run: systemctl --user stop ${TIMER_NAME}; systemctl --user daemon-reload`);
  return EXIT.OK;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The user's crontab (`crontab -l`), "" when they have none. */
function readCrontab(cmd: string): string {
  const r = spawnSync(cmd, ["-l"], { encoding: "utf8" });
  if (r.error) throw new CrontabError(`could not run ${cmd}: ${r.error.message} (install cron, or use reachprobe daemon)`);
  // QUIRK: with no crontab yet, `crontab -l` exits 1: cronie says "no crontab for USER",
  // busybox "can't open 'USER'".
  if (r.status !== 0) {
    if (/no crontab|can't open|No such file/i.test(r.stderr)) return "";
    throw new CrontabError(`${cmd} -l exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

function writeCrontab(cmd: string, text: string): void {
  const r = spawnSync(cmd, ["-"], { input: text, encoding: "utf8" });
  if (r.error) throw new CrontabError(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new CrontabError(`${cmd} - exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
}

/** crontab(1) could not be run or refused the table: the install failed, nothing else ran. */
class CrontabError extends ReachprobeError {
  constructor(message: string) {
    super("E_CRONTAB", "failure", message);
  }
}

function installCron(block: string, logFile: string): number {
  const cmd = process.env.REACHPROBE_CRONTAB || "crontab";
  try {
    makeDirs(dirname(logFile));
    const before = readCrontab(cmd);
    const after = mergeCronBlock(before, block);
    if (after === before) {
      process.stdout.write("crontab unchanged: the line is already there\n");
    } else {
      writeCrontab(cmd, after);
      process.stdout.write(`${before.includes(CRON_BEGIN) ? "replaced" : "added"} the reachprobe line in your crontab; runs append to ${logFile}\n`);
    }
    return EXIT.OK;
  } catch (err) {
    process.stderr.write(`reachprobe: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
}

function uninstallCron(): number {
  const cmd = process.env.REACHPROBE_CRONTAB || "crontab";
  try {
    const before = readCrontab(cmd);
    const after = removeCronBlock(before);
    if (after === before || !before.includes(CRON_BEGIN)) {
      process.stdout.write("crontab unchanged: no reachprobe line in it\n");
      return EXIT.OK;
    }
    writeCrontab(cmd, after);
    process.stdout.write("removed the reachprobe line from your crontab\n");
    return EXIT.OK;
  } catch (err) {
    process.stderr.write(`reachprobe: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
}
