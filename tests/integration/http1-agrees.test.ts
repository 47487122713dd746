/**
 * The HTTP/1.1 reader (src/net/http1.ts, llhttp driven directly) against node:http, which the
 * exchange used before and which every browser-like client in Node is measured against: for
 * each response in the corpus below, served byte for byte by a loopback server (in pieces
 * where it says so, then ending or resetting the connection as it says), httpExchange must
 * give what node:http makes of the same bytes: the same status, header list and body, or the
 * same failure (node:http's error, classified as the probe classifies it). A difference here is
 * a verdict that would change.
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { classifyHttpError } from "../../src/net/classify.js";
import { startStepTimer } from "../../src/net/deadline.js";
import type { Failure } from "../../src/net/failures.js";
import { httpExchange } from "../../src/net/http-exchange.js";
import { closeAll, tcpServer } from "../helpers/servers.js";

const LOOPBACK = "127.0.0.1";
const MAX_HEADER_BYTES = 16 * 1024;

interface Case {
  name: string;
  /** The response, as pieces written 5 ms apart. */
  pieces: Array<string | Buffer>;
  /** What the server does after the last piece: FIN, RST, or nothing (the client closes). */
  then: "end" | "reset" | "keep";
}

const CL = (body: string, head = "") => `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const CORPUS: Case[] = [
  { name: "Content-Length", pieces: [CL("<title>t</title>hello")], then: "keep" },
  { name: "Content-Length: 0", pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], then: "keep" },
  { name: "chunked, with an extension and a trailer", pieces: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"], then: "keep" },
  { name: "chunked, one byte a write", pieces: [..."HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"], then: "keep" },
  { name: "headers split in the middle of a name and of a value", pieces: ["HTTP/1.1 200 OK\r\nContent-Ty", "pe: text/ht", "ml\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n", "ok"], then: "keep" },
  { name: "a body read until close (HTTP/1.1, no length)", pieces: ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", "until ", "close"], then: "end" },
  { name: "HTTP/1.0, no length", pieces: ["HTTP/1.0 200 OK\r\n\r\nold"], then: "end" },
  { name: "HTTP/1.0 with keep-alive and a length", pieces: ["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"], then: "keep" },
  { name: "204 has no body", pieces: ["HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"], then: "keep" },
  { name: "304 has no body even with a length", pieces: ["HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"], then: "keep" },
  { name: "100 Continue, then the response", pieces: ["HTTP/1.1 100 Continue\r\n\r\n", CL("after continue")], then: "keep" },
  { name: "103 Early Hints, then the response", pieces: ["HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + CL("after hints")], then: "keep" },
  { name: "values with spaces and tabs around them", pieces: [CL("x", "X-Spaces:   padded \t \r\nX-Tab:\tt\r\n")], then: "keep" },
  { name: "an empty value between two headers", pieces: [CL("x", "X-Empty:\r\nX-After: a\r\nX-Empty2: \r\n")], then: "keep" },
  { name: "repeated headers kept in order", pieces: [CL("x", "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nset-cookie: c=3\r\n")], then: "keep" },
  { name: "Latin-1 bytes in a value (obs-text)", pieces: [Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nX-Obs: caf"), Buffer.from([0xe9]), Buffer.from("\r\nContent-Length: 1\r\n\r\nx")])], then: "keep" },
  { name: "a status line without a reason", pieces: ["HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"], then: "keep" },
  { name: "a long reason phrase", pieces: [`HTTP/1.1 451 ${"Unavailable For Legal Reasons ".repeat(20)}\r\nContent-Length: 0\r\n\r\n`], then: "keep" },
  { name: "Transfer-Encoding gzip, chunked", pieces: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"], then: "keep" },
  { name: "trailers past the bound", pieces: [`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Big: ${"t".repeat(MAX_HEADER_BYTES)}\r\n\r\n`], then: "end" },
  { name: "Connection: close", pieces: ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"], then: "end" },
  // Broken ones: each must fail as node:http fails.
  { name: "obs-fold (a value continued on the next line)", pieces: [CL("x", "X-Folded: a\r\n b\r\n")], then: "end" },
  { name: "bare LF line endings", pieces: ["HTTP/1.1 200 OK\nContent-Length: 2\n\nok"], then: "end" },
  { name: "a four-digit status", pieces: ["HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"], then: "end" },
  { name: "not HTTP at all", pieces: ["hello world\r\n\r\n"], then: "end" },
  { name: "lower-case protocol name", pieces: ["http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], then: "end" },
  { name: "HTTP/2.0 in a text status line", pieces: ["HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"], then: "end" },
  { name: "both Content-Length and chunked", pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"], then: "end" },
  { name: "two different Content-Lengths", pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"], then: "end" },
  { name: "a space before the colon", pieces: ["HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok"], then: "end" },
  { name: "a space in a header name", pieces: ["HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok"], then: "end" },
  { name: "a NUL in a value", pieces: ["HTTP/1.1 200 OK\r\nX-Nul: a\u0000b\r\nContent-Length: 2\r\n\r\nok"], then: "end" },
  { name: "a chunk size that is not hex", pieces: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"], then: "end" },
  { name: "a Content-Length with a plus sign", pieces: ["HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok"], then: "end" },
  { name: "headers past the bound", pieces: [`HTTP/1.1 200 OK\r\n${"X-Pad: " + "a".repeat(100) + "\r\n"}`.repeat(1) + `X-Big: ${"b".repeat(MAX_HEADER_BYTES)}\r\nContent-Length: 0\r\n\r\n`], then: "end" },
  { name: "101 to a request that asked for no upgrade", pieces: ["HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"], then: "keep" },
  // Cut short.
  { name: "FIN before anything", pieces: [], then: "end" },
  { name: "FIN in the middle of the headers", pieces: ["HTTP/1.1 200 OK\r\nContent-Ty"], then: "end" },
  { name: "FIN before the length is reached", pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"], then: "end" },
  { name: "FIN before the last chunk", pieces: ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"], then: "end" },
  { name: "RST in the middle of a body", pieces: ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"], then: "reset" },
];

/** What either client made of a response. */
interface Outcome {
  failure: Failure | null;
  status?: number;
  headers?: Array<[string, string]>;
  body?: string;
}

let port = 0;
afterAll(closeAll);

async function server(): Promise<number> {
  if (port) return port;
  port = await tcpServer((s) => {
    s.on("error", () => {});
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      const path = /^GET (\S+) /.exec(got)?.[1] ?? "";
      const c = CORPUS[Number(path.slice(1))];
      if (!c) return void s.destroy();
      void (async () => {
        for (const p of c.pieces) {
          if (s.destroyed) return;
          s.write(p);
          await new Promise((r) => setTimeout(r, 5));
        }
        if (c.then === "end") s.end();
        else if (c.then === "reset") s.resetAndDestroy();
      })();
    });
  });
  return port;
}

const HEADERS: Array<[string, string]> = [
  ["Host", "www.example.com"],
  ["Connection", "keep-alive"],
  ["Accept", "text/html"],
];

async function ours(i: number): Promise<Outcome> {
  const socket = net.connect(await server(), LOOPBACK);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const timer = startStepTimer(3000);
  try {
    const r = await httpExchange({
      url: new URL(`http://www.example.com/${i}`),
      socket,
      headers: HEADERS,
      signal: timer.signal,
      maxBodyBytes: 1 << 20,
      maxHeaderBytes: MAX_HEADER_BYTES,
    });
    const out: Outcome = { failure: r.failure };
    if (r.status !== undefined) {
      out.status = r.status;
      out.headers = r.headersList;
      out.body = r.bodySample?.toString("latin1");
    }
    return out;
  } finally {
    timer.dispose();
    socket.destroy();
  }
}

