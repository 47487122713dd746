/**
 * Schema version 3's marking of body samples stored as text before samples were kept as bytes
 * (docs/database.md, "Body samples and other blobs"): a row's HTTP observations whose sample may
 * have lost bytes to U+FFFD (textSampleMayBeLossy) get `bodySampleLossy: true`, so that the
 * export and readers never present them as the bytes received. Used by the migration and by a
 * merge of a file written before version 3.
 */
import { textSampleMayBeLossy } from "../probes/body-sample.js";
import type { HttpObservation } from "../probes/observation.js";
import { unpackObservations, type GetBlobText } from "./observation-refs.js";

/**
 * The observations_json text with the lossy samples marked, or null when there is none (or the
 * text does not parse: readers report it as before). `text` reads the blobs it refers to.
 */
export function markLossySamples(observationsJson: string, text: GetBlobText): string | null {
  let packed: unknown;
  try {
    packed = JSON.parse(observationsJson);
  } catch {
    return null;
  }
  if (!Array.isArray(packed) || !packed.some((o) => (o as { step?: unknown } | null)?.step === "http")) return null;
  const full = unpackObservations(observationsJson, text);
  let changed = false;
  full.forEach((o, i) => {
    if (o.step !== "http" || o.bodySampleLossy === true || !textSampleMayBeLossy(o)) return;
    (packed as Array<Partial<HttpObservation>>)[i]!.bodySampleLossy = true;
    changed = true;
  });
  return changed ? JSON.stringify(packed) : null;
}
