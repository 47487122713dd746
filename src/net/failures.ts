/**
 * The closed list of failure strings, shared with OONI so that reachprobe's data lines up
 * with the largest open censorship dataset. Nothing else may appear in a `failure` field,
 * except `unknown_failure: <message>` with IP addresses removed.
 */
import { scrubAddresses } from "./scrub.js";

export const KNOWN_FAILURES = [
  "dns_nxdomain_error",
  "dns_no_answer",
  "dns_servfail_error",
  "dns_refused_error",
  "dns_server_misbehaving",
  "dns_bogon_error",
  "connection_refused",
  "connection_reset",
  "connection_aborted",
  "host_unreachable",
  "network_unreachable",
  "network_down",
  "network_reset",
  "generic_timeout_error",
  "timed_out",
  // System-call errors a probe rarely meets, named as OONI names them (src/net/classify.ts).
  "address_family_not_supported",
  "address_in_use",
  "address_not_available",
  "already_connected",
  "bad_address",
  "bad_file_descriptor",
  "connection_already_in_progress",
  "destination_address_required",
  "interrupted",
  "invalid_argument",
  "message_size",
  "no_buffer_space",
  "no_protocol_option",
  "not_a_socket",
  "not_connected",
  "operation_would_block",
  "permission_denied",
  "protocol_not_supported",
  "wrong_protocol_type",
  "eof_error",
  "ssl_invalid_hostname",
  "ssl_unknown_authority",
  "ssl_invalid_certificate",
  "ssl_failed_handshake",
  "http_request_failed",
] as const;

/** One of the known failure strings. */
export type KnownFailure = (typeof KNOWN_FAILURES)[number];

/** A failure string: a known one, or `unknown_failure: ...` for anything else. */
export type Failure = KnownFailure | `unknown_failure: ${string}`;

const known: ReadonlySet<string> = new Set(KNOWN_FAILURES);

/** True when `s` is a failure string from the closed list (or an unknown_failure). */
export function isFailure(s: unknown): s is Failure {
  return typeof s === "string" && (known.has(s) || s.startsWith("unknown_failure: "));
}

/** Removes IPv4 and IPv6 addresses (with ports) from a message, so stored errors never carry the probe's address (scrub.ts). */
export { scrubAddresses };

/** Builds an `unknown_failure: ...` string from any error message, addresses removed. */
export function unknownFailure(message: string): Failure {
  const clean = scrubAddresses(message.replace(/\s+/g, " ").trim()).slice(0, 200);
  return `unknown_failure: ${clean || "no message"}`;
}

/** An error that already carries its failure string; classifiers pass it through unchanged. */
export class ClassifiedError extends Error {
  readonly failure: Failure;
  constructor(failure: Failure, message?: string, options?: { cause?: unknown }) {
    super(message ?? failure, options);
    this.name = "ClassifiedError";
    this.failure = failure;
  }
}
