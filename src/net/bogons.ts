/**
 * Bogon addresses: addresses that a resolver on the public internet never returns for a public
 * name (loopback, private, link-local, documentation...). A DNS answer holding one is the
 * signature of a lying resolver. Pure: `isIP` from node:net is a string check, no I/O.
 *
 * The tables follow IANA's IPv4 and IPv6 Special-Purpose Address Registries, the same ground
 * as OONI's `netxlite/bogon.go`. Each range carries the plain words used in verdict evidence.
 */
import { UsageError } from "../base/errors.js";
import { isIP } from "node:net";

/** A parsed CIDR block: its network address (host bits cleared) and prefix length. */
export interface Cidr {
  readonly family: 4 | 6;
  /** The network address, 4 or 16 bytes, host bits cleared. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical text, e.g. `192.0.2.0/24` or `2001:db8::/32`. */
  readonly text: string;
}

/** The result of classifying one address: whether it is a bogon and, if so, what kind in plain words. */
export interface AddressClass {
  bogon: boolean;
  /** e.g. "a loopback address"; null when the address is not a bogon. */
  kind: string | null;
}


/** Strips IPv6 brackets and a zone id (`fe80::1%eth0`), which say nothing about the address class. */
function bareAddress(text: string): string {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  return zone >= 0 && s.includes(":") ? s.slice(0, zone) : s;
}

function v4Bytes(s: string): Uint8Array {
  return Uint8Array.from(s.split(".").map(Number));
}

