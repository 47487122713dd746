/**
 * A hostile resolver on loopback: it answers one query with many datagrams of thousands of A
 * records. What a run keeps is bounded, and the observation says what was cut.
 */
import dgram from "node:dgram";
import { afterAll, describe, expect, it } from "vitest";
import * as packet from "dns-packet";
import { MAX_RECORDS_PER_RESPONSE, MAX_RESPONSES, udpDnsQuery } from "../../src/net/dns-udp.js";

const sockets: dgram.Socket[] = [];
afterAll(() => sockets.forEach((s) => s.close()));

/** A resolver that answers each query with `copies` responses of `records` A records each. */
async function floodingResolver(copies: number, records: number): Promise<number> {
  const sock = dgram.createSocket("udp4");
  sockets.push(sock);
  sock.on("message", (msg, rinfo) => {
    const q = packet.decode(msg);
    const answers = Array.from({ length: records }, (_, i) => ({ type: "A" as const, name: q.questions![0]!.name, ttl: 60, data: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }));
    const wire = packet.encode({ type: "response", id: q.id, flags: packet.RECURSION_DESIRED, questions: q.questions, answers });
    // Paced, so the kernel's receive buffer (some 200 KB) does not drop what the test counts.
    let sent = 0;
    const next = () => {
      if (sent++ >= copies) return;
      sock.send(wire, rinfo.port, rinfo.address, () => setTimeout(next, 2));
    };
    next();
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  return sock.address().port;
}

describe("a resolver that floods one query", () => {
  it("keeps at most 16 responses of 32 addresses, and says so", async () => {
    const port = await floodingResolver(24, 2500);
    const r = await udpDnsQuery({ server: { host: "127.0.0.1", port }, name: "a.test", qtype: "A", timeoutMs: 3000, windowMs: 500, now: () => 0 });
    expect(r.failure).toBe(null);
    expect(r.responses).toHaveLength(MAX_RESPONSES);
    for (const resp of r.responses) expect(resp.addresses).toHaveLength(MAX_RECORDS_PER_RESPONSE);
    expect(r.responses[0]!.cut).toBe("kept 32 of 2500 addresses");
    expect(r.responses.at(-1)!.cut).toMatch(/^kept 32 of 2500 addresses, \d+ more responses? ignored \(at most 16 kept\)$/);
    // What a run stores for this query: a few kilobytes, not half a megabyte.
    expect(JSON.stringify(r).length).toBeLessThan(16 * 1024);
  });

  it("leaves a normal answer as it was", async () => {
    const port = await floodingResolver(1, 3);
    const r = await udpDnsQuery({ server: { host: "127.0.0.1", port }, name: "a.test", qtype: "A", timeoutMs: 3000, windowMs: 50, now: () => 0 });
    expect(r.responses).toEqual([{ t: 0, rcode: "NOERROR", addresses: ["10.0.0.0", "10.0.0.1", "10.0.0.2"], cnames: [] }]);
  });
});
