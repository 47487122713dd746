/**
 * The evidence of a verdict in plain words, written from its facts at the end of the analysis
 * (docs/verdicts.md "How a verdict is decided"). One sentence (or a few) per fact; nothing here
 * decides anything. Pure.
 */
import type { Failure } from "../net/failures.js";
import type { Fact, FactKey } from "./facts.js";
import { describeFailure } from "./words.js";

/** `a|b` lines of a detail field, as pairs. */
function pairs(text: string | undefined): string[][] {
  return (text ?? "").split("\n").filter(Boolean).map((l) => l.split("|"));
}

const fail = (f: Fact): string => describeFailure(f.failure as Failure);
const say = (f: string | undefined): string => describeFailure((f ?? "failed") as Failure);

/** What stopped a redirect hop, as a sentence start. */
function hopStopped(f: Fact): string {
  const d = f.detail;
  if (f.layer === "dns") return `the redirect to ${d.host} stopped: the lookup through ${d.lookup} ${fail(f)}${d.others ? ` (${d.others})` : ""}`;
  if (f.layer === "tcp") return `the redirect to ${d.host} stopped: ${pairs(d.tries).map(([ep, x]) => `TCP connect to ${ep} ${say(x)}`).join("; ")}`;
  return `the redirect to ${d.host} stopped: ${pairs(d.tries).map(([ep, sni, x]) => `the TLS handshake with ${ep} (SNI ${sni}) ${say(x)}`).join("; ")}`;
}

/** A GET and how it ended, as a sentence start. */
function get(f: Fact, noteStyle: "paren" | "colon"): string {
  const d = f.detail;
  const note = d.note ? (noteStyle === "paren" ? ` (${d.note})` : `: ${d.note}`) : "";
  const after = noteStyle === "colon" && d.status ? `after HTTP ${d.status}, ` : "";
  return `GET ${d.url} over ${d.endpoint} ${after}${fail(f)}${note}`;
}

