/**
 * Failure classification: turns the errors Node, c-ares, OpenSSL and undici throw into the
 * closed list of failures.ts. One classifier per step, each falling back to the generic one;
 * an error that already carries a failure passes through unchanged. System-call errors and
 * DNS errors map as OONI's netxlite maps them on Linux (its errno_linux.go, getaddrinfo_linux.go
 * and dnsdecoder.go; docs/verdicts.md "Failures" lists where reachprobe differs and why).
 */
import { ClassifiedError, isFailure, unknownFailure, type Failure } from "./failures.js";

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
  failure?: unknown;
}

/** Walks err, err.cause, err.cause.cause... (undici wraps socket errors), at most 8 deep. */
function chain(err: unknown): ErrnoLike[] {
  const out: ErrnoLike[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur !== null && typeof cur === "object"; i++) {
    out.push(cur as ErrnoLike);
    cur = (cur as ErrnoLike).cause;
  }
  return out;
}

function codeOf(e: ErrnoLike): string {
  return typeof e.code === "string" ? e.code : "";
}

const TIMEOUT_CODES = new Set([
  "ETIMEOUT", // c-ares
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ABORT_ERR",
]);

const UNKNOWN_AUTHORITY = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

const INVALID_CERTIFICATE = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
]);

/**
 * System-call errors as netxlite's errno_linux.go names them (ECONNRESET is special-cased below).
 * ETIMEDOUT is the kernel's timeout (SYN or data retransmissions given up), not one of our timers,
 * which end as generic_timeout_error. Not in netxlite's list, so unknown_failure here too:
 * EHOSTDOWN. Kept although netxlite has no entry: EPIPE (below).
 */
const SYSCALL_FAILURES: Record<string, Failure> = {
  ECONNREFUSED: "connection_refused",
  EHOSTUNREACH: "host_unreachable",
  ETIMEDOUT: "timed_out",
  EAFNOSUPPORT: "address_family_not_supported",
  EADDRINUSE: "address_in_use",
  EADDRNOTAVAIL: "address_not_available",
  EISCONN: "already_connected",
  EFAULT: "bad_address",
  EBADF: "bad_file_descriptor",
  ECONNABORTED: "connection_aborted",
  EALREADY: "connection_already_in_progress",
  EDESTADDRREQ: "destination_address_required",
  EINTR: "interrupted",
  EINVAL: "invalid_argument",
  EMSGSIZE: "message_size",
  ENETDOWN: "network_down",
  ENETRESET: "network_reset",
  ENETUNREACH: "network_unreachable",
  ENOBUFS: "no_buffer_space",
  ENOPROTOOPT: "no_protocol_option",
  ENOTSOCK: "not_a_socket",
  ENOTCONN: "not_connected",
  EWOULDBLOCK: "operation_would_block",
  EAGAIN: "operation_would_block", // the same errno as EWOULDBLOCK on Linux; Node names it EAGAIN
  EACCES: "permission_denied",
  EPROTONOSUPPORT: "protocol_not_supported",
  EPROTOTYPE: "wrong_protocol_type",
};

/** libuv's number for getaddrinfo's EAI_NODATA, which Node reports with the code ENOTFOUND, as it does EAI_NONAME. */
const UV_EAI_NODATA = -3007;

/**
 * The failure a DNS response code stands for (null for NOERROR), as netxlite's dnsdecoder.go maps
 * it: a raw SERVFAIL is dns_servfail_error, any code it has no name for dns_server_misbehaving.
 */
export function classifyDnsRcode(rcode: string): Failure | null {
  switch (rcode) {
    case "NOERROR":
      return null;
    case "NXDOMAIN":
      return "dns_nxdomain_error";
    case "SERVFAIL":
      return "dns_servfail_error";
    case "REFUSED":
      return "dns_refused_error";
    default:
      return "dns_server_misbehaving";
  }
}

