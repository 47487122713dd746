/**
 * The blobs table: byte strings stored once, keyed by the SHA-256 of their bytes (hex), and
 * zlib-compressed when that makes them smaller (docs/database.md, "Body samples and other blobs").
 * Measurements refer to them from their observations (observation-refs.ts), so that a page
 * seen unchanged every hour is stored once, not once an hour.
 */
import { hash } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import type Database from "better-sqlite3";

/** How a blob's data column holds its bytes. */
export type BlobCompression = "none" | "zlib";

/** The table, created by schema version 2. */
export const BLOBS_TABLE_SQL = `
CREATE TABLE blobs (
  sha256      TEXT PRIMARY KEY,
  size        INTEGER NOT NULL,
  compression TEXT NOT NULL CHECK (compression IN ('none', 'zlib')),
  data        BLOB NOT NULL
);
`;

/** The hex SHA-256 of some bytes: a blob's key. */
export function blobKey(bytes: Buffer): string {
  // One call, no Hash object: a run hashes one to three blobs a target.
  return hash("sha256", bytes, "hex");
}

/**
 * The stored form of some bytes: zlib (RFC 1950, what the sqlite3 shell's sqlar_uncompress
 * reads) when that saves space, else the bytes as they are.
 */
export function encodeBlob(bytes: Buffer, compress: boolean): { compression: BlobCompression; data: Buffer } {
  if (compress && bytes.length > 64) {
    // Synchronous on purpose: async zlib runs on libuv's thread pool, which DNS lookups need.
    // A 8 KB window and level 4: an 8 KB sample compresses as well as with the defaults, in
    // half the time or less (90 against 190 us; most of it setting up the 32 KB window).
    const z = deflateSync(bytes, { level: 4, windowBits: 13, memLevel: 6 });
    if (z.length < bytes.length) return { compression: "zlib", data: z };
  }
  return { compression: "none", data: bytes };
}

/** The bytes of a stored blob; throws when the stored form does not give back `size` bytes. */
export function decodeBlob(row: { sha256: string; size: number; compression: string; data: Buffer }): Buffer {
  let bytes: Buffer;
  if (row.compression === "zlib") bytes = inflateSync(row.data, { maxOutputLength: Math.max(1, row.size) });
  else if (row.compression === "none") bytes = row.data;
  else throw new Error(`blob ${row.sha256} has an unknown compression ${JSON.stringify(row.compression)}`);
  if (bytes.length !== row.size) throw new Error(`blob ${row.sha256} decodes to ${bytes.length} bytes, not ${row.size}`);
  return bytes;
}

/** A row of the blobs table. */
export interface BlobRow {
  sha256: string;
  size: number;
  compression: string;
  data: Buffer;
}

// Hashes known to be committed to the table, so that a sample seen before costs one hash and no
// query; cleared when it grows past this, which only costs a lookup again. Blobs written inside
// a transaction are not remembered: it may still roll back.
const KNOWN_LIMIT = 50_000;
// Decoded texts kept for readers: the same few pages repeat run after run.
const CACHE_LIMIT = 256;
const CACHE_MAX_CHARS = 64 * 1024;

/** Reads and writes one database's blobs through statements prepared once. */
export class BlobStore {
  private readonly insert: Database.Statement<[string, number, string, Buffer]>;
  private readonly select: Database.Statement<[string], BlobRow>;
  private readonly exists: Database.Statement<[string], number>;
  private readonly known = new Set<string>();
  private readonly texts = new Map<string, string>();
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
    this.insert = db.prepare(`INSERT OR IGNORE INTO blobs (sha256, size, compression, data) VALUES (?, ?, ?, ?)`);
    this.select = db.prepare<[string], BlobRow>(`SELECT sha256, size, compression, data FROM blobs WHERE sha256 = ?`);
    this.exists = db.prepare<[string], number>(`SELECT 1 FROM blobs WHERE sha256 = ?`).pluck();
  }

  /** Stores `bytes` unless a blob with its key is there, and returns the key. */
  put(bytes: Buffer, compress: boolean): string {
    const key = blobKey(bytes);
    this.putKeyed(key, bytes, compress);
    return key;
  }

  /** Stores `bytes` under `key` (their blobKey, computed by the caller) unless it is there. */
  putKeyed(key: string, bytes: Buffer, compress: boolean): void {
    if (this.known.has(key)) return;
    if (this.exists.get(key) === undefined) {
      const { compression, data } = encodeBlob(bytes, compress);
      this.insert.run(key, bytes.length, compression, data);
    }
    this.remember(key);
  }

  /**
   * The key of `bytes`; when no blob with it is stored (or staged), its row is added to
   * `staged`, for the caller to write with insertRows in the transaction that refers to it.
   */
  stage(bytes: Buffer, compress: boolean, staged: BlobRow[]): string {
    const key = blobKey(bytes);
    if (this.known.has(key) || staged.some((r) => r.sha256 === key)) return key;
    if (this.exists.get(key) !== undefined) {
      this.remember(key);
      return key;
    }
    const { compression, data } = encodeBlob(bytes, compress);
    staged.push({ sha256: key, size: bytes.length, compression, data });
    return key;
  }

  /** Writes staged rows (each unless its key is there); call markStored once they are committed. */
  insertRows(rows: readonly BlobRow[]): void {
    for (const r of rows) this.insert.run(r.sha256, r.size, r.compression, r.data);
  }

  /** Notes that these rows are committed, so that their keys cost no query again. */
  markStored(rows: readonly { sha256: string }[]): void {
    for (const r of rows) this.remember(r.sha256);
  }

  /** Copies a stored blob row as it is (a merge), unless one with its key is there. */
  putRow(row: BlobRow): void {
    if (this.known.has(row.sha256)) return;
    this.insert.run(row.sha256, row.size, row.compression, row.data);
    this.remember(row.sha256);
  }

  /** True when a blob with this key is stored. */
  /** Forgets which keys are stored (after a rolled-back transaction, some marked stored are not). */
  forget(): void {
    this.known.clear();
  }

  has(key: string): boolean {
    return this.known.has(key) || this.exists.get(key) !== undefined;
  }

  /** The blob's bytes as UTF-8 text (or as base64); throws when the blob is missing. */
  text(key: string, encoding: "utf8" | "base64" = "utf8"): string {
    const id = encoding === "utf8" ? key : `${encoding}:${key}`;
    const cached = this.texts.get(id);
    if (cached !== undefined) return cached;
    const row = this.select.get(key);
    if (row === undefined) throw new Error(`blob ${key} is referred to but not in the blobs table`);
    const text = decodeBlob(row).toString(encoding);
    // Large samples (up to 512 KiB) are not kept: 256 of them would hold a lot of memory.
    if (text.length > CACHE_MAX_CHARS) return text;
    if (this.texts.size >= CACHE_LIMIT) this.texts.delete(this.texts.keys().next().value as string);
    this.texts.set(id, text);
    return text;
  }

  private remember(key: string): void {
    if (this.db.inTransaction) return;
    if (this.known.size >= KNOWN_LIMIT) this.known.clear();
    this.known.add(key);
  }
}
