/**
 * HTTP/1.1 framing for httpExchange (http-exchange.ts): the request head we write, and a reader
 * of the response that drives llhttp, the parser node:http itself uses, in the WebAssembly
 * build that undici ships (node_modules/undici/lib/llhttp), with no lenient flag: what node:http
 * refuses this refuses, with the same HPE_* codes (classify.ts makes them http_request_failed).
 *
 * Why not node:http: for one GET on a socket we already hold, its ClientRequest, IncomingMessage
 * and their streams cost 100-150 us of CPU an exchange more than feeding the bytes to llhttp
 * here (bench/http1-bench.mjs), a tenth of a field run's CPU per target (docs/development.md,
 * "CPU per target"). tests/integration/http1-agrees.test.ts holds this reader to node:http's
 * answers over a corpus of well-formed and broken responses.
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";

/** The exports of undici's llhttp build that the reader calls. */
interface Llhttp {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_execute(parser: number, data: number, length: number): number;
  llhttp_finish(parser: number): number;
  llhttp_get_error_reason(parser: number): number;
  llhttp_errno_name(errno: number): number;
  llhttp_get_error_pos(parser: number): number;
}

/** The part of the WebAssembly global used here (the project's TypeScript libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const TYPE_RESPONSE = 2;
const OK = 0;
const PAUSED = 21;
const PAUSED_UPGRADE = 22;

/** Node's own checks on what it writes (lib/_http_common.js, lib/_http_outgoing.js). */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const INVALID_PATH = /[^\u0021-\u00ff]/;

/** An error of the request we would write or of the response read, with node:http's code. */
export class Http1Error extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "Http1Error";
  }
}

/**
 * The bytes of a GET request head: the request line and `headers` exactly as given (names,
 * case, order; nothing added), as node:http writes them (latin1). Throws Http1Error with
 * node:http's codes for what node:http would refuse to write: a path with spaces or controls
 * (ERR_UNESCAPED_CHARACTERS), a name that is not a token (ERR_INVALID_HTTP_TOKEN), a value with
 * CR, LF or another control (ERR_INVALID_CHAR).
 */
export function requestHead(path: string, headers: ReadonlyArray<readonly [string, string]>): Buffer {
  if (INVALID_PATH.test(path)) throw new Http1Error("Request path contains unescaped characters", "ERR_UNESCAPED_CHARACTERS");
  let head = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new Http1Error(`Header name must be a valid HTTP token ["${name}"]`, "ERR_INVALID_HTTP_TOKEN");
    if (INVALID_HEADER_VALUE.test(value)) throw new Http1Error(`Invalid character in header content ["${name}"]`, "ERR_INVALID_CHAR");
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, "latin1");
}

/** A final response's head (1xx other than 101 are read past, as node:http does). */
export interface ResponseHead {
  status: number;
  /** Every header as received, in order, repeats kept: [name, value]. */
  headers: Array<[string, string]>;
  /** The connection may carry another request (llhttp: HTTP/1.1 without `close`, or 1.0 with keep-alive). */
  keepAlive: boolean;
}

/** What the reader reports, in this order: a head, body chunks, the end of the message. */
export interface ResponseEvents {
  head(head: ResponseHead): void;
  /** A piece of the body, de-chunked; a view of the bytes given to `execute`, not a copy. */
  body(chunk: Buffer): void;
  complete(): void;
}

let llhttp: Llhttp | null = null;
// The reader whose execute() or finish() is running, and the bytes it handed llhttp: the
// callbacks below are the module's, and llhttp calls them synchronously from execute().
let current: ResponseReader | null = null;
let currentChunk: Buffer | null = null;
let currentPtr = 0;
// One input buffer in wasm memory for every reader: execute() copies each chunk into it.
let inputPtr = 0;
let inputSize = 0;

/** llhttp's bytes [at, at + length) of the chunk being executed, as a view of that chunk. */
function spanOf(at: number, length: number): Buffer {
  return currentChunk!.subarray(at - currentPtr, at - currentPtr + length);
}

