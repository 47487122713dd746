/** Service summaries: a service (WeChat) groups endpoints; what they add up to is decided in classify.ts. */
import type { Status } from "./verdict.js";
import { serviceStatus, type ServiceStatus } from "./classify.js";

export type { ServiceStatus };

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
