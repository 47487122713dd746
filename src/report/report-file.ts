/**
 * Writes a page as it is produced into a temporary file beside the destination, then renames
 * it over the destination: a reader never sees half a report, and an error or an interrupt
 * leaves the old file (or none) in place and no temporary file behind.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";

// Chunks are gathered up to this size before a write, so tiny chunks do not mean tiny writes.
const FLUSH_BYTES = 256 * 1024;

/** How a write ended: written, or stopped because `stopped()` said so. */
export type WriteOutcome = { written: true; bytes: number } | { written: false };

/**
 * Writes `chunks` to `path` atomically. Between writes it lets the event loop turn, so that a
 * signal handler can run and make `stopped()` true; the temporary file is then removed.
 */
export async function writeFileAtomically(path: string, chunks: Iterable<string>, stopped: () => boolean = () => false): Promise<WriteOutcome> {
  // Same directory, so that the rename stays on one file system and is atomic.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let fd: number | null = openSync(tmp, "wx", 0o644);
  let bytes = 0;
  try {
    // Chunks are encoded straight into one buffer, written when it is full: no joined copy of
    // them, no new buffer per write (a year's page is 20 MB).
    const buffer = Buffer.allocUnsafe(FLUSH_BYTES);
    let used = 0;
    const writeAll = (data: Buffer, length: number) => {
      // writeSync may write less than asked; loop until all of it is out.
      for (let off = 0; off < length; ) off += writeSync(fd!, data, off, length - off);
      bytes += length;
    };
    for (const chunk of chunks) {
      // A UTF-16 code unit takes at most 3 bytes of UTF-8.
      if (chunk.length * 3 > buffer.length - used) {
        if (used > 0) {
          writeAll(buffer, used);
          used = 0;
          await nextTurn();
          if (stopped()) break;
        }
        if (chunk.length * 3 > buffer.length) {
          const data = Buffer.from(chunk, "utf8");
          writeAll(data, data.length);
          await nextTurn();
          if (stopped()) break;
          continue;
        }
      }
      used += buffer.write(chunk, used, "utf8");
    }
    if (stopped()) {
      closeSync(fd);
      fd = null;
      rmSync(tmp, { force: true });
      return { written: false };
    }
    if (used > 0) writeAll(buffer, used);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
    return { written: true, bytes };
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}
