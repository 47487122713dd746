// STAND-IN: replaced by the h-http-net branch at merge
/**
 * What a browser's navigation request looks like: the request headers and the ALPN list.
 * A minimal stand-in with the agreed interface (the real header list comes from the h-http-net branch).
 */

/** What the navigation looks like to the browser: the URL, which hop, where it came from. */
export interface Navigation {
  url: URL;
  /** 0 for the first request, then one more per redirect followed. */
  hop: number;
  /** The URL whose response redirected here (absent on hop 0). */
  from?: URL;
  userAgent: string;
  /** "h2" when ALPN negotiated HTTP/2 on this connection, else "http/1.1". */
  protocol: "http/1.1" | "h2";
}

/** The User-Agent of a current stable desktop Chrome (documented default; `--user-agent` overrides). */
export const CHROME_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";

/** ALPN protocols Chrome offers, in order. */
export const BROWSER_ALPN: string[] = ["h2", "http/1.1"];

/** The request headers desktop Chrome sends for this navigation: exact names, case and order (HTTP/1.1: Host first). */
export function browserRequestHeaders(nav: Navigation): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (nav.protocol === "http/1.1") headers.push(["Host", nav.url.host], ["Connection", "keep-alive"]);
  headers.push(
    ["User-Agent", nav.userAgent],
    ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
    ["Accept-Language", "en-US;q=0.8,en;q=0.5"],
  );
  return headers;
}
