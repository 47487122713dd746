/** TCP analysis without a control: every connect failing is an anomaly at the tcp layer. */
import type { TcpObservation } from "../probes/observation.js";
import type { Finding } from "./context.js";
import { describeFailure } from "./words.js";

/** Analyses the connects to every address tried; null when any succeeded or none was tried. */
export function analyzeTcp(obs: TcpObservation[]): Finding | null {
  if (obs.length === 0 || obs.some((o) => o.failure === null)) return null;
  const evidence = obs.map((o) => `TCP connect to ${o.address} ${describeFailure(o.failure!)}`);
  return { status: "anomaly", layer: "tcp", failure: obs[0]!.failure, evidence };
}
