/**
 * A block page that quotes the subscriber's addresses (IPv4 and IPv6, in its body, title and
 * header values), for the tests that check what leaves the machine is scrubbed of them.
 */
import { createHash } from "node:crypto";
import { encodeBodySample } from "../../src/probes/body-sample.js";
import type { HttpObservation } from "../../src/probes/observation.js";
import { httpObs } from "./observations.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Every address the block page below quotes, as a test would search for it. */
export const QUOTED = ["203.0.113.77", "198.51.100.23", "203.0.113.79", "203.0.113.80", "2001:db8:85a3", "2001:db8::1", "fe80::1", "203.0.113.81"];

/** A block page that prints the subscriber's addresses, IPv4 and IPv6, in its body, title and headers. */
export function leakyPage(binary: boolean): HttpObservation {
  const text =
    `<html><head><title>Blocked for 203.0.113.77</title></head><body><p>Your address: 2001:db8:85a3::8a2e:370:7334, ` +
    `seen via 198.51.100.23:8080 and [2001:db8::1]:443.</p>${"<p>This resource is restricted by order.</p>".repeat(4)}</body></html>`;
  // Bytes that are not UTF-8 around an address: the sample is stored as base64.
  const body = binary ? Buffer.concat([Buffer.from([0x89, 0xff, 0xfe]), Buffer.from(text), Buffer.from([0x80, 0xc3, 0x28]), Buffer.from("ip=203.0.113.81")]) : Buffer.from(text);
  return httpObs("192.0.2.1:80", "http://blocked.example/", {
    status: 403,
    headers: { "content-type": "text/html", "x-client-ip": "203.0.113.79", via: "1.1 [2001:db8::1]:443 (squid/5.7)", "set-cookie": "ip=203.0.113.80; Path=/, v6=fe80::1; Path=/", server: "censor/1.0 (address-free header)" },
    headerRepeats: { "set-cookie": ["ip=203.0.113.80; Path=/", "v6=fe80::1; Path=/"] },
    title: "Blocked for 203.0.113.77",
    bodyLength: body.length,
    bodyTruncated: false,
    bodySha256: sha(body),
    ...encodeBodySample(body),
  });
}

/** The addresses of QUOTED found in `text`. */
export function containsAny(text: string): string[] {
  return QUOTED.filter((a) => text.includes(a));
}
