/**
 * The address swap: when the browser's resolver sent a plain-HTTP navigation to addresses that no
 * witness resolver (an outside UDP resolver, DoH) gave, and a page came back there, the
 * navigation's first request is sent again, as sent (same URL, Host and headers in the same
 * order), to one public address a witness gave, on a new connection, with the same step timers
 * and body cap; no name is looked up. The analysis compares the two pages as it compares a page
 * with the control helper's: a censor's block-page server serves another page than the site's; a
 * transparent proxy or a CDN node of the site serves the same one (docs/verdicts.md, "Proof
 * without a helper"). Observations only, tagged `address_swap`.
 *
 * Plain HTTP only: over HTTPS the page came over a handshake that validated for the name, which
 * already shows the site answered (or, when it failed, that the address did not serve the site).
 */
import { isIP } from "node:net";
import { classifyAddress } from "../net/bogons.js";
import { splitHostPort } from "../net/addr.js";
import type { ProbeConfig } from "./config.js";
import type { DnsObservation, HttpObservation, TcpObservation } from "./observation.js";
import { browserLookup } from "./dns.js";
import { requestOver } from "./http.js";
import { tcpStep } from "./tcp.js";
import type { StepSignal } from "../net/deadline.js";

/**
 * The witness's address to repeat `first` (the navigation's first request) at, or null when there
 * is no address swap: none configured, the budget is spent, `first` is not a plain-HTTP request of
 * the target's own that got a response at one of the browser's resolver's addresses, no other
 * resolver gave a public address (after cfg.publicRanges), or the browser's resolver gave one of
 * them. A DoH answer's address is preferred to an outside resolver's, IPv4 to IPv6.
 */
export function addressSwapAddress(
  dns: readonly DnsObservation[],
  first: HttpObservation | undefined,
  cfg: Pick<ProbeConfig, "addressSwap" | "publicRanges">,
  budget: StepSignal,
): string | null {
  if (!cfg.addressSwap || budget.aborted || !first || first.purpose || first.hop !== 0) return null;
  if (first.status === undefined || !first.url.startsWith("http:")) return null;
  const own = dns.filter((o) => (o.hop ?? 0) === 0);
  const browser = browserLookup(own);
  if (!browser || browser.failure !== null || browser.addresses.length === 0) return null;
  const at = splitHostPort(first.address, 80)?.host.toLowerCase();
  const mine = new Set(browser.addresses.map((a) => a.toLowerCase()));
  if (!at || !mine.has(at)) return null;
  const isPublic = (a: string) => isIP(a) !== 0 && !classifyAddress(a, cfg.publicRanges ?? []).bogon;
  const witnesses = own.filter((o) => o !== browser && o.failure === null);
  const ordered = [...witnesses.filter((o) => o.engine === "doh"), ...witnesses.filter((o) => o.engine !== "doh")];
  const offered = [...new Set(ordered.flatMap((o) => o.addresses.filter(isPublic).map((a) => a.toLowerCase())))];
  if (offered.length === 0 || offered.some((a) => mine.has(a))) return null;
  return offered.find((a) => isIP(a) === 4) ?? offered[0]!;
}

/**
 * Sends `first`'s request again, as sent, to `ip` on `first`'s port; returns the swap's TCP
 * observation and, when it connected, its HTTP observation (url and hop as the original's).
 * Leaves no socket open.
 */
export async function addressSwap(first: HttpObservation, ip: string, cfg: ProbeConfig, budget: StepSignal): Promise<Array<TcpObservation | HttpObservation>> {
  const port = splitHostPort(first.address, 80)?.port ?? 80;
  const { obs: tcp, socket } = await tcpStep(ip, port, cfg, budget);
  tcp.purpose = "address_swap";
  if (!socket) return [tcp];
  const r = await requestOver(new URL(first.url), { socket, ip, port, alpn: null }, first.hop, Object.entries(first.requestHeaders), cfg, budget);
  socket.destroy();
  return [tcp, { ...r.obs, purpose: "address_swap" }];
}
