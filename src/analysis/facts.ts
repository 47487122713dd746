/**
 * Stage 2's output (docs/verdicts.md "How a verdict is decided"): named facts, each what the
 * comparison of the table with the controls established, with the rows it rests on. Facts say
 * what was seen, never what it means: classify.ts alone turns them into a verdict.
 */
import type { Failure } from "../net/failures.js";
import type { Step } from "../probes/observation.js";

/** Every fact the comparison can establish (docs/verdicts.md lists them with their verdicts). */
export const FACT_KEYS = [
  // DNS: the probe's lookups (system resolver, --resolver) against the controls (DoH, the helper).
  "dns_bogon_probe_only",
  "dns_bogon_to_blockpage",
  "dns_blockpage_address",
  "dns_two_answers",
  "dns_failed_probe_only",
  "dns_probe_only_addresses",
  "dns_probe_only_addresses_worked",
  "dns_probe_only_addresses_site_answered",
  "dns_address_swap_differs",
  "dns_no_address_anywhere",
  "dns_bogon_everywhere",
  "dns_unreachable_everywhere",
  "dns_bogon_unconfirmed",
  "dns_failed_unconfirmed",
  // TCP and TLS: the target's connections against the helper's on the same endpoints, and the SNI swap.
  "tcp_failed_probe_only",
  "tcp_failed_everywhere",
  "tcp_no_route",
  "tcp_failed_unconfirmed",
  "tls_failed_probe_only",
  "tls_sni_swap_answered",
  "tls_failed_everywhere",
  "tls_failed_unconfirmed",
  // HTTP: signatures, the helper's fetch, and the Host swap.
  "http_blockpage",
  "http_status_451",
  "http_failed_probe_only",
  "http_host_swap_answered",
  "http_redirect_elsewhere",
  "http_response_differs",
  "http_differs_over_validated_tls",
  "http_page_uncompared",
  "http_failed_everywhere",
  "http_failed_unconfirmed",
  // Redirect hops that stopped before their request: at the step that failed.
  "hop_failed_probe_only",
  "hop_dns_failed_probe_only",
  "hop_redirect_elsewhere",
  "hop_failed_everywhere",
  "hop_failed_unconfirmed",
  // About the run rather than the target.
  "canary_failed",
  "not_measured",
  "nothing_ran",
  "helper_unusable",
] as const;

/** A fact's name. */
export type FactKey = (typeof FACT_KEYS)[number];

/** One fact about one target. */
export interface Fact {
  key: FactKey;
  /** The step it is about (a redirect hop's failed step for hop_* facts); null for facts about the run. */
  layer: Step | null;
  /** 0 for the target's own steps, n for the n-th redirect. */
  hop: number;
  /** The probe's failure the fact rests on, when there is one. */
  failure: Failure | null;
  /** The table rows it rests on (ids from table.ts). */
  rows: string[];
  /** What the evidence sentence needs, as plain values. */
  detail: Readonly<Record<string, string>>;
}

/** Builds a fact; `detail` values are kept as given. */
export function fact(key: FactKey, layer: Step | null, failure: Failure | null, rows: string[], detail: Record<string, string> = {}, hop = 0): Fact {
  return { key, layer, hop, failure, rows, detail };
}
