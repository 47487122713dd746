/** The target model: what the probe measures, one endpoint at a time. */

/** How a target is reached: a web fetch, or only a TCP (and, for 443, no TLS) connect. */
export type Scheme = "https" | "http" | "tcp";

/** One endpoint to measure. */
export interface Target {
  /** Canonical form, used as the key in the store: `https://host[:port]/path`, `http://...`, `tcp://host:port`. */
  input: string;
  scheme: Scheme;
  /** Host name or IP literal (IPv6 without brackets), lower-case. */
  host: string;
  port: number;
  /** Path and query, starting with `/`; `/` for tcp targets. */
  path: string;
  /** The service this endpoint belongs to (e.g. "WeChat"); for a list that names none, the list file's name; "(command line)" for command-line targets. */
  service: string;
  /** The Unicode form of an internationalised host (`яндекс.рф` for `xn--d1acpjx3f.xn--p1ai`), for display; absent otherwise. */
  unicodeHost?: string;
  /** True when host is an IP literal (no DNS step). */
  isIp: boolean;
  /** Where the target came from, for error messages: `file:line`, `list:NAME`, or `argv`. */
  origin?: string;
}
