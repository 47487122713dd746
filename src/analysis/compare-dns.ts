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

/** Names a resolver for evidence: "the system resolver", "resolver 192.0.2.53:53", "DoH resolver URL", "the control helper". */
export function resolverName(r: Pick<DnsRow, "engine" | "resolver">): string {
  if (r.engine === "system") return "the system resolver";
  if (r.engine === "helper") return "the control helper";
  return `${r.engine === "doh" ? "DoH resolver" : "resolver"} ${r.resolver}`;
}

/** How the controls are named in evidence: "the control helper and DoH https://...". */
function controlNames(rows: readonly DnsRow[]): string {
  const helper = rows.filter((r) => r.engine === "helper").map(() => "the control helper");
  return [...helper, ...rows.filter((r) => r.engine !== "helper").map((r) => `DoH ${r.resolver}`)].join(" and ");
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
}

/** Compares the lookups of the target's own name (hop 0) with the controls'. */
export function compareDns(table: Table, later: DnsEvidenceFromLaterSteps, ctx: AnalysisContext): Fact[] {
  if (table.target.isIp) return [];
  const own = table.dns.filter((r) => r.hop === 0 && r.host === table.target.host);
  const probe = own.filter((r) => r.role === "probe");
  const controls = own.filter((r) => r.role === "control");
  const controlAddrs = new Set(controls.flatMap((r) => r.addresses));
  const publicControlAddrs = [...controlAddrs].filter((a) => !classifyAddress(a, ctx.publicRanges).bogon);
  const out: Fact[] = [];

  // Signatures: bogons and known blocking addresses in the probe's answers, two answers to one query.
  for (const r of probe) {
    for (const a of allAddresses(r)) {
      const c = classifyAddress(a, ctx.publicRanges);
      if (c.bogon) {
        const detail = { resolver: resolverName(r), address: a, kind: c.kind ?? "a bogon", controls: controlNames(controls), controlAddrs: [...controlAddrs].slice(0, 4).join(", ") };
        // A bogon the controls see too is the site's own misconfiguration; a bogon where they see
        // public addresses is the probe's alone; with no control answer, it proves nothing alone.
        const key =
          publicControlAddrs.length > 0 ? "dns_bogon_probe_only" : controlAddrs.size > 0 ? "dns_bogon_everywhere" : later.blockPage ? "dns_bogon_to_blockpage" : "dns_bogon_unconfirmed";
        out.push(fact(key, "dns", "dns_bogon_error", [r.id], detail));
        break;
      }
      const m = blockPageMatch(matchDnsAddress(ctx.fingerprints, a));
      if (m) {
        out.push(fact("dns_blockpage_address", "dns", null, [r.id], { resolver: resolverName(r), match: m.evidence }));
        break;
      }
    }
  }
  for (const r of probe) {
    const valid = r.responses.filter((x) => !x.malformed);
    const first = valid[0];
    if (!first) continue;
    const key = (x: { rcode: string; addresses: string[] }) => `${x.rcode}|${[...x.addresses].sort().join(",")}`;
    const other = valid.find((x) => key(x) !== key(first));
    if (!other) continue;
    const say = (x: { rcode: string; addresses: string[] }) => (x.addresses.length ? x.addresses.join(", ") : x.rcode);
    // A retransmitted copy of an answer is not a different one.
    const detail: Record<string, string> = { resolver: resolverName(r), distinct: String(new Set(valid.map(key)).size), first: `${say(first)} at ${first.t} ms`, other: `${say(other)} at ${other.t} ms`, firstSaid: say(first) };
    if (controlAddrs.size > 0) {
      const agrees = (x: { addresses: string[] }) => x.addresses.some((a) => controlAddrs.has(a));
      const forged = valid.filter((x) => !agrees(x));
      const real = valid.find(agrees);
      if (forged.length > 0 && real) {
        detail.forged = forged.map((x) => `${say(x)} at ${x.t} ms`).join(", ");
        detail.forgedCount = String(forged.length);
        detail.real = `${say(real)} at ${real.t} ms`;
        detail.controlAddrs = [...controlAddrs].slice(0, 4).join(", ");
      }
    }
    out.push(fact("dns_two_answers", "dns", null, [r.id], detail));
    break;
  }

  const name = table.target.host;
  const anyAddress = own.some((r) => r.addresses.length > 0);
  const others = own.filter((r) => r.engine !== "system");
  // No address from any resolver asked, and at least one beyond the system's (outside or control) answered so.
  if (!anyAddress && others.some((r) => r.failure !== null && NO_ADDRESS.has(r.failure))) {
    const allNx = own.every((r) => r.failure === "dns_nxdomain_error");
    // The most telling answer names the failure: the name does not exist, has no address, or no server for it works.
    // Outside resolvers and controls first: getaddrinfo says NXDOMAIN for a name with no address too.
    const said = (rows: readonly DnsRow[]) => (f: Failure) => rows.some((r) => r.failure === f);
    const order = ["dns_nxdomain_error", "dns_no_answer", "dns_servfail_error"] as const;
    const failure: Failure = order.find(said(others)) ?? order.find(said(own)) ?? own[0]!.failure!;
    const answers = own.map((r) => `${resolverName(r)}|${r.failure}`).join("\n");
    out.push(fact("dns_no_address_anywhere", "dns", failure, own.map((r) => r.id), { name, allNx: allNx ? "yes" : "", said: answers }));
    return out;
  }
  const system = probe.find((r) => r.engine === "system");
  // The local network, not the name: the system resolver failed, every other resolver asked
  // (outside, DoH) and the helper could not be reached, and something says this machine is
  // cut off: no route, or glibc's EAI_AGAIN (which no network at all gives too; a censor that
  // drops queries gives our own timeout instead).
  // A DoH resolver's dns_server_misbehaving is getaddrinfo's, failing on the DoH server's own name
  // (its answers' rcodes have names of their own): it was not reached either.
  const unreached = (r: DnsRow) => r.failure !== null && (UNREACHED.has(r.failure) || (r.engine === "doh" && r.failure === "dns_server_misbehaving"));
  const unreachedFailures = [...others.map((r) => r.failure), ...(table.helper ? [table.helper.failure] : [])];
  if (
    system?.failure &&
    unreachedFailures.length > 0 &&
    others.every(unreached) &&
    (!table.helper || (table.helper.failure !== null && UNREACHED.has(table.helper.failure))) &&
    (system.failure === "dns_server_misbehaving" || unreachedFailures.some((f) => NO_ROUTE.has(f!)))
  ) {
    const outside = others.map((r) => `${resolverName(r)}|${r.failure}`);
    if (table.helper?.failure) outside.push(`the control helper|${table.helper.failure}`);
    out.push(fact("dns_unreachable_everywhere", "dns", system.failure, [system.id, ...others.map((r) => r.id)], { system: resolverName(system), outside: outside.join("\n") }));
  }

  if (publicControlAddrs.length > 0 || controlAddrs.size > 0) {
    const failed = probe.find((r) => r.failure !== null);
    if (failed && failed.engine === "system") {
      out.push(fact("dns_failed_probe_only", "dns", failed.failure, [failed.id, ...controls.map((r) => r.id)], { resolver: resolverName(failed), name, controls: controlNames(controls), controlAddrs: [...controlAddrs].slice(0, 4).join(", ") }));
      return out;
    }
    // With an ASN database, an answer in the same network as a control's (a CDN) is consistent too.
    const asnOf = ctx.asnOf;
    const controlAsns = new Set(asnOf ? [...controlAddrs].map((a) => asnOf(a)).filter((x): x is number => x !== null) : []);
    const sameAsn = (a: string) => (asnOf ? controlAsns.has(asnOf(a) ?? -1) : false);
    const answered = probe.filter((r) => r.failure === null && r.addresses.length > 0);
    const inconsistent = answered.filter((r) => !r.addresses.some((a) => controlAddrs.has(a) || later.validated.has(a) || sameAsn(a)));
    // An answer no control shares that led to the site itself (a handshake validated, or the page
    // the control saw with nothing wrong after it) is not a block: the resolver still sent the
    // client somewhere the controls were not sent, a transparent proxy or a CDN node (an anomaly).
    // Its own addresses must have worked, not another answer's.
    const worked = (r: DnsRow) => r.addresses.find((a) => later.probeValidated.has(a)) ?? (later.reached ? r.addresses.find((a) => later.reached!.has(a)) : undefined);
    const unexcused = inconsistent.find((r) => worked(r) === undefined);
    const served = inconsistent.find((r) => worked(r) !== undefined);
    const r = unexcused ?? served;
    if (r) {
      const detail = { resolver: resolverName(r), addresses: r.addresses.join(", "), name, controls: controlNames(controls), controlAddrs: [...controlAddrs].slice(0, 4).join(", ") };
      if (unexcused) out.push(fact("dns_probe_only_addresses", "dns", null, [r.id, ...controls.map((c) => c.id)], detail));
      else if (out.length === 0) {
        // (A block-page address or a forged answer already said what the answer was.)
        const via = worked(r)!;
        const how = later.probeValidated.has(via) ? `a TLS handshake with ${via} validated for ${name}` : `${via} served the page the control saw`;
        out.push(fact("dns_probe_only_addresses_worked", "dns", null, [r.id, ...controls.map((c) => c.id)], { ...detail, via, how }));
      }
    }
    return out;
  }

  // Every control answered that the name has no address, yet the probe's resolver gave one: a
  // resolver that answers for a name nobody else knows (OONI's "ghost" DNS blocking).
  const controlsSayNone = controls.length > 0 && controls.every((r) => r.failure !== null && NO_ADDRESS.has(r.failure));
  const ghost = probe.find((r) => r.failure === null && r.addresses.length > 0 && r.engine === "system");
  if (controlsSayNone && ghost) {
    const none = controls.map((r) => describeNone(r.failure!));
    out.push(fact("dns_probe_only_addresses", "dns", null, [ghost.id, ...controls.map((c) => c.id)], { resolver: resolverName(ghost), addresses: ghost.addresses.join(", "), name, controls: controlNames(controls), controlAddrs: `no address (${[...new Set(none)].join(", ")})` }));
    return out;
  }

  // No control answered: a failure of the system resolver (or of every resolver) proves nothing alone.
  const failed = probe.filter((r) => r.failure !== null);
  if (failed.length === 0) return out;
  const answered = probe.filter((r) => r.failure === null);
  if (answered.length > 0 && (!system || system.failure === null)) return out;
  const deciding = system?.failure ? system : failed[0]!;
  const said = [...failed.map((r) => `${resolverName(r)}|${r.failure}`), ...answered.map((r) => `${resolverName(r)}|=${r.addresses.join(", ")}`)];
  out.push(fact("dns_failed_unconfirmed", "dns", deciding.failure, probe.map((r) => r.id), { name, said: said.join("\n"), systemOnly: probe.every((r) => r.engine === "system") ? "yes" : "" }));
  return out;
}
