/**
 * The control helper's destination policy: a helper on the open internet fetches URLs for
 * strangers, so it never connects to private, loopback, link-local or other special-purpose
 * addresses (the bogons src/analysis/bogons.ts names, and a few tunnelling ranges a public
 * web site never uses) unless its operator allowed them, and it fetches a URL only on the web's
 * ports (80 and 443) or on a port the operator listed (by default the ones the bundled target
 * lists use), never on the port of a mail, database or shell service.
 */
import { UsageError } from "../base/errors.js";
import { isIP } from "node:net";
import { cidrContains, classifyAddress, parseCidr, type Cidr } from "../net/bogons.js";

/** What the operator allowed. */
export interface AddressPolicyOptions {
  /** Connect to bogons too (a helper inside a lab or a private network). */
  allowPrivate: boolean;
  /** Addresses in these ranges count as public internet (the lab's documentation ranges). */
  publicRanges: readonly Cidr[];
}

/** Decides, address by address, whether the helper may connect. */
export interface AddressPolicy {
  /** True when `ip` is a bogon (after publicRanges), whatever the policy allows. */
  isBogon(ip: string): boolean;
  /** Why the helper refuses to connect to `ip` ("127.0.0.1 is a loopback address"), or null when it may. */
  refusal(ip: string): string | null;
  /** True when the helper may connect to `ip`; what ProbeConfig.allowAddress takes. */
  allows(ip: string): boolean;
}

/**
 * IANA special-purpose IPv6 ranges that are not bogons in a DNS answer (a site may publish a
 * 6to4 address) but that a helper must not be aimed at: each one tunnels to, or relays through,
 * an address the policy cannot see. 6to4 addresses carrying a private IPv4 address are bogons
 * already (bogons.ts); the whole range is refused here.
 */
const TUNNEL_RANGES: ReadonlyArray<{ cidr: Cidr; kind: string }> = [
  { cidr: parseCidr("2002::/16"), kind: "a 6to4 address (a tunnel to the IPv4 address inside it)" },
  { cidr: parseCidr("2001::/23"), kind: "a special-purpose address (IETF protocol assignments: Teredo, ORCHID, anycast services)" },
];

/** Builds the policy; a string that is not an IP address is always refused. */
export function addressPolicy(o: AddressPolicyOptions): AddressPolicy {
  const classify = (ip: string) => {
    try {
      return classifyAddress(ip, o.publicRanges);
    } catch {
      return null;
    }
  };
  const refusal = (ip: string): string | null => {
    const c = classify(ip);
    if (c === null) return `${ip} is not an IP address`;
    if (o.allowPrivate) return null;
    if (c.bogon) return `${ip} is ${c.kind ?? "a bogon"}`;
    if (isIP(ip) === 6 && !o.publicRanges.some((r) => cidrContains(r, ip))) {
      const tunnel = TUNNEL_RANGES.find((t) => cidrContains(t.cidr, ip));
      if (tunnel) return `${ip} is ${tunnel.kind}`;
    }
    return null;
  };
  return {
    isBogon: (ip) => classify(ip)?.bogon ?? true,
    refusal,
    allows: (ip) => refusal(ip) === null,
  };
}

/** The port a browser uses for a URL without one. */
export function defaultPort(url: URL): number {
  return Number(url.port) || (url.protocol === "https:" ? 443 : 80);
}

/** The web's own ports: fetched whatever the scheme (a tcp:// target reaches the helper as http://host:443/). */
export const WEB_PORTS: readonly number[] = [80, 443];

/**
 * Ports fetched by default besides 80 and 443: the ones the bundled target lists declare
 * (targets/*.json: tcp://...:5222 for XMPP, http://...:8080), so that their controls keep working.
 */
export const DEFAULT_ALLOW_PORTS: readonly number[] = [5222, 8080];

/**
 * Parses `--allow-ports`: comma-separated ports and ranges (`8080,8443,9000-9010`), `none`, or
 * `any`. Throws an Error naming the bad item.
 */
export function parseAllowPorts(text: string): number[] | "any" {
  const t = text.trim().toLowerCase();
  if (t === "any") return "any";
  if (t === "none") return [];
  const ports = new Set<number>();
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || lo < 1 || hi > 65535 || hi < lo) throw new UsageError(`"${item}" is not a port (1-65535), a range of ports such as 8000-8099, none or any`);
    for (let p = lo; p <= hi; p++) ports.add(p);
  }
  return [...ports].sort((a, b) => a - b);
}

/** What a URL policy needs: the address policy and the ports allowed besides 80 and 443. */
export interface UrlPolicyOptions {
  refusal: (ip: string) => string | null;
  /** Ports fetched besides 80 and 443, or "any". */
  allowPorts: readonly number[] | "any";
}

/**
 * Why the helper refuses to fetch `url` (the first URL or a redirect target), or null when it
 * may: not http(s); an IP literal the address policy refuses; a name that means this machine
 * (RFC 6761); or a port other than the web's own (80, 443) that the operator did not allow.
 * Other names are looked up, and each address they resolve to goes through the address policy.
 */
export function urlRefusal(url: URL, o: UrlPolicyOptions): string | null {
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${url.protocol} URLs are not fetched`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const hostRefusal = refusedHost(host, o.refusal);
  if (hostRefusal) return `the host ${hostRefusal}`;
  const port = defaultPort(url);
  if (!WEB_PORTS.includes(port) && o.allowPorts !== "any" && !o.allowPorts.includes(port)) {
    return `port ${port} is not fetched: this helper fetches URLs on ports 80 and 443${o.allowPorts.length ? ` and ${portList(o.allowPorts)}` : ""} only (--allow-ports)`;
  }
  return null;
}

function portList(ports: readonly number[]): string {
  const shown = ports.slice(0, 8).join(", ");
  return ports.length > 8 ? `${shown} and ${ports.length - 8} more` : shown;
}

/** Why a host is refused: an IP literal the policy refuses, or a name that means this machine. */
export function refusedHost(host: string, refusal: (ip: string) => string | null): string | null {
  if (isIP(host)) return refusal(host);
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) {
    return refusal("127.0.0.1") ? `${host} names this machine (a loopback address)` : null;
  }
  return null;
}
