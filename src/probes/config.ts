/** What a probe needs to know, and the network functions it uses (swappable in tests). */
import type { Cidr } from "../net/bogons.js";
import type { Failure } from "../net/failures.js";
import type { ControlRequest } from "./control-wire.js";
import type { ControlObservation } from "./observation.js";
import { CHROME_USER_AGENT } from "./browser.js";
import type { StepSignal } from "../net/deadline.js";

/** Per-run probe settings. */
export interface ProbeConfig {
  /** Timeout of each step (one DNS lookup, one connect, one handshake, one HTTP hop). */
  stepTimeoutMs: number;
  /** Bound on all of a target's steps together. */
  targetBudgetMs: number;
  /** Ask the system resolver (getaddrinfo). */
  systemResolver: boolean;
  /** Outside resolvers asked with raw UDP queries. */
  resolvers: Array<{ host: string; port: number }>;
  /** DNS-over-HTTPS endpoints asked as controls. */
  doh: string[];
  /** How long to keep listening for more UDP answers after the first. */
  dnsWindowMs: number;
  /** Bound on addresses connected to per target. */
  maxAddresses: number;
  maxBodyBytes: number;
  /** Bytes of each body kept as its sample (stored, exported); unset: DEFAULT_SAMPLE_BYTES (512 KiB, as OONI). */
  bodySampleBytes?: number;
  maxRedirects: number;
  userAgent: string;
  /** Milliseconds since the run's zero time. */
  now: () => number;
  /**
   * Optional address policy (the control helper's): a redirect hop to an address it refuses
   * is not connected to; the hop gets a failure and a note instead. Unset: every address is allowed.
   */
  allowAddress?: (ip: string) => boolean;
  /**
   * Optional redirect policy (the control helper's port rule): a reason to refuse following a
   * redirect to `url`, or null to follow it. Checked before anything is connected to. Unset: every redirect is followed.
   */
  allowRedirect?: (url: URL) => string | null;
  /** Extra trust for the TLS step (tests of the control helper); otherwise Node's store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * The innocuous SNI a failed TLS handshake is repeated with, to the same address (docs/verdicts.md,
   * "Proof without a helper"). Unset or null: no SNI swap (the control helper makes none).
   */
  sniSwap?: string | null;
  /** The innocuous Host a failed plain-HTTP request is repeated with, to the same address. Unset or null: no Host swap. */
  hostSwap?: string | null;
  /**
   * Repeat a plain-HTTP navigation's first request at an address a witness resolver gave when the
   * browser's resolver gave none of the witnesses' (the address swap, address-swap.ts). Unset or
   * false: none (the control helper makes none).
   */
  addressSwap?: boolean;
  /** Ranges that count as public internet though they are bogons (the lab): a witness vouches only with public addresses. */
  publicRanges?: readonly Cidr[];
  /** Asks the control helper, when one is configured; never rejects. */
  control?: (request: ControlRequest, signal: StepSignal) => Promise<ControlObservation>;
}

/** Defaults for a real run; the CLI documents each. */
export const DEFAULT_PROBE_CONFIG: Omit<ProbeConfig, "now"> = {
  stepTimeoutMs: 10_000,
  targetBudgetMs: 45_000,
  systemResolver: true,
  resolvers: [],
  doh: [],
  dnsWindowMs: 1_000,
  maxAddresses: 4,
  maxBodyBytes: 1 << 20,
  maxRedirects: 10,
  userAgent: CHROME_USER_AGENT,
};

/**
 * The innocuous name of both swaps unless --sni-swap / --host-swap say otherwise: reserved for
 * documentation by IANA (RFC 2606), served by large CDNs, and the control SNI of OONI's
 * sni_blocking experiment, so no censor has a reason to block it.
 */
export const DEFAULT_SWAP_NAME = "example.com";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Why `name` cannot be a swap name (a DNS name of letters, digits and hyphens, not an IP
 * literal, at most 253 characters), or null when it can. Pure; the CLI turns it into a usage error.
 */
export function swapNameProblem(name: string): string | null {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (n === "" || n.length > 253) return "must be a host name such as example.com";
  const labels = n.split(".");
  if (!labels.every((l) => LABEL.test(l))) return "must be a host name such as example.com: letters, digits, hyphens and dots only";
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return "must be a host name, not an IP address (an SNI cannot carry one)";
  return null;
}

/** Marker for a failure that a step reports; re-exported for probe files. */
export type { Failure };
