/**
 * One target's verdict, in three stages (docs/verdicts.md "How a verdict is decided"): the
 * observations and controls flattened into a table (table.ts), the table compared with the
 * controls into facts (compare.ts), the facts classified into the verdict (classify.ts, the one
 * place that decides). Pure: no I/O.
 */
import type { ControlObservation, Observation } from "../probes/observation.js";
import type { Target } from "../targets/target.js";
import type { AnalysisContext } from "./context.js";
import type { Fact, FactKey } from "./facts.js";
import type { Verdict } from "./verdict.js";
import { flatten, type Table } from "./table.js";
import { compare } from "./compare.js";
import { classify } from "./classify.js";
import { failedAtNetworkLevel as tableFailedAtNetworkLevel } from "./compare-conn.js";
import { compareHops } from "./compare-http.js";
import type { Failure } from "../net/failures.js";

/** Every stage's result for one target: what the golden fixtures record and `show` can explain. */
export interface Analysis {
  table: Table;
  facts: Fact[];
  verdict: Verdict;
  /** The fact that decided the verdict; null for `ok`. */
  decidedBy: FactKey | null;
}

/** Runs the three stages on one target. */
export function explainTarget(target: Target, obs: readonly Observation[], ctx: AnalysisContext, control?: ControlObservation | null): Analysis {
  const table = flatten(target, obs, control);
  const facts = compare(table, ctx);
  const { verdict, decidedBy } = classify(facts);
  return { table, facts, verdict, decidedBy };
}

/** Decides the verdict of one target. */
export function analyzeTarget(target: Target, obs: readonly Observation[], ctx: AnalysisContext, control?: ControlObservation | null): Verdict {
  return explainTarget(target, obs, ctx, control).verdict;
}

/** True when the target never got past the network: no address at all, or no connect succeeded (the canary's test). */
export function failedAtNetworkLevel(target: Pick<Target, "input" | "host" | "isIp" | "scheme">, obs: readonly Observation[]): boolean {
  return tableFailedAtNetworkLevel(flatten(target, obs));
}

/** The failure of the redirect hop that stopped before its request (DNS, TCP or TLS), or null. */
export function stoppedHopFailure(obs: readonly Observation[]): Failure | null {
  // Redirect hops carry their own host names: the target's fields play no part here.
  return compareHops(flatten({ input: "", host: "", isIp: false, scheme: "https" }, obs))[0]?.failure ?? null;
}
