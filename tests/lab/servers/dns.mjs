/**
 * A lab resolver over UDP (and TCP with `tcp: true`): the ISP's resolver in the censor namespace
 * and the outside resolver in the internet namespace are both this script.
 *
 * Config: {
 *   "listen": {"host": "192.0.2.53", "port": 53}, "tcp": false,
 *   "zone": {"name.example": BEHAVIOUR, ...},    names lower-case, no trailing dot
 *   "forward": {"host": "198.51.100.53", "port": 53} | null,
 *   "delayMs": 60 | [50, 100]                   optional; see below
 * }
 * BEHAVIOUR: {"a": ["203.0.113.11"]} answers A queries (other types get an empty NOERROR),
 *            {"rcode": "NXDOMAIN"|"SERVFAIL"|"REFUSED"}, or {"drop": true} (never answers).
 * A zone key `*.suffix.example` matches every name below suffix.example (not the suffix itself);
 * an exact key wins over a wildcard.
 * A name not in the zone is forwarded when `forward` is set, and is NXDOMAIN otherwise.
 *
 * `delayMs` is how long the server takes to answer from its own zone (a fixed delay, or uniform
 * in [min, max] per query), as a recursive resolver on the internet takes tens of milliseconds:
 * reachprobe's system lookups then occupy libuv's thread pool as they do in the field. Forwarded
 * queries get no delay of their own: the upstream's answer is relayed when it arrives.
 */
import dgram from "node:dgram";
import net from "node:net";
import { canonicalName, config, decodeQuery, log, makeForwarder, ready, responseTo } from "./lib.mjs";

const cfg = config();
const zone = cfg.zone ?? {};
const forwarder = cfg.forward ? makeForwarder(cfg.forward) : null;
const wildcards = Object.keys(zone)
  .filter((k) => k.startsWith("*."))
  .map((k) => ({ suffix: k.slice(1), b: zone[k] }));
const [minDelay, maxDelay] = Array.isArray(cfg.delayMs) ? cfg.delayMs : [cfg.delayMs ?? 0, cfg.delayMs ?? 0];

/** The zone's behaviour for `name` (exact entry first, then the longest wildcard), or undefined. */
function lookupZone(name) {
  if (zone[name] !== undefined) return zone[name];
  let best;
  for (const w of wildcards) if (name.endsWith(w.suffix) && (!best || w.suffix.length > best.suffix.length)) best = w;
  return best?.b;
}

/** Calls `respond(out)` after the server's answering delay. */
function later(respond, out) {
  const ms = minDelay + Math.random() * (maxDelay - minDelay);
  if (ms <= 0) return respond(out);
  setTimeout(() => respond(out), ms);
}

/** Answers one query through `respond(buf)`; may never call it (a dropped query). */
function answer(buf, respond) {
  const q = decodeQuery(buf);
  if (!q) return;
  const name = canonicalName(q.questions[0].name);
  const b = lookupZone(name);
  if (b === undefined) {
    if (forwarder) return forwarder.forward(buf, respond);
    return later(respond, responseTo(q, { rcode: "NXDOMAIN" }));
  }
  if (b.drop) return;
  if (b.rcode) return later(respond, responseTo(q, { rcode: b.rcode }));
  later(respond, responseTo(q, { addresses: b.a ?? [] }));
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

const delay = maxDelay > 0 ? `, answers after ${minDelay === maxDelay ? minDelay : `${minDelay}-${maxDelay}`} ms` : "";
ready(`dns on ${cfg.listen.host}:${cfg.listen.port}${cfg.tcp ? " (udp+tcp)" : ""}, ${Object.keys(zone).length} names${forwarder ? `, forwarding to ${cfg.forward.host}` : ""}${delay}`);
