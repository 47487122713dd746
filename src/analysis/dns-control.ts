/**
 * DNS analysis with controls: the probe's answers are consistent when they share an address
 * with a control or a TLS handshake to them validated for the name. Returns undefined when the
 * controls cannot say (none asked the name, or they failed), so the caller falls back.
 */
import type { DnsObservation } from "../probes/observation.js";
import type { AnalysisContext, Finding } from "./context.js";
import type { ControlView } from "./control-view.js";
import { dnsSignatures, resolverName } from "./dns.js";
import { describeFailure } from "./words.js";

/**
 * Decides the DNS layer with controls. `reached` holds the addresses the probe connected to
 * when the steps that followed found nothing wrong (null when they did): an answer no control
 * shares is excused only when its own addresses worked (a CDN), not because another one did.
 */
export function analyzeDnsWithControl(
  obs: DnsObservation[],
  view: ControlView,
  validated: ReadonlySet<string>,
  reached: ReadonlySet<string> | null,
  ctx: AnalysisContext,
): Finding | null | undefined {
  const control = view.dns;
  const controlAddrs = new Set(control?.addrs ?? []);
  const sig = dnsSignatures(obs, ctx, controlAddrs);
  if (sig) return sig;
  if (!control) return undefined;
  const controls = control.by.join(" and ");
  if (obs.length === 0) {
    // Only controls were asked (--no-system-resolver with --doh): their word is all there is.
    if (control.failure !== "dns_nxdomain_error") return null;
    return { status: "down", layer: "dns", failure: "dns_nxdomain_error", evidence: [`${controls} say${control.by.length > 1 ? "" : "s"} the name does not exist (NXDOMAIN)`] };
  }
  const name = obs[0]!.hostname;

  if (control.addrs.length === 0) {
    if (control.failure === "dns_nxdomain_error" && obs.every((o) => o.failure === "dns_nxdomain_error")) {
      return { status: "down", layer: "dns", failure: "dns_nxdomain_error", evidence: [`${name} does not exist: every resolver asked and ${controls} say NXDOMAIN`] };
    }
    // A control that failed never turns a failure into "down".
    return undefined;
  }

  const failed = obs.find((o) => o.failure !== null);
  if (failed && failed.engine === "system") {
    return {
      status: "blocked",
      layer: "dns",
      failure: failed.failure,
      evidence: [`${resolverName(failed)} ${describeFailure(failed.failure!)}, but ${controls} resolved ${name} to ${control.addrs.slice(0, 4).join(", ")}`],
    };
  }
  const answered = obs.filter((o) => o.failure === null && o.addresses.length > 0);
  // With an ASN database, an answer in the same network as a control's (a CDN handing out
  // different addresses of one operator) is consistent too.
  const asnOf = ctx.asnOf;
  const controlAsns = new Set(asnOf ? control.addrs.map((a) => asnOf(a)).filter((x): x is number => x !== null) : []);
  const sameAsn = (a: string) => (asnOf ? controlAsns.has(asnOf(a) ?? -1) : false);
  const inconsistent = answered.filter((o) => !o.addresses.some((a) => controlAddrs.has(a) || validated.has(a) || sameAsn(a)));
  const unexcused = inconsistent.filter((o) => !reached || !o.addresses.some((a) => reached.has(a)));
  if (unexcused.length > 0) {
    const o = unexcused[0]!;
    return {
      status: "blocked",
      layer: "dns",
      failure: null,
      evidence: [
        `${resolverName(o)} returned ${o.addresses.join(", ")}, which no control returned and no TLS handshake validated for ${name}; ` +
          `${controls} resolved it to ${control.addrs.slice(0, 4).join(", ")}`,
      ],
    };
  }
  if (failed) {
    // Only an outside resolver failed while the system resolver answered consistently: the path
    // to that resolver is odd, the name is not blocked.
    return null;
  }
  return null;
}
