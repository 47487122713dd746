/**
 * Reads fingerprint files from disk and hands their text to the pure parser in
 * `analysis/fingerprints.ts`. This is the only place that touches the file system for them.
 */
import { PACKAGE_ROOT } from "../base/package-info.js";
import { hash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { readFileCapped, ReadFileError } from "../base/read-file.js";
import { join, resolve } from "node:path";
import { FingerprintsError, parseFingerprints, type Fingerprint } from "../analysis/fingerprints.js";

/** A --fingerprints spec that cannot be used: one sentence, which is also its one problem. */
function specError(message: string, cause?: unknown): FingerprintsError {
  return new FingerprintsError([message], message, cause === undefined ? undefined : { cause });
}

/** The fingerprints read for a spec, with what was skipped and which files were read. */
export interface LoadedFingerprints {
  fingerprints: Fingerprint[];
  /** Rows skipped (`file:line: ...`), e.g. a regexp JavaScript cannot compile. */
  warnings: string[];
  /** Absolute paths of the files read, in order. */
  files: string[];
}

/** Path of the fingerprint set shipped with reachprobe. */
export const BUNDLED_FINGERPRINTS = join(PACKAGE_ROOT, "data", "fingerprints", "reachprobe.csv");

/**
 * The bundled set as `npm run build` parsed it (scripts/precompile-fingerprints.mjs), with the
 * SHA-256 of the CSV it came from: read instead of the CSV when that is still the CSV's, which
 * spares each start csv-parse and the parse (15-25 ms of CPU; the set itself is 24 rows).
 */
export const BUNDLED_FINGERPRINTS_PRECOMPILED = join(PACKAGE_ROOT, "dist", "fingerprints", "reachprobe.json");

/** The precompiled form: origins are ":LINE", the path put in front when read. */
interface Precompiled {
  sha256: string;
  fingerprints: Fingerprint[];
}

/** The precompiled form of the bundled CSV `text` (parsed as every CSV is; throws as it does). */
export function precompileBundled(text: string): Precompiled {
  return { sha256: hash("sha256", text, "hex"), fingerprints: parseFingerprints(text, "") };
}

/** The fingerprints of a precompiled copy (its JSON text) when it was made from `text`, origins under `path`; else null. */
export function fromPrecompiled(json: string, text: string, path: string): Fingerprint[] | null {
  let pre: Partial<Precompiled>;
  try {
    pre = JSON.parse(json) as Partial<Precompiled>;
  } catch {
    return null;
  }
  if (pre?.sha256 !== hash("sha256", text, "hex") || !Array.isArray(pre.fingerprints)) return null;
  return pre.fingerprints.map((fp) => ({ ...fp, origin: path + fp.origin }));
}

/** The bundled set from its CSV `text`: the precompiled copy when it was made from this text, else parsed. */
async function bundledFingerprints(text: string): Promise<Fingerprint[]> {
  // Missing (a build by tsc alone) or unreadable: parsed.
  const json = await readFile(BUNDLED_FINGERPRINTS_PRECOMPILED, "utf8").catch(() => "");
  return fromPrecompiled(json, text, BUNDLED_FINGERPRINTS) ?? parseFingerprints(text, BUNDLED_FINGERPRINTS);
}

/** File names of OONI's blocking-fingerprints repository, looked for inside an `ooni:DIR`. */
export const OONI_FILES = ["fingerprints_http.csv", "fingerprints_dns.csv"] as const;

async function kindOf(path: string): Promise<"file" | "dir" | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

/** The most a fingerprint file may hold: OONI's two files together are under 100 KiB. */
export const MAX_FINGERPRINT_FILE_BYTES = 8 << 20;

async function readText(path: string): Promise<string> {
  try {
    return await readFileCapped(path, MAX_FINGERPRINT_FILE_BYTES);
  } catch (err) {
    const why = err instanceof ReadFileError ? (err.code === "EISDIR" ? "is a directory" : err.why) : (err as Error).message;
    throw specError(`cannot read fingerprint file ${path}: ${why}`, err);
  }
}

/** The files one spec item names, each with whether its bad regexps may be skipped. */
async function filesFor(item: string): Promise<Array<{ path: string; lenient: boolean }>> {
  if (item === "bundled") return [{ path: BUNDLED_FINGERPRINTS, lenient: false }];
  if (item.startsWith("ooni:")) {
    const target = resolve(item.slice("ooni:".length));
    if (item.length === "ooni:".length) throw specError(`"ooni:" needs a directory or file after the colon, e.g. ooni:./blocking-fingerprints`);
    const kind = await kindOf(target);
    if (kind === null) throw specError(`cannot read OONI fingerprints at ${target}: no such file or directory`);
    if (kind === "file") return [{ path: target, lenient: true }];
    const found: string[] = [];
    for (const name of OONI_FILES) if ((await kindOf(join(target, name))) === "file") found.push(join(target, name));
    if (found.length === 0) {
      throw specError(`no OONI fingerprint files in ${target}: expected ${OONI_FILES.join(" and/or ")}`);
    }
    return found.map((path) => ({ path, lenient: true }));
  }
  const path = resolve(item);
  if ((await kindOf(path)) === "dir") {
    throw specError(`${path} is a directory; give a CSV file, or ooni:${item} for OONI's fingerprint folder`);
  }
  return [{ path, lenient: true }];
}

/**
 * Loads fingerprints from a spec: `bundled` (reachprobe's own set), `ooni:DIR_OR_FILE` (OONI's
 * blocking-fingerprints folder or one of its CSVs), a plain path to a CSV in the same format, or
 * a comma-separated list of these (`bundled,ooni:/path`). Relative paths are relative to the
 * working directory. Regexps that JavaScript cannot compile are skipped with a warning in
 * third-party files, and are errors in the bundled set. Throws `E_FINGERPRINTS` errors naming
 * the path (and `file:line` for bad rows).
 */
export async function loadFingerprints(spec: string): Promise<LoadedFingerprints> {
  const items = spec.split(",").map((s) => s.trim());
  if (items.every((s) => s === "")) throw specError("empty fingerprint spec: use bundled, ooni:DIR, or a CSV path");
  const result: LoadedFingerprints = { fingerprints: [], warnings: [], files: [] };
  const names = new Map<string, string>();
  for (const item of items) {
    if (item === "") continue;
    for (const { path, lenient } of await filesFor(item)) {
      if (result.files.includes(path)) continue;
      const text = await readText(path);
      const fps = path === BUNDLED_FINGERPRINTS ? await bundledFingerprints(text) : parseFingerprints(text, path, lenient ? { warnings: result.warnings } : {});
      for (const fp of fps) {
        // HTTP and DNS fingerprints are separate name spaces, as in OONI's own database
        // (its two files share a few names).
        const key = `${fp.location === "dns" ? "dns" : "http"}:${fp.name}`;
        const earlier = names.get(key);
        if (earlier !== undefined) result.warnings.push(`${fp.origin}: fingerprint name "${fp.name}" also used at ${earlier}; both kept`);
        else names.set(key, fp.origin);
      }
      result.fingerprints.push(...fps);
      result.files.push(path);
    }
  }
  return result;
}
