#!/usr/bin/env node
/** The `reachprobe` command: dispatches to one file a command. */
// getaddrinfo runs on libuv's thread pool (4 threads by default); with many targets a few
// stalled lookups would queue every other one behind them.
process.env.UV_THREADPOOL_SIZE ??= "64";
// `reachprobe ... | head` closes stdout early: the data is no longer wanted, but the run still
// finishes and stores its measurements, so a broken pipe is not a crash.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
});

const { Command, CommanderError } = await import("commander");
const { runCommand } = await import("./run.js");
const { controlCommand } = await import("./control.js");
const { VERSION } = await import("./package-info.js");
const { EXIT, EXIT_HELP } = await import("./exit-codes.js");
const { UsageError } = await import("./options.js");

const program = new Command("reachprobe")
  .description("Measures whether internet services are blocked from the network it runs on.")
  .version(VERSION)
  .showHelpAfterError("(add --help for usage)")
  .addHelpText("after", `\n${EXIT_HELP}`)
  .exitOverride();
program.addCommand(runCommand().exitOverride());
program.addCommand(controlCommand().exitOverride());
program.addCommand((await import("./config.js")).configCommand().exitOverride());
program.addCommand((await import("./targets.js")).targetsCommand().exitOverride());
program.addCommand((await import("./schedule.js")).scheduleCommand().exitOverride());
program.addCommand((await import("./daemon.js")).daemonCommand().exitOverride());
program.addCommand((await import("./export.js")).exportCommand().exitOverride());
program.addCommand((await import("./report.js")).reportCommand().exitOverride());
program.addCommand((await import("./merge.js")).mergeCommand().exitOverride());
program.addCommand((await import("./doctor.js")).doctorCommand().exitOverride());
program.addCommand((await import("./history.js")).historyCommand().exitOverride());
program.addCommand((await import("./changes.js")).changesCommand().exitOverride());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else if (err instanceof UsageError) {
    process.stderr.write(`reachprobe: ${err.message}\n`);
    process.exitCode = EXIT.USAGE;
  } else {
    process.stderr.write(`reachprobe: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}
