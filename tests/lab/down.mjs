#!/usr/bin/env node
/**
 * `npm run lab:down`: tears down every lab on this machine (every `rpl-<hex>-*` namespace, its
 * processes, /etc/netns entries and state directory), or only the ids given as arguments.
 */
import { labNamespaces, teardownAllLabs, teardownLab } from "./lab.mjs";

const ids = process.argv.slice(2);
for (const id of ids) {
  if (!/^[0-9a-f]{4}$/.test(id)) {
    process.stderr.write(`lab:down: "${id}" is not a lab id (4 lower-case hex digits)\n`);
    process.exit(2);
  }
}
if (typeof process.getuid === "function" && process.getuid() !== 0) {
  process.stderr.write("lab:down: needs root (ip netns del)\n");
  process.exit(1);
}
const removed = ids.length ? (ids.forEach(teardownLab), ids) : teardownAllLabs();
const left = labNamespaces();
process.stdout.write(removed.length ? `lab:down: removed lab${removed.length > 1 ? "s" : ""} ${removed.join(", ")}\n` : "lab:down: no lab to remove\n");
if (left.length) {
  process.stderr.write(`lab:down: namespaces left: ${left.join(", ")}\n`);
  process.exit(1);
}
