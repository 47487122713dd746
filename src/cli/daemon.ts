/**
 * `reachprobe daemon`: for machines with neither systemd nor cron, a long-running loop that
 * starts `reachprobe run` at each tick of a schedule, after a random delay, one run at a time.
 */
import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { Command } from "commander";
import { calendarForInterval, parseCronExpr, shortestGap } from "../schedule/calendar.js";
import { durationFlag, formatDuration } from "../schedule/duration.js";
import { chooseJitter, randomDelayMs } from "../schedule/jitter.js";
import { cronTicker, intervalTicker, type Ticker } from "../schedule/ticks.js";
import { makeLogger } from "./log.js";
import { EXIT, EXIT_HELP } from "./exit-codes.js";
import { UsageError } from "../base/errors.js";
import { cliPath, scheduledRunArgs } from "../schedule/command-line.js";

/** The parsed flags of `daemon`. */
interface DaemonFlags {
  every?: number;
  cron?: string;
  jitter?: number;
  now?: boolean;
  config?: string;
}

/** How a run ended. */
export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

/** A started run, as the loop sees it. */
export interface RunChild {
  pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<RunExit>;
}

/** What the loop does to the world, passed in so that a test can swap any of it. */
export interface DaemonDeps {
  now(): number;
  random(): number;
  spawnRun(args: string[]): RunChild;
  log(message: string): void;
}

/** What the loop runs, and when. */
export interface DaemonPlan {
  ticker: Ticker;
  /** The schedule in words, for the log. */
  describe: string;
  jitterMs: number;
  /** Arguments after `reachprobe run`. */
  runArgs: string[];
  /** Start one run at once, before the first tick. */
  runNow: boolean;
}

/** The longest single timer: the clock is looked at again after it, so a suspend or a clock change is noticed. */
const MAX_SLEEP_MS = 60_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** The meaning of a run's exit code, from the table `--help` prints (so new codes are picked up). */
export function exitMeaning(code: number): string {
  if (code === EXIT.SIGINT) return "interrupted by SIGINT";
  if (code === EXIT.SIGTERM) return "interrupted by SIGTERM";
  for (const line of EXIT_HELP.split("\n")) {
    const m = /^\s+(\d+)\s{2,}(.+)$/.exec(line);
    if (m && Number(m[1]) === code) return m[2] as string;
  }
  return "unknown exit code";
}

/** The loop: ticks, jitter, one run at a time, and a clean stop. */
export class Daemon {
  private readonly stopper = new AbortController();
  /** The run in progress (waiting out its jitter, or running), if any. */
  private busy: Promise<void> | null = null;
  private current: { n: number; child: RunChild; startedAt: number } | null = null;
  private runs = 0;
  /** The last signal passed on to a run: a run that dies of it was stopped, not crashed. */
  private forwarded: NodeJS.Signals | null = null;

  constructor(
    private readonly plan: DaemonPlan,
    private readonly deps: DaemonDeps,
  ) {}

  /** Stops the loop; a running run gets `signal` (again at each call) and is waited for. */
  stop(signal: NodeJS.Signals): void {
    if (!this.stopper.signal.aborted) {
      this.deps.log(`${signal}: stopping${this.current ? `; waiting for run ${this.current.n} (pid ${this.current.child.pid}) to finish` : ""}`);
      this.stopper.abort();
    }
    if (this.current) {
      this.forwarded = signal;
      this.current.child.kill(signal);
    }
  }

  /** Runs until stop(); resolves once no run is left. */
  async loop(): Promise<void> {
    const { plan, deps } = this;
    const stop = this.stopper.signal;
    const first = plan.ticker.next(deps.now());
    const jitter = plan.jitterMs > 0 ? `a random delay up to ${formatDuration(Math.round(plan.jitterMs / 1000))} before each run` : "no random delay";
    deps.log(`started: ${plan.describe}, ${jitter}; each run is: reachprobe run ${plan.runArgs.join(" ")}`.trimEnd());
    if (first !== null) deps.log(`first tick at ${new Date(first).toISOString()}`);
    if (plan.runNow) this.launch(0);
    let last = deps.now();
    while (!stop.aborted) {
      const at = plan.ticker.next(Math.max(last, deps.now()));
      if (at === null) {
        deps.log("the schedule has no more ticks");
        break;
      }
      while (!stop.aborted && deps.now() < at) await delay(Math.min(at - deps.now(), MAX_SLEEP_MS), stop);
      if (stop.aborted) break;
      last = at;
      if (this.busy) {
        const still = this.current ? `run ${this.current.n} (pid ${this.current.child.pid}) started ${((deps.now() - this.current.startedAt) / 1000).toFixed(1)} s ago is still going` : "the last run is still waiting out its random delay";
        deps.log(`tick at ${new Date(at).toISOString()} skipped: ${still}`);
        continue;
      }
      this.launch(randomDelayMs(plan.jitterMs, deps.random));
    }
    if (this.busy) await this.busy;
    deps.log("stopped");
  }

