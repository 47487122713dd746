/** The TCP step: one connect to one address, timed. */
import type net from "node:net";
import { tcpConnect } from "../net/tcp.js";
import { joinHostPort } from "../net/addr.js";
import { startStepTimer, type StepSignal } from "../net/deadline.js";
import type { ProbeConfig } from "./config.js";
import type { TcpObservation } from "./observation.js";

/** Connects to ip:port; returns the observation and, on success, the socket (the caller closes it). */
export async function tcpStep(ip: string, port: number, cfg: ProbeConfig, budget: StepSignal): Promise<{ obs: TcpObservation; socket: net.Socket | null }> {
  const t0 = cfg.now();
  const timer = startStepTimer(cfg.stepTimeoutMs, budget);
  try {
    const r = await tcpConnect(ip, port, timer.signal);
    return { obs: { step: "tcp", address: joinHostPort(ip, port), t0, t: cfg.now(), failure: r.failure }, socket: r.socket };
  } finally {
    timer.dispose();
  }
}
