/** The TLS step: a handshake with the target's SNI over the socket the TCP step opened. */
import type net from "node:net";
import { tlsHandshake } from "../net/tls.js";
import { startStepTimer } from "../net/deadline.js";
import type { ProbeConfig } from "./config.js";
import type { TlsObservation } from "./observation.js";

/** Runs the handshake and always destroys the socket afterwards. */
export async function tlsStep(socket: net.Socket, address: string, serverName: string, cfg: ProbeConfig, budget: AbortSignal): Promise<TlsObservation> {
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await tlsHandshake(socket, { serverName, signal: timer.signal });
    r.socket?.destroy();
    return {
      step: "tls",
      address,
      serverName,
      t0,
      t: cfg.now(),
      failure: r.failure,
      ...(r.version ? { version: r.version } : {}),
      ...(r.alpn !== undefined ? { alpn: r.alpn } : {}),
      certificates: r.certificates,
      verified: r.verified,
      verifyFailure: r.verifyFailure,
    };
  } finally {
    timer.dispose();
    socket.destroy();
  }
}
