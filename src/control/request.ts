/**
 * Checks a ControlRequest as it arrives from a stranger: every field typed and bounded, the
 * URL http(s), each endpoint an `ip:port`. Pure; the address policy is applied by the server.
 */
import { isIP } from "node:net";
import { joinHostPort, splitHostPort } from "../net/addr.js";

/** A request the helper can measure. */
export interface ParsedRequest {
  url: URL;
  /** The URL's host without IPv6 brackets. */
  host: string;
  /** The port the helper connects to for its own addresses and the HTTP fetch. */
  port: number;
  /** The probe's endpoints, deduplicated, in the order sent. */
  endpoints: Array<{ ip: string; port: number; key: string }>;
  /** The probe's User-Agent, when it sent a usable one. */
  userAgent: string | null;
}

/** Why a request was rejected: an HTTP status, a stable reason code, and words for the caller. */
export interface RequestError {
  status: number;
  reason: string;
  error: string;
}

/** Longest URL accepted; browsers and OONI's lists stay far below it. */
export const MAX_URL_LENGTH = 4096;

const bad = (reason: string, error: string): RequestError => ({ status: 400, reason, error });

/** Validates a parsed JSON body; `maxEndpoints` bounds tcp_connect. */
export function parseControlRequest(body: unknown, maxEndpoints: number): { request: ParsedRequest } | { rejected: RequestError } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { rejected: bad("invalid_request", "the body must be a JSON object") };
  const b = body as Record<string, unknown>;

  const raw = b.http_request;
  if (typeof raw !== "string" || raw === "") return { rejected: bad("invalid_request", `"http_request" must be a URL string`) };
  if (raw.length > MAX_URL_LENGTH) return { rejected: bad("invalid_request", `"http_request" is longer than ${MAX_URL_LENGTH} characters`) };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { rejected: bad("invalid_request", `"http_request" is not a valid URL`) };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { rejected: bad("invalid_request", `"http_request" must be an http or https URL, not ${url.protocol}`) };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "") return { rejected: bad("invalid_request", `"http_request" has no host`) };
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);

  const headers = b.http_request_headers;
  if (headers !== undefined && headers !== null && (typeof headers !== "object" || Array.isArray(headers))) {
    return { rejected: bad("invalid_request", `"http_request_headers" must be an object of lists of strings`) };
  }
  let userAgent: string | null = null;
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
    const values = typeof value === "string" ? [value] : value;
    if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
      return { rejected: bad("invalid_request", `"http_request_headers"."${name.slice(0, 64)}" must be a list of strings`) };
    }
    const first = values[0] as string | undefined;
    // Only the User-Agent is passed on (as OONI's helper passes a few): a stranger's headers
    // must not steer what the helper sends. Control characters would make undici throw.
    if (name.toLowerCase() === "user-agent" && first && first.length <= 512 && !/[\x00-\x1f\x7f]/.test(first)) userAgent = first;
  }

  const list = b.tcp_connect ?? [];
  if (!Array.isArray(list)) return { rejected: bad("invalid_request", `"tcp_connect" must be a list of "ip:port" strings`) };
  if (list.length > maxEndpoints) {
    return { rejected: bad("too_many_endpoints", `"tcp_connect" lists ${list.length} endpoints; this helper measures at most ${maxEndpoints} (--max-endpoints)`) };
  }
  const endpoints: ParsedRequest["endpoints"] = [];
  const seen = new Set<string>();
  for (const [i, item] of list.entries()) {
    const ep = typeof item === "string" && /:\d{1,5}$/.test(item) ? splitHostPort(item, 0) : null;
    if (!ep || isIP(ep.host) === 0) {
      const shown = typeof item === "string" ? JSON.stringify(item.slice(0, 64)) : typeof item;
      return { rejected: bad("invalid_request", `"tcp_connect"[${i}] ${shown} is not "ip:port" (IPv6 as [addr]:port)`) };
    }
    // Only the URL's port: otherwise strangers could use the helper to scan any port of any
    // public address. OONI's probes always send the URL's port.
    if (ep.port !== port) {
      return { rejected: bad("invalid_request", `"tcp_connect"[${i}] ${JSON.stringify(item)} is not on the URL's port ${port}; this helper only connects to that port`) };
    }
    const key = joinHostPort(ep.host, ep.port);
    if (seen.has(key)) continue;
    seen.add(key);
    endpoints.push({ ip: ep.host, port: ep.port, key });
  }
  return { request: { url, host, port, endpoints, userAgent } };
}
