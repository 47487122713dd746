/** The crontab block for scheduled runs where there is no systemd, and merging it into a user's crontab. */
import { UsageError } from "../base/errors.js";
import type { Invocation } from "./systemd.js";

/** First and last lines of the block reachprobe owns in a crontab; re-installing replaces what lies between. */
export const CRON_BEGIN = "# BEGIN reachprobe schedule: `reachprobe schedule --install` replaces this block, `--uninstall` removes it";
export const CRON_END = "# END reachprobe schedule";

/** Quotes one word for /bin/sh (cron runs lines with sh, usually dash). */
export function shQuote(word: string): string {
  if (/[\n\r]/.test(word)) throw new UsageError(`an argument of a crontab line cannot contain a line break: ${JSON.stringify(word)}`);
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What the crontab line needs besides the command. */
export interface CronSpec {
  /** Five-field crontab time. */
  time: string;
  /** Longest random delay before each run, in seconds. */
  jitterS: number;
  /** Absolute path of the file the run's output is appended to. */
  logFile: string;
}

/** The log file is moved to LOG.1 (replacing the one there) once it is larger than this, in bytes. */
export const CRON_LOG_MAX_BYTES = 1_000_000;

/**
 * One crontab line: go to the working directory, sleep a random delay, rotate the log when it
 * is too large, run niced with NO_COLOR appending all its output to the log; then print only
 * what a human must see, which cron mails: the changes the run saw (`changes --quiet
 * --last-run`, nothing when there are none), or, when the run could not run, its exit code and
 * the end of the log.
 */
export function renderCronLine(inv: Invocation, spec: CronSpec): string {
  const command = [inv.node, inv.cli, "run", ...inv.runArgs].map(shQuote).join(" ");
  // With --no-store there is nothing to compare: the line then prints only what failed.
  const changes = inv.changesArgs && `NO_COLOR=1 ${[inv.node, inv.cli, "changes", "--quiet", "--last-run", ...inv.changesArgs].map(shQuote).join(" ")}`;
  const log = shQuote(spec.logFile);
  // QUIRK: cron runs lines with /bin/sh, which on Debian is dash: no $RANDOM. Two random bytes
  // from od, scaled to 0..jitter. No `%` either: crontab turns an unescaped % into a newline,
  // and busybox crond does not undo the `\%` escape that cronie needs.
  const sleep = spec.jitterS > 0 ? `sleep $(( $(od -An -N2 -tu2 /dev/urandom || echo 0) * ${spec.jitterS + 1} / 65536 )) && ` : "";
  // One old log kept: no logrotate needed, which busybox systems lack.
  const rotate = `{ [ ! -f ${log} ] || [ "$(wc -c <${log})" -lt ${CRON_LOG_MAX_BYTES} ] || mv -f ${log} ${log}.1; }`;
  // Exit 0, 3, 4, 5: the run measured (docs/commands.md, "Exit codes"); anything else needs a look.
  const after = `case $rc in [0345]) ${changes ?? ""};; *) echo "reachprobe: the scheduled run exited with $rc; the end of ${spec.logFile}:"; tail -n 5 ${log};; esac`;
  const line = `${spec.time} cd ${shQuote(inv.cwd)} && ${sleep}${rotate} && { NO_COLOR=1 nice -n 10 ${command} >>${log} 2>&1; rc=$?; ${after}; }`;
  // QUIRK: a `%` left in a path or an argument would end the command there; cronie takes `\%`.
  return line.replace(/%/g, "\\%");
}

/** The block reachprobe owns in a crontab: markers around the line. */
export function renderCronBlock(line: string): string {
  return `${CRON_BEGIN}\n${line}\n${CRON_END}\n`;
}

/** A crontab without reachprobe's block (every other line kept as it was). */
export function removeCronBlock(crontab: string): string {
  const out: string[] = [];
  let block: string[] | null = null;
  for (const line of crontab.split("\n")) {
    if (block === null && line.startsWith("# BEGIN reachprobe schedule")) block = [];
    else if (block !== null && line.startsWith(CRON_END)) block = null;
    else if (block !== null) block.push(line);
    else out.push(line);
  }
  // A block whose end marker was deleted by hand: only its first line is surely ours.
  if (block !== null) out.push(...block);
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

/** A crontab with reachprobe's block in it, replacing an earlier one; the user's own lines are kept. */
export function mergeCronBlock(crontab: string, block: string): string {
  return `${removeCronBlock(crontab)}${block}`;
}
