/**
 * Stage 2 for DNS: the probe's lookups of the target's name (system resolver, --resolver)
 * compared with the controls' (DoH, the helper) into facts. Pure: no I/O.
 */
import type { Failure } from "../net/failures.js";
import type { AnalysisContext } from "./context.js";
import type { DnsRow, Table } from "./table.js";
import { classifyAddress } from "../net/bogons.js";
import { blockPageMatch, matchDnsAddress } from "./fingerprints.js";
import { fact, type Fact } from "./facts.js";
import type { AddressSwapComparison } from "./compare-http.js";

/** Names a resolver for evidence: "the system resolver", "resolver 192.0.2.53:53", "DoH resolver URL", "the control helper". */
export function resolverName(r: Pick<DnsRow, "engine" | "resolver">): string {
  if (r.engine === "system") return "the system resolver";
  if (r.engine === "helper") return "the control helper";
  return `${r.engine === "doh" ? "DoH resolver" : "resolver"} ${r.resolver}`;
}

/** How witnesses are named in evidence: "the control helper and DoH https://... and resolver 192.0.2.53:53". */
function controlNames(rows: readonly DnsRow[]): string {
  const name = (r: DnsRow) => (r.engine === "helper" ? "the control helper" : r.engine === "doh" ? `DoH ${r.resolver}` : resolverName(r));
  const rank = (r: DnsRow) => (r.engine === "helper" ? 0 : r.engine === "doh" ? 1 : 2);
  return [...rows].sort((a, b) => rank(a) - rank(b)).map(name).join(" and ");
}

/** Failures that say a resolver could not be reached at all, rather than what it answered. */
export const UNREACHED: ReadonlySet<string> = new Set([
  "generic_timeout_error",
  "timed_out",
  "network_unreachable",
  "network_down",
  "host_unreachable",
  "connection_refused",
  "address_not_available",
]);

/** Failures that say this machine has no way out at all. */
const NO_ROUTE: ReadonlySet<string> = new Set(["network_unreachable", "network_down", "address_not_available"]);

/** Answers that say the name has no address there (a resolver that answered, not one that could not be reached). */
// REFUSED is the resolver declining to serve us, not a word about the name.
const NO_ADDRESS: ReadonlySet<string> = new Set(["dns_nxdomain_error", "dns_no_answer", "dns_servfail_error"]);

/** Answers that say the name has no address record at all (not a server failure). */
const GHOST: ReadonlySet<string> = new Set(["dns_nxdomain_error", "dns_no_answer"]);

/** What a resolver's "no address" answer says, in a few words. */
function describeNone(f: Failure): string {
  return f === "dns_nxdomain_error" ? "the name does not exist" : f === "dns_no_answer" ? "no address record" : "SERVFAIL";
}

/** Every address a lookup saw, first response first. */
function allAddresses(r: DnsRow): string[] {
  const set = new Set(r.addresses);
  for (const x of r.responses) x.addresses.forEach((a) => set.add(a));
  return [...set];
}

/** What the steps after DNS say about the answers: addresses a handshake validated, addresses reached when nothing went wrong later. */
export interface DnsEvidenceFromLaterSteps {
  /** Addresses where the control helper's handshake for the name validated: a server of the site. */
  validated: ReadonlySet<string>;
  /** Addresses where the probe's own handshake validated: the site answered through them, maybe via a proxy. */
  probeValidated: ReadonlySet<string>;
  /** null when a later step found something wrong: then reaching an address excuses nothing. */
  reached: ReadonlySet<string> | null;
  /** True when an HTTP response was a known block page or a 451: a bogon that led there is the block's first step. */
  blockPage: boolean;
  /** The first page against the page the same request got at a witness's address (the address swap), when both came. */
  addressSwap: AddressSwapComparison | null;
}

/**
 * Compares the lookups of the target's own name (hop 0). The browser's resolver (the system
 * one, or the first --resolver without it) is what a user's browser would use; every other
 * resolver asked is its **witness**: an outside UDP resolver (--resolver), DoH, the helper. An
 * outside UDP resolver is on the probe's path too, so its own answers are checked for
 * signatures and against the controls (DoH, the helper), never against itself.
 */
