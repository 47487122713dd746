/** The verdict vocabulary (docs/design.md, docs/verdicts.md): one verdict per target, one summary per service. */
import type { Failure } from "../net/failures.js";
import type { Step } from "../probes/observation.js";

/** What reachprobe concludes about a target. */
export type Status = "ok" | "blocked" | "anomaly" | "down" | "inconclusive";

/** Where interference happened; only set when status is blocked or anomaly. */
export type Layer = Step;

/** One target's verdict, with the evidence in plain words. */
export interface Verdict {
  status: Status;
  layer: Layer | null;
  failure: Failure | null;
  evidence: string[];
}
