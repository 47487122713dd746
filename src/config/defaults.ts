/**
 * The third parties a run contacts when the user named none: the canary, and the DNS controls
 * (resolvers asked besides the system resolver, whose answers the analysis compares with it).
 * The DNS controls learn which names are tested, so they are asked only with the user's consent
 * (src/cli/notice.ts). Why these: docs/volunteers.md, "Default third parties".
 */

/**
 * The canary of a run whose targets come with none (command line, text files): the one every
 * bundled list declares. A site that should always work, run for documentation's sake by IANA;
 * it learns nothing of what is tested, only that this machine connected.
 */
export const DEFAULT_CANARY = "https://www.example.com/";

/** A public DNS service offered for anyone's use, asked by default (with consent). */
export interface DnsOperator {
  /** Who runs it, as the notice names it. */
  operator: string;
  /** Its UDP resolver (port 53). */
  resolver: { host: string; port: number };
  /** Its DNS-over-HTTPS endpoint (RFC 8484). */
  doh: string;
}

/**
 * The default DNS controls: two operators, each over DoH and UDP, so that one operator blocked
 * or down leaves the other, and a censor that blocks one transport leaves the other. Both
 * resolve without filtering, and both answer DoH over HTTP/1.1, which reachprobe's client speaks.
 */
export const DEFAULT_DNS_OPERATORS: readonly DnsOperator[] = [
  { operator: "Cloudflare (1.1.1.1)", resolver: { host: "1.1.1.1", port: 53 }, doh: "https://cloudflare-dns.com/dns-query" },
  { operator: "Google Public DNS", resolver: { host: "8.8.8.8", port: 53 }, doh: "https://dns.google/dns-query" },
];

/** Where a run's DNS controls come from. */
export type DnsControlOrigin =
  /** `--doh`/`--resolver`, on the command line or in the config file: exactly those. */
  | "chosen"
  /** The defaults, with consent. */
  | "defaults"
  /** `--no-dns-control` (or `"dnsControl": false`): none. */
  | "off"
  /** The defaults would be asked, but no consent was given: none. */
  | "no-consent";

/** The DNS controls a run asks. */
export interface DnsControls {
  origin: DnsControlOrigin;
  resolvers: Array<{ host: string; port: number }>;
  doh: string[];
}

/** The settings that choose the DNS controls, as `reachprobe run` parsed them. */
export interface DnsControlSettings {
  /** `--resolver` values; undefined when neither the command line nor the config file named any. */
  resolver?: Array<{ host: string; port: number }> | undefined;
  /** `--doh` values; undefined likewise. */
  doh?: string[] | undefined;
  /** False with `--no-dns-control`. */
  dnsControl: boolean;
}

/** True when the defaults are what the settings ask for (they name no resolver and do not turn them off). */
export function wantsDefaultDnsControls(s: DnsControlSettings): boolean {
  return s.resolver === undefined && s.doh === undefined && s.dnsControl;
}

/**
 * The DNS controls of a run: the ones named with `--doh`/`--resolver` (or in the config file),
 * all of them and nothing else; otherwise the defaults, unless `--no-dns-control`, and only
 * when `consent` is true.
 */
export function chooseDnsControls(s: DnsControlSettings, consent: boolean, operators: readonly DnsOperator[] = DEFAULT_DNS_OPERATORS): DnsControls {
  if (s.resolver !== undefined || s.doh !== undefined) return { origin: "chosen", resolvers: [...(s.resolver ?? [])], doh: [...(s.doh ?? [])] };
  if (!s.dnsControl) return { origin: "off", resolvers: [], doh: [] };
  if (!consent) return { origin: "no-consent", resolvers: [], doh: [] };
  return { origin: "defaults", resolvers: operators.map((o) => ({ ...o.resolver })), doh: operators.map((o) => o.doh) };
}

/** A resolver as `host:port` (IPv6 in brackets), as options and the notice show it. */
export function resolverText(r: { host: string; port: number }): string {
  return `${r.host.includes(":") ? `[${r.host}]` : r.host}:${r.port}`;
}

/**
 * The default third parties as consent remembers them: each resolver and DoH URL. Consent
 * given for these covers a later run only if it names every one (a new default asks again).
 */
export function defaultParties(operators: readonly DnsOperator[] = DEFAULT_DNS_OPERATORS): string[] {
  return operators.flatMap((o) => [resolverText(o.resolver), o.doh]);
}