/** Maps one error in the chain to a failure, or null when this link says nothing definite. */
function classifyLink(e: ErrnoLike, step: "dns" | "tcp" | "tls" | "http"): Failure | null {
  if (isFailure(e.failure)) return e.failure;
  const code = codeOf(e);
  if (TIMEOUT_CODES.has(code) || e.name === "TimeoutError") return "generic_timeout_error";
  switch (code) {
    case "ECONNRESET":
    case "EPIPE":
      // QUIRK: when a TLS peer closes during the handshake Node reports ECONNRESET with no
      // syscall ("socket disconnected before secure TLS connection was established"); a real
      // RST arrives from a read and carries syscall 'read'. The same error reaches the http
      // step when undici's own TLS connect meets a peer that closes (seen: https to a server
      // that reads the ClientHello and sends FIN gave this error, unwrapped, from undici 7).
      if ((step === "tls" || step === "http") && code === "ECONNRESET" && e.syscall === undefined) return "eof_error";
      // EPIPE (a write after the peer's RST) has no netxlite entry; it is the write side of a reset.
      return "connection_reset";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "ssl_invalid_hostname";
    case "ENOTFOUND":
      // Node says ENOTFOUND for getaddrinfo's EAI_NONAME and EAI_NODATA alike, the errno tells
      // them apart; netxlite maps EAI_NODATA to dns_no_answer. From c-ares it is NXDOMAIN.
      return e.errno === UV_EAI_NODATA ? "dns_no_answer" : "dns_nxdomain_error";
    case "ENODATA":
      return "dns_no_answer";
    case "ESERVFAIL":
      // c-ares saw the SERVFAIL response itself.
      return "dns_servfail_error";
    case "EREFUSED":
      return "dns_refused_error";
    case "EFORMERR":
    case "ENOTIMP":
      // c-ares: response codes FORMERR and NOTIMP, which netxlite's decoder calls misbehaving.
      return "dns_server_misbehaving";
    case "UND_ERR_SOCKET":
      // undici's "other side closed": the peer sent FIN before a full response.
      return null;
    case "UND_ERR_HEADERS_OVERFLOW":
    case "UND_ERR_RES_CONTENT_LENGTH_MISMATCH":
    case "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH":
    case "UND_ERR_INVALID_ARG":
    case "UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE":
      return "http_request_failed";
  }
  // QUIRK: glibc answers EAI_AGAIN for a SERVFAIL, for REFUSED from every server, for a resolver
  // that never answers and for no network at all, so it proves none of them; netxlite calls it
  // (and EAI_FAIL, and every EAI_* but NONAME and NODATA) dns_server_misbehaving. libuv turns
  // EAI_SYSTEM into the errno itself, classified like any other.
  if (code.startsWith("EAI_")) return "dns_server_misbehaving";
  const syscallFailure = SYSCALL_FAILURES[code];
  if (syscallFailure) return syscallFailure;
  if (UNKNOWN_AUTHORITY.has(code)) return "ssl_unknown_authority";
  if (INVALID_CERTIFICATE.has(code)) return "ssl_invalid_certificate";
  if (code.startsWith("HPE_")) return "http_request_failed";
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || /alert|handshake|wrong version/i.test(String(e.message ?? ""))) {
    return step === "tls" || step === "http" ? "ssl_failed_handshake" : null;
  }
  return null;
}

function classify(err: unknown, step: "dns" | "tcp" | "tls" | "http", fallback: (links: ErrnoLike[]) => Failure | null): Failure {
  if (err instanceof ClassifiedError) return err.failure;
  const links = chain(err);
  for (const link of links) {
    const f = classifyLink(link, step);
    if (f) return f;
  }
  const fb = fallback(links);
  if (fb) return fb;
  const first = links[0];
  const msg = first ? String(first.message ?? first.code ?? err) : String(err);
  return unknownFailure(msg);
}

/** Classifies an error from a DNS lookup (getaddrinfo, c-ares, raw UDP or DoH). */
export function classifyDnsError(err: unknown): Failure {
  return classify(err, "dns", () => null);
}

/** Classifies an error from a TCP connect. */
export function classifyTcpError(err: unknown): Failure {
  return classify(err, "tcp", () => null);
}

/** Classifies an error from a TLS handshake over a connected socket. */
export function classifyTlsError(err: unknown): Failure {
  return classify(err, "tls", () => null);
}

/**
 * Errors of a response that breaks HTTP rather than the connection: node:http's own
 * ERR_HTTP_* (llhttp's HPE_* are caught for every step above), node:http2's ERR_HTTP2_*
 * (protocol errors, RST_STREAM, GOAWAY), and headers our side refused to write.
 */
const MALFORMED_HTTP = new Set(["ERR_INVALID_CHAR", "ERR_INVALID_HTTP_TOKEN", "ERR_UNESCAPED_CHARACTERS", "ERR_INVALID_HTTP_RESPONSE"]);

/** Classifies an error from an HTTP exchange (node:http, node:http2 or undici). */
export function classifyHttpError(err: unknown): Failure {
  return classify(err, "http", (links) => {
    // undici closes with UND_ERR_SOCKET "other side closed" when the server sends FIN early.
    if (links.some((l) => codeOf(l) === "UND_ERR_SOCKET")) return "eof_error";
    if (links.some((l) => l.name === "AbortError")) return "generic_timeout_error";
    const malformed = links.some((l) => {
      const code = codeOf(l);
      return MALFORMED_HTTP.has(code) || code.startsWith("ERR_HTTP2_") || code.startsWith("ERR_HTTP_") || code.startsWith("Z_");
    });
    if (malformed) return "http_request_failed";
    return null;
  });
}
