#!/usr/bin/env node
/**
 * `npm run lab:up`: builds the test cases' lab and leaves it running, then prints how to use it.
 * `node tests/lab/up.mjs [--id HEX4] [--resolv-options "timeout:3 attempts:1"]`. Tear down with `npm run lab:down`.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { CLI, buildLab, labRunFlags } from "./lab.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { CANARY, CASES, SLOW_CASES, THROTTLE, casesScenario } from "./scenario.mjs";
import { ADDR } from "./topology.mjs";

const { values } = parseArgs({ options: { id: { type: "string" }, "resolv-options": { type: "string" } } });
if (values.id !== undefined && !/^[0-9a-f]{4}$/.test(values.id)) {
  process.stderr.write(`lab:up: --id must be 4 lower-case hex digits, got "${values.id}"\n`);
  process.exit(2);
}
const can = canMakeNamespaces();
if (!can.ok) {
  process.stderr.write(`lab:up: needs root and ip netns (${can.reason})\n`);
  process.exit(1);
}
if (!existsSync(CLI)) process.stderr.write(`lab:up: note: ${CLI} is missing; run "npm run build" before probing\n`);

const lab = await buildLab(casesScenario(), { id: values.id, persistent: true, resolvOptions: values["resolv-options"] });
const q = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
const run = ["ip", "netns", "exec", lab.ns.client, "env", `NODE_EXTRA_CA_CERTS=${lab.caFile}`, "node", "dist/cli/main.js", "run", ...labRunFlags(lab), "--canary", CANARY, "--db", `${lab.dir}/lab.db`];
process.stdout.write(`lab ${lab.id} is up (state, certificates and server logs in ${lab.dir}).

Namespaces: ${lab.ns.client} (runs reachprobe), ${lab.ns.censor} (the ISP: resolver ${ADDR.ispResolver}, block pages ${ADDR.blockPage}), ${lab.ns.internet} (sites, outside resolver ${ADDR.outsideResolver}, DoH https://doh.lab.example/dns-query).
Isolation checked:
${lab.isolation.replace(/^/gm, "  ")}

Probe every case (from the repository root, after "npm run build"):
  ${run.map(q).join(" ")} \\
    ${[...CASES, ...SLOW_CASES, THROTTLE].map((c) => c.target).join(" ")}

A shell in the client:    ip netns exec ${lab.ns.client} bash
The censor's rules:       ip netns exec ${lab.ns.censor} nft list ruleset    (iptables -S FORWARD for SNI/Host)
Tear it down:             npm run lab:down   (or node tests/lab/down.mjs ${lab.id})
`);