/** node:http's reading of the same response, with the probe's classification of its errors. */
async function nodeHttp(i: number): Promise<Outcome> {
  const p = await server();
  return new Promise<Outcome>((resolve) => {
    const out: Outcome = { failure: null };
    let settled = false;
    const settle = (failure: Failure | null) => {
      if (settled) return;
      settled = true;
      out.failure ??= failure;
      req.destroy();
      resolve(out);
    };
    const req = http.request({
      host: LOOPBACK,
      port: p,
      path: `/${i}`,
      headers: HEADERS.flatMap(([k, v]) => [k, v]),
      setHost: false,
      agent: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      insecureHTTPParser: false,
    });
    req.on("error", (err) => settle(classifyHttpError(err)));
    req.on("upgrade", (res: http.IncomingMessage) => {
      out.status = res.statusCode;
      out.headers = pairs(res.rawHeaders);
      out.body = "";
      settle("http_request_failed");
    });
    req.on("response", (res) => {
      out.status = res.statusCode;
      out.headers = pairs(res.rawHeaders);
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      const done = (failure: Failure | null) => {
        out.body = Buffer.concat(parts).toString("latin1");
        settle(failure);
      };
      res.on("end", () => done(res.complete ? null : "eof_error"));
      res.on("aborted", () => done("eof_error"));
      res.on("error", (err) => done(classifyHttpError(err)));
    });
    req.on("close", () => settle("eof_error"));
    req.end();
  });
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

describe("the HTTP/1.1 reader agrees with node:http", () => {
  it.each(CORPUS.map((c, i) => [c.name, i] as const))("%s", async (_name, i) => {
    const reference = await nodeHttp(i);
    const got = await ours(i);
    if (reference.failure === null) {
      expect(got).toEqual(reference);
    } else {
      // The same failure, and the head when node:http had one. Not the body: node:http emits
      // the bytes of a body after the error that ends it (the same chunk), so it keeps fewer.
      const { body: _ours, ...head } = got;
      const { body: _theirs, ...referenceHead } = reference;
      expect(head).toEqual(referenceHead);
    }
  });

  it("covers both sides: some responses read, some refused, some cut", async () => {
    const outcomes = await Promise.all(CORPUS.map((_c, i) => nodeHttp(i)));
    const failures = new Set(outcomes.map((o) => o.failure));
    expect(failures).toEqual(new Set([null, "http_request_failed", "eof_error", "connection_reset"]));
  });
});
