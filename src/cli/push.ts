/** `reachprobe push`: send what a collector has not acknowledged yet from this probe's database (docs/fleet.md). */
import { Command, Option } from "commander";
import { positiveInt } from "../base/positive-int.js";
import { pushMain, type PushFlags } from "./push-run.js";

/** Builds the `push` command. */
export function pushCommand(): Command {
  return new Command("push")
    .description("send the measurements a collector has not acknowledged yet (all of them the first time) to a fleet collector")
    .addOption(new Option("--to <url>", "the collector, e.g. https://collector.example:8443").env("REACHPROBE_PUSH_URL"))
    .option("--token-file <file>", "a file holding this probe's token (else $REACHPROBE_PUSH_TOKEN)")
    .addOption(new Option("--db <path>", "the SQLite database to push from").env("REACHPROBE_DB").default("data/reachprobe.db"))
    .option("--batch-size <n>", "measurements a batch (default 1000)", positiveInt("--batch-size", 1, 5000))
    .option("--tries <n>", "tries of each batch before giving up (default 6; backoff 1 s, doubling, at most 60 s)", positiveInt("--tries", 1, 100))
    .option("--quiet", "print only failures")
    .option("--no-scrub", "send the HTTP bodies, titles and header values as measured; by default every IPv4 and IPv6 address in them is sent as [scrubbed] (docs/fleet.md)")
    .addHelpText(
      "after",
      `\nEvery address in the HTTP responses' bodies, titles and header values is sent as [scrubbed]\n(a block page may print the volunteer's public address) unless --no-scrub.\n\nWhat the collector acknowledged is remembered in the database (per collector URL), so a push\nthat stops anywhere resumes where it stopped, and sending a batch twice stores it once.\n\nExit codes: 0 everything sent, 1 the collector refused a batch or could not be reached (nothing is\nlost: push again), 2 a bad flag.\n\nExample:\n  reachprobe push --to https://collector.example:8443 --token-file /etc/reachprobe/token`,
    )
    .action(async (flags: PushFlags) => {
      process.exitCode = await pushMain(flags);
    });
}
