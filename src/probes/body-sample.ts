/**
 * The body sample of an HTTP observation kept byte for byte in JSON: the text itself when the
 * bytes are valid UTF-8, otherwise their base64 with `bodySampleEncoding: "base64"`
 * (docs/database.md, "Body samples and other blobs"). Readers that want text (fingerprints,
 * titles) get the UTF-8 view, as before; the export and the store get the exact bytes.
 */
import { Buffer, isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";

/** The observation fields that hold a body sample. */
export interface BodySampleFields {
  /** The sample's text, or its base64 when bodySampleEncoding is "base64". */
  bodySample?: string;
  /** Set when the sample's bytes are not valid UTF-8: bodySample is then their base64. */
  bodySampleEncoding?: "base64";
}

/** The fields that say whether a sample is the whole body, exactly. */
export interface BodyFields extends BodySampleFields {
  bodyLength?: number;
  bodyTruncated?: boolean;
  bodySha256?: string;
  bodySampleLossy?: true;
  bodySampleWhole?: boolean;
}

/** The fields that hold `bytes` exactly. */
export function encodeBodySample(bytes: Buffer): { bodySample: string; bodySampleEncoding?: "base64" } {
  return isUtf8(bytes) ? { bodySample: bytes.toString("utf8") } : { bodySample: bytes.toString("base64"), bodySampleEncoding: "base64" };
}

// The bytes a probe's observation got its sample from, with the text they were encoded to: the
// analysis that follows in the same process reads them back instead of encoding the text again
// (up to 512 KiB a response, twice). Only while the text is still that text.
const madeFrom = new WeakMap<object, { text: string; base64: boolean; bytes: Buffer }>();

/** Sets `o`'s sample fields to hold `bytes` exactly (encodeBodySample), and remembers the bytes for bodySampleBytes. */
export function setBodySample(o: BodySampleFields, bytes: Buffer): void {
  const fields = encodeBodySample(bytes);
  Object.assign(o, fields);
  madeFrom.set(o, { text: fields.bodySample, base64: fields.bodySampleEncoding === "base64", bytes });
}

/** The exact bytes of a stored sample (empty when there is none). */
export function bodySampleBytes(o: BodySampleFields): Buffer {
  const s = o.bodySample ?? "";
  const known = madeFrom.get(o);
  if (known !== undefined && known.text === s && known.base64 === (o.bodySampleEncoding === "base64")) return known.bytes;
  return o.bodySampleEncoding === "base64" ? Buffer.from(s, "base64") : Buffer.from(s, "utf8");
}

/**
 * The sample's exact bytes for the analysis (block-page fingerprints match bytes,
 * analysis/fingerprints.ts), written by JSON.stringify as their UTF-8 text, as the analysis
 * table was always written (goldens, --json).
 */
export function analysisBodySample(o: BodySampleFields): Buffer {
  const b = bodySampleBytes(o);
  // A view of its own (the remembered bytes are shared): the same memory, its own toJSON.
  const bytes = Buffer.from(b.buffer, b.byteOffset, b.length);
  return Object.defineProperty(bytes, "toJSON", { value: () => bytes.toString("utf8"), enumerable: false });
}

/** The sample as text for readers that match words: bytes that are not UTF-8 read as U+FFFD. */
export function bodySampleText(o: BodySampleFields): string {
  return o.bodySampleEncoding === "base64" ? bodySampleBytes(o).toString("utf8") : (o.bodySample ?? "");
}

/**
 * Whether the sample is every byte of the body as received: not a lossy text sample
 * (bodySampleLossy), reading not cut at the cap, and the sample's hash that of every byte read
 * (for a scrubbed sample, what was recorded before scrubbing: bodySampleWhole).
 */
export function bodySampleIsWhole(o: BodyFields): boolean {
  if (o.bodySampleLossy === true || o.bodyTruncated === true) return false;
  if (o.bodySampleWhole !== undefined) return o.bodySampleWhole;
  const sample = bodySampleBytes(o);
  return o.bodySha256 ? o.bodySha256 === createHash("sha256").update(sample).digest("hex") : (o.bodyLength ?? 0) <= sample.length;
}

/**
 * Whether a sample stored as text before samples were kept as bytes may not be the bytes
 * received: its text has U+FFFD (what a byte that is not UTF-8 became) and is not, byte for
 * byte, the whole body whose hash was recorded. A body that really held U+FFFD and was longer
 * than the sample is marked too: its sample cannot be told from a lossy one (docs/database.md).
 */
export function textSampleMayBeLossy(o: BodyFields): boolean {
  if (o.bodySampleEncoding === "base64" || typeof o.bodySample !== "string" || !o.bodySample.includes("\uFFFD")) return false;
  const exact = o.bodyTruncated !== true && o.bodySha256 !== undefined && o.bodySha256 === createHash("sha256").update(o.bodySample, "utf8").digest("hex");
  return !exact;
}
