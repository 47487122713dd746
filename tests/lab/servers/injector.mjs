/**
 * The on-path DNS injector, in the censor namespace. The censor DNATs every UDP query the client
 * sends to the outside resolver to this socket; conntrack rewrites our replies' source back to
 * the outside resolver's address, so the client sees them as coming from it.
 *
 * For a listed name (A queries), a forged answer goes out at once; every query is also relayed
 * to the real resolver, whose answer follows: two different answers to one query, as an on-path
 * injector produces. Other names are relayed untouched.
 *
 * Config: {"listen": {"host", "port"}, "upstream": {"host", "port"}, "inject": {"name": "forged ip"}}
 */
import dgram from "node:dgram";
import { canonicalName, config, decodeQuery, log, makeForwarder, ready, responseTo } from "./lib.mjs";

const cfg = config();
const inject = cfg.inject ?? {};
const upstream = makeForwarder(cfg.upstream);

const sock = dgram.createSocket("udp4");
sock.on("message", (msg, rinfo) => {
  const q = decodeQuery(msg);
  if (!q) return;
  const name = canonicalName(q.questions[0].name);
  const forged = inject[name];
  if (forged && q.questions[0].type === "A") {
    sock.send(responseTo(q, { addresses: [forged] }), rinfo.port, rinfo.address);
    log(`forged ${name} -> ${forged} for ${rinfo.address}:${rinfo.port}`);
  }
  upstream.forward(msg, (answer) => sock.send(answer, rinfo.port, rinfo.address));
});
sock.on("error", (e) => log(`udp: ${e.message}`));
await new Promise((r) => sock.bind(cfg.listen.port, cfg.listen.host, r));
ready(`injector on ${cfg.listen.host}:${cfg.listen.port}, ${Object.keys(inject).length} names, upstream ${cfg.upstream.host}:${cfg.upstream.port}`);
