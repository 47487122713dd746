/**
 * The first-run notice for volunteers: once, on a terminal, it says what reachprobe sends
 * where and that running it can carry risk. Remembered in the user's config directory.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { makeDirs } from "../base/make-dirs.js";

/** Where reachprobe remembers per-user state (the notice having been shown). */
export function stateFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "reachprobe", "state.json");
}

/** True when the notice was shown before on this account. */
export function noticeSeen(file = stateFile()): boolean {
  try {
    return Boolean((JSON.parse(readFileSync(file, "utf8")) as { notice_shown_at?: string }).notice_shown_at);
  } catch {
    return false;
  }
}

/** Remembers that the notice was shown; a read-only home is not an error (it shows again next time). */
export function rememberNotice(file = stateFile()): void {
  try {
    makeDirs(join(file, ".."));
    writeFileSync(file, JSON.stringify({ notice_shown_at: new Date().toISOString() }) + "\n");
  } catch {
    /* shown again next time: better than failing the run */
  }
}

/** The notice's text for this run's settings. */
export function noticeText(o: { targets: number; list: string | null; control: string | null; resolvers: string[]; doh: string[]; db: string | null }): string {
  const lines = [
    "Before you measure: what reachprobe does, and the risk (shown once; --no-notice skips it).",
    `- It connects from this machine to ${o.targets} target${o.targets === 1 ? "" : "s"}${o.list ? ` (the "${o.list}" list)` : ""}, as a browser or app would:`,
    "  DNS lookups through your resolver, TCP and TLS connections, and HTTP requests.",
  ];
  if (o.resolvers.length || o.doh.length) lines.push(`- It also asks these resolvers: ${[...o.resolvers, ...o.doh].join(", ")}.`);
  if (o.control) lines.push(`- It sends each target's URL and the addresses it resolved to the control helper at ${o.control}.`);
  lines.push(
    "- Anyone watching your network (your ISP, employer, or state) can see these connections.",
    "  In some countries testing for censorship, or contacting blocked services, can carry legal or",
    "  personal risk. Read https://ooni.org/about/risks/ and stop now (Ctrl-C) if the risk is not yours to take.",
    `- ${o.db ? `Results are stored in ${o.db}` : "Nothing is stored (--no-store)"}; your IP address is never stored.`,
    "",
  );
  return lines.join("\n");
}
