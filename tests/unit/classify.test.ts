import { describe, expect, it } from "vitest";
import { classifyDnsError, classifyDnsRcode, classifyHttpError, classifyTcpError, classifyTlsError } from "../../src/net/classify.js";
import { ClassifiedError, isFailure, scrubAddresses, type Failure } from "../../src/net/failures.js";

/** An error shaped like the ones Node, c-ares, OpenSSL and undici throw: a message plus own fields. */
function err(message: string, fields: Record<string, unknown> = {}, name = "Error"): Error {
  const e = new Error(message);
  if (name !== "Error") e.name = name;
  return Object.assign(e, fields);
}

/** Node's errno errors: `connect ECONNREFUSED 127.0.0.1:443` with code, errno, syscall, address, port. */
function errno(code: string, syscall: string | undefined, extra: Record<string, unknown> = {}): Error {
  const where = extra.address !== undefined ? ` ${String(extra.address)}${extra.port !== undefined ? `:${String(extra.port)}` : ""}` : "";
  const message = syscall ? `${syscall} ${code}${where}` : code;
  return err(message, syscall ? { code, syscall, ...extra } : { code, ...extra });
}

/** undici's SocketError, optionally wrapping the socket error that caused it. */
function undiciSocketError(cause?: unknown): Error {
  return err("other side closed", { code: "UND_ERR_SOCKET", ...(cause ? { cause } : {}) }, "SocketError");
}

/** fetch()'s TypeError wrapping the real error in `cause`. */
function fetchFailed(cause: unknown): Error {
  return new TypeError("fetch failed", { cause });
}

/** `name code syscall "message" <- cause ...`, for assertion messages. */
function describeChain(e: unknown): string {
  const parts: string[] = [];
  for (let cur = e, i = 0; i < 8 && cur !== null && typeof cur === "object"; i++) {
    const l = cur as { name?: unknown; code?: unknown; syscall?: unknown; message?: unknown; cause?: unknown };
    parts.push([l.name, l.code, l.syscall, l.message === undefined ? undefined : JSON.stringify(l.message)].filter((x) => x !== undefined).join(" "));
    cur = l.cause;
  }
  return parts.join(" <- ") || String(e);
}

type Classifier = (e: unknown) => Failure;
type Case = [label: string, error: unknown, expected: Failure];

function table(classify: Classifier, cases: Case[]): void {
  it.each(cases)("%s", (_label, error, expected) => {
    const got = classify(error);
    expect(got, `classified ${describeChain(error)}`).toBe(expected);
    expect(isFailure(got)).toBe(true);
  });
}

