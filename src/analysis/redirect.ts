/**
 * Redirect hops analysed at the layer where they failed: a redirect target that does not
 * resolve through the browser's resolver is a DNS failure, one whose connects all fail a TCP
 * failure, one whose handshakes fail a TLS failure. (A hop whose request fails is the HTTP
 * analysis's.) The control helper follows the same redirects: where it got to the end, the
 * hop is blocked; where it failed too, the site is down. Pure: built from records, no I/O.
 */
import type { DnsObservation, Observation, TcpObservation, TlsObservation } from "../probes/observation.js";
import type { Failure } from "../net/failures.js";
import type { Finding } from "./context.js";
import type { ControlView } from "./control-view.js";
import { describeFailure } from "./words.js";

/** The redirect hop that could not be connected to, at the step that failed. */
export interface HopFailure {
  hop: number;
  /** The redirect target's host, lower case. */
  host: string;
  layer: "dns" | "tcp" | "tls";
  failure: Failure;
  /** What happened, in plain words (no control involved). */
  what: string;
}

/**
 * Finds the redirect hop whose DNS, TCP or TLS step stopped the chain; null when every hop that
 * was tried got its request sent (or the data predate per-hop steps, which carry no `hop` on them).
 */
export function failedHop(obs: readonly Observation[]): HopFailure | null {
  obs = obs.filter((o) => o.step === "dns" || !o.purpose);
  const sent = new Set(obs.filter((o) => o.step === "http").map((o) => o.hop));
  const tagged = new Set<number>();
  for (const o of obs) if (o.step !== "http" && o.hop !== undefined && o.hop > 0) tagged.add(o.hop);
  for (const hop of [...tagged].sort((a, b) => a - b)) {
    if (sent.has(hop)) continue;
    const at = obs.filter((o) => o.step !== "http" && o.hop === hop);
    const tcp = at.filter((o): o is TcpObservation => o.step === "tcp");
    const tls = at.filter((o): o is TlsObservation => o.step === "tls");
    const dns = at.filter((o): o is DnsObservation => o.step === "dns");
    if (tcp.length > 0) {
      const host = tls[0]?.serverName ?? dns[0]?.hostname ?? hostOfAddress(tcp[0]!.address);
      if (tcp.every((o) => o.failure !== null)) {
        const what = tcp.map((o) => `TCP connect to ${o.address} ${describeFailure(o.failure!)}`).join("; ");
        return { hop, host: host.toLowerCase(), layer: "tcp", failure: tcp[0]!.failure!, what: `the redirect to ${host} stopped: ${what}` };
      }
      const failedTls = tls.filter((o) => o.failure !== null);
      if (tls.length > 0 && failedTls.length === tls.length) {
        const what = failedTls.map((o) => `the TLS handshake with ${o.address} (SNI ${o.serverName}) ${describeFailure(o.failure!)}`).join("; ");
        return { hop, host: host.toLowerCase(), layer: "tls", failure: failedTls[0]!.failure!, what: `the redirect to ${host} stopped: ${what}` };
      }
      continue;
    }
    // The browser's resolver: the system one, or the first configured (as the probe chose it).
    const lookup = dns.find((o) => o.engine === "system") ?? dns.find((o) => o.engine === "udp") ?? dns[0];
    if (lookup && lookup.addresses.length === 0) {
      const failure = lookup.failure ?? "dns_no_answer";
      const resolver = lookup.engine === "system" ? "the system resolver" : `the resolver ${lookup.resolver}`;
      const others = dns.filter((o) => o !== lookup && o.addresses.length > 0).map((o) => `${o.resolver} answered ${o.addresses.join(", ")}`);
      const also = others.length > 0 ? ` (${others.join("; ")})` : "";
      return {
        hop,
        host: lookup.hostname.toLowerCase(),
        layer: "dns",
        failure,
        what: `the redirect to ${lookup.hostname} stopped: the lookup through ${resolver} ${describeFailure(failure)}${also}`,
      };
    }
  }
  return null;
}

function hostOfAddress(endpoint: string): string {
  return endpoint.startsWith("[") ? endpoint.slice(1, endpoint.indexOf("]")) : endpoint.slice(0, endpoint.lastIndexOf(":"));
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return "";
  }
}

/** Decides a failed redirect hop with the control helper's fetch where it has one; null when no hop failed. */
export function analyzeRedirectHop(obs: readonly Observation[], view: ControlView): Finding | null {
  const f = failedHop(obs);
  if (!f) return null;
  const c = view.http;
  if (!c) return { status: "anomaly", layer: f.layer, failure: f.failure, evidence: [f.what] };
  if (c.failure !== null) {
    return { status: "down", layer: f.layer, failure: f.failure, evidence: [`${f.what}, and the control's fetch failed too (${c.failure}${c.x_note ? `: ${c.x_note}` : ""})`] };
  }
  const chain = c.x_urls ?? [];
  if (chain.length > 0 && !chain.some((u) => hostOf(u) === f.host)) {
    // The control was never sent there: the redirect itself is what differs.
    return {
      status: "blocked",
      layer: "http",
      failure: null,
      evidence: [`the probe was redirected to ${f.host}, where the control never went (its chain: ${chain.join(" -> ")})`, f.what],
    };
  }
  const saw = `HTTP ${c.status_code}, ${c.body_length} bytes${c.title ? `, "${c.title}"` : ""}`;
  return { status: "blocked", layer: f.layer, failure: f.failure, evidence: [`${f.what} here, but the control followed the redirect and fetched it (${saw})`] };
}
