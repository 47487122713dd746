/**
 * How observations and control answers are written to measurements.observations_json and
 * control_json: the large values that repeat run after run (an HTTP hop's body sample, request
 * and response headers, a TLS certificate chain, the control helper's answer) are stored once in
 * the blobs table (blobs.ts), and the JSON names them by key instead (docs/database.md, "Body samples and
 * other blobs"). Header values that change on every request (Date, Set-Cookie, ...) stay inline,
 * so that the rest is the same bytes every hour. Reading puts everything back where it was:
 * every reader gets the observations exactly as the probe made them, the same JSON text.
 */
import type { ControlObservation, Observation } from "../probes/observation.js";
import { bodySampleBytes } from "../probes/body-sample.js";

/** One value stored by reference: the field, its reference field, how it becomes bytes. */
interface RefField {
  field: string;
  /** The field that holds the blob's key in the value's place. */
  ref: string;
  /**
   * text: a string stored as its UTF-8 bytes, compressed; body: a body sample stored as its exact
   * bytes, compressed (base64-decoded when the observation's bodySampleEncoding is "base64",
   * body-sample.ts); json: any value as its JSON text, as is (sqlite's json functions read it).
   */
  kind: "text" | "body" | "json";
  /** Where in a json value its header map is ([] for the value itself), whose changing values stay inline (VOLATILE_HEADERS). */
  headerMap?: readonly string[];
}

/**
 * The observation fields stored by reference, by step, since schema version 2, which moved
 * existing rows' values with this list; a later version may add fields, never change these.
 * A value whose bytes are fewer than MIN_BYTES stays inline.
 */
export const OBSERVATION_REFS: Readonly<Record<string, readonly RefField[]>> = {
  http: [
    { field: "requestHeaders", ref: "requestHeadersSha256", kind: "json" },
    { field: "headers", ref: "headersSha256", kind: "json", headerMap: [] },
    // Rows written before body samples were kept as bytes hold UTF-8 text (bytes that were not
    // UTF-8 became U+FFFD): read as before, they carry no bodySampleEncoding.
    { field: "bodySample", ref: "bodySampleSha256", kind: "body" },
  ],
  tls: [{ field: "certificates", ref: "certificatesSha256", kind: "json" }],
};

/** The control_json field stored by reference (same rules). */
export const CONTROL_REFS: readonly RefField[] = [
  { field: "response", ref: "responseSha256", kind: "json", headerMap: ["http_request", "headers"] },
];

/**
 * Response headers whose values change from one request to the next even when the page does
 * not (ETag and Last-Modified change with the page, so they are not here); kept inline, next to
 * the reference, as `<field>Volatile`: {"<header name>": value}, and null in the blob, which
 * keeps the order of the names. Names compared in lower case. A header missing here only costs
 * space (its map is stored again each time it changes).
 */
export const VOLATILE_HEADERS: ReadonlySet<string> = new Set([
  "date", "set-cookie", "expires", "age", "x-request-id", "x-amz-request-id", "x-amz-cf-id", "x-amz-cf-pop",
  "cf-ray", "x-served-by", "x-cache", "x-cache-hits", "x-timer", "server-timing", "x-runtime", "x-trace-id",
  "traceparent", "x-correlation-id", "x-varnish", "x-amzn-requestid", "x-amzn-trace-id", "x-request-time",
]);

// Own keys only: a step named "constructor" in a hand-edited row is just an unknown step.
function refsOf(o: unknown): readonly RefField[] | undefined {
  if (o === null || typeof o !== "object" || Array.isArray(o)) return undefined;
  const step = (o as Record<string, unknown>).step;
  return typeof step === "string" && Object.hasOwn(OBSERVATION_REFS, step) ? OBSERVATION_REFS[step] : undefined;
}

/** Below this many bytes a value is kept inline: its reference (a 64-digit key) would be as long. */
export const MIN_BYTES = 96;

/** Stores bytes and returns their key (BlobStore.put). */
export type PutBlob = (bytes: Buffer, compress: boolean) => string;
/** A stored blob's bytes as UTF-8 text or as base64 (BlobStore.text); throws when it is missing. */
export type GetBlobText = (key: string, encoding?: "utf8" | "base64") => string;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** The value with the changing values of its header map set to null, and those values by header name. */
function splitVolatile(value: unknown, path: readonly string[]): { stable: unknown; volatile: Obj | null } {
  // Copy along the path only: the caller's objects are never changed.
  const chain: Obj[] = [];
  let node: unknown = value;
  for (const key of path) {
    if (!isObj(node)) return { stable: value, volatile: null };
    chain.push(node);
    node = node[key];
  }
  if (!isObj(node)) return { stable: value, volatile: null };
  let map: Obj | null = null;
  let volatile: Obj | null = null;
  for (const [name, v] of Object.entries(node)) {
    if (typeof v !== "string" || !VOLATILE_HEADERS.has(name.toLowerCase())) continue;
    map ??= { ...node };
    map[name] = null;
    (volatile ??= {})[name] = v;
  }
  if (map === null) return { stable: value, volatile: null };
  let rebuilt: Obj = map;
  for (let i = chain.length - 1; i >= 0; i--) rebuilt = { ...chain[i], [path[i]!]: rebuilt };
  return { stable: rebuilt, volatile };
}

function applyVolatile(value: unknown, path: readonly string[] | undefined, volatile: unknown): unknown {
  if (!isObj(volatile) || path === undefined) return value;
  let node: unknown = value;
  for (const key of path) node = isObj(node) ? node[key] : undefined;
  if (isObj(node)) for (const [name, v] of Object.entries(volatile)) if (name !== "__proto__") node[name] = v;
  return value;
}

