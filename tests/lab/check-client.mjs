/**
 * Self-check of the lab's resolvers, run INSIDE the client namespace by lab.test.ts:
 * `ip netns exec <client> node tests/lab/check-client.mjs`. Asks the outside resolver over TCP,
 * and the DoH server with GET and POST (RFC 8484), for ok.lab.example, and the control helper for
 * its health (GET /); prints one JSON line.
 */
import net from "node:net";
import * as packet from "dns-packet";
import { ADDR } from "./topology.mjs";

const NAME = process.argv[2] ?? "ok.lab.example";
const query = packet.encode({ type: "query", id: 4242, flags: packet.RECURSION_DESIRED, questions: [{ type: "A", name: NAME }] });
const addresses = (buf) => packet.decode(buf).answers.filter((a) => a.type === "A").map((a) => a.data);

function tcpQuery(host) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(53, host);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    let buf = Buffer.alloc(0);
    sock.setTimeout(3000, () => sock.destroy(new Error("timeout")));
    sock.on("connect", () => sock.write(Buffer.concat([len, query])));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.end();
        resolve(addresses(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    sock.on("error", reject);
  });
}

const url = "https://doh.lab.example/dns-query";
const out = {};
try {
  out.tcp = await tcpQuery("198.51.100.53");
} catch (e) {
  out.tcp = `error: ${e.message}`;
}
try {
  const r = await fetch(`${url}?dns=${query.toString("base64url")}`, { headers: { accept: "application/dns-message" } });
  out.dohGet = { status: r.status, type: r.headers.get("content-type"), addresses: addresses(Buffer.from(await r.arrayBuffer())) };
} catch (e) {
  out.dohGet = `error: ${e.cause?.code ?? e.message}`;
}
try {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/dns-message", accept: "application/dns-message" }, body: query });
  out.dohPost = { status: r.status, type: r.headers.get("content-type"), addresses: addresses(Buffer.from(await r.arrayBuffer())) };
} catch (e) {
  out.dohPost = `error: ${e.cause?.code ?? e.message}`;
}
try {
  const r = await fetch(`http://${ADDR.control}:${ADDR.controlPort}/`, { signal: AbortSignal.timeout(3000) });
  out.control = { status: r.status, ok: (await r.json()).ok };
} catch (e) {
  out.control = `error: ${e.cause?.code ?? e.message}`;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
