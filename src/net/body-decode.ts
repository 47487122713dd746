/**
 * Content-Encoding decoding for response bodies: gzip, deflate and br with node:zlib, zstd
 * with fzstd (Node 20's zlib has no zstd). Every path stops at a bound on decoded bytes, so
 * a decompression bomb yields its first `maxBytes` and `truncated`, never more memory.
 *
 * Why decode a buffered body rather than stream it: the compressed bytes are already bounded
 * by the body cap (1 MiB by default), and zlib's *Sync calls run on the main thread, while
 * every zlib stream write is a task on libuv's thread pool, the pool getaddrinfo waits in
 * (docs/browser-request.md, "Decoding"). Only a body that decodes past the cap goes through a
 * stream, which stops reading at the cap.
 */
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import { ClassifiedError } from "./failures.js";

/** The decoded body (at most maxBytes), whether it was cut, and the coding that was undone. */
export interface DecodedBody {
  body: Buffer;
  truncated: boolean;
  /** The coding decoded ("gzip", "br", ...), or the raw header value when it was kept as is; undefined for identity. */
  contentEncoding?: string;
  /** False when the coding is unknown (or stacked) and the body is the bytes as received. */
  decoded: boolean;
}

/** RFC 9659: the window of the zstd content coding is at most 8 MB (decoders may refuse larger ones). */
export const ZSTD_MAX_WINDOW = 8 * 1024 * 1024;
/** Bound on window bytes copied by the zstd decoder (it moves its window once per block). */
const ZSTD_COPY_BUDGET = 1024 * 1024 * 1024;

/** The part of fzstd's API used here (declared locally so the build does not need the package). */
interface ZstdModule {
  Decompress: new (ondata: (chunk: Uint8Array, final?: boolean) => unknown) => { push(chunk: Uint8Array, final?: boolean): unknown };
}
const ZSTD_PACKAGE = "fzstd";
let zstdModule: Promise<ZstdModule | null> | undefined;
/** fzstd, or null when it is not installed (then zstd bodies are kept undecoded, contentEncoding "zstd"). */
function loadZstd(): Promise<ZstdModule | null> {
  zstdModule ??= (import(ZSTD_PACKAGE) as Promise<ZstdModule>).then(
    (m) => m,
    () => null,
  );
  return zstdModule;
}

function decodingFailed(coding: string, err: unknown): ClassifiedError {
  const why = err instanceof Error ? err.message : String(err);
  return new ClassifiedError("http_request_failed", `cannot decode the ${coding} body: ${why}`, { cause: err });
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: unknown })?.code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError;
}

/**
 * Decodes `wire` (the body bytes as received) per the Content-Encoding header.
 * `complete` says the wire body ended where the server said; when false (the body cap cut
 * it) a truncated compressed stream is decoded as far as it goes instead of failing.
 * Throws a ClassifiedError("http_request_failed") for a body its coding cannot decode.
 */
export async function decodeBody(wire: Buffer, contentEncoding: string | undefined, maxBytes: number, complete: boolean): Promise<DecodedBody> {
  const raw = (contentEncoding ?? "").trim();
  const coding = raw.toLowerCase();
  if (coding === "" || coding === "identity") return clip(wire, maxBytes, undefined, true);
  if (wire.length === 0) return { body: wire, truncated: false, contentEncoding: coding, decoded: true };
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return zlibDecode(wire, "gzip", maxBytes, complete);
    case "deflate":
      return zlibDecode(wire, "deflate", maxBytes, complete);
    case "br":
      return zlibDecode(wire, "br", maxBytes, complete);
    case "zstd": {
      const fzstd = await loadZstd();
      if (!fzstd) return clip(wire, maxBytes, raw, false);
      return zstdDecode(fzstd, wire, maxBytes, complete);
    }
    default:
      // An unknown or stacked coding ("gzip, br"): the bytes are recorded as received.
      return clip(wire, maxBytes, raw, false);
  }
}

function clip(body: Buffer, maxBytes: number, contentEncoding: string | undefined, decoded: boolean): DecodedBody {
  const truncated = body.length > maxBytes;
  return { body: truncated ? body.subarray(0, maxBytes) : body, truncated, ...(contentEncoding !== undefined ? { contentEncoding } : {}), decoded };
}

type ZlibCoding = "gzip" | "deflate" | "br";

