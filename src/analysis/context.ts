/** What the analysis knows beyond a target's own observations. */
import type { Cidr } from "../net/bogons.js";
import type { Fingerprint } from "./fingerprints.js";

/** Run-wide facts the per-target analysis takes into account. */
export interface AnalysisContext {
  /** Ranges that count as public internet even though they are bogons (the lab). */
  publicRanges: readonly Cidr[];
  fingerprints: readonly Fingerprint[];
  /** The ASN of an address (from --asn-db), when a database was given: answers in a control's ASN are consistent. */
  asnOf?: (ip: string) => number | null;
  /** Set when the canary failed at the network level: the local network may be down. */
  networkDown: { canary: string; reason: string } | null;
}
