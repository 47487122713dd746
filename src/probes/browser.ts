/**
 * The request a current desktop Chrome sends for a navigation typed into the address bar:
 * every header name, its case, its value and its order, on HTTP/1.1 and on HTTP/2, for the
 * first request and for each redirect hop. Pure functions; docs/browser-request.md explains
 * each header and how to override the User-Agent.
 *
 * Sources (see docs/browser-request.md for the details of each):
 * - Chromium's network service (sec_header_helpers.cc): Sec-Fetch-* go only to potentially
 *   trustworthy URLs; a request with no initiator (a typed navigation is browser-initiated)
 *   gets `Sec-Fetch-Site: none` on every hop, redirects included; a redirect to a URL that is
 *   not trustworthy drops every sec-ch-* and sec-fetch-* header.
 * - Chromium's user_agent_utils.cc and its unit tests: the GREASE brand, its version and the
 *   brand order are all seeded by the major version (checked below against captures of 146,
 *   147, 148, 150 and 151).
 * - curl-impersonate's signature of a captured Chrome 150 (HTTP/2 pseudo-header order
 *   m,a,s,p; the regular headers and `priority: u=0, i` last) and a public Go client that
 *   replays header sets captured from Chrome 153 over HTTP/1.1 and HTTP/2 (Host and
 *   Connection first on HTTP/1.1; no priority header on HTTP/1.1; after a redirect that
 *   changed origin the client hints move behind the fetch metadata).
 * - zapret's --hostcase and GoodbyeDPI's notes: DPI matches the literal `Host: ` bytes,
 *   which is why case and order matter here.
 * - Chrome release data: 159 reached the stable channel at the end of November 2026 (milestones
 *   ship every two weeks since 153).
 */

/** What the navigation looks like to the browser: the URL, which hop, where it came from. */
export interface Navigation {
  url: URL;
  /** 0 for the first request, then one more per redirect followed. */
  hop: number;
  /** The URL whose response redirected here (absent on hop 0). */
  from?: URL;
  /**
   * Every URL requested before this one in this navigation, the first one first (optional;
   * defaults to `[from]`). Chrome moves the client hints once any hop changed origin, so an
   * exact order on a later hop needs the whole chain.
   */
  chain?: readonly URL[];
  userAgent: string;
  /** "h2" when ALPN negotiated HTTP/2 on this connection, else "http/1.1". */
  protocol: "http/1.1" | "h2";
}

/** The Chrome major version whose requests reachprobe reproduces (stable in December 2026). */
export const CHROME_MAJOR = 159;

/** The User-Agent of a current stable desktop Chrome (documented default; `--user-agent` overrides). */
export const CHROME_USER_AGENT = `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${CHROME_MAJOR}.0.0.0 Safari/537.36`;

/** ALPN protocols Chrome offers, in order. */
export const BROWSER_ALPN: string[] = ["h2", "http/1.1"];

/** Chrome's Accept for a document navigation. */
export const NAVIGATION_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

const ACCEPT_LANGUAGE = "en-US,en;q=0.9";

const GREASE_CHARS = [" ", "(", ":", "-", ".", "/", ")", ";", "=", "?", "_"];
const GREASE_VERSIONS = ["8", "99", "24"];
const BRAND_ORDERS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/** The `sec-ch-ua` value Google Chrome of this major version sends (GREASE brand included). */
export function secChUa(major: number): string {
  const grease = `"Not${GREASE_CHARS[major % GREASE_CHARS.length]}A${GREASE_CHARS[(major + 1) % GREASE_CHARS.length]}Brand";v="${GREASE_VERSIONS[major % GREASE_VERSIONS.length]}"`;
  const order = BRAND_ORDERS[major % BRAND_ORDERS.length] ?? [0, 1, 2];
  const brands: string[] = ["", "", ""];
  brands[order[0]] = grease;
  brands[order[1]] = `"Chromium";v="${major}"`;
  brands[order[2]] = `"Google Chrome";v="${major}"`;
  return brands.join(", ");
}

