/**
 * Scrubbing a stored row for data that leaves the machine (`merge --scrub`, `push`;
 * docs/fleet.md, "Scrubbing"): observations_json read whole (blobs put back), every address in
 * its HTTP responses scrubbed (src/probes/scrub-observations.ts) and packed again, its values
 * stored through `put` under the keys of their scrubbed bytes; the titles its evidence quotes
 * scrubbed the same way.
 */
import { scrubObservations, scrubQuotedTitles } from "../probes/scrub-observations.js";
import { packObservations, unpackObservations, type GetBlobText, type PutBlob } from "./observation-refs.js";

/**
 * A stored row's observations_json and evidence_json scrubbed (the evidence quotes titles,
 * scrubQuotedTitles), or null when the row quotes no address (it goes as it is). Throws when a
 * column does not parse or refers to a blob `text` cannot read: a row that cannot be read
 * cannot be shown to hold no address.
 */
export function scrubRowJson(row: { observationsJson: string; evidenceJson: string }, text: GetBlobText, put: PutBlob): { observationsJson: string; evidenceJson: string } | null {
  const list = unpackObservations(row.observationsJson, text);
  if (!Array.isArray(list)) throw new Error("observations_json is not a list");
  const clean = scrubObservations(list);
  if (clean === list) return null;
  let evidenceJson = row.evidenceJson;
  const evidence = JSON.parse(row.evidenceJson) as unknown;
  if (Array.isArray(evidence) && evidence.every((e) => typeof e === "string")) {
    const scrubbed = scrubQuotedTitles(evidence as string[], list);
    if (scrubbed !== evidence) evidenceJson = JSON.stringify(scrubbed);
  }
  return { observationsJson: packObservations(clean, put), evidenceJson };
}
