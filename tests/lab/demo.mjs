#!/usr/bin/env node
/**
 * `npm run lab:demo`: builds a lab whose censor blocks WeChat as Russia's ISPs did in 2017, runs
 * `reachprobe run` on the bundled WeChat list inside the client namespace (the human report),
 * with the control helper (`reachprobe control` in the lab's internet namespace) and the lab's
 * DoH as controls, and tears the lab down. The way to watch the tool work without touching the real internet:
 * every WeChat name resolves, inside the lab, to a lab address.
 */
import { existsSync } from "node:fs";
import { CLI, CONTROL_LIMITS, CONTROL_URL, DOH_URL, buildLab, labRunFlags, teardownOnExit } from "./lab.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { wechatScenario } from "./wechat.mjs";

const can = canMakeNamespaces();
if (!can.ok) {
  process.stderr.write(`lab:demo: needs root and ip netns (${can.reason})\n`);
  process.exit(1);
}
if (!existsSync(CLI)) {
  process.stderr.write(`lab:demo: ${CLI} is missing; run "npm run build" first\n`);
  process.exit(1);
}

const { scenario, addressOf, treatment } = wechatScenario();
const lab = await buildLab(scenario, { control: CONTROL_LIMITS });
const removeHandlers = teardownOnExit(lab);
let code = 1;
try {
  const out = process.stdout;
  out.write(`lab ${lab.id}: a censor that blocks WeChat as Russian ISPs did in May 2017.\n\n`);
  out.write(`Isolation checked before probing (real WeChat names are used, so this matters):\n${lab.isolation.replace(/^/gm, "  ")}\n\n`);
  out.write("What the lab's internet and its ISP do with each name:\n");
  const w = Math.max(...Object.keys(addressOf).map((h) => h.length));
  for (const [h, a] of Object.entries(addressOf)) out.write(`  ${h.padEnd(w)}  ${a.padEnd(14)}  ${treatment[h]}\n`);
  // The bundled list (no target given), its canary www.example.com, the human report.
  // --budget covers the DNS step (timeout + window) and the helper's --request-timeout.
  const args = ["run", ...labRunFlags(lab), "--timeout", "3000", "--dns-window", "300", "--concurrency", "64", "--budget", "13000", "--control", CONTROL_URL, "--doh", DOH_URL, "--no-store"];
  out.write(`\nThe control helper runs in ${lab.ns.internet}, beyond the censor, at ${CONTROL_URL}.\n`);
  out.write(`\n$ ip netns exec ${lab.ns.client} reachprobe ${args.join(" ")}\n\n`);
  const r = await lab.runClient(args, { stdio: "inherit", killAfterMs: 120_000 });
  code = r.code ?? 1;
  out.write(`\nreachprobe exited with ${code}${code === 3 ? " (blocking found)" : ""}; tearing the lab down.\n`);
} finally {
  lab.stop();
  removeHandlers();
}
process.exit([0, 3, 4].includes(code) ? 0 : code);
