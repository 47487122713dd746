/**
 * One target's verdict from its observations and, when there are any, its controls: each layer
 * is analysed on its own (with the controls where they cover it, without them where they do
 * not), redirect hops at the layer where they failed, then the root cause wins (a blocked DNS
 * answer outranks what followed from it).
 */
import type { ControlObservation, DnsObservation, HttpObservation, Observation, TcpObservation, TlsObservation } from "../probes/observation.js";
import type { Target } from "../targets/target.js";
import type { AnalysisContext, Finding } from "./context.js";
import type { Verdict } from "./verdict.js";
import { analyzeDns, dnsLocalNetworkEvidence } from "./dns.js";
import { analyzeTcp } from "./tcp.js";
import { analyzeTls } from "./tls.js";
import { analyzeHttp, httpSignatures } from "./http.js";
import { analyzeRedirectHop } from "./redirect.js";
import { controlView, ipOf, validatedAddresses, type ControlView } from "./control-view.js";
import { analyzeDnsWithControl } from "./dns-control.js";
import { analyzeTcpWithControl } from "./tcp-control.js";
import { analyzeTlsWithControl } from "./tls-control.js";
import { analyzeHttpWithControl } from "./http-control.js";

/**
 * Splits a target's own observations (hop 0) by step; DoH lookups (controls) are kept apart, and
 * the steps of redirect hops (tagged with `hop`, analysed in redirect.ts) are left out. `http`
 * holds every hop's request.
 */
export function byStep(target: Pick<Target, "host">, obs: readonly Observation[]) {
  const own = obs.filter((o): o is DnsObservation => o.step === "dns" && o.hostname === target.host && !o.hop);
  return {
    dns: own.filter((o) => o.engine !== "doh"),
    doh: own.filter((o) => o.engine === "doh"),
    tcp: obs.filter((o): o is TcpObservation => o.step === "tcp" && !o.hop && !o.purpose),
    tls: obs.filter((o): o is TlsObservation => o.step === "tls" && !o.hop && !o.purpose),
    http: obs.filter((o): o is HttpObservation => o.step === "http" && !o.purpose),
  };
}

/** True when the target never got past the network: no address at all, or no connect succeeded. */
export function failedAtNetworkLevel(target: Pick<Target, "host" | "isIp">, obs: readonly Observation[]): boolean {
  const s = byStep(target, obs);
  const dns = [...s.dns, ...s.doh];
  if (!target.isIp && dns.length > 0 && dns.every((o) => o.failure !== null)) return true;
  return s.tcp.length > 0 && s.tcp.every((o) => o.failure !== null);
}

/** Uses the control-aware analysis where it can decide, the control-less one where it cannot. */
function either(withControl: Finding | null | undefined, without: () => Finding | null): Finding | null {
  return withControl === undefined ? without() : withControl;
}

/** Decides the verdict of one target. */
export function analyzeTarget(target: Target, obs: readonly Observation[], ctx: AnalysisContext, control?: ControlObservation | null): Verdict {
  const s = byStep(target, obs);
  const view: ControlView = controlView(control, s.doh);
  const tcp = either(analyzeTcpWithControl(s.tcp, view), () => analyzeTcp(s.tcp));
  const tls = either(analyzeTlsWithControl(s.tls, view), () => analyzeTls(s.tls));
  // A redirect hop that could not be connected to is judged at its own layer; the responses
  // before it are then only checked for block pages (the chain has no final response to compare).
  const hop = analyzeRedirectHop(obs, view);
  const http = hop ? httpSignatures(s.http, ctx) : either(analyzeHttpWithControl(s.http, view, ctx), () => analyzeHttp(s.http, ctx));
  const laterOk = [tcp, tls, http].every((f) => f === null);
  const reached = laterOk ? new Set(s.tcp.filter((o) => o.failure === null).map((o) => ipOf(o.address))) : null;
  const dns = either(analyzeDnsWithControl(s.dns, view, validatedAddresses(s.tls, view), reached, ctx), () => analyzeDns(s.dns, ctx));
  const findings = [dns, tcp, tls, http, hop].filter((f): f is Finding => f !== null);
  const context = view.helperFailure ? [view.helperFailure] : [];

  const blocked = findings.find((f) => f.status === "blocked");
  if (blocked) return verdictOf(blocked, findings, context);
  const down = findings.find((f) => f.status === "down");
  if (down) return { status: "down", layer: null, failure: down.failure, evidence: [...down.evidence, ...context] };

  const unreachable = s.tcp.length > 0 && s.tcp.every((o) => o.failure === "network_unreachable" || o.failure === "network_down");
  if (unreachable) {
    return { status: "inconclusive", layer: null, failure: s.tcp[0]!.failure, evidence: ["this machine has no route to any address of the target: the local network is down or has no route out"] };
  }
  const dnsLocal = dnsLocalNetworkEvidence(s.dns, s.doh);
  if (dnsLocal) return { status: "inconclusive", layer: null, failure: "dns_server_misbehaving", evidence: [...dnsLocal, ...context] };
  if (ctx.networkDown && failedAtNetworkLevel(target, obs)) {
    const why = findings[0];
    return {
      status: "inconclusive",
      layer: null,
      failure: why?.failure ?? null,
      evidence: [`the canary ${ctx.networkDown.canary} failed too (${ctx.networkDown.reason}): the local network seems down`, ...(why?.evidence ?? [])],
    };
  }
  const anomaly = findings.find((f) => f.status === "anomaly");
  if (anomaly) return verdictOf(anomaly, findings, context);
  if (s.dns.length === 0 && s.doh.length === 0 && s.tcp.length === 0) {
    return { status: "inconclusive", layer: null, failure: null, evidence: ["no step could run within the target's time budget"] };
  }
  return { status: "ok", layer: null, failure: null, evidence: [] };
}

/** The deciding finding, with later layers' evidence and notes about the controls appended. */
function verdictOf(deciding: Finding, all: Finding[], context: string[]): Verdict {
  const rest = all.filter((f) => f !== deciding).flatMap((f) => f.evidence);
  return { status: deciding.status, layer: deciding.layer, failure: deciding.failure, evidence: [...deciding.evidence, ...rest, ...context] };
}
