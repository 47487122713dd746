/**
 * Raw DNS over UDP that keeps every response arriving within a window after the first: an
 * on-path censor answers first, the real resolver later, and both are evidence.
 * Performs no measurement of its own beyond what it returns; never throws for network errors.
 */
import dgram from "node:dgram";
import { randomInt } from "node:crypto";
import { isIP } from "node:net";
import * as packet from "dns-packet";
import type { Failure } from "./failures.js";
import { classifyDnsError, classifyDnsRcode } from "./classify.js";
import type { StepSignal } from "./deadline.js";

/** What one UDP query produced. */
export interface UdpDnsResult {
  /** Responses in arrival order, with `t` relative to `now()`; at most maxResponses. */
  responses: Array<{ t: number; rcode: string; addresses: string[]; cnames: string[]; malformed?: string; cut?: string }>;
  /** Failure of the first valid response, or of the query when none came. */
  failure: Failure | null;
}

/** Options for one query. */
export interface UdpDnsQuery {
  server: { host: string; port: number };
  name: string;
  qtype: "A" | "AAAA";
  /** Give up when no valid response came within this many ms. */
  timeoutMs: number;
  /** After the first valid response, keep listening this long for more. */
  windowMs: number;
  /** Aborts the query (the target's budget). */
  signal?: StepSignal;
  /** Clock for response times (ms since run start). */
  now: () => number;
  /** Bound on kept responses, so a flood of garbage costs nothing. */
  maxResponses?: number;
}

/** Responses kept per query by default: an injector and the real resolver need two or three. */
export const MAX_RESPONSES = 16;
/** Addresses (and CNAMEs) kept per response: a hostile resolver may send thousands in one datagram. */
export const MAX_RECORDS_PER_RESPONSE = 32;

/** Turns a valid response into its failure (null when it carries addresses). */
export function failureOfResponse(rcode: string, addresses: readonly string[]): Failure | null {
  if (rcode === "NOERROR") return addresses.length > 0 ? null : "dns_no_answer";
  return classifyDnsRcode(rcode);
}

/** Sends one query and collects every response within the window. */
export function udpDnsQuery(q: UdpDnsQuery): Promise<UdpDnsResult> {
  const maxResponses = q.maxResponses ?? MAX_RESPONSES;
  let ignored = 0;
  // What was cut from the last kept response itself (its records), before any note of ignored ones.
  let lastCut = "";
  const id = randomInt(0, 65536);
  const wire = packet.encode({
    type: "query",
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: q.qtype, name: q.name, class: "IN" }],
  });
  const family = isIP(q.server.host) === 6 ? "udp6" : "udp4";
  const responses: UdpDnsResult["responses"] = [];
  const wanted = q.name.toLowerCase().replace(/\.$/, "");

  return new Promise<UdpDnsResult>((resolve) => {
    const sock = dgram.createSocket(family);
    let done = false;
    let firstValid = false;
    let timer: NodeJS.Timeout | undefined;
    let socketError: unknown = null;

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      q.signal?.removeEventListener("abort", finish);
      sock.close();
      const valid = responses.find((r) => !r.malformed);
      let failure: Failure | null;
      if (valid) failure = failureOfResponse(valid.rcode, valid.addresses);
      else if (socketError) failure = classifyDnsError(socketError);
      else if (responses.length > 0) failure = `unknown_failure: malformed dns response (${responses[0]?.malformed})`;
      else failure = "generic_timeout_error";
      resolve({ responses, failure });
    };

    sock.on("message", (msg, rinfo) => {
      if (done) return;
      if (responses.length >= maxResponses) {
        // Said on the last kept response, so the stored observation tells that more came.
        ignored++;
        const last = responses[responses.length - 1];
        if (last) last.cut = [lastCut, `${ignored} more response${ignored === 1 ? "" : "s"} ignored (at most ${maxResponses} kept)`].filter(Boolean).join(", ");
        return;
      }
      // The socket is connected, so the kernel drops datagrams from other sources already;
      // this is a second line for platforms where it does not.
      if (rinfo.port !== q.server.port) return;
      const t = q.now();
      let decoded: packet.Packet;
      try {
        decoded = packet.decode(msg);
      } catch (e) {
        lastCut = "";
        responses.push({ t, rcode: "", addresses: [], cnames: [], malformed: `undecodable (${msg.length} bytes)` });
        return;
      }
      const question = decoded.questions?.[0];
      if (decoded.id !== id || decoded.type !== "response") {
        lastCut = "";
        responses.push({ t, rcode: "", addresses: [], cnames: [], malformed: "id or type mismatch" });
        return;
      }
      if (!question || question.name.toLowerCase().replace(/\.$/, "") !== wanted) {
        lastCut = "";
        responses.push({ t, rcode: "", addresses: [], cnames: [], malformed: "question mismatch" });
        return;
      }
      const rcode = (decoded as packet.Packet & { rcode?: string }).rcode ?? "NOERROR";
      const addresses: string[] = [];
      const cnames: string[] = [];
      let moreAddresses = 0;
      let moreCnames = 0;
      for (const a of decoded.answers ?? []) {
        if ((a.type === "A" || a.type === "AAAA") && typeof a.data === "string" && a.type === q.qtype) {
          if (addresses.length < MAX_RECORDS_PER_RESPONSE) addresses.push(a.data);
          else moreAddresses++;
        } else if (a.type === "CNAME" && typeof a.data === "string") {
          if (cnames.length < MAX_RECORDS_PER_RESPONSE) cnames.push(a.data);
          else moreCnames++;
        }
      }
      const cut = [
        ...(moreAddresses ? [`kept ${addresses.length} of ${addresses.length + moreAddresses} addresses`] : []),
        ...(moreCnames ? [`kept ${cnames.length} of ${cnames.length + moreCnames} CNAMEs`] : []),
      ].join(", ");
      lastCut = cut;
      responses.push({ t, rcode, addresses, cnames, ...(cut ? { cut } : {}) });
      if (!firstValid) {
        firstValid = true;
        clearTimeout(timer);
        timer = setTimeout(finish, q.windowMs);
      }
    });
    sock.on("error", (err) => {
      // QUIRK: on a connected UDP socket an ICMP port-unreachable surfaces as ECONNREFUSED on
      // the next receive; keep it only when nothing valid arrived.
      socketError = err;
      if (!firstValid) finish();
    });

    if (q.signal?.aborted) return finish();
    q.signal?.addEventListener("abort", finish, { once: true });
    timer = setTimeout(finish, q.timeoutMs);
    // QUIRK: a failed connect (no route to the resolver: ENETUNREACH) reaches this callback as
    // its argument, not as an 'error' event, although @types/node declares no argument; a send
    // on the unconnected socket would then throw ERR_SOCKET_BAD_PORT.
    const onConnect = (err?: Error | null) => {
      if (done) return;
      if (err) {
        socketError = err;
        finish();
        return;
      }
      sock.send(wire, (err) => {
        if (err) {
          socketError = err;
          finish();
        }
      });
    };
    sock.connect(q.server.port, q.server.host, onConnect as () => void);
  });
}
