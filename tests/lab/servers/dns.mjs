/**
 * A lab resolver over UDP (and TCP with `tcp: true`): the ISP's resolver in the censor namespace
 * and the outside resolver in the internet namespace are both this script.
 *
 * Config: {
 *   "listen": {"host": "192.0.2.53", "port": 53}, "tcp": false,
 *   "zone": {"name.example": BEHAVIOUR, ...},    names lower-case, no trailing dot
 *   "forward": {"host": "198.51.100.53", "port": 53} | null
 * }
 * BEHAVIOUR: {"a": ["203.0.113.11"]} answers A queries (other types get an empty NOERROR),
 *            {"rcode": "NXDOMAIN"|"SERVFAIL"|"REFUSED"}, or {"drop": true} (never answers).
 * A name not in the zone is forwarded when `forward` is set, and is NXDOMAIN otherwise.
 */
import dgram from "node:dgram";
import net from "node:net";
import { canonicalName, config, decodeQuery, log, makeForwarder, ready, responseTo } from "./lib.mjs";

const cfg = config();
const zone = cfg.zone ?? {};
const forwarder = cfg.forward ? makeForwarder(cfg.forward) : null;

/** Answers one query through `respond(buf)`; may never call it (a dropped query). */
function answer(buf, respond) {
  const q = decodeQuery(buf);
  if (!q) return;
  const name = canonicalName(q.questions[0].name);
  const b = zone[name];
  if (b === undefined) {
    if (forwarder) return forwarder.forward(buf, respond);
    return respond(responseTo(q, { rcode: "NXDOMAIN" }));
  }
  if (b.drop) return;
  if (b.rcode) return respond(responseTo(q, { rcode: b.rcode }));
  respond(responseTo(q, { addresses: b.a ?? [] }));
}

const udp = dgram.createSocket("udp4");
udp.on("message", (msg, rinfo) => answer(msg, (out) => udp.send(out, rinfo.port, rinfo.address)));
udp.on("error", (e) => log(`udp: ${e.message}`));
await new Promise((r) => udp.bind(cfg.listen.port, cfg.listen.host, r));

if (cfg.tcp) {
  // DNS over TCP: each message is preceded by its length (RFC 1035 4.2.2).
  const server = net.createServer((sock) => {
    sock.on("error", () => {});
    let buf = Buffer.alloc(0);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        answer(Buffer.from(msg), (out) => {
          if (sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  });
  await new Promise((r) => server.listen(cfg.listen.port, cfg.listen.host, r));
}

ready(`dns on ${cfg.listen.host}:${cfg.listen.port}${cfg.tcp ? " (udp+tcp)" : ""}, ${Object.keys(zone).length} names${forwarder ? `, forwarding to ${cfg.forward.host}` : ""}`);
