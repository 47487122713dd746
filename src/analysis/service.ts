/** Service summaries: a service (WeChat) groups endpoints, and is blocked when all of them are. */
import type { Status } from "./verdict.js";

/** What a service's endpoints add up to. */
export type ServiceStatus = "blocked" | "partly blocked" | "anomalies" | "ok" | "down" | "inconclusive";

/** One service's summary line. */
export interface ServiceSummary {
  service: string;
  status: ServiceStatus;
  endpoints: number;
  counts: Record<Status, number>;
}

/** Summarises results per service, in order of first appearance. */
export function summarizeServices(results: ReadonlyArray<{ service: string; status: Status }>): ServiceSummary[] {
  const by = new Map<string, Record<Status, number>>();
  for (const r of results) {
    let c = by.get(r.service);
    if (!c) {
      c = { ok: 0, blocked: 0, anomaly: 0, down: 0, inconclusive: 0 };
      by.set(r.service, c);
    }
    c[r.status]++;
  }
  return [...by].map(([service, counts]) => {
    const endpoints = Object.values(counts).reduce((a, b) => a + b, 0);
    return { service, endpoints, counts, status: serviceStatus(counts, endpoints) };
  });
}

function serviceStatus(c: Record<Status, number>, n: number): ServiceStatus {
  if (c.blocked === n) return "blocked";
  if (c.blocked > 0) return "partly blocked";
  if (c.anomaly > 0) return "anomalies";
  if (c.inconclusive === n) return "inconclusive";
  if (c.down === n) return "down";
  // Why: with no endpoint reached (some down, the rest inconclusive) "ok" would claim a service
  // nobody reached works; ok means "reached" (docs/verdicts.md). What is known is that it is down.
  if (c.ok === 0) return "down";
  return "ok";
}