describe("classifyDnsError", () => {
  table(classifyDnsError, [
    ["c-ares NXDOMAIN (queryA ENOTFOUND)", errno("ENOTFOUND", "queryA", { hostname: "x.test" }), "dns_nxdomain_error"],
    // Node's getaddrinfo errors: code ENOTFOUND for EAI_NONAME (-3008) and EAI_NODATA (-3007) alike, other EAI_* by name.
    ["getaddrinfo EAI_NONAME (ENOTFOUND, errno -3008)", errno("ENOTFOUND", "getaddrinfo", { hostname: "x.test", errno: -3008 }), "dns_nxdomain_error"],
    ["getaddrinfo EAI_NODATA (ENOTFOUND, errno -3007): netxlite's dns_no_answer", errno("ENOTFOUND", "getaddrinfo", { hostname: "x.test", errno: -3007 }), "dns_no_answer"],
    ["getaddrinfo EAI_AGAIN (SERVFAIL, no answer or no network: glibc cannot tell)", errno("EAI_AGAIN", "getaddrinfo", { hostname: "x.test", errno: -3001 }), "dns_server_misbehaving"],
    ["getaddrinfo EAI_FAIL", errno("EAI_FAIL", "getaddrinfo", { hostname: "x.test", errno: -3004 }), "dns_server_misbehaving"],
    ["getaddrinfo EAI_MEMORY (any other EAI_*)", errno("EAI_MEMORY", "getaddrinfo", { hostname: "x.test", errno: -3006 }), "dns_server_misbehaving"],
    // libuv hands EAI_SYSTEM over as the errno itself.
    ["getaddrinfo EAI_SYSTEM with EMFILE: not in netxlite's list", errno("EMFILE", "getaddrinfo", { hostname: "x.test" }), "unknown_failure: getaddrinfo EMFILE"],
    ["getaddrinfo EAI_SYSTEM with ECONNREFUSED", errno("ECONNREFUSED", "getaddrinfo", { hostname: "x.test" }), "connection_refused"],
    ["c-ares ENODATA (no answer)", errno("ENODATA", "queryA", { hostname: "x.test" }), "dns_no_answer"],
    ["c-ares ESERVFAIL (the SERVFAIL response itself)", errno("ESERVFAIL", "queryA", { hostname: "x.test" }), "dns_servfail_error"],
    ["c-ares EREFUSED", errno("EREFUSED", "queryA", { hostname: "x.test" }), "dns_refused_error"],
    ["c-ares EFORMERR (rcode FORMERR)", errno("EFORMERR", "queryA", { hostname: "x.test" }), "dns_server_misbehaving"],
    ["c-ares ENOTIMP (rcode NOTIMP)", errno("ENOTIMP", "queryA", { hostname: "x.test" }), "dns_server_misbehaving"],
    ["c-ares says ETIMEOUT (no D)", errno("ETIMEOUT", "queryA", { hostname: "x.test" }), "generic_timeout_error"],
    ["the kernel says ETIMEDOUT: netxlite's timed_out", errno("ETIMEDOUT", "recvmsg"), "timed_out"],
    ["ICMP port unreachable on a connected UDP socket", errno("ECONNREFUSED", "recvmsg"), "connection_refused"],
    ["DoH through fetch: TypeError with a refused connect as cause", fetchFailed(errno("ECONNREFUSED", "connect", { address: "127.0.0.1", port: 443 })), "connection_refused"],
    ["AbortSignal.timeout() reason (DOMException TimeoutError)", new DOMException("The operation was aborted due to timeout", "TimeoutError"), "generic_timeout_error"],
    ["our own step timer", new ClassifiedError("generic_timeout_error", "step timed out after 300 ms"), "generic_timeout_error"],
  ]);
});

describe("classifyDnsRcode (raw UDP and DoH responses)", () => {
  it.each([
    ["NOERROR", null],
    ["NXDOMAIN", "dns_nxdomain_error"],
    ["SERVFAIL", "dns_servfail_error"],
    ["REFUSED", "dns_refused_error"],
    ["FORMERR", "dns_server_misbehaving"],
    ["NOTIMP", "dns_server_misbehaving"],
    ["YXDOMAIN", "dns_server_misbehaving"],
    ["RCODE_11", "dns_server_misbehaving"],
  ])("%s -> %s", (rcode, failure) => {
    expect(classifyDnsRcode(rcode)).toBe(failure);
  });
});

