/**
 * A target's pipeline: DNS, then TCP (and TLS) to each address at once, then HTTP over the
 * connection of the first address that connected (one connection per target, as a browser),
 * with redirects measured hop by hop, and the swaps of docs/verdicts.md's "Proof without a
 * helper" when a handshake or a plain-HTTP request failed, or a page came from an address no
 * witness resolver gave. Returns every observation; never throws for network
 * failures, never decides a verdict, and leaves no socket open.
 */
import { joinHostPort } from "../net/addr.js";
import { startStepTimer, type StepSignal } from "../net/deadline.js";
import type { Target } from "../targets/target.js";
import type { ProbeConfig } from "./config.js";
import type { ControlRequest } from "./control-wire.js";
import type { ControlObservation, DnsObservation, Observation } from "./observation.js";
import { dnsStep, addressesToTry } from "./dns.js";
import { connectFirst } from "./connect.js";
import { httpStep } from "./http.js";
import { hostSwap, hostSwapName } from "./host-swap.js";
import { addressSwap, addressSwapAddress } from "./address-swap.js";

/** What a target's pipeline saw, and what the control helper saw for it. */
export interface ProbeOutcome {
  observations: Observation[];
  control: ControlObservation | null;
}

/**
 * Starts a target's DNS step ahead of its probe, as a browser prefetches DNS: the runner looks up
 * the next targets while earlier ones are probed, so that a slot of --concurrency holds the
 * connects, not the wait for a resolver. The step keeps its own timer; null for an IP literal.
 */
export function lookupAhead(target: Target, cfg: ProbeConfig, stop: StepSignal): Promise<DnsObservation[]> | null {
  return target.isIp ? null : dnsStep(target.host, cfg, stop);
}

/**
 * Probes one target within cfg.targetBudgetMs (or until `stop` aborts) and returns what it saw;
 * `lookup`, when given, is its DNS step already started (lookupAhead).
 */
export async function probeTarget(target: Target, cfg: ProbeConfig, stop?: StepSignal, lookup?: Promise<DnsObservation[]> | null): Promise<ProbeOutcome> {
  const budget = startStepTimer(cfg.targetBudgetMs, stop);
  const outcome: ProbeOutcome = { observations: [], control: null };
  let asked: Promise<ControlObservation> | null = null;
  try {
    await runSteps(target, cfg, budget.signal, lookup ?? null, outcome.observations, (addresses) => {
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

async function runSteps(
  target: Target,
  cfg: ProbeConfig,
  budget: StepSignal,
  lookup: Promise<DnsObservation[]> | null,
  out: Observation[],
  resolved: (addresses: string[]) => void,
): Promise<void> {
  let addresses: string[];
  let dns: DnsObservation[] = [];
  if (target.isIp) {
    addresses = [target.host];
  } else {
    dns = await (lookup ?? dnsStep(target.host, cfg, budget));
    out.push(...dns);
    addresses = addressesToTry(dns, cfg.maxAddresses);
  }
  if (!budget.aborted) resolved(addresses);
  if (addresses.length === 0 || budget.aborted) return;

  const serverName = target.scheme === "https" ? target.host : null;
  const { observations, connection } = await connectFirst({ addresses, port: target.port, serverName, hop: 0 }, cfg, budget);
  out.push(...observations);
  if (!connection) return;
  if (target.scheme === "tcp" || budget.aborted) {
    connection.socket.destroy();
    return;
  }
  // httpStep owns the connection from here and closes it.
  const { hops } = await httpStep(new URL(target.input), connection, addresses, cfg, budget, out);
  // A plain-HTTP navigation that ended in a failure or an error status is asked again with an
  // innocuous Host, to the same address (host-swap.ts); a failed handshake was already repeated
  // with an innocuous SNI as it was made (connect.ts).
  const last = hops[hops.length - 1];
  const swapName = last ? hostSwapName(last, cfg, budget) : null;
  if (last && swapName) out.push(...(await hostSwap(last, swapName, cfg, budget)));
  // A page that came from an address only the browser's resolver gave is asked for again at an
  // address a witness resolver gave (address-swap.ts).
  const first = hops[0];
  const witnessAddress = addressSwapAddress(dns, first, cfg, budget);
  if (first && witnessAddress) out.push(...(await addressSwap(first, witnessAddress, cfg, budget)));
}
