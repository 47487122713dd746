/**
 * Address scrubbing for data that leaves the machine, as OONI's serializer does for HTTP bodies
 * and header values (docs/commands.md, "reachprobe export"): every IPv4 and IPv6 address, with its
 * port when one follows, becomes `[scrubbed]`, so that a block page printing the subscriber's
 * public address does not say where the probe was. Works on bytes: only ASCII is matched, so
 * bytes that are not text pass through unchanged. The one scrubber of addresses: error messages
 * (failures.ts), the OONI export, and `merge --scrub` / `push` (docs/fleet.md) use it.
 */
import { Buffer } from "node:buffer";
import { isIP } from "node:net";

/** What an address is replaced with (OONI's word). */
export const SCRUBBED = "[scrubbed]";

// A dotted quad of 1-3 digit groups, not part of a longer run of digits and dots; like OONI's,
// loose on purpose (999.1.1.1 goes too): scrubbing a version number costs less than a leak.
const IPV4 = /(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9]|\.\d)(?::\d{1,5}(?![0-9]))?/g;

// A maximal run of hex digits, dots, colons and "%" (":" may be URL-encoded as %3A), maybe in
// brackets and followed by a port; scrubV6Run decides with isIP. One match per run and no
// backtracking, so a long hex dump costs linear time.
const IPV6_RUN = /\[?[0-9A-Fa-f.:%]+\]?(?::\d{1,5})?/g;

// The longest text an address with brackets, zone-less, and a port can take (with %3A spelled out).
const MAX_RUN = 120;

function scrubV6Run(run: string): string {
  if (run.length > MAX_RUN) return run;
  const plain = run.replace(/%3[Aa]/g, ":");
  if ((plain.match(/:/g) ?? []).length < 2) return run;
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(plain);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? SCRUBBED : run;
  if (isIP(plain) === 6) return SCRUBBED;
  if (plain.length !== run.length) return run;
  // Punctuation around an address ("at ::1." or "addr:fe80::1") stays; the address goes.
  const tail = /[.:]*$/.exec(plain)![0];
  const body = plain.slice(0, plain.length - tail.length);
  for (const lead of ["", ":"]) {
    if (!body.startsWith(lead)) continue;
    const core = body.slice(lead.length);
    if (isIP(core) === 6) return `${lead}${SCRUBBED}${tail}`;
  }
  return run;
}

/** `text` with every IPv4 and IPv6 address (and the port after it) replaced by [scrubbed]. */
export function scrubAddresses(text: string): string {
  return text.replace(IPV6_RUN, scrubV6Run).replace(IPV4, SCRUBBED);
}

/** `bytes` with every address scrubbed; other bytes (binary included) are kept as they are. */
export function scrubBytes(bytes: Buffer): Buffer {
  // latin1 maps each byte to one character and back, so only the ASCII addresses change.
  const text = bytes.toString("latin1");
  const out = scrubAddresses(text);
  return out === text ? bytes : Buffer.from(out, "latin1");
}
