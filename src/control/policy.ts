/**
 * The control helper's destination policy: a helper on the open internet fetches URLs for
 * strangers, so it never connects to private, loopback, link-local or other special-purpose
 * addresses (the bogons src/analysis/bogons.ts names, and a few tunnelling ranges a public
 * web site never uses) unless its operator allowed them. It connects to any endpoint a probe
 * sent on the web's ports (80 and 443) or on a port the operator listed (by default the ones
 * the bundled target lists use); on another port (`http://example.com:444/`), as OONI's helper
 * does, only to the addresses it resolved itself for the URL's host name, and never on a port
 * browsers refuse or a mail, database or remote-administration port unless the operator listed
 * it (docs/control-helper.md "Refusals and limits").
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

/**
 * Ports never connected to unless `--allow-ports` lists them: the ports browsers refuse to fetch
 * (the Fetch standard's "bad ports": mail, shell, name services, IRC...) and the well-known
 * database, cache and remote-administration ports, whose owners a stranger's URL must not reach
 * through this helper.
 */
export const SERVICE_PORTS: ReadonlySet<number> = new Set([
  // Browsers' bad ports.
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514,
  515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
  // Databases, caches, remote administration, container and cluster control.
  445, 1433, 1521, 2375, 2376, 2379, 2380, 3306, 3389, 5432, 5900, 5984, 6379, 9042, 9200, 9300, 10250, 11211, 27017,
]);

/** What a URL policy needs: the address policy and the ports allowed besides 80 and 443. */
export interface UrlPolicyOptions {
  refusal: (ip: string) => string | null;
  /** Ports where any endpoint is connected to, besides 80 and 443, or "any". */
  allowPorts: readonly number[] | "any";
  /**
   * A URL whose host is a name, on a port not listed (nor a service port), is measured on the
   * addresses the helper resolves for that name (true, the default), or refused (false:
   * `--listed-ports-only`).
   */
  urlPort?: boolean;
}

/** True when any endpoint may be connected to on `port`: 80, 443 or an `--allow-ports` one. */
export function listedPort(port: number, allowPorts: UrlPolicyOptions["allowPorts"]): boolean {
  return WEB_PORTS.includes(port) || allowPorts === "any" || allowPorts.includes(port);
}

/** Why a URL's scheme or host is refused, or null. */
function schemeOrHostRefusal(url: URL, o: UrlPolicyOptions): string | null {
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${url.protocol} URLs are not fetched`;
  const hostRefusal = refusedHost(url.hostname.replace(/^\[|\]$/g, ""), o.refusal);
  return hostRefusal ? `the host ${hostRefusal}` : null;
}

/** "ports 80 and 443 and 5222, 8080": the listed ports, in words. */
function listed(o: UrlPolicyOptions): string {
  return `ports 80 and 443${o.allowPorts !== "any" && o.allowPorts.length ? ` and ${portList(o.allowPorts)}` : ""}`;
}

/**
 * Why the helper refuses to measure `url`, the URL a probe asked about, or null when it may: not
 * http(s); an IP literal the address policy refuses; a name that means this machine (RFC 6761);
 * a port that is not listed (80, 443, `--allow-ports`) when the host is an IP address, when it is
 * a service port (SERVICE_PORTS), or with `--listed-ports-only`. A name on another unlisted port
 * is measured on the helper's own addresses only (ownAddressesOnly). Names are looked up, and each
 * address they resolve to goes through the address policy.
 */
export function urlRefusal(url: URL, o: UrlPolicyOptions): string | null {
  const refused = schemeOrHostRefusal(url, o);
  if (refused) return refused;
  const port = defaultPort(url);
  if (listedPort(port, o.allowPorts)) return null;
  if (SERVICE_PORTS.has(port)) return `port ${port} is not fetched: browsers refuse it, or it is a mail, database or remote-administration port, and --allow-ports does not list it`;
  if (o.urlPort === false) return `port ${port} is not fetched: this helper fetches URLs on ${listed(o)} only (--allow-ports, --listed-ports-only)`;
  if (isIP(url.hostname.replace(/^\[|\]$/g, ""))) {
    return `port ${port} is not fetched for an IP address: this helper fetches URLs on ${listed(o)} (--allow-ports), and on another port only for a host name, on the addresses it resolves for it`;
  }
  return null;
}

/** True when `url` (allowed by urlRefusal) is measured on the helper's own addresses only: its port is not listed. */
export function ownAddressesOnly(url: URL, o: Pick<UrlPolicyOptions, "allowPorts">): boolean {
  return !listedPort(defaultPort(url), o.allowPorts);
}

/**
 * Why the helper refuses to follow a redirect to `url` from the measured URL `first`, or null:
 * as urlRefusal for the scheme and host; on a port that is not listed, only the measured URL's
 * own host and port (its origin's other pages), never another endpoint.
 */
export function redirectRefusal(url: URL, first: URL, o: UrlPolicyOptions): string | null {
  const refused = schemeOrHostRefusal(url, o);
  if (refused) return refused;
  const port = defaultPort(url);
  if (listedPort(port, o.allowPorts)) return null;
  const sameEndpoint = url.hostname.toLowerCase() === first.hostname.toLowerCase() && port === defaultPort(first) && urlRefusal(first, o) === null;
  return sameEndpoint ? null : `port ${port} is not fetched: this helper follows redirects on ${listed(o)} (--allow-ports), and on another port only to the measured URL's own host and port`;
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
