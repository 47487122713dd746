#!/usr/bin/env node
/** The `reachprobe` command: dispatches to one file a command. */
// getaddrinfo runs on libuv's thread pool, which is already started (4 threads, or the size
// UV_THREADPOOL_SIZE had when node started) when this module runs: setting it here changes
// nothing. bin/reachprobe.cjs sets it before loading this file; started directly, a command that
// needs it runs again through that launcher (see src/cli/relaunch.ts, docs/commands.md "Thread pool").
{
  const { followParent, needsRelaunch, relaunch } = await import("./relaunch.js");
  if (needsRelaunch(process.argv, process.env)) await relaunch();
  followParent();
}
// `reachprobe ... | head` closes stdout early: the data is no longer wanted, but the run still
// finishes and stores its measurements, so a broken pipe is not a crash.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
});

// `--no-color`, for any command, anywhere before `--`: the same as NO_COLOR=1 (no colours, no
// progress bar), which reaches every module and any process this one starts.
{
  const end = process.argv.indexOf("--");
  const at = process.argv.findIndex((a, i) => a === "--no-color" && (end < 0 || i < end));
  if (at >= 0) {
    process.argv.splice(at, 1);
    process.env.NO_COLOR = "1";
  }
}
const { Command, CommanderError } = await import("commander");
const { VERSION } = await import("../base/package-info.js");
const { EXIT, EXIT_HELP, reportError } = await import("./exit-codes.js");
type CommandLike = import("commander").Command;

// One loader a command. Only the command being run is loaded: loading all of them (undici,
// better-sqlite3, the report) cost half a second of start-up for every `history` or `changes`.
const COMMANDS: Record<string, () => Promise<CommandLike>> = {
  run: async () => (await import("./run.js")).runCommand(),
  control: async () => (await import("./control.js")).controlCommand(),
  history: async () => (await import("./history.js")).historyCommand(),
  changes: async () => (await import("./changes.js")).changesCommand(),
  runs: async () => (await import("./runs.js")).runsCommand(),
  show: async () => (await import("./show.js")).showCommand(),
  report: async () => (await import("./report.js")).reportCommand(),
  export: async () => (await import("./export.js")).exportCommand(),
  merge: async () => (await import("./merge.js")).mergeCommand(),
  targets: async () => (await import("./targets.js")).targetsCommand(),
  config: async () => (await import("./config.js")).configCommand(),
  schedule: async () => (await import("./schedule.js")).scheduleCommand(),
  daemon: async () => (await import("./daemon.js")).daemonCommand(),
  doctor: async () => (await import("./doctor.js")).doctorCommand(),
};

// One prefix for every error, commander's own ("error: unknown option") included.
const { SAY_PREFIX } = await import("./say.js");
const output = { outputError: (text: string, write: (s: string) => void) => write(text.replace(/^error: /, SAY_PREFIX)) };
const program = new Command("reachprobe")
  .description("Measures whether internet services are blocked from the network it runs on.")
  .version(VERSION)
  .showHelpAfterError("(add --help for usage)")
  .addHelpText("after", `\nAny command takes --no-color: no colours and no progress bar, as NO_COLOR=1 does.\n\n${EXIT_HELP}`)
  .configureOutput(output)
  .exitOverride();
const asked = process.argv[2];
// `reachprobe --help`, `help`, an unknown name: every command, so help lists them all.
const wanted = asked === "--version" || asked === "-V" ? [] : asked && Object.hasOwn(COMMANDS, asked) ? [asked] : Object.keys(COMMANDS);
for (const name of wanted) program.addCommand((await COMMANDS[name]!()).configureOutput(output).exitOverride());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    // A bad flag value (a UsageError from a parser) is exit 2; anything else is 1, a bug with its stack.
    process.exitCode = reportError("", err);
  }
}
