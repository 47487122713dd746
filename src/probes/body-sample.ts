/**
 * The body sample of an HTTP observation kept byte for byte in JSON: the text itself when the
 * bytes are valid UTF-8, otherwise their base64 with `bodySampleEncoding: "base64"`
 * (docs/database.md, "Body samples and other blobs"). Readers that want text (fingerprints,
 * titles) get the UTF-8 view, as before; the export and the store get the exact bytes.
 */
import { Buffer, isUtf8 } from "node:buffer";

/** The observation fields that hold a body sample. */
export interface BodySampleFields {
  /** The sample's text, or its base64 when bodySampleEncoding is "base64". */
  bodySample?: string;
  /** Set when the sample's bytes are not valid UTF-8: bodySample is then their base64. */
  bodySampleEncoding?: "base64";
}

/** The fields that hold `bytes` exactly. */
export function encodeBodySample(bytes: Buffer): { bodySample: string; bodySampleEncoding?: "base64" } {
  return isUtf8(bytes) ? { bodySample: bytes.toString("utf8") } : { bodySample: bytes.toString("base64"), bodySampleEncoding: "base64" };
}

/** The exact bytes of a stored sample (empty when there is none). */
export function bodySampleBytes(o: BodySampleFields): Buffer {
  const s = o.bodySample ?? "";
  return o.bodySampleEncoding === "base64" ? Buffer.from(s, "base64") : Buffer.from(s, "utf8");
}

/** The sample as text for readers that match words: bytes that are not UTF-8 read as U+FFFD. */
export function bodySampleText(o: BodySampleFields): string {
  return o.bodySampleEncoding === "base64" ? bodySampleBytes(o).toString("utf8") : (o.bodySample ?? "");
}
