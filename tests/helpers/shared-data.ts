/**
 * The real data files that may sit beside the checkout in `../shared/data/` (the Citizen Lab
 * lists, OONI's blocking fingerprints). A clean clone has no such folder: tests of the real
 * files then skip, with the reason in their suite name so that `npm test` lists it at the end
 * (tests/helpers/summary-reporter.ts), and the project's own samples (`tests/samples/`) keep
 * every format covered.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { skipTag } from "./skip.js";

/** Where the shared data would be: `../shared/data/` beside the repository. */
export const SHARED_DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));

/** The project's own sample files, one folder a format. */
export const SAMPLES = fileURLToPath(new URL("../samples/", import.meta.url));

/** The path of `rel` under ../shared/data, or null when it is not there. */
export function sharedData(rel: string): string | null {
  const path = SHARED_DATA + rel;
  return existsSync(path) ? path : null;
}

/** The name suffix of a suite of the real files: says why it skips, when it does. */
export function sharedTag(present: unknown): string {
  return skipTag(present ? null : `../shared/data is not beside the checkout (${SHARED_DATA})`);
}