// Rebuilt key by key so that the reference takes the value's place: JSON.stringify keeps the
// order, and reading back gives the same text.
function packOne(o: Obj, fields: readonly RefField[], put: PutBlob): Obj {
  let out: Obj = o;
  for (const f of fields) {
    if (!(f.field in out)) continue;
    const value = out[f.field];
    let bytes: Buffer | null = null;
    let volatile: Obj | null = null;
    if (f.kind === "text") {
      if (typeof value === "string") bytes = Buffer.from(value, "utf8");
    } else if (f.kind === "body") {
      // The sample's exact bytes, as the probe took them when this is its observation (`o`: the
      // fields packed before are copied over unchanged, so its bodySample is `value`).
      if (typeof value === "string") bytes = bodySampleBytes(o);
    } else if (value !== undefined) {
      const split = f.headerMap ? splitVolatile(value, f.headerMap) : { stable: value, volatile: null };
      volatile = split.volatile;
      bytes = Buffer.from(JSON.stringify(split.stable), "utf8");
    }
    if (bytes === null || bytes.length < MIN_BYTES) continue;
    const key = put(bytes, f.kind !== "json");
    const rebuilt: Obj = {};
    for (const [k, v] of Object.entries(out)) {
      if (k !== f.field) {
        rebuilt[k] = v;
        continue;
      }
      rebuilt[f.ref] = key;
      if (volatile) rebuilt[`${f.field}Volatile`] = volatile;
    }
    out = rebuilt;
  }
  return out;
}

function unpackOne(o: Obj, fields: readonly RefField[], text: GetBlobText): Obj {
  if (!fields.some((f) => typeof o[f.ref] === "string")) return o;
  const rebuilt: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    const f = fields.find((x) => x.ref === k);
    if (f !== undefined && typeof v === "string") {
      rebuilt[f.field] =
        f.kind === "text" ? text(v)
        : f.kind === "body" ? text(v, o.bodySampleEncoding === "base64" ? "base64" : "utf8")
        : applyVolatile(JSON.parse(text(v)), f.headerMap, o[`${f.field}Volatile`]);
    } else if (!fields.some((x) => `${x.field}Volatile` === k && typeof o[x.ref] === "string")) {
      rebuilt[k] = v;
    }
  }
  return rebuilt;
}

/** The observations_json text of `observations`, their repeating values stored through `put`. */
export function packObservations(observations: readonly unknown[], put: PutBlob): string {
  return JSON.stringify(
    observations.map((o) => {
      const fields = refsOf(o);
      return fields ? packOne(o as Obj, fields, put) : o;
    }),
  );
}

/** The control_json text of a control answer, its response stored through `put`. */
export function packControl(control: ControlObservation, put: PutBlob): string {
  return JSON.stringify(packOne(control as unknown as Obj, CONTROL_REFS, put));
}

/** The keys of the blobs that parsed observations_json and control_json values refer to. */
export function referencedBlobs(observations: unknown, control: unknown): string[] {
  const keys: string[] = [];
  const collect = (o: unknown, fields: readonly RefField[] | undefined) => {
    if (!isObj(o) || !fields) return;
    for (const f of fields) if (typeof o[f.ref] === "string") keys.push(o[f.ref] as string);
  };
  if (Array.isArray(observations)) for (const o of observations) collect(o, refsOf(o));
  collect(control, CONTROL_REFS);
  return keys;
}

/** The observations of an observations_json text, every reference replaced by its value. */
export function unpackObservations(json: string, text: GetBlobText): Observation[] {
  const list = JSON.parse(json) as unknown;
  if (!Array.isArray(list)) return list as Observation[];
  for (let i = 0; i < list.length; i++) {
    const o: unknown = list[i];
    const fields = refsOf(o);
    if (fields) list[i] = unpackOne(o as Obj, fields, text);
  }
  return list as Observation[];
}

/** The control answer of a control_json text, its reference replaced by its value. */
export function unpackControl(json: string, text: GetBlobText): ControlObservation {
  const o = JSON.parse(json) as unknown;
  return (isObj(o) ? unpackOne(o, CONTROL_REFS, text) : o) as ControlObservation;
}

function parsedJson(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A stored row's JSON columns, as repackColumns gives them. */
export interface RepackedColumns {
  observationsJson: unknown;
  controlJson: unknown;
  /** How many values moved to blobs (0: both columns unchanged). */
  moved: number;
  /** The blobs the columns referred to already. */
  refs: string[];
}

/**
 * A stored row's observations_json and control_json as this version writes them (a version 1
 * row holds every value inline). A column in which nothing moves keeps its exact text, and so
 * does one that does not parse (readers report it as before).
 */
export function repackColumns(observationsJson: unknown, controlJson: unknown, put: PutBlob): RepackedColumns {
  let moved = 0;
  const counting: PutBlob = (bytes, compress) => {
    moved++;
    return put(bytes, compress);
  };
  const list = parsedJson(observationsJson);
  const control = parsedJson(controlJson);
  const out: RepackedColumns = { observationsJson, controlJson, moved: 0, refs: referencedBlobs(list, control) };
  if (Array.isArray(list)) {
    const packed = packObservations(list, counting);
    if (moved > 0) out.observationsJson = packed;
  }
  const before = moved;
  if (isObj(control)) {
    const packed = packControl(control as unknown as ControlObservation, counting);
    if (moved > before) out.controlJson = packed;
  }
  out.moved = moved;
  return out;
}