const WRITERS: Record<FactKey, (f: Fact) => string[]> = {
  dns_bogon_probe_only: (f) => [`${f.detail.resolver} returned ${f.detail.address}, ${f.detail.kind}, but ${f.detail.controls} resolved the name to ${f.detail.controlAddrs}`],
  dns_bogon_to_blockpage: (f) => [`${f.detail.resolver} returned ${f.detail.address}, ${f.detail.kind}, where a block page was served`],
  dns_bogon_everywhere: (f) => [
    `${f.detail.resolver} returned ${f.detail.address}, ${f.detail.kind}, and ${f.detail.controls} resolved the name to ${f.detail.controlAddrs} too: the name points there for everyone (the site's own setting, not a block)`,
  ],
  dns_bogon_unconfirmed: (f) => [`${f.detail.resolver} returned ${f.detail.address}, ${f.detail.kind}; no control (DoH, the helper) answered to tell a block from the site's own setting`],
  dns_blockpage_address: (f) => [`${f.detail.resolver}: ${f.detail.match}`],
  dns_two_answers: (f) => {
    const d = f.detail;
    if (d.forged) return [`${d.resolver} sent ${d.distinct} different answers to one query: ${d.forged} ${d.forgedCount === "1" ? "is" : "are"} forged, ${d.real} agrees with the control (${d.controlAddrs})`];
    return [`${d.resolver} sent ${d.distinct} different answers to one query: ${d.first}, then ${d.other}; an on-path injector answers first, so ${d.firstSaid} is likely forged`];
  },
  dns_failed_probe_only: (f) => [`${f.detail.resolver} ${fail(f)}, but ${f.detail.controls} resolved ${f.detail.name} to ${f.detail.controlAddrs}`],
  dns_probe_only_addresses: (f) => [
    `${f.detail.resolver} returned ${f.detail.addresses}, which no control returned and no TLS handshake validated for ${f.detail.name}; ${f.detail.controls} resolved it to ${f.detail.controlAddrs}`,
  ],
  dns_probe_only_addresses_worked: (f) => [
    `${f.detail.resolver} returned ${f.detail.addresses}, which no control returned for ${f.detail.name} (${f.detail.controls} resolved it to ${f.detail.controlAddrs}); ${f.detail.how}: ${f.detail.via} may be a transparent proxy or a server of the site the controls were not sent to; nothing shows a block`,
  ],
  dns_address_swap_differs: (f) => {
    const d = f.detail;
    return [
      `${d.resolver} returned ${d.addresses}, which no control returned for ${d.name} (${d.controls} resolved it to ${d.controlAddrs}); GET ${d.url} over ${d.endpoint} answered ${d.mine}, but the same request to ${d.swapEndpoint}, an address a witness gave, answered ${d.theirs}: they differ in ${d.diffs}, so ${d.via} did not serve the site's page`,
    ];
  },
  dns_probe_only_addresses_site_answered: (f) => [
    `note: ${f.detail.resolver} returned ${f.detail.addresses}, which no control returned for ${f.detail.name} (${f.detail.controls} resolved it to ${f.detail.controlAddrs}); ${f.detail.how}, so the site was reached, through ${f.detail.via}: a transparent proxy of this network (which sees every request) or a server of the site the controls were not sent to`,
  ],
  dns_no_address_anywhere: (f) =>
    f.detail.allNx
      ? [`every resolver asked says ${f.detail.name} does not exist (NXDOMAIN): ${pairs(f.detail.said).map(([r]) => r).join(", ")}`]
      : [`no resolver asked has an address for ${f.detail.name}: ${pairs(f.detail.said).map(([r, x]) => `${r} ${say(x)}`).join("; ")}`],
  dns_unreachable_everywhere: (f) => [
    `${f.detail.system} ${fail(f)}, and no outside resolver could be reached either: ${pairs(f.detail.outside).map(([r, x]) => `${r} ${say(x)}`).join("; ")}; the local network seems down, or cuts DNS to every resolver asked`,
  ],
  dns_failed_unconfirmed: (f) => {
    const said = pairs(f.detail.said);
    if (f.detail.systemOnly && f.failure === "dns_nxdomain_error") {
      return [`the system resolver says ${f.detail.name} does not exist (NXDOMAIN), and no outside resolver (--resolver, DoH) was asked to confirm it`];
    }
    return said.map(([r, x]) => (x!.startsWith("=") ? `${r} returned ${x!.slice(1)}` : `${r} ${say(x)}`));
  },
  tcp_failed_probe_only: (f) => [`TCP connect to ${f.detail.endpoint} ${fail(f)} here, but the control helper connected to it`],
  tcp_failed_everywhere: (f) => [`TCP connect to ${f.detail.endpoint} ${fail(f)}, and the control helper failed too (${f.detail.controlFailure}): the server is down`],
  tcp_no_route: () => ["this machine has no route to any address of the target: the local network is down or has no route out"],
  tcp_failed_unconfirmed: (f) => pairs(f.detail.tries).map(([ep, x]) => `TCP connect to ${ep} ${say(x)}`),
  tls_failed_probe_only: (f) => {
    const d = f.detail;
    return d.certificateOnly
      ? [`${d.endpoint}: the probe got a certificate that only it sees (subject ${d.subject ?? "empty"}, issuer ${d.issuer ?? "empty"}: ${f.failure}), while the control helper's handshake validated`]
      : [`${d.endpoint}: the TLS handshake with SNI ${d.sni} ${fail(f)} here, but the control helper's handshake succeeded`];
  },
  tls_sni_swap_answered: (f) => {
    const d = f.detail;
    const start = d.host ? `the redirect to ${d.host} stopped: ` : "";
    return [`${start}${d.endpoint}: the TLS handshake with SNI ${d.sni} ${fail(f)}, while the same address completed one for SNI ${d.swapSni}: a filter on the name in the ClientHello (SNI)`];
  },
  tls_failed_everywhere: (f) => [`the TLS handshake with ${f.detail.endpoint} ${fail(f)}, and the control helper's failed too (${f.detail.controlFailure})`],
  tls_failed_unconfirmed: (f) =>
    pairs(f.detail.tries).map(([ep, sni, x, subject, issuer]) => `TCP to ${ep} connected, then the TLS handshake with SNI ${sni} ${say(x)}${subject ? ` (certificate subject ${subject}, issuer ${issuer})` : ""}`),
  http_blockpage: (f) => [`${f.detail.url}: ${f.detail.match}`],
  http_status_451: (f) => [`${f.detail.url} answered HTTP 451 (Unavailable For Legal Reasons)${f.detail.title ? `, titled "${f.detail.title}"` : ""}`],
  http_failed_probe_only: (f) => [`${get(f, "paren")} here, but the control fetched it (${f.detail.controlSaw})`],
  http_failed_everywhere: (f) => [`${get(f, "paren")}, and the control's fetch failed too (${f.detail.controlFailure})`],
  http_host_swap_answered: (f) => [`${get(f, "paren")}, while the same address answered the same request with Host: ${f.detail.swapHost} (HTTP ${f.detail.swapStatus}): a filter on the Host header`],
  http_failed_unconfirmed: (f) => [get(f, "colon")],
  http_redirect_elsewhere: (f) => [`the probe was redirected to ${f.detail.host}, where the control never went (its chain: ${f.detail.chain})`],
  http_response_differs: (f) => [`${f.detail.url} answered ${f.detail.mine} here, but the control saw ${f.detail.controlSaw}; they differ in ${f.detail.diffs}`],
  http_page_uncompared: (f) => [
    `${f.detail.url} answered ${f.detail.mine} over plain HTTP with no sign of a block, but the control helper this run was given could not be used to compare it with the site's page: a middlebox could have written it`,
  ],
  http_differs_over_validated_tls: (f) => [
    `${f.detail.url} answered ${f.detail.mine} here, but the control saw ${f.detail.controlSaw} (they differ in ${f.detail.diffs}); the TLS handshake with ${f.detail.endpoint} validated for the site, so the site itself chose to answer this client otherwise (a CAPTCHA, a challenge, a page for its country): not the network's doing`,
  ],
  hop_failed_probe_only: (f) => [`${hopStopped(f)} here, but the control followed the redirect and fetched it (${f.detail.controlSaw})`],
  hop_redirect_elsewhere: (f) => [`the probe was redirected to ${f.detail.host}, where the control never went (its chain: ${f.detail.chain})`, hopStopped(f)],
  hop_failed_everywhere: (f) => [`${hopStopped(f)}, and the control's fetch failed too (${f.detail.controlFailure})`],
  hop_failed_unconfirmed: (f) => [hopStopped(f)],
  hop_dns_failed_probe_only: (f) => [`the redirect to ${f.detail.host} stopped: the lookup through ${f.detail.lookup} ${fail(f)}, but ${f.detail.witnesses} resolved it to ${f.detail.witnessAddrs}`],
  canary_failed: (f) => [`the canary ${f.detail.canary} failed too (${f.detail.reason}): the local network seems down`],
  not_measured: (f) => [`not measured: this machine's network seems down (the canary ${f.detail.canary} failed: ${f.detail.reason})`],
  nothing_ran: () => ["no step could run within the target's time budget"],
  helper_unusable: (f) => [`the control helper ${f.detail.helper} could not be used (${f.failure})`],
};

/** The sentences of one fact. */
export function sentence(f: Fact): string[] {
  return WRITERS[f.key](f);
}