/** The Chrome major version a User-Agent claims, or null when it names no Chrome. */
export function chromeMajorOf(userAgent: string): number | null {
  const m = /\bChrome\/(\d{2,4})\./.exec(userAgent);
  return m?.[1] ? Number(m[1]) : null;
}

/** `sec-ch-ua-platform` as Chrome fills it for the OS its User-Agent names. */
function platformOf(userAgent: string): string {
  if (/Android/.test(userAgent)) return '"Android"';
  if (/Windows/.test(userAgent)) return '"Windows"';
  if (/Macintosh|Mac OS X/.test(userAgent)) return '"macOS"';
  if (/CrOS/.test(userAgent)) return '"Chrome OS"';
  if (/Linux|X11/.test(userAgent)) return '"Linux"';
  return '""';
}

/** Chrome's IsLocalhost: localhost, *.localhost, 127.0.0.0/8 and ::1. */
function isLocalhost(url: URL): boolean {
  const h = url.hostname.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "[::1]";
}

/** A potentially trustworthy URL (https:, or http: to localhost): only these get sec-fetch-* and client hints. */
export function isPotentiallyTrustworthy(url: URL): boolean {
  return url.protocol === "https:" || isLocalhost(url);
}

/**
 * The request headers desktop Chrome sends for this navigation: exact names, case and order
 * (HTTP/1.1: Host first). For "h2" the list starts with the pseudo-headers and every name is
 * lower case; there is no Host or Connection.
 */
export function browserRequestHeaders(nav: Navigation): Array<[string, string]> {
  const { url, userAgent } = nav;
  const chain = nav.chain ?? (nav.from ? [nav.from] : []);
  const trustworthy = isPotentiallyTrustworthy(url);
  const major = chromeMajorOf(userAgent);
  // Chrome removes the client hints when a redirect changes origin and appends them again,
  // behind the fetch metadata the network service has already set for the new hop.
  const urls = [...chain, url];
  let crossedOrigin = false;
  for (let i = 1; i < urls.length; i++) if (urls[i - 1]!.origin !== urls[i]!.origin) crossedOrigin = true;
  const hints: Array<[string, string]> =
    trustworthy && major !== null
      ? [
          ["sec-ch-ua", secChUa(major)],
          ["sec-ch-ua-mobile", / Mobile\b/.test(userAgent) ? "?1" : "?0"],
          ["sec-ch-ua-platform", platformOf(userAgent)],
        ]
      : [];

  const list: Array<[string, string]> = [];
  if (nav.protocol === "http/1.1") {
    list.push(["Host", url.host], ["Connection", "keep-alive"]);
  }
  if (!crossedOrigin) list.push(...hints);
  list.push(["Upgrade-Insecure-Requests", "1"], ["User-Agent", userAgent], ["Accept", NAVIGATION_ACCEPT]);
  if (trustworthy) {
    // A typed navigation has no initiator: "none" on every hop (Chromium's GetInitiatorRelation).
    list.push(["Sec-Fetch-Site", "none"], ["Sec-Fetch-Mode", "navigate"], ["Sec-Fetch-User", "?1"], ["Sec-Fetch-Dest", "document"]);
  }
  if (crossedOrigin) list.push(...hints);
  // br and zstd are advertised only where no proxy can see the bytes (https: or localhost).
  list.push(["Accept-Encoding", url.protocol === "https:" || isLocalhost(url) ? "gzip, deflate, br, zstd" : "gzip, deflate"]);
  list.push(["Accept-Language", ACCEPT_LANGUAGE]);
  if (nav.protocol === "h2") {
    const pseudo: Array<[string, string]> = [
      [":method", "GET"],
      [":authority", url.host],
      [":scheme", url.protocol.slice(0, -1)],
      [":path", url.pathname + url.search],
    ];
    return [...pseudo, ...list.map(([k, v]): [string, string] => [k.toLowerCase(), v]), ["priority", "u=0, i"]];
  }
  return list;
}
