/**
 * Stage 2 for HTTP and redirect hops: block-page signatures, the final response against the
 * helper's fetch (status, body length, title, uncommon headers, as OONI's web_connectivity
 * compares them), the Host swap, the address swap's page against the first page, and redirect
 * hops that stopped before their request, at the step that stopped them. Pure: no I/O.
 */
import type { AnalysisContext } from "./context.js";
import type { ControlHttpRow, HttpRow, Table } from "./table.js";
import { blockPageMatch, matchHttp } from "./fingerprints.js";
import { classifyAddress } from "../net/bogons.js";
import { resolverName } from "./compare-dns.js";
import { compareTls } from "./compare-conn.js";
import { fact, type Fact } from "./facts.js";

// Headers nearly every server sends; only the others say something about who answered.
const COMMON_HEADERS = new Set(
  "date content-type server cache-control vary set-cookie location expires x-powered-by content-encoding last-modified accept-ranges pragma x-frame-options etag x-content-type-options age via p3p x-xss-protection content-language cf-ray strict-transport-security link x-varnish connection content-length transfer-encoding keep-alive alt-svc".split(
    " ",
  ),
);

/** How the probe's final response compares with the control's; each field true when they agree. */
export interface HttpComparison {
  status: boolean;
  body: boolean;
  title: boolean;
  headers: boolean;
  /** Body length proportion, smaller over larger, 0..1. */
  proportion: number;
}

/** The words of five letters or more in a title, lower case (OONI's "long words"): short words vary with layout, not with the page. */
function longWords(title: string | null | undefined): Set<string> {
  return new Set((title ?? "").toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => [...w].length >= 5));
}

/**
 * Compares a final response with the control's, as OONI's web_connectivity does (docs/verdicts.md
 * "Comparing a page with the control's"): the status; the body length proportion (over 0.7
 * agrees); the uncommon headers (they agree when both sides share one: two sides with none share
 * nothing, as a block page written by a middlebox has none); the title (it agrees when neither
 * has a long word the other lacks).
 */
export function compareResponses(last: HttpRow, c: ControlHttpRow): HttpComparison {
  const probeLen = last.bodyLength ?? 0;
  // A probe body cut at the cap is as long as the control's if the control's is longer still.
  const controlLen = last.bodyTruncated ? Math.min(c.bodyLength ?? 0, probeLen) : (c.bodyLength ?? 0);
  const big = Math.max(probeLen, controlLen);
  const proportion = big === 0 ? 1 : Math.min(probeLen, controlLen) / big;
  const uncommon = (h: Record<string, string>) => new Set(Object.keys(h).map((k) => k.toLowerCase()).filter((k) => !COMMON_HEADERS.has(k)));
  const mine = uncommon(last.headers);
  const headers = [...uncommon(c.headers)].some((k) => mine.has(k));
  const a = longWords(last.title);
  const b = longWords(c.title);
  const title = [...a].every((w) => b.has(w)) && [...b].every((w) => a.has(w));
  return { status: last.status === c.status, body: proportion > 0.7, title, headers, proportion };
}

/**
 * What differs between a page and the control's, in words ("status", "body length (58%)",
 * "title", "uncommon headers"); empty when they are the same page: the status agrees, and so does
 * the body length, the title or the uncommon headers (docs/verdicts.md "Comparing a page with the
 * control's"). Date, ETag and the other headers every server sends are not compared.
 */
export function pageDifferences(last: HttpRow, c: ControlHttpRow): string[] {
  const cmp = compareResponses(last, c);
  if (cmp.status && (cmp.body || cmp.headers || cmp.title)) return [];
  return [!cmp.status && "status", !cmp.body && `body length (${Math.round(cmp.proportion * 100)}%)`, !cmp.title && "title", !cmp.headers && "uncommon headers"].filter((x): x is string => Boolean(x));
}

