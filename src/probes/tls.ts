/** The TLS step: a handshake with the target's SNI over the socket the TCP step opened. */
import type net from "node:net";
import type tls from "node:tls";
import { tlsHandshake } from "../net/tls.js";
import { startStepTimer, type StepSignal } from "../net/deadline.js";
import type { ProbeConfig } from "./config.js";
import type { TlsObservation } from "./observation.js";
import { BROWSER_ALPN } from "./browser.js";

/**
 * Runs the handshake, offering a browser's ALPN list. On success (handshake done and the
 * certificate valid for serverName) returns the TLS socket for the HTTP step (the caller
 * destroys it); on any failure the socket is destroyed here and `socket` is null. With
 * `requireValid` false (an SNI swap), a completed handshake is a success whatever the
 * certificate: `verified` and `verifyFailure` still say how it validated.
 */
export async function tlsStep(
  socket: net.Socket,
  address: string,
  serverName: string,
  cfg: ProbeConfig,
  budget: StepSignal,
  requireValid = true,
): Promise<{ obs: TlsObservation; socket: tls.TLSSocket | null }> {
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await tlsHandshake(socket, { serverName, alpn: BROWSER_ALPN, signal: timer.signal, ...(cfg.ca ? { ca: cfg.ca } : {}) });
    const obs: TlsObservation = {
      step: "tls",
      address,
      serverName,
      t0,
      t: cfg.now(),
      // A completed handshake hands back its socket; its failure is then the verification's.
      failure: !requireValid && r.socket ? null : r.failure,
      ...(r.version ? { version: r.version } : {}),
      ...(r.alpn !== undefined ? { alpn: r.alpn } : {}),
      ...(r.cipherSuite ? { cipherSuite: r.cipherSuite } : {}),
      certificates: r.certificates,
      verified: r.verified,
      verifyFailure: r.verifyFailure,
    };
    if (obs.failure !== null || !r.socket) {
      r.socket?.destroy();
      socket.destroy();
      return { obs, socket: null };
    }
    return { obs, socket: r.socket };
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    timer.dispose();
  }
}
