/** TLS analysis without a control: handshakes failing, or certificates that do not validate, after TCP connected. */
import type { TlsObservation } from "../probes/observation.js";
import type { Finding } from "./context.js";
import { describeFailure } from "./words.js";

/** Analyses the handshakes; null when any succeeded with a valid certificate or none was tried. */
export function analyzeTls(obs: TlsObservation[]): Finding | null {
  if (obs.length === 0 || obs.some((o) => o.failure === null)) return null;
  const evidence = obs.map((o) => {
    const leaf = o.certificates[0];
    const cert = o.verifyFailure && leaf ? ` (certificate subject ${leaf.subject || "empty"}, issuer ${leaf.issuer || "empty"})` : "";
    return `TCP to ${o.address} connected, then the TLS handshake with SNI ${o.serverName} ${describeFailure(o.failure!)}${cert}`;
  });
  return { status: "anomaly", layer: "tls", failure: obs[0]!.failure, evidence };
}