/** What the address swap found: the page at the browser's address against the page at a witness's address. */
export interface AddressSwapComparison {
  /** The address whose page was compared (the browser's resolver's). */
  ip: string;
  /** The URL requested at both addresses. */
  url: string;
  /** Both requests' endpoints, `ip:port`. */
  endpoint: string;
  swapEndpoint: string;
  /** Why the swap got no complete page (its connect's or its request's failure); null when it got one. */
  failed: string | null;
  /** pageDifferences of the two pages: empty when they are the same page (or when the swap failed). */
  diffs: string[];
  /** Each page in a few words, for evidence. */
  mine: string;
  theirs: string;
  rows: string[];
}

/**
 * The address swap (docs/verdicts.md "Proof without a helper"): the navigation's first page, at
 * the browser's address, compared with the page the same request got at an address a witness
 * resolver gave, by the comparison a control's page gets, the swap's page standing for the
 * control's; `failed` says why there was nothing to compare when the swap got no complete page.
 * Null when no swap was made, or the first request got no complete page.
 */
export function compareAddressSwap(table: Table): AddressSwapComparison | null {
  const tcp = table.conns.find((c) => c.purpose === "address_swap" && c.hop === 0);
  const first = table.http.find((h) => h.purpose === "measure" && h.hop === 0);
  if (!tcp || !first || first.status === null || first.failure !== null) return null;
  const at = table.conns.find((c) => c.id === first.conn);
  if (!at) return null;
  const swap = table.http.find((h) => h.purpose === "address_swap" && h.hop === 0);
  const base = { ip: at.ip, url: first.url, endpoint: first.endpoint, swapEndpoint: tcp.endpoint, mine: pageSaw(first) };
  const failed = tcp.tcpFailure ?? (swap ? (swap.failure ?? (swap.status === null ? "no response" : null)) : "no request");
  if (failed !== null || !swap) return { ...base, failed: failed ?? "no request", diffs: [], theirs: "", rows: [first.id, tcp.id, ...(swap ? [swap.id] : [])] };
  const theirs: ControlHttpRow = { failure: null, status: swap.status, bodyLength: swap.bodyLength, title: swap.title ?? "", headers: swap.headers, urls: [], note: null };
  return { ...base, failed: null, diffs: pageDifferences(first, theirs), theirs: pageSaw(swap), rows: [first.id, swap.id] };
}

/** A response in a few words, for evidence: "HTTP 200, 135 bytes, "Access Denied"". */
function pageSaw(h: HttpRow): string {
  return `HTTP ${h.status}, ${h.bodyLength ?? 0} bytes${h.title ? `, "${h.title}"` : ""}`;
}

/** The host of a URL, lower case, without IPv6 brackets; "" when it does not parse. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return "";
  }
}

/** What the helper's fetch got, for evidence. */
function controlSaw(c: ControlHttpRow): string {
  return `HTTP ${c.status}, ${c.bodyLength} bytes${c.title ? `, "${c.title}"` : ""}`;
}

/** Block-page fingerprints and status 451 on any hop: facts on their own, with or without a control. */
function signatures(hops: readonly HttpRow[], ctx: AnalysisContext): Fact[] {
  for (const h of hops) {
    if (h.status === null) continue;
    const m = blockPageMatch(matchHttp(ctx.fingerprints, { status: h.status, headers: h.headers, bodySample: h.bodySample }));
    if (m) return [fact("http_blockpage", "http", null, [h.id], { url: h.url, match: m.evidence })];
    if (h.status === 451) return [fact("http_status_451", "http", null, [h.id], { url: h.url, title: h.title ?? "" })];
  }
  return [];
}

/** Failures a filter gives a request it does not like (as opposed to a page in its place). */
const CUT: ReadonlySet<string> = new Set(["connection_reset", "generic_timeout_error", "eof_error", "connection_aborted", "network_reset"]);

