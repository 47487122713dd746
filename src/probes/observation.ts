/**
 * Observations: the flat records that probe steps return. They describe what happened on
 * the wire and never decide a verdict. Times are milliseconds since the run's zero time.
 */
import type { Failure } from "../net/failures.js";
import type { CertificateInfo } from "../net/tls.js";

/** The step a record belongs to. */
export type Step = "dns" | "tcp" | "tls" | "http";

/**
 * Why a step was made besides the target's own navigation: to repeat a failed TLS handshake with
 * an innocuous SNI (`sni_swap`), or a failed plain-HTTP request with an innocuous Host
 * (`host_swap`), to the same address; or the navigation's first request, as sent, to an address
 * a witness resolver gave where the browser's resolver gave others (`address_swap`)
 * (docs/verdicts.md, "Proof without a helper"). Absent on the target's own steps.
 */
export type SwapPurpose = "sni_swap" | "host_swap" | "address_swap";

/** Fields every observation carries. */
export interface BaseObservation {
  step: Step;
  /** When the step started, ms since the run started. */
  t0: number;
  /** When the step ended, ms since the run started. */
  t: number;
  /** null on success, otherwise a string from the closed list. */
  failure: Failure | null;
}

/** One DNS response as it arrived, kept even when it is not the first. */
export interface DnsResponse {
  /** ms since the run started. */
  t: number;
  /** Response code name, e.g. NOERROR, NXDOMAIN, SERVFAIL. */
  rcode: string;
  addresses: string[];
  /** Addresses of CNAMEs followed, if any. */
  cnames?: string[];
  /** Set when the packet could not be parsed or did not answer our question. */
  malformed?: string;
}

/** A DNS lookup through one resolver. */
export interface DnsObservation extends BaseObservation {
  step: "dns";
  /** `system`, or `udp` (raw wire query), or `doh`. */
  engine: "system" | "udp" | "doh";
  /** `system`, `ip:port` for UDP, or the DoH URL. */
  resolver: string;
  hostname: string;
  qtype: "A" | "AAAA" | "ANY";
  /** The addresses an application would use (the first valid response). */
  addresses: string[];
  /** Every response that arrived within the window (raw UDP only). */
  responses?: DnsResponse[];
  /** The redirect hop this step belongs to (1 for the first redirect followed); absent for the target's own steps (hop 0). */
  hop?: number;
}

/** A TCP connect to one address. */
export interface TcpObservation extends BaseObservation {
  step: "tcp";
  /** `ip:port`, with IPv6 in brackets. */
  address: string;
  /** The redirect hop this step belongs to (1 for the first redirect followed); absent for the target's own steps (hop 0). */
  hop?: number;
  /** Set on the steps of a swap (the swap's own TCP connect included); absent on the target's own steps. */
  purpose?: SwapPurpose;
}

/** What a certificate in the chain says about itself (defined where the handshake reads it). */
export type { CertificateInfo };

/** A TLS handshake over a connected socket. */
export interface TlsObservation extends BaseObservation {
  step: "tls";
  address: string;
  serverName: string;
  /** e.g. TLSv1.3; absent when the handshake failed. */
  version?: string;
  alpn?: string | null;
  /** The negotiated cipher suite's IANA name (e.g. TLS_AES_128_GCM_SHA256); absent when the handshake failed. */
  cipherSuite?: string;
  /** Leaf first. Empty when the handshake failed before certificates arrived. */
  certificates: CertificateInfo[];
  /** True when the chain validates for serverName against the trusted CAs. */
  verified: boolean;
  /** Why verification failed, when the handshake completed but the chain did not validate. */
  verifyFailure?: Failure | null;
  /** The redirect hop this step belongs to (1 for the first redirect followed); absent for the target's own steps (hop 0). */
  hop?: number;
  /**
   * Set on an SNI swap's handshake: serverName is then the innocuous name, `failure` is null once
   * the handshake completed whatever the certificate, and verified/verifyFailure say how the
   * chain validated against that name (recorded, not required).
   */
  purpose?: SwapPurpose;
}

/** One HTTP exchange (a redirect chain gives one record per hop). */
export interface HttpObservation extends BaseObservation {
  step: "http";
  /** The address the request was pinned to. */
  address: string;
  url: string;
  /** 0 for the first request, then one more per redirect followed. */
  hop: number;
  /** Set on a Host swap's request (url stays the original URL; the Host sent is in requestHeaders). */
  purpose?: SwapPurpose;
  /** The innocuous name a Host swap sent in place of the URL's host (without the port). */
  swappedHost?: string;
  /** The request headers as sent: names as written on the wire, in order. */
  requestHeaders: Record<string, string>;
  status?: number;
  /** Response headers, lower-case names, repeated values joined with ", " (each cut at 16 KiB). */
  headers?: Record<string, string>;
  /** The values of the response headers received more than once (lower-case names), each apart, in order; absent when none repeats. */
  headerRepeats?: Record<string, string[]>;
  title?: string | null;
  /** Bytes read (up to the cap). */
  bodyLength?: number;
  /** True when the body was longer than the cap and reading stopped there. */
  bodyTruncated?: boolean;
  /** SHA-256 of the bytes read, hex. */
  bodySha256?: string;
  /** The first bytes of the body (up to the sample cap): their text, or their base64 when bodySampleEncoding says so (body-sample.ts). */
  bodySample?: string;
  /** "base64" when the sample's bytes are not valid UTF-8 and bodySample holds their base64. */
  bodySampleEncoding?: "base64";
  /**
   * Set by schema version 3 on a sample stored as text before samples were kept as bytes, whose
   * bytes were not all UTF-8: the stored text has U+FFFD where they were (docs/database.md).
   */
  bodySampleLossy?: true;
  /** Set when the sample was scrubbed (scrubbed: true): whether, before, it was the whole body (its hash no longer says). */
  bodySampleWhole?: boolean;
  /**
   * Set when addresses in the response headers, title or body sample were replaced by [scrubbed]
   * (merge --scrub, push; src/probes/scrub-observations.ts); bodySha256 is then dropped.
   */
  scrubbed?: true;
  /** Why the redirect chain stopped here, when it did not end in a normal response (or why the next hop could not be fetched). */
  note?: string;
  /** The Location header, resolved against the URL, when the response is a redirect. */
  location?: string | null;
}

/** Any observation. */
export type Observation = DnsObservation | TcpObservation | TlsObservation | HttpObservation;

/** What the control helper answered for one target (or why it could not be asked). */
export interface ControlObservation {
  /** The helper's URL. */
  helper: string;
  t0: number;
  t: number;
  /** null when the helper answered; otherwise why it could not be used. */
  failure: Failure | null;
  /** HTTP status of the helper's answer, when one came. */
  status?: number;
  response: import("./control-wire.js").ControlResponse | null;
}
