#!/usr/bin/env node
/**
 * `npm run build`'s step after tsc: parses the bundled fingerprint set
 * (data/fingerprints/reachprobe.csv) with the compiled parser and writes what it gives to
 * dist/fingerprints/reachprobe.json, with the SHA-256 of the CSV. `run` reads that instead of
 * the CSV while the hash still matches (src/fingerprints/load.ts), so no start pays for csv-parse
 * and the parse; an edited CSV is parsed again until the next build.
 *
 *   node scripts/precompile-fingerprints.mjs
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const load = join(ROOT, "dist", "fingerprints", "load.js");
const { BUNDLED_FINGERPRINTS, BUNDLED_FINGERPRINTS_PRECOMPILED, precompileBundled } = await import(pathToFileURL(load).href);
const precompiled = precompileBundled(readFileSync(BUNDLED_FINGERPRINTS, "utf8"));
mkdirSync(dirname(BUNDLED_FINGERPRINTS_PRECOMPILED), { recursive: true });
writeFileSync(BUNDLED_FINGERPRINTS_PRECOMPILED, `${JSON.stringify(precompiled)}\n`);
process.stdout.write(`precompile-fingerprints: ${precompiled.fingerprints.length} fingerprints -> ${BUNDLED_FINGERPRINTS_PRECOMPILED}\n`);