/**
 * The redirect hop that stopped before its request, at the step that stopped it; facts about it
 * with the helper's fetch. Without a helper's fetch, a hop whose lookup through the browser's
 * resolver failed while another resolver asked (an outside one, DoH) gave public addresses is
 * blocked at DNS, as the target's own lookup is (`ctx` gives the public ranges; without it, no
 * witness is read).
 */
export function compareHops(table: Table, ctx?: AnalysisContext): Fact[] {
  const sent = new Set(table.http.filter((h) => h.purpose === "measure").map((h) => h.hop));
  const hops = new Set([...table.dns.filter((r) => r.hop > 0).map((r) => r.hop), ...table.conns.filter((c) => c.hop > 0).map((c) => c.hop)]);
  for (const hop of [...hops].sort((a, b) => a - b)) {
    if (sent.has(hop)) continue;
    const conns = table.conns.filter((c) => c.hop === hop && c.purpose === "measure");
    const dns = table.dns.filter((r) => r.hop === hop);
    let stopped: Fact | null = null;
    if (conns.length > 0) {
      const host = conns.find((c) => c.tls)?.tls?.serverName ?? dns[0]?.host ?? conns[0]!.ip;
      if (conns.every((c) => c.tcpFailure !== null)) {
        stopped = fact("hop_failed_unconfirmed", "tcp", conns[0]!.tcpFailure, conns.map((c) => c.id), { host: host.toLowerCase(), tries: conns.map((c) => `${c.endpoint}|${c.tcpFailure}`).join("\n") }, hop);
      } else {
        const withTls = conns.filter((c) => c.tls);
        if (withTls.length > 0 && withTls.every((c) => c.tls!.failure !== null)) {
          // An SNI swap that answered proves the filter on this hop without a helper.
          const swap = compareTls(table, hop).find((f) => f.key === "tls_sni_swap_answered");
          if (swap) return [{ ...swap, detail: { ...swap.detail, host: host.toLowerCase() } }];
          stopped = fact("hop_failed_unconfirmed", "tls", withTls[0]!.tls!.failure, withTls.map((c) => c.id), { host: host.toLowerCase(), tries: withTls.map((c) => `${c.endpoint}|${c.tls!.serverName}|${c.tls!.failure}`).join("\n") }, hop);
        }
      }
    } else {
      // The browser's resolver: the system one, or the first configured (as the probe chose it).
      const lookup = dns.find((r) => r.engine === "system") ?? dns.find((r) => r.engine === "udp") ?? dns[0];
      if (lookup && lookup.addresses.length === 0) {
        const others = dns.filter((r) => r !== lookup && r.addresses.length > 0).map((r) => `${r.resolver} answered ${r.addresses.join(", ")}`);
        stopped = fact("hop_failed_unconfirmed", "dns", lookup.failure ?? "dns_no_answer", dns.map((r) => r.id), { host: lookup.host, lookup: lookup.engine === "system" ? "the system resolver" : `the resolver ${lookup.resolver}`, others: others.join("; ") }, hop);
      }
    }
    if (!stopped) continue;
    const c = table.controlHttp;
    if (!c) {
      const lookup = stopped.layer === "dns" ? (dns.find((r) => r.engine === "system") ?? dns.find((r) => r.engine === "udp") ?? dns[0]) : undefined;
      const isPublic = (a: string) => ctx !== undefined && !classifyAddress(a, ctx.publicRanges).bogon;
      const witnesses = dns.filter((r) => r !== lookup && r.addresses.some(isPublic));
      if (lookup && witnesses.length > 0) {
        const addrs = [...new Set(witnesses.flatMap((r) => r.addresses.filter(isPublic)))].slice(0, 4).join(", ");
        return [{ ...stopped, key: "hop_dns_failed_probe_only", rows: [lookup.id, ...witnesses.map((r) => r.id)], detail: { ...stopped.detail, witnesses: witnesses.map(resolverName).join(" and "), witnessAddrs: addrs } }];
      }
      return [stopped];
    }
    if (c.failure !== null) return [{ ...stopped, key: "hop_failed_everywhere", detail: { ...stopped.detail, controlFailure: `${c.failure}${c.note ? `: ${c.note}` : ""}` } }];
    if (c.urls.length > 0 && !c.urls.some((u) => hostOf(u) === stopped.detail.host)) {
      return [{ ...stopped, key: "hop_redirect_elsewhere", failure: null, detail: { ...stopped.detail, chain: c.urls.join(" -> ") } }];
    }
    return [{ ...stopped, key: "hop_failed_probe_only", detail: { ...stopped.detail, controlSaw: controlSaw(c) } }];
  }
  return [];
}

