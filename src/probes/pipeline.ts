/**
 * A target's pipeline: DNS, then TCP (and TLS) to each address at once, then HTTP over an
 * address that connected. Returns every observation; never throws for network failures and
 * never decides a verdict.
 */
import { joinHostPort } from "../net/addr.js";
import { startStepTimer } from "../net/deadline.js";
import type { Target } from "../targets/target.js";
import type { ProbeConfig } from "./config.js";
import type { ControlRequest } from "../control/wire.js";
import type { ControlObservation, Observation, TcpObservation, TlsObservation } from "./observation.js";
import { dnsStep, addressesToTry } from "./dns.js";
import { tcpStep } from "./tcp.js";
import { tlsStep } from "./tls.js";
import { httpStep } from "./http.js";

/** What a target's pipeline saw, and what the control helper saw for it. */
export interface ProbeOutcome {
  observations: Observation[];
  control: ControlObservation | null;
}

/** Probes one target within cfg.targetBudgetMs (or until `stop` aborts) and returns what it saw. */
export async function probeTarget(target: Target, cfg: ProbeConfig, stop?: AbortSignal): Promise<ProbeOutcome> {
  const budget = startStepTimer(cfg.targetBudgetMs, stop);
  const outcome: ProbeOutcome = { observations: [], control: null };
  let asked: Promise<ControlObservation> | null = null;
  try {
    await runSteps(target, cfg, budget.signal, outcome.observations, (addresses) => {
      // The helper works while the probe connects: it needs only the URL and the endpoints.
      if (cfg.control) asked = cfg.control(controlRequestFor(target, addresses, cfg), budget.signal);
    });
    if (asked) outcome.control = await asked;
    return outcome;
  } finally {
    budget.dispose();
  }
}

/** The control request for a target: tcp:// targets are sent as http:// URLs, which OONI's helper also takes. */
export function controlRequestFor(target: Target, addresses: readonly string[], cfg: Pick<ProbeConfig, "userAgent">): ControlRequest {
  const url = target.scheme === "tcp" ? `http://${target.input.slice("tcp://".length)}/` : target.input;
  return {
    http_request: url,
    http_request_headers: { "User-Agent": [cfg.userAgent], Accept: ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"] },
    tcp_connect: addresses.map((ip) => joinHostPort(ip, target.port)),
  };
}

async function runSteps(target: Target, cfg: ProbeConfig, budget: AbortSignal, out: Observation[], resolved: (addresses: string[]) => void): Promise<void> {
  let addresses: string[];
  if (target.isIp) {
    addresses = [target.host];
  } else {
    const dns = await dnsStep(target.host, cfg, budget);
    out.push(...dns);
    addresses = addressesToTry(dns, cfg.maxAddresses);
  }
  if (!budget.aborted) resolved(addresses);
  if (addresses.length === 0 || budget.aborted) return;

  const perAddress = await Promise.all(addresses.map((ip) => connectOne(ip, target, cfg, budget)));
  let reachable: string | undefined;
  for (const [i, steps] of perAddress.entries()) {
    out.push(...steps);
    const ok = steps.every((s) => s.failure === null);
    if (ok && reachable === undefined) reachable = addresses[i];
  }
  if (target.scheme === "tcp" || reachable === undefined || budget.aborted) return;

  const url = new URL(target.input);
  const { hops, dns } = await httpStep(url, reachable, cfg, budget);
  out.push(...dns, ...hops);
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
