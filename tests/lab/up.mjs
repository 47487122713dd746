#!/usr/bin/env node
/**
 * `npm run lab:up`: builds the test cases' lab and leaves it running, then prints how to use it.
 * `node tests/lab/up.mjs [--id HEX4] [--resolv-options "timeout:5 attempts:1"] [--no-control]
 * [--dns-delay MS|MIN-MAX]` (the resolver options default to the suite's; the resolvers' answering
 * delay to LAB_DNS_DELAY_MS or 60 ms). Tear down
 * with `npm run lab:down`. The control helper (`reachprobe control`) runs in the internet
 * namespace unless --no-control is given or dist/ is not built.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { CLI, CONTROL_LIMITS, CONTROL_URL, buildLab, controlArgs, labRunFlags } from "./lab.mjs";
import { CLIENT_RESOLV_OPTIONS, CONTROL_FLAGS, STEP_FLAGS } from "./runs.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { CANARY, CASES, SLOW_CASES, THROTTLE, casesScenario } from "./scenario.mjs";
import { ADDR } from "./topology.mjs";

const { values } = parseArgs({ options: { id: { type: "string" }, "resolv-options": { type: "string" }, "no-control": { type: "boolean" }, "dns-delay": { type: "string" } } });
if (values.id !== undefined && !/^[0-9a-f]{4}$/.test(values.id)) {
  process.stderr.write(`lab:up: --id must be 4 lower-case hex digits, got "${values.id}"\n`);
  process.exit(2);
}
const can = canMakeNamespaces();
if (!can.ok) {
  process.stderr.write(`lab:up: needs root and ip netns (${can.reason})\n`);
  process.exit(1);
}
const built = existsSync(CLI);
if (!built) process.stderr.write(`lab:up: note: ${CLI} is missing, so no control helper is started; run "npm run build" before probing\n`);
const withControl = built && !values["no-control"];

const lab = await buildLab(casesScenario(), { id: values.id, persistent: true, resolvOptions: values["resolv-options"] ?? CLIENT_RESOLV_OPTIONS, control: withControl ? CONTROL_LIMITS : false, dnsDelayMs: values["dns-delay"] });
const q = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
const run = ["ip", "netns", "exec", lab.ns.client, "env", `NODE_EXTRA_CA_CERTS=${lab.caFile}`, "node", "dist/cli/main.js", "run", ...labRunFlags(lab), "--canary", CANARY, "--db", `${lab.dir}/lab.db`, ...STEP_FLAGS, ...(withControl ? CONTROL_FLAGS : [])];
const helper = withControl
  ? `The control helper listens on ${CONTROL_URL} in ${lab.ns.internet} (log: ${lab.dir}/logs/control.log):
  ip netns exec ${lab.ns.internet} env NODE_EXTRA_CA_CERTS=${lab.caFile} node dist/cli/main.js ${controlArgs(CONTROL_LIMITS).map(q).join(" ")}
`
  : "No control helper is running (--no-control, or dist/ not built).\n";
process.stdout.write(`lab ${lab.id} is up (state, certificates and server logs in ${lab.dir}).

Namespaces: ${lab.ns.client} (runs reachprobe), ${lab.ns.censor} (the ISP: resolver ${ADDR.ispResolver}, block pages ${ADDR.blockPage}), ${lab.ns.internet} (sites, outside resolver ${ADDR.outsideResolver}, DoH https://doh.lab.example/dns-query).
Resolvers answer after ${[...new Set(lab.dnsDelayMs.isp)].join("-")} ms (ISP) and ${[...new Set(lab.dnsDelayMs.outside)].join("-")} ms (outside).
Isolation checked:
${lab.isolation.replace(/^/gm, "  ")}

${helper}
Probe every case (from the repository root, after "npm run build"):
  ${run.map(q).join(" ")} \\
    ${[...CASES, ...SLOW_CASES, THROTTLE].map((c) => c.target).join(" ")}

A shell in the client:    ip netns exec ${lab.ns.client} bash
The censor's rules:       ip netns exec ${lab.ns.censor} nft list ruleset    (iptables -S FORWARD for SNI/Host)
Tear it down:             npm run lab:down   (or node tests/lab/down.mjs ${lab.id})
`);
