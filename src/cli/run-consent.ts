/**
 * Before a run sends anything: which third parties it would tell the names it tests (DNS
 * controls, the control helper), the notice that names them, and the consent that lets the
 * default public resolvers be asked (docs/volunteers.md, "Consent").
 */
import { chooseDnsControls, DEFAULT_DNS_OPERATORS, defaultParties, resolverText, wantsDefaultDnsControls, type DnsControls } from "../config/defaults.js";
import { EXIT } from "./exit-codes.js";
import { askConsent, consentCovers, decideNotice, noticeText, readNoticeState, rememberNotice, stateFile, type ThirdParty } from "./notice.js";
import type { Plan } from "./run-plan.js";
import type { RunFlags } from "./run-options.js";

/** What the run may ask, once the notice is settled. */
export interface Settled {
  dns: DnsControls;
  /** How the defaults were consented to, when they are asked. */
  consent: "--yes" | "remembered" | "answered" | null;
}

/** Where the notice reads its answer and writes, and where consent is remembered. */
export interface ConsentIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** stdin and stderr are a terminal. */
  terminal: boolean;
  file: string;
}

/** The process's own terminal and state file. */
export function processIo(): ConsentIo {
  return { input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY && process.stderr.isTTY), file: stateFile() };
}

/** The third parties that learn the names tested when `dns` and the helper at `control` are asked. */
export function thirdParties(dns: DnsControls, control: string | null): ThirdParty[] {
  const parties: ThirdParty[] = [];
  if (dns.origin === "defaults") {
    for (const o of DEFAULT_DNS_OPERATORS) {
      if (!dns.doh.includes(o.doh)) continue;
      parties.push({ who: o.operator, what: `every name tested, over UDP to ${resolverText(o.resolver)} and DNS-over-HTTPS to ${o.doh}` });
    }
  } else {
    for (const r of dns.resolvers) parties.push({ who: `the resolver ${resolverText(r)}`, what: "every name tested, over UDP" });
    for (const d of dns.doh) parties.push({ who: `the DoH server ${d}`, what: "every name tested, over DNS-over-HTTPS" });
  }
  if (control) parties.push({ who: `the control helper ${control}`, what: "every URL tested, and the addresses your resolver gave" });
  return parties;
}

/** The line said when the defaults are left out for want of consent. */
export function noConsentLine(): string {
  const who = DEFAULT_DNS_OPERATORS.map((o) => o.operator).join(" and ");
  return `reachprobe: the public resolvers of ${who} are not asked: no consent yet (answer the notice on a terminal, or pass --yes; --no-dns-control says you want none); DNS goes through the system resolver only\n`;
}

/**
 * Shows the notice when it is due, waits for the answer when it asks, and decides the DNS
 * controls. Returns EXIT.USAGE when the answer is no: nothing was sent. `control` is the
 * helper's URL as shown (credentials redacted), or null.
 */
export async function settleConsent(plan: Plan, flags: RunFlags, control: string | null, io: ConsentIo = processIo()): Promise<Settled | number> {
  const wantsDefaults = wantsDefaultDnsControls(flags);
  const state = readNoticeState(io.file);
  const saved = consentCovers(state, defaultParties());
  const decision = decideNotice({
    wantsDefaults,
    yes: Boolean(flags.yes),
    saved,
    seen: Boolean(state.notice_shown_at),
    noticeOn: flags.notice && !flags.quiet,
    terminal: io.terminal,
  });
  let consent: Settled["consent"] = flags.yes ? "--yes" : decision.consent ? "remembered" : null;
  if (decision.show) {
    const asked = chooseDnsControls(flags, true);
    io.output.write(
      noticeText({
        targets: plan.targets.length,
        list: plan.listName,
        parties: thirdParties(asked, control),
        defaults: asked.origin === "defaults",
        db: flags.store ? (flags.db ?? null) : null,
        asks: decision.ask,
      }),
    );
    if (decision.ask) {
      if (!(await askConsent(io.input, io.output))) {
        io.output.write("reachprobe: you answered no; nothing was sent\n");
        return EXIT.USAGE;
      }
      consent = "answered";
      rememberNotice(io.file, wantsDefaults ? defaultParties() : []);
    } else {
      rememberNotice(io.file);
    }
  }
  const dns = chooseDnsControls(flags, consent !== null);
  if (dns.origin === "no-consent" && !flags.quiet) io.output.write(noConsentLine());
  return { dns, consent: dns.origin === "defaults" ? consent : null };
}

/** What `run --dry-run` prints: what the run would probe and contact, decided as without a terminal. */
export function dryRunReport(plan: Plan, flags: RunFlags, control: string | null, file: string): Record<string, unknown> {
  const wantsDefaults = wantsDefaultDnsControls(flags);
  const consent = Boolean(flags.yes) || (wantsDefaults && consentCovers(readNoticeState(file), defaultParties()));
  const dns = chooseDnsControls(flags, consent);
  const withConsent = chooseDnsControls(flags, true);
  return {
    targets: plan.targets.length,
    list: plan.listName,
    canary: plan.canary ? { target: plan.canary.input, from: plan.canarySource } : null,
    system_resolver: flags.systemResolver,
    dns_control: {
      origin: dns.origin,
      resolvers: dns.resolvers.map(resolverText),
      doh: dns.doh,
      // What consent would add: on a terminal the notice asks for it; otherwise --yes or a remembered yes.
      ...(dns.origin === "no-consent" ? { with_consent: { resolvers: withConsent.resolvers.map(resolverText), doh: withConsent.doh } } : {}),
    },
    control,
    third_parties: thirdParties(dns, control).map((p) => p.who),
    sent: "nothing (--dry-run)",
  };
}
