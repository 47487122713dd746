/** The `run` command: its options (run-options.ts), the configuration file, then the run (run-job.ts). */
import type { Command } from "commander";
import { applyConfigFile } from "../config/apply.js";
import { reportError } from "./exit-codes.js";
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
    process.exitCode = await runMain(fromConfig.targets, command.opts<RunFlags>(), fromConfig.configPath);
  });
}
