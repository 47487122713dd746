/**
 * Reading a file a user names (a target list, a config file, fingerprints) with a byte cap, and
 * keeping what is printed about bad input short: quotes cut to a hundred characters, problem
 * lists cut to the first few with a count of the rest.
 */
import { UsageError } from "./errors.js";
import { open } from "node:fs/promises";

/** Why a file could not be read: its `code` (ENOENT, EISDIR, EACCES, E_TOO_LARGE...) and a short reason. */
export class ReadFileError extends UsageError {
  constructor(
    code: string,
    readonly why: string,
  ) {
    super(why, code);
  }
}

/** Formats a byte count as "64 MiB", "512 KiB" or "300 bytes". */
export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

/**
 * Reads `path` as UTF-8, refusing it once it holds more than `maxBytes`: a regular file by its
 * size before reading anything, a device or pipe (/dev/zero, a FIFO) after maxBytes + 1 bytes.
 * Throws ReadFileError.
 */
export async function readFileCapped(path: string, maxBytes: number): Promise<string> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw explain(err);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new ReadFileError("EISDIR", "it is a directory");
    const cap = formatBytes(maxBytes);
    const tooLarge = (what: string) => new ReadFileError("E_TOO_LARGE", `${what}; reachprobe reads at most ${cap} from such a file`);
    if (st.isFile() && st.size > maxBytes) throw tooLarge(`it is ${formatBytes(st.size)}`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(st.isFile() ? `it grew past ${cap} while read` : `it is not a regular file and gave more than ${cap}`);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } catch (err) {
    throw err instanceof ReadFileError ? err : explain(err);
  } finally {
    await fh.close();
  }
}

function explain(err: unknown): ReadFileError {
  const code = (err as NodeJS.ErrnoException).code ?? "EIO";
  const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
  return new ReadFileError(code, why);
}

/** How much of a user's text a message quotes. */
export const MAX_QUOTE_CHARS = 100;

/** Quotes a value as JSON, cut to MAX_QUOTE_CHARS characters (a string says how long it really was). */
export function quote(value: unknown): string {
  if (typeof value === "string") {
    if (value.length <= MAX_QUOTE_CHARS) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, MAX_QUOTE_CHARS))}... (${value.length} characters)`;
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length <= MAX_QUOTE_CHARS ? json : `${json.slice(0, MAX_QUOTE_CHARS)}... (cut)`;
}

/** How many problems a message lists before "... and K more". */
export const MAX_PROBLEMS_SHOWN = 20;
/** The longest line a problem list prints. */
const MAX_PROBLEM_CHARS = 400;

/**
 * The first MAX_PROBLEMS_SHOWN problems, each cut to one short line, then "... and K more
 * problems" (K counted from `total` when more were found than kept).
 */
export function firstProblems(problems: readonly string[], max = MAX_PROBLEMS_SHOWN, total = problems.length, noun = "problem"): string[] {
  const shown = problems.slice(0, max).map((p) => {
    const line = p.replace(/[\r\n]+/g, " ");
    return line.length > MAX_PROBLEM_CHARS ? `${line.slice(0, MAX_PROBLEM_CHARS)}... (cut)` : line;
  });
  const rest = Math.max(total, problems.length) - shown.length;
  if (rest > 0) shown.push(`... and ${rest} more ${noun}${rest === 1 ? "" : "s"}`);
  return shown;
}

/** How many problems a ProblemList keeps (the rest are only counted). */
export const MAX_PROBLEMS_KEPT = 1000;

/** Problems found in one input: the first MAX_PROBLEMS_KEPT kept, all counted, so a million bad lines cost no memory. */
export class ProblemList {
  readonly kept: string[] = [];
  count = 0;

  /** Adds one problem. */
  add(problem: string): void {
    if (this.kept.length < MAX_PROBLEMS_KEPT) this.kept.push(problem);
    this.count++;
  }

  /** Adds every problem of a list (no spread: a list may be long). */
  addAll(problems: Iterable<string>): void {
    for (const p of problems) this.add(p);
  }

  /** The lines to print: the first few, then how many more. */
  lines(): string[] {
    return firstProblems(this.kept, MAX_PROBLEMS_SHOWN, this.count);
  }
}
