#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof DIR`):
 * where the CPU went, by place (our source files, each dependency, Node's internals, GC) and by
 * function, self time and inclusive time ("under": the function and everything it called).
 *
 *   node bench/profile-summary.mjs FILE.cpuprofile [--top N] [--per N]
 *
 * --per N divides every figure by N (the number of targets) to print ms per target.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "30" }, per: { type: "string" } }, allowPositionals: true });
if (positionals.length !== 1) {
  process.stderr.write("usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N] [--per TARGETS]\n");
  process.exit(2);
}
const top = Number(values.top);
const per = values.per ? Number(values.per) : null;
const prof = JSON.parse(readFileSync(positionals[0], "utf8"));

const byId = new Map(prof.nodes.map((n) => [n.id, { ...n, self: 0, parent: null }]));
for (const n of byId.values()) for (const c of n.children ?? []) byId.get(c).parent = n;
// timeDeltas[i] is the time before sample i; charge it to the sample's node (microseconds).
prof.samples.forEach((id, i) => {
  byId.get(id).self += prof.timeDeltas[i] ?? 0;
});
const total = [...byId.values()].reduce((s, n) => s + n.self, 0);

/** Where a frame's code lives: a source file of ours, a package, node internals, or a V8 pseudo-frame. */
function place(cf) {
  const url = cf.url ?? "";
  if (!url) return cf.functionName.startsWith("(") ? cf.functionName : "(native)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg ${nm[1]}`;
  const d = /\/dist\/(.+)$/.exec(url);
  if (d) return d[1].replace(/\.js$/, ".ts");
  return url.replace(/^file:\/\//, "");
}
/** A function: its name, and its file (our sources as src/..., Node's internals by module path). */
const label = (cf) => `${cf.functionName || "(anonymous)"} ${(cf.url ?? "").startsWith("node:") ? cf.url : place(cf)}:${cf.lineNumber + 1}`;

const ours = (cf) => /\/dist\//.test(cf.url ?? "") && !/node_modules/.test(cf.url ?? "");
const selfByPlace = new Map();
const byOwnFrame = new Map();
const selfByFn = new Map();
const underByFn = new Map();
for (const n of byId.values()) {
  if (n.self === 0) continue;
  const p = place(n.callFrame);
  selfByPlace.set(p, (selfByPlace.get(p) ?? 0) + n.self);
  const f = label(n.callFrame);
  selfByFn.set(f, (selfByFn.get(f) ?? 0) + n.self);
  // Charged to the nearest frame of our own code on the stack (what our code caused, library calls included).
  let own = n;
  while (own && !ours(own.callFrame)) own = own.parent;
  const ownKey = own ? label(own.callFrame) : `(no frame of ours) ${p}`;
  byOwnFrame.set(ownKey, (byOwnFrame.get(ownKey) ?? 0) + n.self);
  // Inclusive: charge every distinct function on the stack once.
  const seen = new Set();
  for (let a = n; a; a = a.parent) {
    const l = label(a.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    underByFn.set(l, (underByFn.get(l) ?? 0) + n.self);
  }
}

const ms = (us) => (per ? `${(us / 1000 / per).toFixed(3)} ms/t` : `${(us / 1000).toFixed(0)} ms`);
const share = (us) => `${((us / total) * 100).toFixed(1)}%`.padStart(6);
const table = (title, m, n) => {
  const rows = [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return `${title}\n${rows.map(([k, v]) => `  ${share(v)} ${ms(v).padStart(12)}  ${k}`).join("\n")}`;
};
process.stdout.write(`profile ${positionals[0]}: ${(total / 1000).toFixed(0)} ms sampled${per ? ` over ${per} targets (${(total / 1000 / per).toFixed(3)} ms per target)` : ""}\n\n`);
process.stdout.write(`${table("self time by place", selfByPlace, top)}\n\n`);
process.stdout.write(`${table("self time by function", selfByFn, top)}\n\n`);
process.stdout.write(`${table("by the nearest function of ours on the stack (it and the library code it ran)", byOwnFrame, top)}\n\n`);
process.stdout.write(`${table("inclusive time by function (it and what it called)", underByFn, top * 2)}\n`);
