/** Plain words for failures, so evidence reads as sentences rather than codes. */
import type { Failure } from "../net/failures.js";

const WORDS: Record<string, string> = {
  dns_nxdomain_error: "said the name does not exist (NXDOMAIN)",
  dns_no_answer: "returned no address",
  dns_servfail_error: "failed to answer (SERVFAIL)",
  dns_refused_error: "refused to answer (REFUSED)",
  dns_server_misbehaving: "could not resolve the name (glibc's EAI_AGAIN, given alike for a SERVFAIL, a resolver that does not answer and no network)",
  dns_bogon_error: "returned a bogon address",
  connection_refused: "was refused (a RST answered the SYN)",
  connection_reset: "was reset",
  host_unreachable: "found the host unreachable",
  network_unreachable: "found the network unreachable",
  network_down: "found the network down",
  network_reset: "was dropped by the network (network reset)",
  connection_aborted: "was aborted",
  generic_timeout_error: "timed out",
  timed_out: "timed out (the system gave up)",
  address_not_available: "had no local address to use",
  permission_denied: "was not permitted by this machine",
  no_buffer_space: "ran out of buffer space on this machine",
  eof_error: "was closed by the other side",
  ssl_invalid_hostname: "got a certificate for another name",
  ssl_unknown_authority: "got a certificate from an unknown authority",
  ssl_invalid_certificate: "got an invalid certificate",
  ssl_failed_handshake: "failed the TLS handshake",
  http_request_failed: "failed",
};

/** Describes a failure as the end of a sentence: "... timed out (generic_timeout_error)". */
export function describeFailure(f: Failure): string {
  const w = WORDS[f];
  return w ? `${w} (${f})` : `failed: ${f.replace(/^unknown_failure: /, "")}`;
}
