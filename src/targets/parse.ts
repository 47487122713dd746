/**
 * Parsing one target from text. Accepted forms:
 * - `https://host[:port][/path][?query]` and `http://...` (default ports 443 and 80);
 * - `tcp://host:port` (port required, no path);
 * - a bare host, `host[/path]`, meaning `https://host/path`.
 * Hosts are DNS names (ASCII letters, digits, `-`, `_`), IPv4 literals, or IPv6 literals
 * (in brackets inside URLs; a bare IPv6 address may go without them). An internationalised
 * name (`яндекс.рф`) is taken as a browser takes it: converted to its `xn--` form (UTS #46,
 * `url.domainToASCII`), which is measured; its Unicode form is kept in `unicodeHost`.
 *
 * Deliberately rejected, each with its own message: a bare `host:port` (it could mean
 * https or tcp, so the user must say which), fragments (`#...` is never sent to a server,
 * and keeping it would split one endpoint into several store keys), user names or passwords,
 * whitespace, IPv6 zone ids, and anything
 * the WHATWG URL parser would silently "fix" (`1.2.3` as an IPv4 address, backslashes).
 */
import { isIPv4, isIPv6 } from "node:net";
import { domainToASCII, domainToUnicode } from "node:url";
import { TargetError, describeProblem } from "./errors.js";
import { quote } from "../base/read-file.js";
import type { Scheme, Target } from "./target.js";

const DEFAULT_PORT: Record<Exclude<Scheme, "tcp">, number> = { https: 443, http: 80 };
const SCHEMES: ReadonlySet<string> = new Set(["https", "http", "tcp"]);
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

type Fail = (problem: string) => never;

/** Parses `text` into a canonical Target, or throws a TargetError naming `origin` and the problem. */
export function parseTarget(text: string, service = "(none)", origin?: string): Target {
  const fail: Fail = (problem) => {
    throw new TargetError(describeProblem(text, problem, origin));
  };
  const s = text.trim();
  if (s === "") fail("is empty");
  if (/\s/u.test(s)) fail("contains whitespace (one target per entry)");
  if (/[\u0000-\u001f\u007f]/u.test(s)) fail("contains a control character");
  if (s.includes("#")) fail('has a fragment ("#..."); remove it, it is never sent to the server');
  if (s.includes("\\")) fail('contains a backslash; use "/"');

  const m = /^([^:/?]*):\/\//.exec(s);
  let scheme: Scheme;
  let rest: string;
  if (m) {
    const name = (m[1] ?? "").toLowerCase();
    if (name === "") fail('has no scheme before "://" (use https://, http:// or tcp://)');
    if (!SCHEMES.has(name)) fail(`has an unknown scheme ${quote(name)} (use https://, http:// or tcp://)`);
    scheme = name as Scheme;
    rest = s.slice(m[0].length);
  } else {
    scheme = "https";
    rest = bareToAuthority(s, fail);
  }
  const target = parseAuthorityAndPath(scheme, rest, fail);
  return { ...target, service, ...(origin === undefined ? {} : { origin }) };
}

/** Checks a bare (scheme-less) target and returns it in the form that follows `https://`. */
function bareToAuthority(s: string, fail: Fail): string {
  const end = s.search(/[/?]/);
  const hostPart = end < 0 ? s : s.slice(0, end);
  const tail = end < 0 ? "" : s.slice(end);
  const colons = hostPart.split(":").length - 1;
  if (hostPart.startsWith("[")) {
    if (/\]:\d+$/.test(hostPart)) fail(ambiguous(hostPart.replace(/:\d+$/, ""), hostPart.replace(/^.*\]:/, "")));
    return s;
  }
  if (colons >= 2) return `[${hostPart}]${tail}`; // a bare IPv6 address
  if (colons === 1) {
    const [before = "", after = ""] = hostPart.split(":");
    if (SCHEMES.has(before.toLowerCase())) fail(`needs "//" after ${quote(`${before}:`)}`);
    if (/^\d+$/.test(after)) fail(ambiguous(before, after));
    if (/^[a-z][a-z0-9+.-]*$/i.test(before) && !before.includes(".")) {
      fail(`has an unknown scheme ${quote(before.toLowerCase())} (use https://, http:// or tcp://)`);
    }
    fail(badPort(after));
  }
  return s;
}

function ambiguous(host: string, port: string): string {
  return `is ambiguous: write https://${host}:${port}/ for a web target or tcp://${host}:${port} for a TCP connect`;
}

function badPort(port: string): string {
  return `has a bad port ${quote(port)} (must be a number from 1 to 65535)`;
}

