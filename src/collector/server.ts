/**
 * The collector (docs/fleet.md): an HTTP(S) endpoint that takes probes' batches, checks the
 * bearer token (which decides the probe), validates the batch (validate.ts) and writes it in one
 * transaction (src/store/pg/ingest.ts). Answers are JSON: {"ok":true,...} or {"error": "..."}.
 *
 *   POST /v1/batches   Authorization: Bearer <token>, a JSON batch  -> 200 what was written
 *   GET  /v1/health    -> 200 {"ok":true}
 *
 * 400 a bad batch (nothing written), 401 no or an unknown token, 403 a revoked or expired
 * token, 409 a batch that claims another probe's rows, 413 too large, 503 the database failed.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type pg from "pg";
import { BatchConflict, ingestBatch, type IngestResult } from "../store/pg/ingest.js";
import { checkToken } from "../store/pg/tokens.js";
import { BatchInvalid, validateBatch } from "./validate.js";

/** The largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** How the collector is set up. */
export interface CollectorOptions {
  pool: pg.Pool;
  /** The database's URL without password: the key of its partition cache. */
  database: string;
  tls?: { cert: Buffer; key: Buffer };
  now?: () => Date;
  /** One line per request that failed or wrote something, for the log. */
  log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) return reject(new HttpError(413, `the batch is ${declared} bytes; at most ${MAX_BODY_BYTES} are accepted`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new HttpError(413, `the batch is over ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// Transient conflicts between concurrent batches: a deadlock, a serialization failure, or two
// pushes of one new run racing on its key. The batch is tried again from the start.
const RETRYABLE = new Set(["40P01", "40001", "23505"]);

async function ingest(o: CollectorOptions, probeId: number, body: unknown): Promise<IngestResult> {
  const batch = validateBatch(body, o.now?.() ?? new Date());
  for (let attempt = 1; ; attempt++) {
    const client = await o.pool.connect();
    try {
      return await ingestBatch(client, o.database, probeId, batch);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 5 && code !== undefined && RETRYABLE.has(code)) continue;
      throw err;
    } finally {
      client.release();
    }
  }
}

async function handle(o: CollectorOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && path === "/v1/health") return send(res, 200, { ok: true });
  if (path !== "/v1/batches") throw new HttpError(404, "no such endpoint; probes POST to /v1/batches");
  if (req.method !== "POST") throw new HttpError(405, "POST a batch to /v1/batches");
  const auth = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(req.headers.authorization ?? "");
  if (!auth) throw new HttpError(401, "no bearer token (Authorization: Bearer <token>; reachprobe collector token add NAME makes one)");
  const who = await checkToken(o.pool, auth[1]!);
  if (!who.ok) throw new HttpError(who.reason === "unknown" ? 401 : 403, `the token is ${who.reason === "unknown" ? "not known to this collector" : who.reason}`);
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "the batch is not valid JSON");
  }
  const r = await ingest(o, who.probeId, body);
  o.log?.(`${who.probe}: ${r.measurementsAdded} measurements added, ${r.measurementsDuplicate} duplicates, ${r.runsAdded} runs added, ${r.runsUpdated} updated`);
  send(res, 200, { ok: true, probe: who.probe, runs_added: r.runsAdded, runs_updated: r.runsUpdated, measurements_added: r.measurementsAdded, measurements_duplicate: r.measurementsDuplicate });
}

/** The collector's server (not yet listening). */
export function collectorServer(o: CollectorOptions): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(o, req, res).catch((err: unknown) => {
      let status = 503;
      let message: string;
      if (err instanceof HttpError) [status, message] = [err.status, err.message];
      else if (err instanceof BatchInvalid) [status, message] = [400, `batch refused, nothing written: ${err.message}`];
      else if (err instanceof BatchConflict) [status, message] = [409, `batch refused, nothing written: ${err.message}`];
      else message = `the database failed; nothing from this batch was written: ${(err as Error).message}`;
      o.log?.(`${req.method} ${req.url} -> ${status}: ${message}`);
      if (res.headersSent) res.destroy();
      else {
        // The rest of a refused body is not read: close the connection after the answer.
        res.setHeader("connection", "close");
        send(res, status, { error: message });
      }
    });
  };
  const server = o.tls ? createHttps({ cert: o.tls.cert, key: o.tls.key }, onRequest) : createHttp(onRequest);
  server.requestTimeout = 300_000;
  return server as Server;
}
