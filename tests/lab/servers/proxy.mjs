/**
 * A transparent TCP proxy of the ISP, in the censor namespace: its resolver sends some names here
 * and the proxy relays each connection, unaltered, to the site's real address (plain HTTP and TLS
 * alike, so the certificate is the site's). Like an ISP's proxy it serves only the ISP's clients:
 * a connection from elsewhere (the control helper) is reset.
 *
 * Config: {"address": "192.0.2.90", "ports": [80, 443], "upstream": "203.0.113.11", "clients": "192.0.2."}
 */
import net from "node:net";
import { config, log, ready } from "./lib.mjs";

const cfg = config();
for (const port of cfg.ports) {
  const server = net.createServer((inbound) => {
    inbound.on("error", () => {});
    const from = String(inbound.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (!from.startsWith(cfg.clients)) return inbound.resetAndDestroy();
    const outbound = net.connect(port, cfg.upstream);
    outbound.on("error", () => inbound.destroy());
    inbound.on("close", () => outbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  server.on("error", (e) => log(`${cfg.address}:${port}: ${e.message}`));
  await new Promise((r) => server.listen(port, cfg.address, r));
}
ready(`transparent proxy on ${cfg.address} (${cfg.ports.join(", ")}) to ${cfg.upstream}`);
