/** DNS analysis without a control: bogons, block-page addresses, injected answers, NXDOMAIN, failures. */
import type { DnsObservation } from "../probes/observation.js";
import type { AnalysisContext, Finding } from "./context.js";
import { classifyAddress } from "../net/bogons.js";
import { blockPageMatch, matchDnsAddress } from "./fingerprints.js";
import { describeFailure } from "./words.js";

/** Names a resolver for evidence: "the system resolver" or "resolver 192.0.2.53:53". */
export function resolverName(o: DnsObservation): string {
  return o.engine === "system" ? "the system resolver" : `${o.engine === "doh" ? "DoH resolver" : "resolver"} ${o.resolver}`;
}

/** Every address a lookup saw, first response first. */
function allAddresses(o: DnsObservation): string[] {
  const set = new Set(o.addresses);
  for (const r of o.responses ?? []) r.addresses.forEach((a) => set.add(a));
  return [...set];
}

/**
 * Signatures that prove DNS interference on their own: bogons, block-page addresses, and two
 * different answers to one query. With the controls' addresses, the forged answer is named.
 */
export function dnsSignatures(obs: DnsObservation[], ctx: AnalysisContext, controlAddrs?: ReadonlySet<string>): Finding | null {
  for (const o of obs) {
    for (const a of allAddresses(o)) {
      const c = classifyAddress(a, ctx.publicRanges);
      if (c.bogon) return { status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: [`${resolverName(o)} returned ${a}, ${c.kind}`] };
      const m = blockPageMatch(matchDnsAddress(ctx.fingerprints, a));
      if (m) return { status: "blocked", layer: "dns", failure: null, evidence: [`${resolverName(o)}: ${m.evidence}`] };
    }
  }
  for (const o of obs) {
    const valid = (o.responses ?? []).filter((r) => !r.malformed);
    const first = valid[0];
    if (!first) continue;
    const key = (r: { rcode: string; addresses: string[] }) => `${r.rcode}|${[...r.addresses].sort().join(",")}`;
    const other = valid.find((r) => key(r) !== key(first));
    if (other) {
      const say = (r: { rcode: string; addresses: string[] }) => (r.addresses.length ? r.addresses.join(", ") : r.rcode);
      // Why distinct: a retransmitted copy of an answer is not a "different" one; counting every packet overstated the evidence.
      const distinct = new Set(valid.map(key)).size;
      if (controlAddrs && controlAddrs.size > 0) {
        const agrees = (r: { addresses: string[] }) => r.addresses.some((a) => controlAddrs.has(a));
        const forged = valid.filter((r) => !agrees(r));
        const real = valid.find(agrees);
        if (forged.length > 0 && real) {
          return {
            status: "blocked",
            layer: "dns",
            failure: null,
            evidence: [
              `${resolverName(o)} sent ${distinct} different answers to one query: ${forged.map((r) => `${say(r)} at ${r.t} ms`).join(", ")} ` +
                `${forged.length > 1 ? "are" : "is"} forged, ${say(real)} at ${real.t} ms agrees with the control (${[...controlAddrs].slice(0, 4).join(", ")})`,
            ],
          };
        }
      }
      return {
        status: "blocked",
        layer: "dns",
        failure: null,
        evidence: [
          `${resolverName(o)} sent ${distinct} different answers to one query: ${say(first)} at ${first.t} ms, then ${say(other)} at ${other.t} ms; ` +
            `an on-path injector answers first, so ${say(first)} is likely forged`,
        ],
      };
    }
  }
  return null;
}

/** Failures that say a resolver could not be reached at all, rather than what it answered. */
const UNREACHED: ReadonlySet<string> = new Set([
  "generic_timeout_error",
  "timed_out",
  "network_unreachable",
  "network_down",
  "host_unreachable",
  "connection_refused",
  "address_not_available",
]);

/**
 * Evidence that the local network, not the name, made the system resolver fail: it said
 * dns_server_misbehaving (glibc's EAI_AGAIN, which no network at all gives too) and every outside
 * resolver asked (--resolver, --doh) could not be reached either. Null otherwise, also when no
 * outside resolver was asked: then the failure alone proves nothing (an anomaly).
 */
export function dnsLocalNetworkEvidence(own: readonly DnsObservation[], doh: readonly DnsObservation[]): string[] | null {
  const system = own.find((o) => o.engine === "system");
  const outside = [...own.filter((o) => o.engine !== "system"), ...doh];
  if (system?.failure !== "dns_server_misbehaving" || outside.length === 0) return null;
  if (!outside.every((o) => o.failure !== null && UNREACHED.has(o.failure))) return null;
  return [
    `${resolverName(system)} ${describeFailure(system.failure)}, and no outside resolver could be reached either: ` +
      `${outside.map((o) => `${resolverName(o)} ${describeFailure(o.failure!)}`).join("; ")}; the local network seems down, or cuts DNS to every resolver asked`,
  ];
}

/** Analyses the lookups of the target's own host name. */
export function analyzeDns(obs: DnsObservation[], ctx: AnalysisContext): Finding | null {
  if (obs.length === 0) return null;
  const sig = dnsSignatures(obs, ctx);
  if (sig) return sig;
  const failed = obs.filter((o) => o.failure !== null);
  if (failed.length === 0) return null;
  if (failed.length === obs.length && failed.every((o) => o.failure === "dns_nxdomain_error")) {
    // Why: "down" needs a control to agree (docs/design.md) ("does not exist anywhere"). The system
    // resolver alone may be the censor's own (NXDOMAIN is a common block), so without an
    // outside resolver confirming it this is an unconfirmed failure: an anomaly.
    if (obs.every((o) => o.engine === "system")) {
      return {
        status: "anomaly",
        layer: "dns",
        failure: "dns_nxdomain_error",
        evidence: [`the system resolver says ${obs[0]?.hostname} does not exist (NXDOMAIN), and no outside resolver (--resolver) was asked to confirm it`],
      };
    }
    return { status: "down", layer: "dns", failure: "dns_nxdomain_error", evidence: [`every resolver asked says ${obs[0]?.hostname} does not exist (NXDOMAIN)`] };
  }
  const answered = obs.filter((o) => o.failure === null);
  const system = obs.find((o) => o.engine === "system");
  // An outside resolver failing while the system resolver answers says more about the path to
  // that resolver than about the target; it is evidence, not a verdict.
  if (answered.length > 0 && (!system || system.failure === null)) return null;
  const deciding = system && system.failure ? system : failed[0]!;
  const evidence = failed.map((o) => `${resolverName(o)} ${describeFailure(o.failure!)}`);
  for (const o of answered) evidence.push(`${resolverName(o)} returned ${o.addresses.join(", ")}`);
  return { status: "anomaly", layer: "dns", failure: deciding.failure, evidence };
}
