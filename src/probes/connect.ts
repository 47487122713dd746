/**
 * Connecting as a browser does: TCP (then TLS, for https) to each address at once, keeping
 * the connection of the first address, in the given order, whose steps all succeeded; every
 * other socket is closed. The kept connection carries the HTTP request. A handshake that failed
 * is repeated with an innocuous SNI when cfg.sniSwap is set (sni-swap.ts).
 */
import type net from "node:net";
import { joinHostPort } from "../net/addr.js";
import type { ProbeConfig } from "./config.js";
import type { TcpObservation, TlsObservation } from "./observation.js";
import { tcpStep } from "./tcp.js";
import { tlsStep } from "./tls.js";
import { sniSwap, sniSwapName } from "./sni-swap.js";
import type { StepSignal } from "../net/deadline.js";

/** An open connection to one address, ready for HTTP; its owner destroys `socket`. */
export interface Connection {
  socket: net.Socket;
  ip: string;
  port: number;
  /** The ALPN the TLS handshake negotiated; null for plain TCP or when none was. */
  alpn: string | null;
}

/** What to connect to. */
export interface ConnectPlan {
  addresses: readonly string[];
  port: number;
  /** SNI and certificate name; null for a plain TCP connection. */
  serverName: string | null;
  /** The redirect hop, tagged on the observations when above 0. */
  hop: number;
}

/** What connecting produced: every step's observation, in address order, and the kept connection. */
export interface ConnectOutcome {
  observations: Array<TcpObservation | TlsObservation>;
  connection: Connection | null;
}

interface Attempt {
  steps: Array<TcpObservation | TlsObservation>;
  socket: net.Socket | null;
  alpn: string | null;
}

/** Connects to every address at once; never throws for network failures and leaves no socket open but the kept one. */
export async function connectFirst(plan: ConnectPlan, cfg: ProbeConfig, budget: StepSignal): Promise<ConnectOutcome> {
  const attempts = await Promise.all(plan.addresses.map((ip) => attempt(ip, plan, cfg, budget)));
  let connection: Connection | null = null;
  const observations: Array<TcpObservation | TlsObservation> = [];
  for (const [i, a] of attempts.entries()) {
    observations.push(...a.steps);
    if (!a.socket) continue;
    if (connection === null && !budget.aborted) connection = { socket: a.socket, ip: plan.addresses[i]!, port: plan.port, alpn: a.alpn };
    else a.socket.destroy();
  }
  if (plan.hop > 0) for (const o of observations) o.hop = plan.hop;
  return { observations, connection };
}

async function attempt(ip: string, plan: ConnectPlan, cfg: ProbeConfig, budget: StepSignal): Promise<Attempt> {
  const { obs, socket } = await tcpStep(ip, plan.port, cfg, budget);
  if (!socket) return { steps: [obs], socket: null, alpn: null };
  if (plan.serverName === null) return { steps: [obs], socket, alpn: null };
  const tls = await tlsStep(socket, joinHostPort(ip, plan.port), plan.serverName, cfg, budget);
  // A handshake that failed after TCP connected is repeated with an innocuous SNI (sni-swap.ts).
  const swapName = tls.socket ? null : sniSwapName(tls.obs, cfg, budget);
  const swap = swapName ? await sniSwap(ip, plan.port, swapName, cfg, budget) : [];
  return { steps: [obs, tls.obs, ...swap], socket: tls.socket, alpn: tls.obs.alpn ?? null };
}
