/**
 * Whether this machine can reach the internet at all, read from its routing tables
 * (/proc/net/route, /proc/net/ipv6_route): no packet is sent. With no default route, every
 * target fails before a packet leaves, and every run ends "can't tell" with exit 5.
 */
import { check, type Check } from "./check.js";

/** The routing tables as the kernel prints them; null where there is none (not Linux). */
export interface RouteTables {
  v4: string | null;
  v6: string | null;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/** The interfaces with an IPv4 default route that is up (/proc/net/route: Destination and Mask 0). */
export function defaultRoutes4(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , , mask] = f;
    if (dest === "00000000" && mask === "00000000" && (parseInt(flags!, 16) & RTF_UP) !== 0) out.push(iface!);
  }
  return out;
}

/**
 * The interfaces with an IPv6 default route (::/0) that is up and not a reject route (the
 * kernel keeps `::/0 dev lo` as an unreachable route even with no network at all).
 */
export function defaultRoutes6(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, len, , , , , , , flags, iface] = f;
    const fl = parseInt(flags!, 16);
    if (/^0{32}$/.test(dest!) && len === "00" && (fl & RTF_UP) !== 0 && (fl & RTF_REJECT) === 0 && iface !== "lo") out.push(iface!);
  }
  return out;
}

/** The `network` check: fails when neither family has a default route, since every run would then exit 5. */
export function judgeRoute(tables: RouteTables): Check {
  if (tables.v4 === null && tables.v6 === null) return check("network", "skip", "the routing tables cannot be read on this system: not checked");
  const v4 = tables.v4 === null ? [] : defaultRoutes4(tables.v4);
  const v6 = tables.v6 === null ? [] : defaultRoutes6(tables.v6);
  if (v4.length === 0 && v6.length === 0) {
    return check(
      "network",
      "fail",
      "no route to the internet: this machine has no default route (IPv4 or IPv6), so every target would fail before a packet leaves and every run would say \"can't tell\" and exit 5",
      "connect to a network (`ip route` should show a `default via ...` line), then run reachprobe doctor again",
      { ipv4: v4, ipv6: v6 },
    );
  }
  const via = [v4.length ? `IPv4 via ${[...new Set(v4)].join(", ")}` : "", v6.length ? `IPv6 via ${[...new Set(v6)].join(", ")}` : ""].filter(Boolean).join(", ");
  return check("network", "ok", `a default route: ${via} (whether it reaches the internet shows in the first run)`, undefined, { ipv4: v4, ipv6: v6 });
}
