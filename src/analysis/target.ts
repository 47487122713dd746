/**
 * One target's verdict from its observations: each layer is analysed on its own, then the
 * root cause wins (a blocked DNS answer outranks what followed from it).
 */
import type { DnsObservation, HttpObservation, Observation, TcpObservation, TlsObservation } from "../probes/observation.js";
import type { Target } from "../targets/target.js";
import type { AnalysisContext, Finding } from "./context.js";
import type { Verdict } from "./verdict.js";
import { analyzeDns } from "./dns.js";
import { analyzeTcp } from "./tcp.js";
import { analyzeTls } from "./tls.js";
import { analyzeHttp } from "./http.js";

/** Splits a target's observations by step; DNS lookups made for redirects are left out of `dns`. */
export function byStep(target: Pick<Target, "host">, obs: readonly Observation[]) {
  return {
    dns: obs.filter((o): o is DnsObservation => o.step === "dns" && o.hostname === target.host),
    tcp: obs.filter((o): o is TcpObservation => o.step === "tcp"),
    tls: obs.filter((o): o is TlsObservation => o.step === "tls"),
    http: obs.filter((o): o is HttpObservation => o.step === "http"),
  };
}

/** True when the target never got past the network: no address at all, or no connect succeeded. */
export function failedAtNetworkLevel(target: Pick<Target, "host" | "isIp">, obs: readonly Observation[]): boolean {
  const s = byStep(target, obs);
  if (!target.isIp && s.dns.length > 0 && s.dns.every((o) => o.failure !== null)) return true;
  return s.tcp.length > 0 && s.tcp.every((o) => o.failure !== null);
}

/** Decides the verdict of one target. */
export function analyzeTarget(target: Target, obs: readonly Observation[], ctx: AnalysisContext): Verdict {
  const s = byStep(target, obs);
  const findings: Finding[] = [];
  const dns = analyzeDns(s.dns, ctx);
  if (dns) findings.push(dns);
  const tcp = analyzeTcp(s.tcp);
  if (tcp) findings.push(tcp);
  const tls = analyzeTls(s.tls);
  if (tls) findings.push(tls);
  const http = analyzeHttp(s.http, ctx);
  if (http) findings.push(http);

  const blocked = findings.find((f) => f.status === "blocked");
  if (blocked) return verdictOf(blocked, findings);
  const down = findings.find((f) => f.status === "down");
  if (down) return { status: "down", layer: null, failure: down.failure, evidence: down.evidence };

  const unreachable = s.tcp.length > 0 && s.tcp.every((o) => o.failure === "network_unreachable");
  if (unreachable) {
    return { status: "inconclusive", layer: null, failure: "network_unreachable", evidence: ["this machine has no route to any address of the target: the local network is down or has no route out"] };
  }
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
  if (anomaly) return verdictOf(anomaly, findings);
  if (s.dns.length === 0 && s.tcp.length === 0) {
    return { status: "inconclusive", layer: null, failure: null, evidence: ["no step could run within the target's time budget"] };
  }
  return { status: "ok", layer: null, failure: null, evidence: [] };
}

/** The deciding finding, with later layers' evidence appended as context. */
function verdictOf(deciding: Finding, all: Finding[]): Verdict {
  const rest = all.filter((f) => f !== deciding).flatMap((f) => f.evidence);
  return { status: deciding.status, layer: deciding.layer, failure: deciding.failure, evidence: [...deciding.evidence, ...rest] };
}
