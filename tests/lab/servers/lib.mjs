/**
 * Shared bits of the lab servers: the JSON config from argv, the "ready" line, logging to
 * stderr, and DNS packet helpers (dns-packet). Each server is a plain Node ESM script started
 * with `ip netns exec NS node tests/lab/servers/<x>.mjs '<json config>'`.
 */
import dgram from "node:dgram";
import * as packet from "dns-packet";

export { packet };

/** The server's config: the JSON document in argv[2]. With `ownerPid`, the server exits when that process is gone. */
export function config() {
  const text = process.argv[2];
  if (!text) {
    process.stderr.write(`usage: node ${process.argv[1]} '<json config>'\n`);
    process.exit(2);
  }
  const cfg = JSON.parse(text);
  // A test process killed with SIGKILL cannot tear its lab down; its servers at least stop
  // (the namespaces are swept by the next set-up or by lab:down).
  if (cfg.ownerPid) {
    setInterval(() => {
      try {
        process.kill(cfg.ownerPid, 0);
      } catch (e) {
        if (e.code === "ESRCH") process.exit(0);
      }
    }, 1000).unref();
  }
  return cfg;
}

const NAME = (process.argv[1] ?? "server").split("/").pop();

/** Writes one line to stderr (the lab's log file for this server). */
export function log(msg) {
  process.stderr.write(`${new Date().toISOString()} ${NAME} ${msg}\n`);
}

// After "ready" stdout may be a closed pipe (lab:up lets the parent go); never die of it.
process.stdout.on("error", () => {});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
// A lab server that breaks should fail its lab loudly (set-up reports this log), not limp on.
process.on("uncaughtException", (err) => {
  log(`uncaught: ${err?.stack ?? err}`);
  process.exit(1);
});

/** Tells the lab the server is listening: one "ready" line on stdout, and nothing after it. */
export function ready(what) {
  log(`ready: ${what}`);
  process.stdout.write("ready\n");
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

/** A lower-case name without the trailing dot. */
export function canonicalName(name) {
  return String(name ?? "").toLowerCase().replace(/\.$/, "");
}

/** Encodes a response to `query` (a decoded packet) with `rcode` and A answers `addresses` (A questions only). */
export function responseTo(query, { rcode = "NOERROR", addresses = [] } = {}) {
  const q = query.questions[0];
  return packet.encode({
    type: "response",
    id: query.id,
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (RCODES[rcode] ?? 0),
    questions: [q],
    answers: q.type === "A" ? addresses.map((data) => ({ type: "A", name: q.name, ttl: 60, data })) : [],
  });
}

/** Decodes a DNS query, or null when it is not one. */
export function decodeQuery(buf) {
  try {
    const p = packet.decode(buf);
    return p.type === "query" && p.questions?.length ? p : null;
  } catch {
    return null;
  }
}

/**
 * A UDP forwarder to an upstream resolver: rewrites the query id, and calls `onAnswer` with the
 * upstream's response carrying the original id. Unanswered queries are forgotten after 5 s.
 */
export function makeForwarder(upstream) {
  const sock = dgram.createSocket("udp4");
  const pending = new Map();
  let next = Math.floor(Math.random() * 65536);
  sock.on("message", (msg) => {
    if (msg.length < 2) return;
    const id = msg.readUInt16BE(0);
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    clearTimeout(p.timer);
    const out = Buffer.from(msg);
    out.writeUInt16BE(p.origId, 0);
    p.onAnswer(out);
  });
  sock.on("error", (e) => log(`forwarder: ${e.message}`));
  return {
    forward(queryBuf, onAnswer) {
      if (queryBuf.length < 2) return;
      let id = next++ & 0xffff;
      while (pending.has(id)) id = next++ & 0xffff;
      const origId = queryBuf.readUInt16BE(0);
      const out = Buffer.from(queryBuf);
      out.writeUInt16BE(id, 0);
      const timer = setTimeout(() => pending.delete(id), 5000);
      pending.set(id, { origId, onAnswer, timer });
      sock.send(out, upstream.port, upstream.host);
    },
  };
}
