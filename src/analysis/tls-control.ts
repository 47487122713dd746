/** TLS analysis with the control helper: a handshake that fails, or a certificate that only the probe sees. */
import type { TlsObservation } from "../probes/observation.js";
import type { Finding } from "./context.js";
import type { ControlView } from "./control-view.js";
import { describeFailure } from "./words.js";

/** Decides the TLS layer with the helper's handshakes; undefined when the helper did not try these endpoints. */
export function analyzeTlsWithControl(obs: TlsObservation[], view: ControlView): Finding | null | undefined {
  if (obs.length === 0 || obs.some((o) => o.failure === null)) return null;
  const tried = obs.filter((o) => view.tls.has(o.address));
  if (tried.length === 0) return undefined;
  const blocked = tried.find((o) => view.tls.get(o.address)!.status);
  if (blocked) {
    const leaf = blocked.certificates[0];
    const what = blocked.verifyFailure
      ? `the probe got a certificate that only it sees (subject ${leaf?.subject || "empty"}, issuer ${leaf?.issuer || "empty"}: ${blocked.failure}), while the control helper's handshake validated`
      : `the TLS handshake with SNI ${blocked.serverName} ${describeFailure(blocked.failure!)} here, but the control helper's handshake succeeded`;
    return { status: "blocked", layer: "tls", failure: blocked.failure, evidence: [`${blocked.address}: ${what}`] };
  }
  if (tried.length < obs.length) return undefined;
  const c = view.tls.get(tried[0]!.address)!;
  return {
    status: "down",
    layer: "tls",
    failure: tried[0]!.failure,
    evidence: [`the TLS handshake with ${tried[0]!.address} ${describeFailure(tried[0]!.failure!)}, and the control helper's failed too (${c.failure ?? "failed"})`],
  };
}