describe("classifyTcpError", () => {
  table(classifyTcpError, [
    ["RST answering a SYN is refused, not reset", errno("ECONNREFUSED", "connect", { address: "127.0.0.1", port: 1 }), "connection_refused"],
    ["RST on an open connection", errno("ECONNRESET", "read"), "connection_reset"],
    // The "no syscall means EOF" rule is about TLS handshakes only.
    ["ECONNRESET without syscall outside TLS is still a reset", errno("ECONNRESET", undefined), "connection_reset"],
    ["ECONNABORTED", errno("ECONNABORTED", "read"), "connection_aborted"],
    ["EPIPE on write", errno("EPIPE", "write"), "connection_reset"],
    ["kernel connect timeout ETIMEDOUT (not one of our timers)", errno("ETIMEDOUT", "connect", { address: "192.0.2.1", port: 443 }), "timed_out"],
    ["EHOSTUNREACH", errno("EHOSTUNREACH", "connect", { address: "192.0.2.1", port: 443 }), "host_unreachable"],
    ["EHOSTDOWN: not in netxlite's list", errno("EHOSTDOWN", "connect", { address: "192.0.2.1", port: 443 }), "unknown_failure: connect EHOSTDOWN [scrubbed]"],
    ["ENETUNREACH", errno("ENETUNREACH", "connect", { address: "2001:db8::1", port: 443 }), "network_unreachable"],
    ["ENETDOWN", errno("ENETDOWN", "connect"), "network_down"],
    ["ENETRESET", errno("ENETRESET", "read"), "network_reset"],
    ["EADDRNOTAVAIL", errno("EADDRNOTAVAIL", "connect", { address: "2001:db8::1", port: 443 }), "address_not_available"],
    ["EACCES", errno("EACCES", "connect", { address: "192.0.2.1", port: 443 }), "permission_denied"],
    ["ENOBUFS", errno("ENOBUFS", "write"), "no_buffer_space"],
    ["EAGAIN (EWOULDBLOCK on Linux)", errno("EAGAIN", "read"), "operation_would_block"],
    ["EINTR", errno("EINTR", "connect"), "interrupted"],
    ["Node's AbortError (code ABORT_ERR)", err("The operation was aborted", { code: "ABORT_ERR" }, "AbortError"), "generic_timeout_error"],
    // A TLS-looking message means nothing on the tcp step: it must not become ssl_failed_handshake.
    ["handshake words in a tcp error stay unknown", err("sslv3 alert handshake failure"), "unknown_failure: sslv3 alert handshake failure"],
  ]);
});

