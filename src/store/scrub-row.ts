/**
 * Scrubbing a stored row's observations for data that leaves the machine (`merge --scrub`,
 * `push`; docs/fleet.md, "Scrubbing"): observations_json read whole (blobs put back), every
 * address in its HTTP responses scrubbed (src/probes/scrub-observations.ts), and packed again,
 * its values stored through `put` under the keys of their scrubbed bytes.
 */
import { scrubObservations } from "../probes/scrub-observations.js";
import { packObservations, unpackObservations, type GetBlobText, type PutBlob } from "./observation-refs.js";

/**
 * The observations_json text with every address scrubbed, or null when the row quotes none (the
 * row goes as it is). Throws when the text does not parse or refers to a blob `text` cannot
 * read: a row that cannot be read cannot be shown to hold no address.
 */
export function scrubObservationsJson(observationsJson: string, text: GetBlobText, put: PutBlob): string | null {
  const list = unpackObservations(observationsJson, text);
  if (!Array.isArray(list)) throw new Error("observations_json is not a list");
  const clean = scrubObservations(list);
  return clean === list ? null : packObservations(clean, put);
}
