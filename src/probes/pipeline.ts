/**
 * A target's pipeline: DNS, then TCP (and TLS) to each address at once, then HTTP over an
 * address that connected. Returns every observation; never throws for network failures and
 * never decides a verdict.
 */
import { joinHostPort } from "../net/addr.js";
import { startStepTimer } from "../net/deadline.js";
import type { Target } from "../targets/target.js";
import type { ProbeConfig } from "./config.js";
import type { Observation, TcpObservation, TlsObservation } from "./observation.js";
import { dnsStep, addressesToTry } from "./dns.js";
import { tcpStep } from "./tcp.js";
import { tlsStep } from "./tls.js";
import { httpStep } from "./http.js";

/** Probes one target within cfg.targetBudgetMs (or until `stop` aborts) and returns what it saw. */
export async function probeTarget(target: Target, cfg: ProbeConfig, stop?: AbortSignal): Promise<Observation[]> {
  const budget = startStepTimer(cfg.targetBudgetMs, stop);
  try {
    return await runSteps(target, cfg, budget.signal);
  } finally {
    budget.dispose();
  }
}

async function runSteps(target: Target, cfg: ProbeConfig, budget: AbortSignal): Promise<Observation[]> {
  const out: Observation[] = [];
  let addresses: string[];
  if (target.isIp) {
    addresses = [target.host];
  } else {
    const dns = await dnsStep(target.host, cfg, budget);
    out.push(...dns);
    addresses = addressesToTry(dns, cfg.maxAddresses);
  }
  if (addresses.length === 0 || budget.aborted) return out;

  const perAddress = await Promise.all(addresses.map((ip) => connectOne(ip, target, cfg, budget)));
  let reachable: string | undefined;
  for (const [i, steps] of perAddress.entries()) {
    out.push(...steps);
    const ok = steps.every((s) => s.failure === null);
    if (ok && reachable === undefined) reachable = addresses[i];
  }
  if (target.scheme === "tcp" || reachable === undefined || budget.aborted) return out;

  const url = new URL(target.input);
  const { hops, dns } = await httpStep(url, reachable, cfg, budget);
  out.push(...dns, ...hops);
  return out;
}

async function connectOne(ip: string, target: Target, cfg: ProbeConfig, budget: AbortSignal): Promise<Array<TcpObservation | TlsObservation>> {
  const { obs, socket } = await tcpStep(ip, target.port, cfg, budget);
  if (!socket) return [obs];
  if (target.scheme !== "https") {
    socket.destroy();
    return [obs];
  }
  const tls = await tlsStep(socket, joinHostPort(ip, target.port), target.host, cfg, budget);
  return [obs, tls];
}
