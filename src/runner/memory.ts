/** Keeping a long run's memory low: a full garbage collection once the plan is loaded, and every so many results. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Runs one full garbage collection now.
 * QUIRK: V8 lets the old generation grow to about four times what was live at its last full
 * collection. Loading 100,000 targets left that last collection at ~57 MB live, so the run's
 * garbage grew to ~240 MB before the next one (312 MB RSS), although only ~25 MB stay live; the
 * human report's lines (some 40 MB for 100,000 targets) let it grow to 360 MB RSS.
 * Node exposes gc() only under --expose-gc; setting that flag at run time and fetching gc from
 * a new context is the documented V8 way to get it without a command-line flag.
 */
export function collectGarbage(): void {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    setFlagsFromString("--no-expose-gc");
    gc();
  } catch {
    // A runtime without it just keeps more garbage for a while.
  }
}