/** Parses `host[:port][/path][?query]` (what follows `scheme://`) for the given scheme. */
function parseAuthorityAndPath(scheme: Scheme, rest: string, fail: Fail): Omit<Target, "service" | "origin"> {
  const end = rest.search(/[/?]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? "" : rest.slice(end);
  if (authority.includes("@")) fail('has a user name or password ("...@"); remove it');
  if (authority === "") fail("has no host");

  const { host, isIp, ipv6, portText } = splitHost(authority, fail);
  // Both forms of an internationalised name: the xn-- one is measured and stored, the Unicode one shown.
  const unicode = isIp || !/(^|\.)xn--/.test(host) ? "" : domainToUnicode(host);
  const idn = unicode !== "" && unicode !== host ? { unicodeHost: unicode } : {};
  let port: number;
  if (portText === undefined) {
    if (scheme === "tcp") fail("needs a port (tcp://host:port)");
    port = DEFAULT_PORT[scheme as Exclude<Scheme, "tcp">];
  } else {
    if (!/^\d{1,5}$/.test(portText)) fail(badPort(portText));
    port = Number(portText);
    if (port < 1 || port > 65535) fail(badPort(portText));
  }

  const hostInUrl = ipv6 ? `[${host}]` : host;
  if (scheme === "tcp") {
    if (tail !== "" && tail !== "/") fail("has a path; a tcp target is only tcp://host:port");
    return { input: `tcp://${hostInUrl}:${port}`, scheme, host, port, path: "/", isIp, ...idn };
  }
  const rawPath = tail === "" ? "/" : tail.startsWith("?") ? `/${tail}` : tail;
  // Non-ASCII in a path is legal to type but must travel percent-encoded; encode it once here.
  const path = rawPath.replace(/[^\u0021-\u007e]/gu, (c) => encodeURIComponent(c));
  const shownPort = port === DEFAULT_PORT[scheme] ? "" : `:${port}`;
  return { input: `${scheme}://${hostInUrl}${shownPort}${path}`, scheme, host, port, path, isIp, ...idn };
}

interface HostParts {
  host: string;
  isIp: boolean;
  ipv6: boolean;
  portText: string | undefined;
}

/** Splits `host[:port]` or `[v6][:port]` and validates the host. */
function splitHost(authority: string, fail: Fail): HostParts {
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    const inside = close < 0 ? authority.slice(1) : authority.slice(1, close);
    if (close < 0 || inside.includes("%") || !isIPv6(inside)) {
      fail(`has an invalid IPv6 address ${quote(inside)}`);
    }
    const after = authority.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) fail(`has unexpected text ${quote(after)} after the IPv6 address`);
    // Canonical IPv6 text (lower case, zeros compressed) so one address is one store key.
    const host = new URL(`http://[${inside}]/`).hostname.slice(1, -1);
    return { host, isIp: true, ipv6: true, portText: after === "" ? undefined : after.slice(1) };
  }
  const colons = authority.split(":").length - 1;
  if (colons > 1) fail("has an IPv6 address without brackets (write [address])");
  const [rawHost = "", portText] = authority.split(":");
  if (rawHost === "") fail("has no host");
  let host = rawHost.toLowerCase();
  if (/[^\u0000-\u007f]/u.test(host)) {
    // UTS #46 maps case and width as a browser's address bar does; "" when the name cannot be a DNS name.
    const ascii = domainToASCII(rawHost);
    if (ascii === "" || /[^\u0000-\u007f]/u.test(ascii)) fail(`has an invalid internationalised host ${quote(rawHost)}`);
    host = ascii;
  }
  if (/^[0-9.]+$/.test(host)) {
    if (!isIPv4(host)) fail(`has an invalid IPv4 address ${quote(rawHost)}`);
    return { host, isIp: true, ipv6: false, portText };
  }
  const reason = hostNameProblem(host);
  if (reason !== undefined) fail(`has an invalid host ${quote(rawHost)} (${reason})`);
  return { host, isIp: false, ipv6: false, portText };
}

/** Returns why `host` (lower case) is not a valid DNS name, or undefined when it is. */
function hostNameProblem(host: string): string | undefined {
  if (host.length > 253) return "longer than 253 characters";
  const labels = host.split(".");
  if (labels.some((l) => l === "")) return "empty label: no leading, trailing or double dots";
  if (labels.some((l) => l.length > 63)) return "a label is longer than 63 characters";
  if (/[^a-z0-9_.-]/.test(host)) return 'only letters, digits, "-", "_" and "." are allowed';
  if (!labels.every((l) => LABEL.test(l))) return 'a label starts or ends with "-"';
  if (/^\d+$/.test(labels[labels.length - 1] ?? "")) return "the last label is all digits";
  return undefined;
}
