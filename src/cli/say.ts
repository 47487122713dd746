/** The one prefix of every command's messages on stderr: `reachprobe: message`. */

/** The prefix, as the shell shows it before every error and hint. */
export const SAY_PREFIX = "reachprobe: ";

/** A function that says `text` on stderr after the prefix; `command` is kept for the callers' readability only. */
export function commandSay(command: string): (text: string) => void {
  void command;
  return (text) => process.stderr.write(`${SAY_PREFIX}${text}\n`);
}
