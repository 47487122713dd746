/**
 * DNS over HTTPS (RFC 8484): one `application/dns-message` query by GET or POST (bounded-request.ts).
 * A control measurement: the censor on the path sees only TLS to the DoH server.
 */
import { randomInt } from "node:crypto";
import * as packet from "dns-packet";
import type { Failure } from "./failures.js";
import { boundedRequest, failureUnless200 } from "./bounded-request.js";
import { failureOfResponse } from "./dns-udp.js";
import type { StepSignal } from "./deadline.js";

/** What one DoH query produced. */
export interface DohResult {
  rcode: string | null;
  addresses: string[];
  failure: Failure | null;
}

/** Options for one query. */
export interface DohQuery {
  /** The DoH endpoint, e.g. https://doh.example/dns-query. */
  url: string;
  name: string;
  qtype: "A" | "AAAA";
  method?: "GET" | "POST";
  /** The step's timer. */
  signal: StepSignal;
  /** Extra trust (tests); otherwise Node's store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer;
}

/** Largest DoH answer read: a DNS message cannot be larger (RFC 8484 carries one message). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Sends one query and decodes the answer; never throws for network errors. */
export async function dohQuery(q: DohQuery): Promise<DohResult> {
  const url = new URL(q.url);
  const method = q.method ?? "POST";
  // RFC 8484 asks GET users to send ID 0 so that caches work; POST may use any.
  const wire = packet.encode({
    type: "query",
    id: method === "POST" ? randomInt(0, 65536) : 0,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: q.qtype, name: q.name, class: "IN" }],
  });
  const path =
    method === "GET"
      ? `${url.pathname}${url.search ? `${url.search}&` : "?"}dns=${wire.toString("base64url")}`
      : `${url.pathname}${url.search}`;
  const res = await boundedRequest({
    method,
    url: new URL(path, url.origin),
    headers: method === "POST" ? { accept: "application/dns-message", "content-type": "application/dns-message" } : { accept: "application/dns-message" },
    ...(method === "POST" ? { body: wire } : {}),
    signal: q.signal,
    // A DNS message is at most 64 KiB, and an endless body must not be buffered.
    maxBodyBytes: MAX_RESPONSE_BYTES,
    tooLarge: "unknown_failure: doh response larger than 64 KiB",
    ...(q.ca ? { ca: q.ca } : {}),
  });
  const failed = failureUnless200(res);
  if (failed) return { rcode: null, addresses: [], failure: failed };
  let decoded: packet.Packet;
  try {
    decoded = packet.decode(res.body);
  } catch {
    return { rcode: null, addresses: [], failure: "unknown_failure: malformed dns response" };
  }
  const rcode = (decoded as packet.Packet & { rcode?: string }).rcode ?? "NOERROR";
  const addresses: string[] = [];
  for (const a of decoded.answers ?? []) {
    if (a.type === q.qtype && "data" in a && typeof a.data === "string") addresses.push(a.data);
  }
  return { rcode, addresses, failure: failureOfResponse(rcode, addresses) };
}