/** The same bytes as Latin-1 text, as node:http gives names and values (no view made). */
function textOf(at: number, length: number): string {
  return currentChunk!.toString("latin1", at - currentPtr, at - currentPtr + length);
}

/**
 * llhttp, compiled and instantiated at the first HTTP/1.1 exchange (4-5 ms of CPU): a run whose
 * answers all come over HTTP/2, or that reaches no web server at all, never pays it.
 */
function loadLlhttp(): Llhttp {
  if (llhttp) return llhttp;
  const require = createRequire(import.meta.url);
  const wasm = require("undici/lib/llhttp/llhttp-wasm.js") as Buffer;
  const instance = new Wasm.Instance(new Wasm.Module(wasm), {
    env: {
      wasm_on_url: () => 0,
      wasm_on_status: (_p: number, _at: number, length: number) => current!.onHeadBytes(length),
      wasm_on_message_begin: () => current!.onMessageBegin(),
      wasm_on_header_field: (_p: number, at: number, length: number) => current!.onHeaderField(textOf(at, length)),
      wasm_on_header_value: (_p: number, at: number, length: number) => current!.onHeaderValue(textOf(at, length)),
      wasm_on_headers_complete: (_p: number, status: number, _upgrade: number, keepAlive: number) =>
        current!.onHeadersComplete(status, keepAlive === 1),
      wasm_on_body: (_p: number, at: number, length: number) => current!.onBody(spanOf(at, length)),
      wasm_on_message_complete: () => current!.onMessageComplete(),
    },
  });
  llhttp = instance.exports as unknown as Llhttp;
  return llhttp;
}