export function compareDns(table: Table, later: DnsEvidenceFromLaterSteps, ctx: AnalysisContext): Fact[] {
  if (table.target.isIp) return [];
  const own = table.dns.filter((r) => r.hop === 0 && r.host === table.target.host);
  const browser = own.find((r) => r.engine === "system") ?? own.find((r) => r.engine === "udp") ?? null;
  const outside = own.filter((r) => r.role === "probe" && r !== browser);
  const controls = own.filter((r) => r.role === "control");
  const witnessesOf = (r: DnsRow) => (r === browser ? [...outside, ...controls] : controls);
  const addrsOf = (rows: readonly DnsRow[]) => new Set(rows.flatMap((r) => r.addresses));
  const listed = (addrs: ReadonlySet<string>) => [...addrs].slice(0, 4).join(", ");
  const probed = browser ? [browser, ...outside] : outside;
  const out: Fact[] = [];

  // Signatures: bogons and known blocking addresses in an answer, two answers to one query.
  for (const r of probed) {
    const witnesses = witnessesOf(r).filter((w) => w.addresses.length > 0);
    // The controls speak first: an outside resolver is named only when no control answered.
    const speaking = witnesses.some((w) => w.role === "control") ? witnesses.filter((w) => w.role === "control") : witnesses;
    const seen = addrsOf(speaking);
    const publicSeen = [...seen].some((a) => !classifyAddress(a, ctx.publicRanges).bogon);
    for (const a of allAddresses(r)) {
      const c = classifyAddress(a, ctx.publicRanges);
      if (c.bogon) {
        const detail = { resolver: resolverName(r), address: a, kind: c.kind ?? "a bogon", controls: controlNames(speaking), controlAddrs: listed(seen) };
        // A bogon the witnesses see too is the site's own setting; a bogon where they see public
        // addresses is this resolver's alone; with no witness answer, it proves nothing alone.
        const key = publicSeen ? "dns_bogon_probe_only" : seen.size > 0 ? "dns_bogon_everywhere" : later.blockPage ? "dns_bogon_to_blockpage" : "dns_bogon_unconfirmed";
        out.push(fact(key, "dns", "dns_bogon_error", [r.id, ...speaking.map((w) => w.id)], detail));
        break;
      }
      const m = blockPageMatch(matchDnsAddress(ctx.fingerprints, a));
      if (m) {
        out.push(fact("dns_blockpage_address", "dns", null, [r.id], { resolver: resolverName(r), match: m.evidence }));
        break;
      }
    }
  }
  for (const r of probed) {
    const valid = r.responses.filter((x) => !x.malformed);
    const first = valid[0];
    if (!first) continue;
    const key = (x: { rcode: string; addresses: string[] }) => `${x.rcode}|${[...x.addresses].sort().join(",")}`;
    const other = valid.find((x) => key(x) !== key(first));
    if (!other) continue;
    const say = (x: { rcode: string; addresses: string[] }) => (x.addresses.length ? x.addresses.join(", ") : x.rcode);
    // A retransmitted copy of an answer is not a different one.
    const detail: Record<string, string> = { resolver: resolverName(r), distinct: String(new Set(valid.map(key)).size), first: `${say(first)} at ${first.t} ms`, other: `${say(other)} at ${other.t} ms`, firstSaid: say(first) };
    const controlAddrs = addrsOf(controls);
    if (controlAddrs.size > 0) {
      const agrees = (x: { addresses: string[] }) => x.addresses.some((a) => controlAddrs.has(a));
      const forged = valid.filter((x) => !agrees(x));
      const real = valid.find(agrees);
      if (forged.length > 0 && real) {
        detail.forged = forged.map((x) => `${say(x)} at ${x.t} ms`).join(", ");
        detail.forgedCount = String(forged.length);
        detail.real = `${say(real)} at ${real.t} ms`;
        detail.controlAddrs = listed(controlAddrs);
      }
    }
    out.push(fact("dns_two_answers", "dns", null, [r.id], detail));
    break;
  }

  const name = table.target.host;
  const anyAddress = own.some((r) => r.addresses.length > 0);
  const others = own.filter((r) => r !== browser);
  // No address from any resolver asked, and at least one beyond the browser's (outside or control) answered so.
  if (!anyAddress && others.some((r) => r.failure !== null && NO_ADDRESS.has(r.failure))) {
    const allNx = own.every((r) => r.failure === "dns_nxdomain_error");
    // The most telling answer names the failure: the name does not exist, has no address, or no server for it works.
    // Witnesses first: getaddrinfo says NXDOMAIN for a name with no address too.
    const said = (rows: readonly DnsRow[]) => (f: Failure) => rows.some((r) => r.failure === f);
    const order = ["dns_nxdomain_error", "dns_no_answer", "dns_servfail_error"] as const;
    const failure: Failure = order.find(said(others)) ?? order.find(said(own)) ?? own[0]!.failure!;
    const answers = own.map((r) => `${resolverName(r)}|${r.failure}`).join("\n");
    out.push(fact("dns_no_address_anywhere", "dns", failure, own.map((r) => r.id), { name, allNx: allNx ? "yes" : "", said: answers }));
    return out;
  }
  if (!browser) return out;
  // The local network, not the name: the browser's resolver failed, every other resolver asked
  // (outside, DoH) and the helper could not be reached, and something says this machine is
  // cut off: no route, or glibc's EAI_AGAIN (which no network at all gives too; a censor that
  // drops queries gives our own timeout instead).
  // A DoH resolver's dns_server_misbehaving is getaddrinfo's, failing on the DoH server's own name
  // (its answers' rcodes have names of their own): it was not reached either.
  const unreached = (r: DnsRow) => r.failure !== null && (UNREACHED.has(r.failure) || (r.engine === "doh" && r.failure === "dns_server_misbehaving"));
  const unreachedFailures = [...others.map((r) => r.failure), ...(table.helper ? [table.helper.failure] : [])];
  if (
    browser.failure &&
    unreachedFailures.length > 0 &&
    others.every(unreached) &&
    (!table.helper || (table.helper.failure !== null && UNREACHED.has(table.helper.failure))) &&
    (browser.failure === "dns_server_misbehaving" || unreachedFailures.some((f) => NO_ROUTE.has(f!)))
  ) {
    const cut = others.map((r) => `${resolverName(r)}|${r.failure}`);
    if (table.helper?.failure) cut.push(`the control helper|${table.helper.failure}`);
    out.push(fact("dns_unreachable_everywhere", "dns", browser.failure, [browser.id, ...others.map((r) => r.id)], { system: resolverName(browser), outside: cut.join("\n") }));
  }

  // Witnesses that gave public addresses, the controls' first: a witness that answered only
  // bogons vouches for nothing.
  const isPublic = (a: string) => !classifyAddress(a, ctx.publicRanges).bogon;
  const vouching = (rows: readonly DnsRow[]) => rows.filter((w) => w.addresses.some(isPublic));
  const by = vouching(controls).length > 0 ? vouching(controls) : vouching(outside);
  const seen = new Set(by.flatMap((w) => w.addresses.filter(isPublic)));
  if (seen.size > 0) {
    if (browser.failure) {
      out.push(fact("dns_failed_probe_only", "dns", browser.failure, [browser.id, ...by.map((r) => r.id)], { resolver: resolverName(browser), name, controls: controlNames(by), controlAddrs: listed(seen) }));
      return out;
    }
    // With an ASN database, an answer in the same network as a witness's (a CDN) is consistent too.
    const asnOf = ctx.asnOf;
    const consistent = (r: DnsRow, against: ReadonlySet<string>) => {
      const asns = new Set(asnOf ? [...against].map((a) => asnOf(a)).filter((x): x is number => x !== null) : []);
      return r.addresses.some((a) => against.has(a) || later.validated.has(a) || (asnOf ? asns.has(asnOf(a) ?? -1) : false));
    };
    // An answer no witness shares that led to the site itself (a handshake validated, or the page
    // the control saw with nothing wrong after it) is not a block: the resolver still sent the
    // client where no witness was sent, a transparent proxy or a CDN node (a note). Its own
    // addresses must have worked, not another answer's.
    const worked = (r: DnsRow) => r.addresses.find((a) => later.probeValidated.has(a)) ?? (later.reached ? r.addresses.find((a) => later.reached!.has(a)) : undefined);
    // The browser's answer against every public address a witness gave; an outside resolver's
    // against the controls' alone.
    const allSeen = new Set(vouching([...outside, ...controls]).flatMap((w) => w.addresses.filter(isPublic)));
    const controlAddrs = new Set(vouching(controls).flatMap((w) => w.addresses.filter(isPublic)));
    const suspects: Array<[DnsRow, DnsRow[], ReadonlySet<string>]> = [[browser, by, allSeen]];
    if (controlAddrs.size > 0) for (const r of outside) suspects.push([r, vouching(controls), controlAddrs]);
    for (const [r, against, addrs] of suspects) {
      if (r.failure !== null || r.addresses.length === 0 || consistent(r, addrs)) continue;
      const shown = r === browser ? seen : addrs;
      const detail = { resolver: resolverName(r), addresses: r.addresses.join(", "), name, controls: controlNames(against), controlAddrs: listed(shown) };
      const via = worked(r);
      if (via === undefined) out.push(fact("dns_probe_only_addresses", "dns", null, [r.id, ...against.map((c) => c.id)], detail));
      else if (r === browser && out.length === 0) {
        // (A block-page address or a forged answer already said what the answer was.)
        const compared = table.controlHttp !== null && table.controlHttp !== undefined && table.controlHttp.failure === null;
        const rows = [r.id, ...against.map((c) => c.id)];
        // The site itself answered there (its certificate, the control's own page, or the page
        // a witness's address serves for the same request): reached, and the address is recorded
        // as a note (a transparent proxy, a CDN node). A page other than the one at the witness's
        // address is not the site's. With nothing to compare a plain-HTTP page with (no control
        // page, no address swap, or a swap that failed), the answer stays unexplained (an anomaly).
        const swap = later.addressSwap && r.addresses.some((a) => a.toLowerCase() === later.addressSwap!.ip) ? later.addressSwap : null;
        if (later.probeValidated.has(via)) out.push(fact("dns_probe_only_addresses_site_answered", "dns", null, rows, { ...detail, via, how: `a TLS handshake with ${via} validated for ${name}` }));
        else if (compared) out.push(fact("dns_probe_only_addresses_site_answered", "dns", null, rows, { ...detail, via, how: `${via} served the page the control saw` }));
        else if (swap && swap.failed === null && swap.diffs.length === 0) {
          out.push(fact("dns_probe_only_addresses_site_answered", "dns", null, [...rows, ...swap.rows], { ...detail, via: swap.ip, how: `${swap.endpoint} served the same page as ${swap.swapEndpoint}, an address a witness gave, for the same request (${swap.theirs})` }));
        } else if (swap && swap.failed === null) {
          const { url, endpoint, swapEndpoint, mine, theirs } = swap;
          out.push(fact("dns_address_swap_differs", "dns", null, [...rows, ...swap.rows], { ...detail, via: swap.ip, url, endpoint, swapEndpoint, mine, theirs, diffs: swap.diffs.join(", ") }));
        } else {
          // A swap that got no page proves nothing either way: the evidence says it was tried.
          const tried = swap ? `, and the same request to ${swap.swapEndpoint}, an address a witness gave, got no page to compare (${swap.failed})` : "";
          out.push(fact("dns_probe_only_addresses_worked", "dns", null, swap ? [...rows, ...swap.rows] : rows, { ...detail, via, how: `${via} answered, but no control fetched the page to compare it with${tried}` }));
        }
      } else continue;
      break;
    }
    return out;
  }

  // Every witness answered that the name has no address, yet the browser's resolver gave one: a
  // resolver that answers for a name nobody else knows (OONI's "ghost" DNS blocking).
  const witnesses = others.filter((r) => r.failure !== null);
  if (!browser.failure && browser.addresses.length > 0 && witnesses.length > 0 && witnesses.length === others.length && witnesses.every((r) => GHOST.has(r.failure!))) {
    const none = [...new Set(witnesses.map((r) => describeNone(r.failure!)))];
    out.push(fact("dns_probe_only_addresses", "dns", null, [browser.id, ...witnesses.map((c) => c.id)], { resolver: resolverName(browser), addresses: browser.addresses.join(", "), name, controls: controlNames(witnesses), controlAddrs: `no address (${none.join(", ")})` }));
    return out;
  }

  // No witness has an address: a failure of the browser's resolver proves nothing alone.
  if (!browser.failure) return out;
  const said = [browser, ...outside].map((r) => (r.failure ? `${resolverName(r)}|${r.failure}` : `${resolverName(r)}|=${r.addresses.join(", ")}`));
  out.push(fact("dns_failed_unconfirmed", "dns", browser.failure, [browser.id, ...outside.map((r) => r.id)], { name, said: said.join("\n"), systemOnly: outside.length === 0 && browser.engine === "system" ? "yes" : "" }));
  return out;
}
