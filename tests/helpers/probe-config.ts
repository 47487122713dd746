/** The probe configuration of tests that call the pipeline directly, against loopback servers only. */
import { DEFAULT_PROBE_CONFIG, type ProbeConfig } from "../../src/probes/config.js";

/** Only the test's own UDP resolver (no system resolver), no DNS window, the test CA, times from now. */
export function loopbackProbeConfig(resolverPort: number, ca: string, over: Partial<ProbeConfig> = {}): ProbeConfig {
  const t0 = performance.now();
  return {
    ...DEFAULT_PROBE_CONFIG,
    stepTimeoutMs: 2000,
    targetBudgetMs: 8000,
    systemResolver: false,
    resolvers: [{ host: "127.0.0.1", port: resolverPort }],
    dnsWindowMs: 0,
    ca,
    now: () => Math.round(performance.now() - t0),
    ...over,
  };
}
