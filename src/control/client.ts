/**
 * Asks a control helper (reachprobe's or OONI's) what it sees for one URL. Never throws for
 * network errors: the outcome is a response or a failure string from the closed list.
 */
import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Failure } from "../net/failures.js";
import { unknownFailure } from "../net/failures.js";
import { classifyHttpError } from "../net/classify.js";
import { abortReason, startStepTimer, toAbortSignal, type StepSignal } from "../net/deadline.js";
import { boundedRequest, failureUnless200 } from "../net/bounded-request.js";
import { invalidResponse, type ControlRequest, type ControlResponse } from "../probes/control-wire.js";

export { redactControlUrl } from "./redact.js";

/** Largest helper response read; a real one is a few kilobytes. */
export const MAX_CONTROL_RESPONSE_BYTES = 1 << 20;
/** Largest health answer read (`GET /`); a real one is under a hundred bytes. */
export const MAX_PING_RESPONSE_BYTES = 64 * 1024;

/**
 * Where to send a request to the helper and with what authorization: credentials in the URL
 * (`https://user:pass@host/`, for a helper behind a reverse proxy) become HTTP Basic; a bearer
 * token, when given, is sent instead.
 * QUIRK: undici's request() drops a URL's user name and password without a word (seen with
 * undici 7: no Authorization header reached a loopback server).
 */
export function helperTarget(url: string, token: string | undefined): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  let headers: Record<string, string> = {};
  if (u.username || u.password) {
    const basic = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers = { authorization: `Basic ${Buffer.from(basic).toString("base64")}` };
    u.username = "";
    u.password = "";
  }
  if (token) headers = { authorization: `Bearer ${token}` };
  return { url: u.href, headers };
}

/** The failure of an answer that did not stop at `max` bytes (a censor on a plain-http path can inject an endless one). */
function tooLarge(max: number): Failure {
  return unknownFailure(`invalid control response: larger than ${max} bytes`);
}

/** One query to a helper. */
export interface ControlQuery {
  /** The helper's URL, e.g. `https://control.example.org/`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  request: ControlRequest;
  /** Bound on the whole exchange, connect to last byte. */
  timeoutMs: number;
  /** Aborts the query (the run stopping); ends as a generic_timeout_error like the timer. */
  signal?: StepSignal;
}

/** What a query produced: a checked response, or a failure (with the HTTP status when one came). */
export interface ControlOutcome {
  response: ControlResponse | null;
  failure: Failure | null;
  status?: number;
}

/** POSTs the request to the helper and checks what comes back. */
export async function queryControl(q: ControlQuery): Promise<ControlOutcome> {
  const timer = startStepTimer(q.timeoutMs, q.signal);
  const signal = timer.signal;
  try {
    const to = helperTarget(q.url, q.token);
    const send = () =>
      boundedRequest({
        method: "POST",
        url: to.url,
        body: JSON.stringify(q.request),
        headers: { "content-type": "application/json", accept: "application/json", ...to.headers },
        signal,
        maxBodyBytes: MAX_CONTROL_RESPONSE_BYTES,
        tooLarge: tooLarge(MAX_CONTROL_RESPONSE_BYTES),
        // The process's pool: a run asks the same helper for every target.
        dispatcher: "shared",
      });
    let res = await send();
    // A busy helper (503) says when to come back; two short waits are worth it, a long one is not.
    for (let retry = 0; res.status === 503 && retry < 2; retry++) {
      const after = Math.min(2, Math.max(0.2, Number(res.headers?.["retry-after"]) || 1));
      try {
        await sleep(after * 1000, undefined, { signal: toAbortSignal(signal) });
      } catch {
        return { response: null, failure: classifyHttpError(abortReason(signal)) };
      }
      res = await send();
    }
    const failed = failureUnless200(res);
    if (failed) return { response: null, failure: failed, ...(res.status !== undefined ? { status: res.status } : {}) };
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString("utf8"));
    } catch {
      return { response: null, failure: unknownFailure("invalid control response: not JSON"), status: 200 };
    }
    const why = invalidResponse(parsed);
    if (why) return { response: null, failure: unknownFailure(`invalid control response: ${why}`), status: 200 };
    return { response: parsed as ControlResponse, failure: null, status: 200 };
  } finally {
    timer.dispose();
  }
}

/** What a health check found: whether the helper is up, and the caller's address as it saw it. */
export interface ControlPing {
  ok: boolean;
  failure: Failure | null;
  status?: number;
  /** The probe's public address as the helper saw it (reachprobe helpers only); used for the ASN lookup, never stored. */
  clientIp?: string | null;
}

/**
 * Asks a helper whether it is up (`GET /`), as a preflight; never throws. An answer larger than
 * MAX_PING_RESPONSE_BYTES is a failure: what answers like that is not a helper to rely on.
 */
export async function pingControl(url: string, token: string | undefined, timeoutMs: number): Promise<ControlPing> {
  const timer = startStepTimer(timeoutMs);
  try {
    const to = helperTarget(url, token);
    const res = await boundedRequest({
      method: "GET",
      url: to.url,
      headers: to.headers,
      signal: timer.signal,
      maxBodyBytes: MAX_PING_RESPONSE_BYTES,
      tooLarge: tooLarge(MAX_PING_RESPONSE_BYTES),
      dispatcher: "shared",
    });
    const failed = failureUnless200(res);
    if (failed) return { ok: false, failure: failed, ...(res.status !== undefined ? { status: res.status } : {}) };
    let clientIp: string | null = null;
    try {
      const v = (res.body.length < 4096 ? JSON.parse(res.body.toString("utf8")) : null) as { x_client_ip?: unknown } | null;
      if (typeof v?.x_client_ip === "string" && isIP(v.x_client_ip)) clientIp = v.x_client_ip;
    } catch {
      /* an OONI helper, or garbage: up, but no address */
    }
    return { ok: true, failure: null, status: 200, clientIp };
  } finally {
    timer.dispose();
  }
}