  private launch(delayMs: number): void {
    const { deps } = this;
    const stop = this.stopper.signal;
    const work = async () => {
      if (delayMs > 0) await delay(delayMs, stop);
      if (stop.aborted) return;
      const n = ++this.runs;
      const startedAt = deps.now();
      const child = deps.spawnRun(this.plan.runArgs);
      this.current = { n, child, startedAt };
      deps.log(`run ${n} started (pid ${child.pid ?? "?"})${delayMs > 0 ? ` after a random delay of ${(delayMs / 1000).toFixed(1)} s` : ""}`);
      const r = await child.exited;
      this.current = null;
      const took = `after ${((deps.now() - startedAt) / 1000).toFixed(1)} s`;
      if (r.error) deps.log(`run ${n} could not start: ${r.error.message}`);
      else if (r.code !== null) deps.log(`run ${n} exited ${r.code} (${exitMeaning(r.code)}) ${took}`);
      else if (r.signal !== null && r.signal === this.forwarded) deps.log(`run ${n} stopped by ${r.signal} ${took}`);
      else deps.log(`run ${n} crashed: killed by ${r.signal ?? "a signal"} ${took}`);
    };
    this.busy = work()
      .catch((err: unknown) => deps.log(`run failed: ${(err as Error)?.message ?? String(err)}`))
      .finally(() => {
        this.busy = null;
      });
  }
}

/** Starts `reachprobe run ARGS` with the same node, through the launcher (which sizes the run's thread pool), in its own process group. */
export function spawnRun(args: string[]): RunChild {
  // detached: a Ctrl-C in a terminal reaches the whole foreground process group; in its own
  // group the run gets the signal once, forwarded by the daemon (a second one makes it quit at once).
  const child = spawn(process.execPath, [cliPath(), "run", ...args], { stdio: ["ignore", "inherit", "inherit"], detached: true });
  const exited = new Promise<RunExit>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** Builds the `daemon` command. */
export function daemonCommand(): Command {
  return new Command("daemon")
    .description("run reachprobe run on a schedule, in the foreground, for machines with neither systemd nor cron")
    .usage("(--every DURATION | --cron EXPR) [options] [-- RUN-ARGS...]")
    .argument("[run-args...]", "after --: the arguments of each run (default: --quiet, and --config when there is a config file)")
    .option("--every <duration>", "time between runs: 90s, 15m, 1h, 6h, 1d, ...", durationFlag("--every", { min: 1, max: 604_800 }))
    .option("--cron <expr>", 'when to run, as a cron expression instead of --every: five fields, or six with seconds first, e.g. "*/20 * * * *"')
    .option("--jitter <duration>", "longest random delay before each run (default: 10% of the interval, at most 30m; 0 for none)", durationFlag("--jitter", { min: 0, max: 86_400 }))
    .option("--now", "also start a run at once, without waiting for the first tick")
    .option("-c, --config <path>", "the config file each run reads (default: $REACHPROBE_CONFIG, or ./reachprobe.config.json if it exists)")
    .addHelpText(
      "after",
      `
Every run is "reachprobe run" with the same node and the same reachprobe, in the current
directory. Intervals that divide the clock evenly (1m, 15m, 1h, 6h, 1d, ...) run at the same
minute past the hour every time, chosen from the host name; others count from the start. A run
still going at the next tick makes that tick skipped. The log, one line a run with its exit code,
goes to stderr. SIGTERM or SIGINT stops the daemon: a running run gets the signal, keeps what it
measured, and is waited for; then the daemon exits 0 (2 on a bad flag).

Examples:
  reachprobe daemon --every 1h
  reachprobe daemon --cron "*/30 * * * *" --now -- --quiet --db /srv/probe.db`,
    )
    .action(async (runArgs: string[], flags: DaemonFlags) => {
      process.exitCode = await daemonMain(runArgs, flags);
    });
}

/** The plan from the flags: the ticker, the jitter, the run's arguments. */
export function planFromFlags(runArgs: string[], flags: DaemonFlags, host: string, now: number): DaemonPlan {
  if (flags.every === undefined && flags.cron === undefined) throw new UsageError("daemon needs --every DURATION (e.g. --every 1h) or --cron EXPR");
  if (flags.every !== undefined && flags.cron !== undefined) throw new UsageError("--every and --cron cannot go together: give one");
  let ticker: Ticker;
  let describe: string;
  let intervalS: number;
  if (flags.cron !== undefined) {
    const cron = parseCronExpr("--cron", flags.cron, true);
    intervalS = shortestGap("--cron", cron, new Date(now));
    ticker = cronTicker(cron);
    describe = `on cron "${cron.getPattern()}"`;
  } else {
    intervalS = flags.every as number;
    const cal = calendarForInterval(intervalS, host);
    if (cal) {
      ticker = cronTicker(parseCronExpr("--every", cal.cron6, true));
      describe = `every ${formatDuration(intervalS)} (cron "${cal.cron6}")`;
    } else {
      ticker = intervalTicker(intervalS * 1000, now);
      describe = `every ${formatDuration(intervalS)} from now`;
    }
  }
  const jitterS = chooseJitter(flags.jitter, intervalS);
  return { ticker, describe, jitterMs: jitterS * 1000, runArgs: scheduledRunArgs(runArgs, flags.config, process.env, process.cwd()), runNow: Boolean(flags.now) };
}

async function daemonMain(runArgs: string[], flags: DaemonFlags): Promise<number> {
  const plan = planFromFlags(runArgs, flags, hostname(), Date.now());
  const log = makeLogger("info");
  const daemon = new Daemon(plan, {
    now: Date.now,
    random: Math.random,
    spawnRun,
    log: (message) => log.info(message),
  });
  const onSignal = (signal: NodeJS.Signals) => daemon.stop(signal);
  // SIGHUP (the terminal went away) stops it too; the run is sent SIGTERM, which it handles.
  // QUIRK: `nohup` does not help: Node resets an inherited SIG_IGN to the default at start
  // (seen: `nohup node ...` dies of SIGHUP, status 129), so docs/scheduling.md says setsid.
  const onHangup = () => daemon.stop("SIGTERM");
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("SIGHUP", onHangup);
  try {
    await daemon.loop();
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    process.off("SIGHUP", onHangup);
  }
  return EXIT.OK;
}
