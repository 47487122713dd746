/** The `run` command: its options (run-options.ts), the configuration file, then the run (run-job.ts). */
import type { Command } from "commander";
import { applyConfigFile } from "../config/apply.js";
import { EXIT, reportError } from "./exit-codes.js";
import { runMain } from "./run-job.js";
import { runOptions, type RunFlags } from "./run-options.js";
import { takeBackWait } from "./options.js";

/** Builds the `run` command. */
export function runCommand(): Command {
  return runOptions().action(async (given: string[], _flags: RunFlags, command: Command) => {
    // `--wait tcp://host:1`: the target is a target, not the time to wait.
    const targets = takeBackWait(command.opts<RunFlags>(), given);
    // The configuration file first: a bad one is a usage error and nothing runs.
    let fromConfig: { configPath: string | null; targets: string[] };
    try {
      fromConfig = await applyConfigFile(command, targets);
    } catch (err) {
      process.exitCode = reportError("run", err);
      return;
    }
    const flags = command.opts<RunFlags>();
    const code = await runMain(fromConfig.targets, flags, fromConfig.configPath);
    process.exitCode = code;
    // --push: after a run that stored something; the run's exit code stands unless the push failed.
    if (flags.push && flags.store && !flags.dryRun && [EXIT.OK, EXIT.BLOCKED, EXIT.ANOMALY, EXIT.INCONCLUSIVE, EXIT.SIGINT, EXIT.SIGTERM].includes(code as 0)) {
      // Loaded here: push brings undici, which a run without --push never needs (issue 9's CPU).
      const { pushMain } = await import("./push-run.js");
      const pushed = await pushMain({ to: flags.pushTo, tokenFile: flags.pushTokenFile, db: flags.db ?? "data/reachprobe.db", quiet: flags.quiet }, "run --push");
      if (pushed !== EXIT.OK && code === EXIT.OK) process.exitCode = pushed;
    }
  });
}
