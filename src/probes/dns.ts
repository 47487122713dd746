/** The DNS step: the system resolver and every configured UDP resolver, asked at once. */
import { isIP } from "node:net";
import { systemLookup } from "../net/dns-system.js";
import { joinHostPort } from "../net/addr.js";
import { startStepTimer, type StepSignal } from "../net/deadline.js";
import type { ProbeConfig } from "./config.js";
import type { DnsObservation } from "./observation.js";

// The UDP and DoH clients (and dns-packet under them) are loaded when a step first needs them:
// a run through the system resolver alone never does, and loading them cost about 45 ms of CPU
// at every start (docs/development.md, "CPU per target"). Loaded before a step's clock starts.
let udpClient: Promise<typeof import("../net/dns-udp.js")> | null = null;
let dohClient: Promise<typeof import("../net/doh.js")> | null = null;

/** Resolves `hostname` through every configured resolver; one observation each. */
export async function dnsStep(hostname: string, cfg: ProbeConfig, budget: StepSignal): Promise<DnsObservation[]> {
  const jobs: Array<Promise<DnsObservation>> = [];
  if (cfg.systemResolver) jobs.push(systemStep(hostname, cfg, budget));
  for (const server of cfg.resolvers) jobs.push(udpStep(hostname, server, cfg, budget));
  for (const url of cfg.doh ?? []) jobs.push(dohStep(hostname, url, cfg, budget));
  return Promise.all(jobs);
}

async function dohStep(hostname: string, url: string, cfg: ProbeConfig, budget: StepSignal): Promise<DnsObservation> {
  const { dohQuery } = await (dohClient ??= import("../net/doh.js"));
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await dohQuery({ url, name: hostname, qtype: "A", signal: timer.signal });
    return { step: "dns", engine: "doh", resolver: url, hostname, qtype: "A", t0, t: cfg.now(), failure: r.failure, addresses: r.addresses };
  } finally {
    timer.dispose();
  }
}

async function systemStep(hostname: string, cfg: ProbeConfig, budget: StepSignal): Promise<DnsObservation> {
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await systemLookup(hostname, timer.signal);
    return { step: "dns", engine: "system", resolver: "system", hostname, qtype: "ANY", t0, t: cfg.now(), failure: r.failure, addresses: r.addresses };
  } finally {
    timer.dispose();
  }
}

async function udpStep(hostname: string, server: { host: string; port: number }, cfg: ProbeConfig, budget: StepSignal): Promise<DnsObservation> {
  const { udpDnsQuery } = await (udpClient ??= import("../net/dns-udp.js"));
  const t0 = cfg.now();
  const r = await udpDnsQuery({
    server,
    name: hostname,
    qtype: "A",
    timeoutMs: cfg.stepTimeoutMs,
    windowMs: cfg.dnsWindowMs,
    signal: budget,
    now: cfg.now,
  });
  const first = r.responses.find((x) => !x.malformed);
  return {
    step: "dns",
    engine: "udp",
    resolver: joinHostPort(server.host, server.port),
    hostname,
    qtype: "A",
    t0,
    t: cfg.now(),
    failure: r.failure,
    addresses: first?.addresses ?? [],
    responses: r.responses,
  };
}

/** Orders and caps the addresses to connect to: system answers first, then each resolver's, IPv4 before IPv6. */
export function addressesToTry(obs: DnsObservation[], max: number): string[] {
  const ordered: string[] = [];
  const add = (a: string) => {
    if (isIP(a) && !ordered.includes(a)) ordered.push(a);
  };
  for (const o of obs) o.addresses.forEach(add);
  // Later answers to one UDP query (the real resolver's, behind an injector) come last.
  for (const o of obs) for (const r of o.responses ?? []) r.addresses.forEach(add);
  const v4 = ordered.filter((a) => isIP(a) === 4);
  const v6 = ordered.filter((a) => isIP(a) === 6);
  return [...v4, ...v6].slice(0, max);
}

/**
 * The lookup a browser's connection would use: the system resolver's, or, when it is not
 * asked (--no-system-resolver), the first configured resolver's (then the first DoH URL's).
 */
export function browserLookup(obs: readonly DnsObservation[]): DnsObservation | undefined {
  return obs.find((o) => o.engine === "system") ?? obs.find((o) => o.engine === "udp") ?? obs[0];
}

/** The addresses a browser would connect to: only its resolver's first answer, IPv4 before IPv6, capped. */
export function browserAddresses(obs: readonly DnsObservation[], max: number): string[] {
  const first = browserLookup(obs)?.addresses ?? [];
  const valid = [...new Set(first.filter((a) => isIP(a)))];
  return [...valid.filter((a) => isIP(a) === 4), ...valid.filter((a) => isIP(a) === 6)].slice(0, max);
}
