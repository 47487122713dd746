/**
 * The lab's fixed addresses, all from the documentation ranges, and the names derived from a
 * lab id. Every lab uses the same addresses (they live in its own namespaces, so two labs never
 * see each other); only namespace and interface names carry the id.
 */

/** The three documentation ranges: the lab's whole address space, and what `--public-ranges` passes. */
export const LAB_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];

/** Prefix of every lab namespace: `rpl-<4 hex>-client|censor|inet`. */
export const PREFIX = "rpl";

/** Fixed addresses of the lab. */
export const ADDR = Object.freeze({
  /** The client's link to the censor (its ISP): 192.0.2.0/28. */
  client: "192.0.2.2",
  censorClientSide: "192.0.2.1",
  clientLinkPrefix: 28,
  /** The ISP's resolver, in the censor namespace; the client's /etc/resolv.conf points here. */
  ispResolver: "192.0.2.53",
  /** Where the on-path DNS injector listens (queries to the outside resolver are DNATed here). */
  injector: "192.0.2.54",
  injectorPort: 5353,
  /** The ISP's block-page server (HTTP 80, and HTTPS 443 with the censor's own CA). */
  blockPage: "192.0.2.80",
  /** The censor's link to the internet: 198.51.100.0/28. */
  censorInternetSide: "198.51.100.1",
  internet: "198.51.100.2",
  internetLinkPrefix: 28,
  /** The outside resolver (UDP and TCP 53), what `--resolver` names. */
  outsideResolver: "198.51.100.53",
  /** The DoH server (RFC 8484, https://doh.lab.example/dns-query). */
  doh: "198.51.100.54",
  /** The control helper (`reachprobe control`, in the internet namespace): http://198.51.100.60:8080/. */
  control: "198.51.100.60",
  controlPort: 8080,
  /**
   * A control helper that is gone: no namespace has this address, and the internet namespace
   * does not forward, so SYNs to it vanish (the probe's query times out).
   */
  deadControl: "198.51.100.61",
});

/** Namespace and interface names of lab `id` (4 hex digits). Interface names stay under 15 characters. */
export function namesOf(id) {
  const p = `${PREFIX}-${id}`;
  return {
    id,
    prefix: p,
    ns: { client: `${p}-client`, censor: `${p}-censor`, internet: `${p}-inet` },
    // veth pairs: client <-> censor ("c" / "cc"), censor <-> internet ("ci" / "i").
    if: { client: `${p}-c`, censorClient: `${p}-cc`, censorInternet: `${p}-ci`, internet: `${p}-i` },
  };
}

/** Matches a lab namespace name and captures its id. */
export const LAB_NS_RE = new RegExp(`^${PREFIX}-([0-9a-f]{4})-(client|censor|inet)$`);
