/** The HTTP part of the classifier: what node:http, llhttp, node:http2 and zlib raise when a response breaks HTTP. */
import { describe, expect, it } from "vitest";
import { classifyHttpError } from "../../src/net/classify.js";

const err = (message: string, code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });

describe("classifyHttpError: malformed HTTP is http_request_failed, never unknown_failure", () => {
  it.each([
    ["llhttp: garbage status line", err("Parse Error: Expected HTTP/", "HPE_INVALID_CONSTANT", { bytesParsed: 0 })],
    ["llhttp: header overflow", err("Parse Error: Header overflow", "HPE_HEADER_OVERFLOW")],
    ["llhttp: two Content-Length", err("Parse Error: Duplicate Content-Length", "HPE_UNEXPECTED_CONTENT_LENGTH")],
    ["node:http2: stream reset", err("Stream closed with error code NGHTTP2_PROTOCOL_ERROR", "ERR_HTTP2_STREAM_ERROR")],
    ["node:http2: GOAWAY", err("New streams cannot be created after receiving a GOAWAY", "ERR_HTTP2_GOAWAY_SESSION")],
    ["node:http2: nghttp2 error", err("Protocol error", "ERR_HTTP2_ERROR")],
    ["node:http2: session error", err("Session closed with error code 1", "ERR_HTTP2_SESSION_ERROR")],
    ["our header value with CR LF", err('Invalid character in header content ["User-Agent"]', "ERR_INVALID_CHAR")],
    ["our header name", err('Header name must be a valid HTTP token ["a b"]', "ERR_INVALID_HTTP_TOKEN")],
    ["zlib: bad gzip", err("incorrect header check", "Z_DATA_ERROR", { errno: -3 })],
  ])("%s", (_what, e) => {
    expect(classifyHttpError(e)).toBe("http_request_failed");
  });

  it("a socket error inside an HTTP/2 session error is still the socket's failure", () => {
    const reset = err("read ECONNRESET", "ECONNRESET", { syscall: "read" });
    expect(classifyHttpError(Object.assign(err("Session error", "ERR_HTTP2_SESSION_ERROR"), { cause: reset }))).toBe("connection_reset");
  });

  it("node:http's 'socket hang up' and 'aborted' (FIN before or during the response) are eof_error", () => {
    expect(classifyHttpError(err("socket hang up", "ECONNRESET"))).toBe("eof_error");
    expect(classifyHttpError(err("aborted", "ECONNRESET"))).toBe("eof_error");
  });
});