function syncDecode(wire: Buffer, coding: ZlibCoding, maxBytes: number, complete: boolean, raw = false): Buffer {
  if (coding === "br") {
    return zlib.brotliDecompressSync(wire, {
      maxOutputLength: Math.max(1, maxBytes),
      finishFlush: complete ? zlib.constants.BROTLI_OPERATION_FINISH : zlib.constants.BROTLI_OPERATION_FLUSH,
    });
  }
  const opts: zlib.ZlibOptions = { maxOutputLength: Math.max(1, maxBytes), finishFlush: complete ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
  if (coding === "gzip") return zlib.gunzipSync(wire, opts);
  return raw ? zlib.inflateRawSync(wire, opts) : zlib.inflateSync(wire, opts);
}

/** True when a deflate body has no zlib header (servers that send raw deflate; Chrome accepts both). */
function isRawDeflate(wire: Buffer): boolean {
  const b0 = wire[0] ?? 0;
  const b1 = wire[1] ?? 0;
  return (b0 & 0x0f) !== 8 || ((b0 << 8) | b1) % 31 !== 0;
}

async function zlibDecode(wire: Buffer, coding: ZlibCoding, maxBytes: number, complete: boolean): Promise<DecodedBody> {
  const raw = coding === "deflate" && isRawDeflate(wire);
  try {
    const body = syncDecode(wire, coding, maxBytes, complete, raw);
    return { body, truncated: false, contentEncoding: coding, decoded: true };
  } catch (err) {
    if (!isTooLarge(err)) throw decodingFailed(coding, err);
  }
  // Decodes past the cap: stream it and stop at maxBytes (the pool is used only here).
  return streamDecode(wire, coding, maxBytes, complete, raw);
}

function streamDecode(wire: Buffer, coding: ZlibCoding, maxBytes: number, complete: boolean, raw: boolean): Promise<DecodedBody> {
  const z =
    coding === "br"
      ? zlib.createBrotliDecompress({ finishFlush: complete ? zlib.constants.BROTLI_OPERATION_FINISH : zlib.constants.BROTLI_OPERATION_FLUSH })
      : coding === "gzip"
        ? zlib.createGunzip({ finishFlush: complete ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH })
        : raw
          ? zlib.createInflateRaw({ finishFlush: complete ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH })
          : zlib.createInflate({ finishFlush: complete ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH });
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      z.destroy();
      resolve({ body: Buffer.concat(parts, length), truncated, contentEncoding: coding, decoded: true });
    };
    z.on("data", (chunk: Buffer) => {
      if (done) return;
      const room = maxBytes - length;
      if (chunk.length >= room) {
        parts.push(chunk.subarray(0, room));
        length += room;
        finish(true);
        return;
      }
      parts.push(chunk);
      length += chunk.length;
    });
    z.on("end", () => finish(false));
    z.on("error", (err) => {
      if (done) return;
      done = true;
      z.destroy();
      reject(decodingFailed(coding, err));
    });
    z.end(wire);
  });
}

/** Where a zstd body may be cut so that decoding it stays bounded, or why it cannot be decoded. */
interface ZstdPlan {
  /** Bytes of the input to decode (less than all when the copy budget runs out). */
  usable: number;
  error?: string;
}

/**
 * Walks zstd frames and block headers (RFC 8878) without decoding: refuses a window over
 * 8 MB (RFC 9659; fzstd would allocate whatever a frame asks, up to 2 GB) and stops before
 * the block at which the decoder's window copies would pass ZSTD_COPY_BUDGET (a stream of
 * empty blocks costs a full window copy each).
 */
export function planZstd(input: Uint8Array): ZstdPlan {
  let p = 0;
  let copied = 0;
  const n = input.length;
  const u32 = (at: number) => ((input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16)) >>> 0) + input[at + 3]! * 0x1000000;
  while (p + 4 <= n) {
    const magic = u32(p);
    if (magic >>> 4 === 0x184d2a5) {
      // Skippable frame: magic, 4-byte size, data.
      if (p + 8 > n) return { usable: n };
      p += 8 + u32(p + 4);
      continue;
    }
    if (magic !== 0xfd2fb528) return p === 0 ? { usable: 0, error: "not a zstd frame" } : { usable: n };
    if (p + 5 > n) return { usable: n };
    const fhd = input[p + 4]!;
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    const checksum = (fhd >> 2) & 1;
    const dictFlag = fhd & 3;
    if (fhd & 8) return { usable: 0, error: "reserved bit set in a zstd frame header" };
    let q = p + 5;
    let window = 0;
    if (!single) {
      if (q >= n) return { usable: n };
      const wd = input[q]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
      q += 1;
    }
    q += [0, 1, 2, 4][dictFlag]!;
    const fcsBytes = [single, 2, 4, 8][fcsFlag]!;
    if (q + fcsBytes > n) return { usable: n };
    if (single) {
      let fcs = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + input[q + i]!;
      if (fcsFlag === 1) fcs += 256;
      window = fcs;
    }
    q += fcsBytes;
    if (window > ZSTD_MAX_WINDOW) return { usable: 0, error: `zstd window of ${window} bytes is over the 8 MB limit` };
    // Blocks: 3-byte header (last flag, type, size), then the block's bytes.
    for (;;) {
      if (q + 3 > n) return { usable: n };
      const h = input[q]! | (input[q + 1]! << 8) | (input[q + 2]! << 16);
      const last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) return { usable: 0, error: "reserved zstd block type" };
      copied += Math.max(window, 1);
      if (copied > ZSTD_COPY_BUDGET) return { usable: q };
      q += 3 + (type === 1 ? 1 : size);
      if (last) break;
    }
    p = q + (checksum ? 4 : 0);
  }
  return { usable: n };
}

class ZstdCapReached extends Error {}

function zstdDecode(fzstd: ZstdModule, wire: Buffer, maxBytes: number, complete: boolean): DecodedBody {
  const plan = planZstd(wire);
  if (plan.error) throw decodingFailed("zstd", new Error(plan.error));
  const parts: Buffer[] = [];
  let length = 0;
  let truncated = plan.usable < wire.length;
  const d = new fzstd.Decompress((chunk) => {
    const room = maxBytes - length;
    if (chunk.length > room) {
      parts.push(Buffer.from(chunk.subarray(0, room)));
      length += room;
      throw new ZstdCapReached();
    }
    parts.push(Buffer.from(chunk));
    length += chunk.length;
  });
  try {
    d.push(wire.subarray(0, plan.usable), complete && !truncated);
  } catch (err) {
    if (err instanceof ZstdCapReached) truncated = true;
    else throw decodingFailed("zstd", err);
  }
  return { body: Buffer.concat(parts, length), truncated, contentEncoding: "zstd", decoded: true };
}
