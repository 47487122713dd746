/**
 * What counts as a change of state for `reachprobe changes` (docs/commands.md, "What is a
 * change"): a pure fold over one target's measurements on one network, oldest first.
 *
 * - A measurement that could not measure (`inconclusive`: the local network was down) is no
 *   state at all: it is skipped, and the next one is compared with the one before it.
 * - A measurement made without a control helper's answer cannot confirm blocking, so it says
 *   `anomaly` where a run with the helper said `blocked`. Between a measurement with a helper
 *   answer and one without, `blocked` and `anomaly` are the same state (in either direction, at
 *   any layer): no change is reported, and the state keeps the helper's verdict.
 * - Anything else that differs in status or layer from the state is a change.
 */
import type { Layer, Status } from "../analysis/verdict.js";

/** One measurement as the fold reads it. */
export interface ChangePoint {
  status: Status;
  layer: Layer | null;
  /** True when a control helper answered for this measurement. */
  controlled: boolean;
}

const SUSPECT: ReadonlySet<Status> = new Set(["blocked", "anomaly"]);

/** What to do with `next` given the current state: `skip` (keep the state), `adopt` (becomes the state, no change), `change`. */
export function judge(state: ChangePoint | null, next: ChangePoint): "skip" | "adopt" | "change" {
  if (next.status === "inconclusive") return "skip";
  if (state === null) return "adopt";
  if (state.controlled !== next.controlled && SUSPECT.has(state.status) && SUSPECT.has(next.status)) {
    // The helper's verdict is the stronger evidence: it stays, or replaces the helper-less one.
    return next.controlled ? "adopt" : "skip";
  }
  if (state.status !== next.status || state.layer !== next.layer) return "change";
  return "adopt";
}
