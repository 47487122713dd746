/**
 * The text list format: one target per line; blank lines are ignored; a line whose first
 * non-space character is `#` is a comment, and whitespace followed by `#` starts a trailing
 * comment. A comment line `# service: NAME` sets the service of the targets after it (until the
 * next such line; `# service:` alone goes back to the default: the file's name, e.g. `my-targets.txt`).
 */
import { basename } from "node:path";
import { Collector } from "./collector.js";
import type { TargetListDetails } from "./target-list.js";

/** Parses a text list (BOM already removed); `file` names it in messages. */
export function parseTextList(text: string, file: string): TargetListDetails {
  const c = new Collector(basename(file));
  let service: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === "") return;
    if (trimmed.startsWith("#")) {
      const directive = /^#\s*service\s*:(.*)$/i.exec(trimmed);
      if (directive) service = (directive[1] ?? "").trim() || undefined;
      return;
    }
    const cut = raw.search(/\s#/);
    c.add((cut < 0 ? raw : raw.slice(0, cut)).trim(), service, `${file}:${i + 1}`);
  });
  if (c.targets.length === 0 && c.problems.count === 0) {
    c.problems.add(`${file}: no targets (write one per line; "#" starts a comment)`);
  }
  return c.finish(file, { sources: [], include: [] });
}
