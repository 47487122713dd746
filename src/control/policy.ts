/**
 * The control helper's address policy: a helper on the open internet fetches URLs for
 * strangers, so it never connects to private, loopback, link-local or other bogon addresses
 * (the ones src/analysis/bogons.ts names) unless its operator allowed them.
 */
import { classifyAddress, type Cidr } from "../analysis/bogons.js";

/** What the operator allowed. */
export interface AddressPolicyOptions {
  /** Connect to bogons too (a helper inside a lab or a private network). */
  allowPrivate: boolean;
  /** Addresses in these ranges count as public internet (the lab's documentation ranges). */
  publicRanges: readonly Cidr[];
}

/** Decides, address by address, whether the helper may connect. */
export interface AddressPolicy {
  /** True when `ip` is a bogon (after publicRanges), whatever the policy allows. */
  isBogon(ip: string): boolean;
  /** Why the helper refuses to connect to `ip` ("127.0.0.1 is a loopback address"), or null when it may. */
  refusal(ip: string): string | null;
  /** True when the helper may connect to `ip`; what ProbeConfig.allowAddress takes. */
  allows(ip: string): boolean;
}

/** Builds the policy; a string that is not an IP address is always refused. */
export function addressPolicy(o: AddressPolicyOptions): AddressPolicy {
  const classify = (ip: string) => {
    try {
      return classifyAddress(ip, o.publicRanges);
    } catch {
      return null;
    }
  };
  const refusal = (ip: string): string | null => {
    const c = classify(ip);
    if (c === null) return `${ip} is not an IP address`;
    if (!c.bogon || o.allowPrivate) return null;
    return `${ip} is ${c.kind ?? "a bogon"}`;
  };
  return {
    isBogon: (ip) => classify(ip)?.bogon ?? true,
    refusal,
    allows: (ip) => refusal(ip) === null,
  };
}
