/**
 * The SNI swap: a TLS handshake that failed after TCP connected is repeated to the same address,
 * on a new connection, with an innocuous SNI (cfg.sniSwap). A server that answers the other
 * name while ours was reset or dropped shows that the name was filtered, with no helper
 * (docs/verdicts.md, "Proof without a helper"). Observations only, tagged `sni_swap`; the
 * certificate is recorded, not required.
 */
import { isIP } from "node:net";
import { joinHostPort } from "../net/addr.js";
import type { ProbeConfig } from "./config.js";
import type { TcpObservation, TlsObservation } from "./observation.js";
import { tcpStep } from "./tcp.js";
import { tlsStep } from "./tls.js";
import type { StepSignal } from "../net/deadline.js";

/**
 * The innocuous name to repeat a failed handshake with, or null when there is no swap: none
 * configured, the handshake succeeded, the name was an IP literal (no SNI was sent), it already
 * was the innocuous name, or the target's budget is spent.
 */
export function sniSwapName(failed: TlsObservation, cfg: Pick<ProbeConfig, "sniSwap">, budget: StepSignal): string | null {
  const name = cfg.sniSwap;
  if (!name || failed.failure === null || budget.aborted) return null;
  if (isIP(failed.serverName) !== 0 || failed.serverName.toLowerCase() === name.toLowerCase()) return null;
  return name;
}

/** Connects to ip:port again and handshakes with `name` as SNI; returns the swap's TCP (and TLS) observations, and leaves no socket open. */
export async function sniSwap(ip: string, port: number, name: string, cfg: ProbeConfig, budget: StepSignal): Promise<Array<TcpObservation | TlsObservation>> {
  const { obs: tcp, socket } = await tcpStep(ip, port, cfg, budget);
  tcp.purpose = "sni_swap";
  if (!socket) return [tcp];
  const tls = await tlsStep(socket, joinHostPort(ip, port), name, cfg, budget, false);
  tls.socket?.destroy();
  tls.obs.purpose = "sni_swap";
  return [tcp, tls.obs];
}