describe("classifyTlsError", () => {
  table(classifyTlsError, [
    // QUIRK pair (docs/design.md, "Observations and failures"): same code, told apart by syscall.
    ["peer closed during the handshake: ECONNRESET, no syscall", err("Client network socket disconnected before secure TLS connection was established", { code: "ECONNRESET" }), "eof_error"],
    ["real RST during the handshake: ECONNRESET, syscall read", errno("ECONNRESET", "read"), "connection_reset"],
    ["EPIPE while sending the ClientHello", errno("EPIPE", "write"), "connection_reset"],
    ["wrong name", err("Hostname/IP does not match certificate's altnames: Host: a.test. is not in the cert's altnames: DNS:b.test", { code: "ERR_TLS_CERT_ALTNAME_INVALID", reason: "Host: a.test. is not in the cert's altnames", host: "a.test" }), "ssl_invalid_hostname"],
    ["self-signed leaf", err("self-signed certificate", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "ssl_unknown_authority"],
    ["self-signed in chain", err("self-signed certificate in certificate chain", { code: "SELF_SIGNED_CERT_IN_CHAIN" }), "ssl_unknown_authority"],
    ["unknown issuer", err("unable to verify the first certificate", { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }), "ssl_unknown_authority"],
    ["issuer not found locally", err("unable to get local issuer certificate", { code: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" }), "ssl_unknown_authority"],
    ["expired", err("certificate has expired", { code: "CERT_HAS_EXPIRED" }), "ssl_invalid_certificate"],
    ["not yet valid", err("certificate is not yet valid", { code: "CERT_NOT_YET_VALID" }), "ssl_invalid_certificate"],
    ["authorizationError passed as a bare { code }", { code: "CERT_HAS_EXPIRED" }, "ssl_invalid_certificate"],
    ["OpenSSL alert", err("write EPROTO 40C7:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure", { code: "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", library: "SSL routines", reason: "sslv3 alert handshake failure" }), "ssl_failed_handshake"],
    ["plain text back instead of a ServerHello", err("wrong version number", { code: "ERR_SSL_WRONG_VERSION_NUMBER" }), "ssl_failed_handshake"],
    ["alert known only from the message", err("tlsv1 alert protocol version"), "ssl_failed_handshake"],
    ["c-ares style ETIMEOUT", errno("ETIMEOUT", undefined), "generic_timeout_error"],
    ["socket ETIMEDOUT (the kernel gave up, netxlite's timed_out)", errno("ETIMEDOUT", "read"), "timed_out"],
  ]);
});

describe("classifyHttpError", () => {
  table(classifyHttpError, [
    ["undici 'other side closed' alone is EOF", undiciSocketError(), "eof_error"],
    ["undici socket error caused by an RST is a reset", undiciSocketError(errno("ECONNRESET", "read")), "connection_reset"],
    ["RST before any response", errno("ECONNRESET", "read"), "connection_reset"],
    ["https peer closing in undici's TLS connect (ECONNRESET, no syscall)", err("Client network socket disconnected before secure TLS connection was established", { code: "ECONNRESET" }), "eof_error"],
    ["refused connect", errno("ECONNREFUSED", "connect", { address: "127.0.0.1", port: 80 }), "connection_refused"],
    ["fetch TypeError -> SocketError -> RST (three deep)", fetchFailed(undiciSocketError(errno("ECONNRESET", "read"))), "connection_reset"],
    ["fetch TypeError -> SocketError (FIN)", fetchFailed(undiciSocketError()), "eof_error"],
    ["fetch TypeError -> certificate error", fetchFailed(err("self-signed certificate", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" })), "ssl_unknown_authority"],
    ["fetch TypeError -> wrong name", fetchFailed(err("Hostname/IP does not match certificate's altnames", { code: "ERR_TLS_CERT_ALTNAME_INVALID" })), "ssl_invalid_hostname"],
    ["headers too large", err("Headers Overflow Error", { code: "UND_ERR_HEADERS_OVERFLOW" }, "HeadersOverflowError"), "http_request_failed"],
    ["body shorter than Content-Length", err("Response body length does not match content-length header", { code: "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" }), "http_request_failed"],
    ["llhttp parse error", err("Parse Error: Expected HTTP/", { code: "HPE_INVALID_CONSTANT", bytesParsed: 0 }), "http_request_failed"],
    ["undici connect timeout", err("Connect Timeout Error", { code: "UND_ERR_CONNECT_TIMEOUT" }, "ConnectTimeoutError"), "generic_timeout_error"],
    ["undici headers timeout", err("Headers Timeout Error", { code: "UND_ERR_HEADERS_TIMEOUT" }, "HeadersTimeoutError"), "generic_timeout_error"],
    ["undici body timeout", err("Body Timeout Error", { code: "UND_ERR_BODY_TIMEOUT" }, "BodyTimeoutError"), "generic_timeout_error"],
    // A DOMException's code is a number (20), so only its name can say what it is.
    ["DOMException AbortError", new DOMException("This operation was aborted", "AbortError"), "generic_timeout_error"],
    ["TLS alert during an https request", err("sslv3 alert handshake failure", { code: "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE" }), "ssl_failed_handshake"],
  ]);
});

describe("already classified errors pass through unchanged", () => {
  const classifiers: Array<[string, Classifier]> = [
    ["dns", classifyDnsError],
    ["tcp", classifyTcpError],
    ["tls", classifyTlsError],
    ["http", classifyHttpError],
  ];
  it.each(classifiers)("%s classifier", (_step, classify) => {
    // A failure that would classify differently from its message must keep its own string.
    expect(classify(new ClassifiedError("dns_bogon_error", "connect ECONNREFUSED"))).toBe("dns_bogon_error");
    expect(classify(new ClassifiedError("unknown_failure: custom"))).toBe("unknown_failure: custom");
    // Wrapped in a cause (undici re-throws the signal's reason inside its own errors).
    expect(classify(err("request aborted", { code: "UND_ERR_ABORTED", cause: new ClassifiedError("generic_timeout_error") }))).toBe("generic_timeout_error");
    // Anything carrying a valid `failure` field counts, not only our class.
    expect(classify({ failure: "ssl_invalid_hostname" })).toBe("ssl_invalid_hostname");
  });

  it("a `failure` field that is not a failure string is ignored", () => {
    expect(classifyTcpError(err("connect ECONNREFUSED", { code: "ECONNREFUSED", failure: "blocked!" }))).toBe("connection_refused");
  });
});

describe("unknown errors", () => {
  const prefix = "unknown_failure: ";

  it("keep their message, with IPv4 addresses and ports scrubbed", () => {
    const e = errno("EWEIRD", "connect", { address: "10.1.2.3", port: 8443 });
    expect(classifyTcpError(e)).toBe("unknown_failure: connect EWEIRD [scrubbed]");
    expect(classifyDnsError(err("resolver 192.0.2.53 said something odd about 198.51.100.7"))).toBe("unknown_failure: resolver [scrubbed] said something odd about [scrubbed]");
  });

  it("scrub IPv6 addresses, bracketed with a port or bare", () => {
    expect(classifyTcpError(err("connect EWEIRD [2001:db8::1]:443"))).toBe("unknown_failure: connect EWEIRD [scrubbed]");
    expect(classifyHttpError(err("bad peer 2001:db8:85a3:0:0:8a2e:370:7334 went away"))).toBe("unknown_failure: bad peer [scrubbed] went away");
    expect(classifyTlsError(err("from fe80::1ff:fe23:4567:890a only"))).toBe("unknown_failure: from [scrubbed] only");
  });

  it("never leave an address anywhere in the string", () => {
    const f = classifyTcpError(err("a 203.0.113.9:80 b [2001:db8::7]:53 c 2001:db8::8 d"));
    expect(f.startsWith(prefix)).toBe(true);
    expect(f).not.toMatch(/203\.0\.113|2001:db8/);
  });

  it("keep times and words with single colons readable", () => {
    expect(classifyTcpError(err("stalled at 12:30 in phase: read"))).toBe("unknown_failure: stalled at 12:30 in phase: read");
  });

  it("follow the cause chain before giving up, and describe the outer error", () => {
    const e = err("outer wrapper", { cause: err("middle", { cause: err("inner without a code") }) });
    expect(classifyHttpError(e)).toBe("unknown_failure: outer wrapper");
  });

  it("find a known code several causes deep", () => {
    const inner = errno("ENETUNREACH", "connect");
    const e = err("l1", { cause: err("l2", { cause: err("l3", { cause: err("l4", { cause: inner }) }) }) });
    expect(classifyTcpError(e)).toBe("network_unreachable");
  });

  it("stop on a cause cycle", () => {
    const a = err("a loops") as Error & { cause?: unknown };
    const b = err("b loops", { cause: a });
    a.cause = b;
    expect(classifyTcpError(a)).toBe("unknown_failure: a loops");
  });

  it("fold whitespace and bound the length", () => {
    const f = classifyTcpError(err(`first line\n\tsecond   line ${"x".repeat(500)}`));
    expect(f.startsWith("unknown_failure: first line second line xxx")).toBe(true);
    expect(f.length).toBeLessThanOrEqual(prefix.length + 200);
  });

  it("say something for errors without a message, and for non-errors", () => {
    expect(classifyTcpError(new Error(""))).toBe("unknown_failure: no message");
    expect(classifyTcpError({ code: "EWEIRD" })).toBe("unknown_failure: EWEIRD");
    expect(classifyDnsError("boom at 192.0.2.1")).toBe("unknown_failure: boom at [scrubbed]");
    expect(classifyHttpError(undefined)).toBe("unknown_failure: undefined");
    expect(classifyHttpError(null)).toBe("unknown_failure: null");
  });
});

describe("scrubAddresses with IPv6 forms that start with a colon", () => {
  it.each([
    ["connect ECONNREFUSED ::1:443", "connect ECONNREFUSED [scrubbed]"],
    ["connect to [::1]:80 failed", "connect to [scrubbed] failed"],
    ["from ::ffff:10.0.0.1 now", "from [scrubbed] now"],
    ["read ECONNRESET 2001:db8::5", "read ECONNRESET [scrubbed]"],
  ])("%s", (input, expected) => {
    expect(scrubAddresses(input)).toBe(expected);
  });
});
