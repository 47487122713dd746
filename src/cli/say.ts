/** The one error prefix of every command: `reachprobe COMMAND: message` on stderr. */

/** Says `text` on stderr as `reachprobe COMMAND: text` (or `reachprobe: text` without a command). */
export function commandSay(command: string): (text: string) => void {
  const prefix = command ? `reachprobe ${command}: ` : "reachprobe: ";
  return (text) => process.stderr.write(`${prefix}${text}\n`);
}
