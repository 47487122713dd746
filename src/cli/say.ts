/** The one prefix of every command's messages on stderr: `reachprobe: message`. */

/** The prefix, as the shell shows it before every error and hint. */
export const SAY_PREFIX = "reachprobe: ";

/** Says `text` on stderr after the prefix. */
export function say(text: string): void {
  process.stderr.write(`${SAY_PREFIX}${text}\n`);
}
