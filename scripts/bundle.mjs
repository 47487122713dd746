#!/usr/bin/env node
/**
 * `npm run build`'s last step: bundles the compiled CLI (dist/cli/main.js and the ~90 files it
 * loads, tsc's output) into a few files, so that each start of reachprobe reads, resolves and
 * links a handful of modules instead of every file of the run (docs/development.md, "CPU per
 * target": about 60 ms of CPU at every start). The command files stay lazy: every dynamic
 * import (`run`, `report`, the UDP/DoH clients...) becomes a chunk of its own, loaded only when
 * used. Packages (node_modules) and Node's built-in modules are left out, loaded as before.
 *
 * In place: dist/cli/main.js becomes the bundle's entry and its chunks are written beside it
 * as dist/cli/bundle-*.js, at the same depth as every compiled file, so that
 * base/package-info.ts's `new URL("../../", import.meta.url)` still finds the package root in
 * whichever chunk it lands. The rest of dist/ stays as tsc wrote it (tests import it). Running
 * tsc again writes an unbundled main.js back, which works as well, only starts slower.
 *
 *   node scripts/bundle.mjs [--check]
 *
 * --check: exits 1 when dist/cli/main.js is not a bundle (CI, after `npm run build`).
 * Needs rolldown (a devDependency); without it, says so and leaves dist/ unbundled (exit 0).
 */
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI_DIR = join(ROOT, "dist", "cli");
const ENTRY = join(CLI_DIR, "main.js");
/** Put at the top of the bundled entry: how --check (and a reader) tells a bundle from tsc's output. */
const MARK = "// reachprobe: bundled by scripts/bundle.mjs";
const CHUNK_PREFIX = "bundle-";

if (process.argv.includes("--check")) {
  const text = existsSync(ENTRY) ? readFileSync(ENTRY, "utf8") : "";
  if (!text.includes(MARK)) {
    process.stderr.write(`bundle: ${ENTRY} is not bundled: run "npm run build"\n`);
    process.exit(1);
  }
  process.exit(0);
}

if (!existsSync(ENTRY)) {
  process.stderr.write(`bundle: ${ENTRY} not found: run "tsc -p tsconfig.json" first\n`);
  process.exit(2);
}
if (readFileSync(ENTRY, "utf8").includes(MARK)) {
  process.stderr.write(`bundle: ${ENTRY} is a bundle already: run "tsc -p tsconfig.json" first\n`);
  process.exit(2);
}

let rolldown;
try {
  rolldown = await import("rolldown");
} catch {
  process.stderr.write("bundle: rolldown is not installed; dist/cli/main.js stays unbundled (it works, only starts slower)\n");
  process.exit(0);
}

// Written apart first, then moved in: a failed build leaves dist/ as tsc wrote it.
const out = join(ROOT, "dist", ".bundle-tmp");
rmSync(out, { recursive: true, force: true });
await rolldown.build({
  input: ENTRY,
  platform: "node",
  // Packages and built-ins: every import that is not a relative path.
  external: (id, importer) => importer !== undefined && !id.startsWith(".") && !id.startsWith("/"),
  logLevel: "warn",
  output: {
    dir: out,
    format: "esm",
    entryFileNames: "main.js",
    chunkFileNames: `${CHUNK_PREFIX}[name]-[hash].js`,
    // `run` (the cron job's command) reads one chunk with everything it loads at start, instead
    // of the ~40 that rolldown splits it into by default: each module costs Node's ES module
    // loader a resolution, a read and a link, and a one-target run's start took 15-25 ms less
    // CPU (docs/development.md, "CPU per target"). Its dynamic imports (the UDP and DoH clients,
    // --asn-db, --push) stay chunks of their own, loaded only when used. Other commands that
    // share its modules (the store's) load this chunk too: 5 ms more for `history`.
    codeSplitting: { groups: [{ name: "run", test: /[\\/]dist[\\/]cli[\\/]run\.js$/, includeDependenciesRecursively: true }] },
    banner: (chunk) => (chunk.isEntry ? MARK : ""),
    sourcemap: true,
  },
});

for (const f of readdirSync(CLI_DIR)) if (f.startsWith(CHUNK_PREFIX)) rmSync(join(CLI_DIR, f));
for (const f of readdirSync(out)) renameSync(join(out, f), join(CLI_DIR, f));
rmSync(out, { recursive: true, force: true });
chmodSync(ENTRY, 0o755);
const chunks = readdirSync(CLI_DIR).filter((f) => f.startsWith(CHUNK_PREFIX) && f.endsWith(".js"));
process.stdout.write(`bundle: dist/cli/main.js and ${chunks.length} chunks\n`);
