/**
 * The first-run notice for volunteers, and consent: on a terminal it says what reachprobe sends
 * where, names every third party that will learn which names are tested, and waits for a yes
 * before anything is sent. The answer is remembered in the user's config directory; the default
 * public resolvers are asked only with consent (docs/volunteers.md).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { makeDirs } from "../base/make-dirs.js";

/** Where reachprobe remembers per-user state (the notice having been shown, consent). */
export function stateFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "reachprobe", "state.json");
}

/** What state.json holds. */
export interface NoticeState {
  /** When the notice was first shown. */
  notice_shown_at?: string;
  /** Consent to ask the default third parties: when, and which (a resolver's `host:port`, a DoH URL). */
  dns_control_consent?: { at: string; parties: string[] };
}

/** The remembered state; an unreadable or damaged file is no state. */
export function readNoticeState(file = stateFile()): NoticeState {
  try {
    const v: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as NoticeState) : {};
  } catch {
    return {};
  }
}

/** True when the notice was shown before on this account. */
export function noticeSeen(file = stateFile()): boolean {
  return Boolean(readNoticeState(file).notice_shown_at);
}

/** True when the remembered consent names every one of `parties` (a new default asks again). */
export function consentCovers(state: NoticeState, parties: readonly string[]): boolean {
  const given = state.dns_control_consent?.parties;
  return Array.isArray(given) && parties.every((p) => given.includes(p));
}

/**
 * Remembers that the notice was shown and, with `consentTo`, that the user agreed to ask those
 * third parties. A read-only home is not an error (it is shown, and asked, again next time).
 */
export function rememberNotice(file = stateFile(), consentTo: readonly string[] = []): void {
  try {
    const state = readNoticeState(file);
    const now = new Date().toISOString();
    state.notice_shown_at ??= now;
    if (consentTo.length > 0) state.dns_control_consent = { at: now, parties: [...new Set([...(state.dns_control_consent?.parties ?? []), ...consentTo])] };
    makeDirs(join(file, ".."));
    writeFileSync(file, JSON.stringify(state) + "\n");
  } catch {
    /* shown again next time: better than failing the run */
  }
}

/** What decides whether the notice is shown and waits. */
export interface NoticeInputs {
  /** The run would ask the default third parties (it names no resolver, and no --no-dns-control). */
  wantsDefaults: boolean;
  /** `--yes`. */
  yes: boolean;
  /** The remembered consent covers the defaults. */
  saved: boolean;
  /** The notice was shown before on this account. */
  seen: boolean;
  /** Neither `--no-notice` nor `--quiet`. */
  noticeOn: boolean;
  /** stdin and stderr are a terminal: someone can answer. */
  terminal: boolean;
}

/** What to do before anything is sent. */
export interface NoticeDecision {
  /** Print the notice. */
  show: boolean;
  /** Wait for a yes after it (a no exits, nothing sent). */
  ask: boolean;
  /** Consent to the defaults without asking: `--yes`, or remembered. */
  consent: boolean;
}

/**
 * Decides the notice: shown on a terminal the first time, and again while the defaults would be
 * asked without consent; it waits for an answer unless `--yes` was given. Without a terminal
 * nothing is asked, and the defaults are used only with `--yes` or remembered consent.
 */
export function decideNotice(i: NoticeInputs): NoticeDecision {
  const consent = i.yes || (i.wantsDefaults && i.saved);
  const show = i.noticeOn && i.terminal && (!i.seen || (i.wantsDefaults && !consent));
  return { show, ask: show && !i.yes, consent };
}

/** One third party named by the notice. */
export interface ThirdParty {
  /** Who it is, e.g. `Cloudflare (1.1.1.1)` or `the control helper`. */
  who: string;
  /** What it is sent, in a few words. */
  what: string;
}

/** The notice's settings. */
export interface NoticeSettings {
  targets: number;
  list: string | null;
  /** Every third party that learns which names are tested. */
  parties: ThirdParty[];
  /** True when the parties include the defaults (the notice says how to leave them out). */
  defaults: boolean;
  db: string | null;
  /** The notice waits for an answer. */
  asks: boolean;
}

/** The notice's text for this run's settings. */
export function noticeText(o: NoticeSettings): string {
  const lines = [
    `Before you measure: what reachprobe does, and the risk (${o.asks ? "asked" : "shown"} once; --no-notice skips it).`,
    `- It connects from this machine to ${o.targets} target${o.targets === 1 ? "" : "s"}${o.list ? ` (the "${o.list}" list)` : ""}, as a browser or app would:`,
    "  DNS lookups through your resolver, TCP and TLS connections, and HTTP requests.",
  ];
  if (o.parties.length > 0) {
    lines.push("- These third parties will learn which names are tested:");
    for (const p of o.parties) lines.push(`    ${p.who}: ${p.what}`);
    if (o.defaults) lines.push("  (the public resolvers are reachprobe's defaults: --no-dns-control, --doh or --resolver leave them out)");
  } else {
    lines.push("- No third party is asked about the names tested (no DNS control, no control helper).");
  }
  lines.push(
    "- Anyone watching your network (your ISP, employer, or state) can see these connections.",
    "  In some countries testing for censorship, or contacting blocked services, can carry legal or",
    `  personal risk. Read https://ooni.org/about/risks/ and ${o.asks ? "answer n" : "stop now (Ctrl-C)"} if the risk is not yours to take.`,
    `- ${o.db ? `Results are stored in ${o.db}` : "Nothing is stored (--no-store)"}; your IP address is never stored.`,
    "",
  );
  return lines.join("\n");
}

/** The question after the notice. */
export const CONSENT_QUESTION = "Nothing has been sent yet. Go ahead? [y/N] ";

/**
 * Asks CONSENT_QUESTION on `output` and reads one line of `input`: true for y or yes (any case),
 * false for anything else or the end of input. Nothing else is read from `input`.
 */
export function askConsent(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<boolean> {
  output.write(CONSENT_QUESTION);
  // Not a readline "terminal": the terminal stays in its own line mode, so Ctrl-C is SIGINT.
  const rl = createInterface({ input, terminal: false });
  return new Promise((resolve) => {
    let answered = false;
    rl.once("line", (line) => {
      answered = true;
      resolve(/^\s*y(es)?\s*$/i.test(line));
      rl.close();
    });
    rl.once("close", () => {
      if (answered) return;
      output.write("\n");
      resolve(false);
    });
  });
}
