/** The system resolver as applications see it (getaddrinfo via dns.lookup), under our own timeout. */
import { promises as dnsPromises } from "node:dns";
import type { Failure } from "./failures.js";
import { classifyDnsError } from "./classify.js";
import { raceAbort, type StepSignal } from "./deadline.js";

/** What one system lookup produced. */
export interface SystemLookupResult {
  addresses: string[];
  failure: Failure | null;
}

/** Looks up every address of `hostname`; a lookup that outlives `signal` is a timeout. */
export async function systemLookup(hostname: string, signal: StepSignal): Promise<SystemLookupResult> {
  try {
    // QUIRK: getaddrinfo cannot be cancelled; the race only stops us waiting for it, and the
    // libuv thread stays busy until glibc gives up (bin/reachprobe.cjs sizes the pool for it).
    const found = await raceAbort(signal, () => dnsPromises.lookup(hostname, { all: true, order: "verbatim" }));
    const addresses = [...new Set(found.map((a) => a.address))];
    return { addresses, failure: addresses.length ? null : "dns_no_answer" };
  } catch (err) {
    return { addresses: [], failure: classifyDnsError(err) };
  }
}
