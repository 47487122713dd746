/**
 * Stage 2 for connections: the target's TCP connects and TLS handshakes compared with the
 * helper's on the same endpoints (joined in table.ts), and with the SNI swap, into facts.
 * Pure: no I/O.
 */
import type { Failure } from "../net/failures.js";
import type { ConnRow, Table } from "./table.js";
import { fact, type Fact } from "./facts.js";

/** Failures that mean this machine has no way out, not that anyone dropped anything. */
const NO_ROUTE: ReadonlySet<string> = new Set(["network_unreachable", "network_down"]);

/** Certificate failures: the server answered the handshake, with a certificate that did not validate. */
export function isCertificateFailure(f: Failure | null): boolean {
  return f === "ssl_invalid_hostname" || f === "ssl_unknown_authority" || f === "ssl_invalid_certificate";
}

/** The target's own connections of one hop, in order. */
function measured(table: Table, hop: number): ConnRow[] {
  return table.conns.filter((c) => c.hop === hop && c.purpose === "measure");
}

/**
 * The connections a browser would have made: to the addresses of its resolver (the system one,
 * or the first configured), when the probe connected to any of them. The probe also connects to
 * other resolvers' addresses; one of those working does not excuse the browser's failing.
 */
function browserConns(table: Table, conns: ConnRow[]): ConnRow[] {
  const own = table.dns.filter((r) => r.hop === 0 && r.role === "probe" && r.host === table.target.host);
  const lookup = own.find((r) => r.engine === "system") ?? own.find((r) => r.engine === "udp");
  if (!lookup || lookup.addresses.length === 0) return conns;
  const mine = conns.filter((c) => lookup.addresses.includes(c.ip));
  return mine.length > 0 ? mine : conns;
}

/** Compares the TCP connects of the target's own connections (hop 0), as a browser made them. */
export function compareTcp(table: Table): Fact[] {
  const all = measured(table, 0);
  const conns = browserConns(table, all);
  if (conns.length === 0 || conns.some((c) => c.tcpFailure === null)) return [];
  const ids = conns.map((c) => c.id);
  const tries = conns.map((c) => `${c.endpoint}|${c.tcpFailure}`).join("\n");
  const out: Fact[] = [];
  // The local network is down only when no address at all could be reached (a bogon has no route either).
  if (all.every((c) => c.tcpFailure !== null && NO_ROUTE.has(c.tcpFailure))) out.push(fact("tcp_no_route", "tcp", conns[0]!.tcpFailure, ids, { tries }));
  const tried = conns.filter((c) => c.control?.tcp);
  const blocked = tried.find((c) => c.control!.tcp!.ok);
  if (blocked) {
    out.push(fact("tcp_failed_probe_only", "tcp", blocked.tcpFailure, [blocked.id], { endpoint: blocked.endpoint }));
  } else if (tried.length > 0 && tried.length === conns.length) {
    const c = tried[0]!;
    out.push(fact("tcp_failed_everywhere", "tcp", c.tcpFailure, [c.id], { endpoint: c.endpoint, controlFailure: c.control!.tcp!.failure ?? "failed" }));
  } else {
    out.push(fact("tcp_failed_unconfirmed", "tcp", conns[0]!.tcpFailure, ids, { tries }));
  }
  return out;
}

/** The SNI swap of a failed handshake: the same address answering an innocuous name; null when there is none. */
function swapAnswered(table: Table, failed: ConnRow): ConnRow | null {
  const swap = table.conns.find((c) => c.hop === failed.hop && c.purpose === "sni_swap" && c.ip === failed.ip && c.port === failed.port && c.tcpFailure === null && c.tls);
  if (!swap?.tls) return null;
  // The swap is not validated: a certificate for another name is still an answer.
  return swap.tls.failure === null || isCertificateFailure(swap.tls.failure) ? swap : null;
}

/** Describes a failed handshake's certificate for evidence, when it got one. */
function certificate(c: ConnRow): Record<string, string> {
  const leaf = c.tls?.certificates[0];
  return leaf ? { subject: leaf.subject || "empty", issuer: leaf.issuer || "empty" } : {};
}

/**
 * Compares the TLS handshakes of one hop's connections: with the helper on hop 0, and with the
 * SNI swap where the helper did not try (a swap answered while our name failed proves an SNI
 * filter; a certificate the probe alone sees is interception, which no swap can tell).
 */
export function compareTls(table: Table, hop = 0): Fact[] {
  const all = measured(table, hop);
  const conns = (hop === 0 ? browserConns(table, all) : all).filter((c) => c.tls !== null);
  if (conns.length === 0 || conns.some((c) => c.tls!.failure === null)) return [];
  const tried = hop === 0 ? conns.filter((c) => c.control?.tls) : [];
  const blocked = tried.find((c) => c.control!.tls!.ok);
  if (blocked) {
    const t = blocked.tls!;
    return [fact("tls_failed_probe_only", "tls", t.failure, [blocked.id], { endpoint: blocked.endpoint, sni: t.serverName, certificateOnly: t.verifyFailure ? "yes" : "", ...certificate(blocked) })];
  }
  if (tried.length > 0 && tried.length === conns.length) {
    const c = tried[0]!;
    return [fact("tls_failed_everywhere", "tls", c.tls!.failure, [c.id], { endpoint: c.endpoint, controlFailure: c.control!.tls!.failure ?? "failed" })];
  }
  for (const c of conns) {
    if (isCertificateFailure(c.tls!.failure)) continue;
    const swap = swapAnswered(table, c);
    if (swap) return [fact("tls_sni_swap_answered", "tls", c.tls!.failure, [c.id, swap.id], { endpoint: c.endpoint, sni: c.tls!.serverName, swapSni: swap.tls!.serverName }, hop)];
  }
  if (hop !== 0) return [];
  const tries = conns.map((c) => [c.endpoint, c.tls!.serverName, c.tls!.failure, c.tls!.verifyFailure ? `${certificate(c).subject}|${certificate(c).issuer}` : ""].join("|")).join("\n");
  return [fact("tls_failed_unconfirmed", "tls", conns[0]!.tls!.failure, conns.map((c) => c.id), { tries })];
}

/** True when the target never got past the network: no address at all, or no connect succeeded. */
export function failedAtNetworkLevel(table: Table): boolean {
  const dns = table.dns.filter((r) => r.hop === 0 && r.host === table.target.host && r.engine !== "helper");
  if (!table.target.isIp && dns.length > 0 && dns.every((r) => r.failure !== null)) return true;
  const conns = measured(table, 0);
  return conns.length > 0 && conns.every((c) => c.tcpFailure !== null);
}
