/** TCP analysis with the control helper: the probe fails where the control connects to the same endpoint. */
import type { TcpObservation } from "../probes/observation.js";
import type { Finding } from "./context.js";
import type { ControlView } from "./control-view.js";
import { describeFailure } from "./words.js";

/** Decides the TCP layer with the helper's connects; undefined when the helper did not try these endpoints. */
export function analyzeTcpWithControl(obs: TcpObservation[], view: ControlView): Finding | null | undefined {
  if (obs.length === 0 || obs.some((o) => o.failure === null)) return null;
  const tried = obs.filter((o) => view.tcp.has(o.address));
  if (tried.length === 0) return undefined;
  const blocked = tried.find((o) => view.tcp.get(o.address)!.status);
  if (blocked) {
    return {
      status: "blocked",
      layer: "tcp",
      failure: blocked.failure,
      evidence: [`TCP connect to ${blocked.address} ${describeFailure(blocked.failure!)} here, but the control helper connected to it`],
    };
  }
  if (tried.length < obs.length) return undefined;
  const c = view.tcp.get(tried[0]!.address)!;
  return {
    status: "down",
    layer: "tcp",
    failure: tried[0]!.failure,
    evidence: [`TCP connect to ${tried[0]!.address} ${describeFailure(tried[0]!.failure!)}, and the control helper failed too (${c.failure ?? "failed"}): the server is down`],
  };
}