/** `value` without the spaces and tabs at its end. */
function trimOws(value: string): string {
  let end = value.length;
  while (end > 0 && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return end === value.length ? value : value.slice(0, end);
}

/** A NUL-terminated string in llhttp's memory. */
function cString(l: Llhttp, ptr: number): string {
  if (ptr === 0) return "";
  const bytes = new Uint8Array(l.memory.buffer, ptr);
  return Buffer.from(bytes.buffer, ptr, bytes.indexOf(0)).toString("latin1");
}

/**
 * Reads one HTTP/1.1 response from the bytes of a connection. Feed every chunk to `execute`
 * and the end of the stream to `finish`; each returns null or the error that ends the read.
 * Call `close` once done (it frees llhttp's state).
 */
export class ResponseReader {
  private parser: number;
  private readonly l: Llhttp;
  private headers: Array<[string, string]> = [];
  private inValue = false;
  private headBytes = 0;
  private interim = false;
  private overflow = false;
  private done = false;
  private completed = false;
  private executing = false;
  private closed = false;
  /** Bytes came after the end of the response (the connection cannot carry another request). */
  trailing = false;

  constructor(
    private readonly events: ResponseEvents,
    private readonly maxHeaderBytes: number,
  ) {
    this.l = loadLlhttp();
    this.parser = this.l.llhttp_alloc(TYPE_RESPONSE);
  }

  /** Parses `chunk`; null, or the error that ends the read (an upgrade is not one: the head was reported). */
  execute(chunk: Buffer): Http1Error | null {
    if (this.done || this.closed) return null;
    const l = this.l;
    if (chunk.length > inputSize) {
      if (inputPtr !== 0) l.free(inputPtr);
      inputSize = Math.ceil(chunk.length / 4096) * 4096;
      inputPtr = l.malloc(inputSize);
    }
    new Uint8Array(l.memory.buffer, inputPtr, chunk.length).set(chunk);
    let ret: number;
    current = this;
    currentChunk = chunk;
    currentPtr = inputPtr;
    this.executing = true;
    try {
      ret = l.llhttp_execute(this.parser, inputPtr, chunk.length);
    } finally {
      current = null;
      currentChunk = null;
      this.executing = false;
    }
    if (ret === PAUSED && this.done) this.trailing = l.llhttp_get_error_pos(this.parser) - inputPtr < chunk.length;
    return this.after(ret);
  }

  /** The connection ended: ends a body read until close; an error when the message is cut. */
  finish(): Http1Error | null {
    if (this.done || this.closed) return null;
    let ret: number;
    current = this;
    this.executing = true;
    try {
      ret = this.l.llhttp_finish(this.parser);
    } finally {
      current = null;
      this.executing = false;
    }
    return this.after(ret);
  }

  /** Frees llhttp's state; called from an event (llhttp still running), once llhttp returns. */
  close(): void {
    this.closed = true;
    if (this.executing || this.parser === 0) return;
    this.l.llhttp_free(this.parser);
    this.parser = 0;
  }

  // After llhttp returned: the response's end reported (once llhttp knows what followed it),
  // or the error; a reader closed from an event is freed now.
  private after(ret: number): Http1Error | null {
    let error: Http1Error | null = null;
    if (this.done && !this.completed) {
      this.completed = true;
      if (!this.closed) this.events.complete();
    } else if (!this.closed) {
      error = this.outcome(ret);
    }
    if (this.closed) this.close();
    return error;
  }

  private outcome(ret: number): Http1Error | null {
    if (ret === OK || this.done) return null;
    if (this.overflow) return new Http1Error("Header overflow", "HPE_HEADER_OVERFLOW");
    if (ret === PAUSED_UPGRADE) return null;
    const name = cString(this.l, this.l.llhttp_errno_name(ret));
    return new Http1Error(`Parse Error: ${cString(this.l, this.l.llhttp_get_error_reason(this.parser))}`, name);
  }

  // Node's parser counts the status line and every header name and value against its bound
  // (node_http_parser.cc, TrackHeader); a non-zero return stops llhttp with an error.
  onHeadBytes(length: number): number {
    this.headBytes += length;
    if (this.headBytes >= this.maxHeaderBytes) {
      this.overflow = true;
      return -1;
    }
    return 0;
  }

  onMessageBegin(): number {
    this.headers = [];
    this.inValue = false;
    this.headBytes = 0;
    return 0;
  }

  // A name or value may come in pieces (split across chunks); a name after a value starts a new
  // header. llhttp reports an empty value as a value of no bytes.
  onHeaderField(text: string): number {
    if (this.inValue || this.headers.length === 0) this.headers.push([text, ""]);
    else this.headers[this.headers.length - 1]![0] += text;
    this.inValue = false;
    return this.onHeadBytes(text.length);
  }

  onHeaderValue(text: string): number {
    this.headers[this.headers.length - 1]![1] += text;
    this.inValue = true;
    return this.onHeadBytes(text.length);
  }

  onHeadersComplete(status: number, keepAlive: boolean): number {
    // 1xx but 101: an interim response (100 Continue, 103 Early Hints), no body; the real one follows.
    this.interim = status >= 100 && status < 200 && status !== 101;
    if (this.interim) return 0;
    // As node:http gives them (node_http_parser.cc, ToTrimmedString): a value without the
    // spaces and tabs that end it (llhttp already left out those that begin it).
    for (const h of this.headers) h[1] = trimOws(h[1]);
    this.events.head({ status, headers: this.headers, keepAlive });
    // Names and values after this are a chunked body's trailers: not headers (node:http keeps
    // them apart, in rawTrailers); they still count against the bound, afresh.
    this.headers = [];
    this.inValue = false;
    this.headBytes = 0;
    return this.closed ? PAUSED : 0;
  }

  onBody(bytes: Buffer): number {
    if (!this.interim) this.events.body(bytes);
    // Closed from the event (the body reached its cap): stop llhttp here.
    return this.closed ? PAUSED : 0;
  }

  // Pauses llhttp at the end of the response: what follows is not read as another one.
  onMessageComplete(): number {
    if (this.interim) return 0;
    this.done = true;
    return PAUSED;
  }
}
