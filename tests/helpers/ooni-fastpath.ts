/**
 * The rules by which OONI's fastpath (ooni/backend, fastpath/core.py) drops or flags a
 * web_connectivity or tcp_connect measurement, restated from docs/ooni-pipeline.md, so that tests can check
 * what OONI's pipeline would make of reachprobe's export. Fingerprint matching ("confirmed") is
 * left out: it needs OONI's fingerprint list.
 */

/** A measurement as the export writes it (only what the rules read). */
export interface FastpathInput {
  report_id?: string | null;
  probe_cc?: string;
  probe_asn?: string;
  test_keys?: object | null;
}

/** Why the fastpath drops a measurement before scoring it, or null when it keeps it. */
export function fastpathDiscard(m: FastpathInput): string | null {
  if (m.report_id === undefined || m.report_id === null) return "no report_id";
  if ((m.probe_cc ?? "").toUpperCase() === "ZZ") return "probe_cc is ZZ";
  if ((m.probe_asn ?? "").toUpperCase() === "AS0") return "probe_asn is AS0";
  return null;
}

const BLOCKING_TYPES = new Set(["tcp_ip", "dns", "http-diff", "http-failure"]);

/** The flags the fastpath stores for a kept measurement: anomaly and failure. */
export function fastpathScore(m: FastpathInput & { test_name?: string }): { anomaly: boolean; failure: boolean } {
  const tk = m.test_keys as Record<string, unknown> | null | undefined;
  // score_tcp_connect (ts-008): only `connection` counts; anything but "success" is an anomaly
  // (0.8 for a few of Measurement Kit's words, 1.0 for the rest), and nothing makes it a failure.
  if (m.test_name === "tcp_connect") return { anomaly: (tk as { connection?: unknown } | null | undefined)?.connection !== "success", failure: false };
  if (!tk) return { anomaly: false, failure: true };
  let blockingGeneral = 0;
  let accuracy = 1;
  const blocking = tk.blocking;
  if (typeof blocking === "string" && BLOCKING_TYPES.has(blocking)) blockingGeneral = 1;
  else if (blocking === null || blocking === undefined) accuracy = 0;
  else if (blocking !== false) accuracy = 0;
  // Any key ending in _failure whose value starts with unknown_failure makes the measurement failed.
  for (const [k, v] of Object.entries(tk)) {
    if (k.endsWith("_failure") && typeof v === "string" && v.startsWith("unknown_failure")) accuracy = 0;
  }
  if ("accessible" in tk && tk.accessible === null) accuracy = 0;
  return { anomaly: blockingGeneral > 0.5, failure: accuracy < 0.5 };
}