/** Compares the target's HTTP exchanges; `hopStopped` when a redirect hop stopped before its request (then only signatures count). */
export function compareHttp(table: Table, ctx: AnalysisContext, hopStopped: boolean): Fact[] {
  const hops = table.http.filter((h) => h.purpose === "measure");
  if (hops.length === 0) return [];
  const sig = signatures(hops, ctx);
  if (sig.length > 0 || hopStopped) return sig;
  const last = hops[hops.length - 1]!;
  const c = table.controlHttp;
  const what = { url: last.url, endpoint: last.endpoint, status: last.status === null ? "" : String(last.status), note: last.note ?? "" };
  if (last.failure !== null) {
    if (c && c.failure === null) return [fact("http_failed_probe_only", "http", last.failure, [last.id], { ...what, controlSaw: controlSaw(c) })];
    if (c) return [fact("http_failed_everywhere", "http", last.failure, [last.id], { ...what, controlFailure: c.failure! })];
    // Without a helper: the same address answering the same request with an innocuous Host proves a Host filter.
    // Only a request cut before any response: a response that began for our Host was not refused
    // for it (a throttled address times out mid-body for every Host alike).
    const swap = CUT.has(last.failure) && last.status === null ? table.http.find((h) => h.purpose === "host_swap" && h.hop === last.hop && h.status !== null) : undefined;
    if (swap) return [fact("http_host_swap_answered", "http", last.failure, [last.id, swap.id], { ...what, swapHost: swap.swappedHost ?? "another name", swapStatus: String(swap.status) })];
    return [fact("http_failed_unconfirmed", "http", last.failure, [last.id], what)];
  }
  if (!c && table.helper?.failure) {
    // The run was given a helper to compare pages with, and it could not be used: a page over
    // plain HTTP (or a handshake that did not validate for the site) is the site's or a
    // middlebox's, and nothing can tell which. Over HTTPS that validated, the site wrote it.
    const conn = last.conn === null ? undefined : table.conns.find((x) => x.id === last.conn);
    if (conn?.tls && conn.tls.failure === null && conn.tls.verified) return [];
    return [fact("http_page_uncompared", "http", null, [last.id], { url: last.url, mine: pageSaw(last), helper: table.helper.url })];
  }
  if (!c || c.failure !== null) return [];
  if (c.urls.length > 0) {
    const seen = new Set(c.urls.map(hostOf));
    const foreign = hops.map((h) => hostOf(h.url)).find((h) => h && !seen.has(h));
    if (foreign) return [fact("http_redirect_elsewhere", "http", null, hops.map((h) => h.id), { host: foreign, chain: c.urls.join(" -> ") })];
  }
  const diffs = pageDifferences(last, c);
  if (diffs.length === 0) return [];
  const detail = { url: last.url, mine: pageSaw(last), controlSaw: controlSaw(c), diffs: diffs.join(", ") };
  // Over a handshake that validated for the site, no middlebox wrote the page: the site chose to
  // answer this client otherwise (a CAPTCHA, a challenge, a page for its country).
  const conn = last.conn === null ? undefined : table.conns.find((x) => x.id === last.conn);
  if (conn?.tls && conn.tls.failure === null && conn.tls.verified) return [fact("http_differs_over_validated_tls", "http", null, [last.id, conn.id], { ...detail, endpoint: conn.endpoint })];
  return [fact("http_response_differs", "http", null, [last.id], detail)];
}