/** Parses an address that `isIP` already accepted as IPv6 into 16 bytes. */
function v6Bytes(s: string): Uint8Array {
  let text = s;
  // An embedded dotted quad (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(last);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const double = text.indexOf("::");
  const split = (part: string): string[] => (part === "" ? [] : part.split(":"));
  let groups: string[];
  if (double < 0) groups = split(text);
  else {
    const head = split(text.slice(0, double));
    const tail = split(text.slice(double + 2));
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** Parses an address into its family and bytes, or null when it is not an IP address. */
function parseAddress(text: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const s = bareAddress(text);
  const family = isIP(s);
  if (family === 4) return { family: 4, bytes: v4Bytes(s) };
  if (family === 6) return { family: 6, bytes: v6Bytes(s) };
  return null;
}

function formatBytes(family: 4 | 6, b: Uint8Array): string {
  if (family === 4) return Array.from(b).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  // RFC 5952: compress the longest run (at least two) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

function maskBytes(b: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (b[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function contains(cidr: Cidr, family: 4 | 6, bytes: Uint8Array): boolean {
  if (cidr.family !== family) return false;
  // Byte by byte under the mask, allocating nothing: every DNS answer is checked against ~20 ranges.
  for (let i = 0; i < cidr.bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, cidr.prefix - i * 8));
    if (bits === 0) return true;
    if (((bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff)) !== cidr.bytes[i]) return false;
  }
  return true;
}

/**
 * Parses `ADDRESS/PREFIX` (IPv4 or IPv6); a bare address means a single host. Host bits are
 * cleared (`192.0.2.7/24` is `192.0.2.0/24`). Throws an Error (code `E_CIDR`) naming the text.
 */
export function parseCidr(text: string): Cidr {
  const s = text.trim();
  const slash = s.indexOf("/");
  const addrText = slash >= 0 ? s.slice(0, slash) : s;
  const addr = addrText.includes("%") ? null : parseAddress(addrText);
  if (addr === null) {
    throw new UsageError(`invalid CIDR "${text}": "${addrText}" is not an IPv4 or IPv6 address`, "E_CIDR");
  }
  const max = addr.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new UsageError(`invalid CIDR "${text}": prefix length must be a whole number from 0 to ${max}`, "E_CIDR");
    }
    prefix = Number(p);
  }
  const bytes = maskBytes(addr.bytes, prefix);
  return { family: addr.family, bytes, prefix, text: `${formatBytes(addr.family, bytes)}/${prefix}` };
}

/**
 * Parses a comma-separated list of CIDRs (`--public-ranges`, `REACHPROBE_PUBLIC_RANGES`);
 * blanks around commas and empty items are ignored. Throws on the first bad item, naming it.
 */
export function parsePublicRanges(text: string): Cidr[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .map(parseCidr);
}

/** True when `ip` lies inside `cidr`; false for a non-address or a family mismatch (IPv6 carrying an IPv4 address, mapped, NAT64 or 6to4, counts as that IPv4 address too). */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const addr = parseAddress(ip);
  if (addr === null) return false;
  if (contains(cidr, addr.family, addr.bytes)) return true;
  const v4 = embeddedV4(addr);
  return v4 !== null && contains(cidr, 4, v4);
}

interface Range {
  cidr: Cidr;
  kind: string;
}

const range = (text: string, kind: string): Range => ({ cidr: parseCidr(text), kind });

const PRIVATE = "a private address (RFC 1918)";
const DOCUMENTATION = "a documentation address";
const RESERVED = "a reserved address";

// Most specific first: the first range that contains the address names it.
const V4_BOGONS: readonly Range[] = [
  range("0.0.0.0/32", "an unspecified address"),
  range("0.0.0.0/8", 'a reserved "this network" address'),
  range("10.0.0.0/8", PRIVATE),
  range("100.64.0.0/10", "a carrier-grade NAT address"),
  range("127.0.0.0/8", "a loopback address"),
  range("169.254.0.0/16", "a link-local address"),
  range("172.16.0.0/12", PRIVATE),
  range("192.0.0.0/24", `${RESERVED} (IETF protocol assignments)`),
  range("192.0.2.0/24", DOCUMENTATION),
  range("192.88.99.0/24", `${RESERVED} (deprecated 6to4 relay)`),
  range("192.168.0.0/16", PRIVATE),
  range("198.18.0.0/15", "a benchmarking address"),
  range("198.51.100.0/24", DOCUMENTATION),
  range("203.0.113.0/24", DOCUMENTATION),
  range("224.0.0.0/4", "a multicast address"),
  range("255.255.255.255/32", "a broadcast address"),
  range("240.0.0.0/4", RESERVED),
];

/** The IPv6 tables, parsed at the first IPv6 address (see v6Tables). */
interface V6Tables {
  bogons: readonly Range[];
  /** Only 2000::/3 is allocated for global unicast; outside it, the ranges above or "reserved". */
  globalUnicast: Cidr;
  /** These embed an IPv4 address, whose own rules then apply. */
  mapped: Cidr;
  nat64: Cidr;
  sixToFour: Cidr;
}

let v6: V6Tables | null = null;

/**
 * The IPv6 tables, parsed when first needed: parsing an IPv6 text goes through node:net's
 * isIPv6, whose regular expression V8 compiles at its first use, 5-7 ms of CPU that a run on an
 * IPv4-only network never needs (docs/development.md, "CPU per target").
 */
function v6Tables(): V6Tables {
  v6 ??= {
    bogons: [
      range("::/128", "an unspecified address"),
      range("::1/128", "a loopback address"),
      range("::/96", `${RESERVED} (deprecated IPv4-compatible)`),
      range("64:ff9b:1::/48", `${RESERVED} (local-use NAT64)`),
      range("100::/64", "a discard-only address"),
      range("100:0:0:1::/64", `${RESERVED} (dummy IPv6 prefix)`),
      range("2001::/32", `${RESERVED} (Teredo tunnelling)`),
      range("2001:2::/48", "a benchmarking address"),
      range("2001:10::/28", `${RESERVED} (deprecated ORCHID)`),
      range("2001:db8::/32", DOCUMENTATION),
      range("3fff::/20", DOCUMENTATION),
      range("fc00::/7", "an IPv6 unique-local address"),
      range("fe80::/10", "a link-local address"),
      range("fec0::/10", "a deprecated site-local address"),
      range("ff00::/8", "a multicast address"),
    ],
    globalUnicast: parseCidr("2000::/3"),
    mapped: parseCidr("::ffff:0:0/96"),
    nat64: parseCidr("64:ff9b::/96"),
    sixToFour: parseCidr("2002::/16"),
  };
  return v6;
}

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or
 * 6to4 (`2002:AABB:CCDD::`, the IPv4 address in bytes 2 to 5) IPv6 address.
 */
function embeddedV4(addr: { family: 4 | 6; bytes: Uint8Array }): Uint8Array | null {
  if (addr.family !== 6) return null;
  const t = v6Tables();
  if (contains(t.mapped, 6, addr.bytes) || contains(t.nat64, 6, addr.bytes)) return addr.bytes.slice(12);
  if (contains(t.sixToFour, 6, addr.bytes)) return addr.bytes.slice(2, 6);
  return null;
}

function findKind(ranges: readonly Range[], family: 4 | 6, bytes: Uint8Array): string | null {
  for (const r of ranges) if (contains(r.cidr, family, bytes)) return r.kind;
  return null;
}

/**
 * Says whether `ip` is a bogon and, if so, what kind ("a loopback address"); addresses inside
 * any of `publicRanges` are never bogons (the lab's internet lives in documentation ranges).
 * IPv4-mapped, NAT64 and 6to4 IPv6 addresses follow the rules of the IPv4 address they carry.
 * Throws an Error (code `E_ADDRESS`) when `ip` is not an IP address.
 */
export function classifyAddress(ip: string, publicRanges: readonly Cidr[] = []): AddressClass {
  const addr = parseAddress(ip);
  if (addr === null) throw new UsageError(`"${ip}" is not an IPv4 or IPv6 address`, "E_ADDRESS");
  const v4 = embeddedV4(addr);
  for (const r of publicRanges) {
    if (contains(r, addr.family, addr.bytes) || (v4 !== null && contains(r, 4, v4))) return { bogon: false, kind: null };
  }
  let kind: string | null;
  if (addr.family === 4) kind = findKind(V4_BOGONS, 4, addr.bytes);
  else if (v4 !== null) kind = findKind(V4_BOGONS, 4, v4);
  else {
    kind = findKind(v6Tables().bogons, 6, addr.bytes);
    if (kind === null && !contains(v6Tables().globalUnicast, 6, addr.bytes)) kind = RESERVED;
  }
  return { bogon: kind !== null, kind };
}

/** True when `ip` is a bogon (see `classifyAddress`). */
export function isBogon(ip: string, publicRanges: readonly Cidr[] = []): boolean {
  return classifyAddress(ip, publicRanges).bogon;
}
