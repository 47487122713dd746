/**
 * Judges what the configured control helper, DoH endpoints and UDP resolvers answered to the
 * doctor's one request each (probe-endpoints.ts makes them). Pure.
 */
import type { Failure } from "../net/failures.js";
import { check, type Check } from "./check.js";

/** What a failure string means when talking to a server the user configured, and what to do. */
export function failureAdvice(failure: Failure, timeoutMs: number): { meaning: string; fix: string } {
  switch (failure) {
    case "connection_refused":
      return { meaning: "nothing listens there (connection refused)", fix: "check that the server is running and that the port is right" };
    case "generic_timeout_error":
    case "timed_out":
      return {
        meaning: `no answer within ${timeoutMs} ms`,
        fix: "check that the server is up and the address right; if it is, this network may drop the traffic (censors block controls too): try another one, or a longer --timeout",
      };
    case "host_unreachable":
    case "network_unreachable":
    case "network_down":
      return { meaning: `no route to it (${failure})`, fix: "this machine has no network path there: check the address and this machine's network" };
    case "connection_reset":
      return { meaning: "the connection was reset", fix: "something on the path (or the server) cuts the connection: try another server, or another port" };
    case "eof_error":
      return { meaning: "the server closed the connection before answering", fix: "check that the URL points at the right service (http:// or https://, port, path)" };
    case "ssl_unknown_authority":
      return { meaning: "its certificate is signed by a CA this machine does not trust (ssl_unknown_authority)", fix: "for a private CA, set NODE_EXTRA_CA_CERTS to its PEM file; otherwise something on the path substitutes certificates" };
    case "ssl_invalid_hostname":
      return { meaning: "its certificate is for another name (ssl_invalid_hostname)", fix: "use the name the certificate was issued for in the URL" };
    case "ssl_invalid_certificate":
      return { meaning: "its certificate is not valid (ssl_invalid_certificate: expired, or not yet valid)", fix: "check this machine's clock (the clock line above); renew the server's certificate if it expired" };
    case "ssl_failed_handshake":
      return { meaning: "the TLS handshake failed (ssl_failed_handshake)", fix: "check http:// against https:// and the port: the server may not speak TLS there" };
    case "dns_nxdomain_error":
      return { meaning: "its name does not exist (dns_nxdomain_error)", fix: "check the host name in the URL" };
    case "dns_no_answer":
    case "dns_servfail_error":
    case "dns_server_misbehaving":
    case "dns_refused_error":
    case "dns_bogon_error":
      return { meaning: `its name could not be looked up (${failure})`, fix: "check the host name; or use the server's IP address in the URL" };
    case "http_request_failed":
      return { meaning: "it answered with an HTTP error", fix: "check the URL's path" };
    default:
      return { meaning: failure, fix: "check the address and that the server is running" };
  }
}

/** What the doctor's two requests to the control helper produced. */
export interface ControlFacts {
  url: string;
  tokenGiven: boolean;
  timeoutMs: number;
  /** `GET /`: the status and parsed JSON body (null when not JSON), or the failure. */
  health: { status: number; body: unknown; latencyMs: number } | { failure: Failure; latencyMs: number };
  /**
   * `POST /` with an empty request `{}`, which a helper refuses without measuring anything:
   * 400 once the token is accepted, 401 when it is not. Absent when GET / already failed.
   */
  auth?: { status: number } | { failure: Failure };
}

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}

/** Judges the control helper: reachable, a reachprobe (or OONI) helper, and accepting our token. */
export function judgeControl(f: ControlFacts, ourVersion: string): Check {
  const details: Record<string, unknown> = { url: f.url, token: f.tokenGiven, health: f.health, auth: f.auth ?? null };
  const fail = (failure: Failure) => {
    const a = failureAdvice(failure, f.timeoutMs);
    return check("control", "fail", `control ${f.url}: ${a.meaning}`, a.fix, { ...details, failure });
  };
  if ("failure" in f.health) return fail(f.health.failure);
  const tokenFix = f.tokenGiven
    ? "the token is wrong: set --control-token (or REACHPROBE_CONTROL_TOKEN) to the token the helper was started with"
    : "the helper needs a token: pass --control-token TOKEN or set REACHPROBE_CONTROL_TOKEN";
  const health = f.health;
  if (health.status === 401 || health.status === 403) {
    return check("control", "fail", `control ${f.url}: refused (HTTP ${health.status}): token ${f.tokenGiven ? "wrong" : "missing"}`, tokenFix, details);
  }
  const body = health.body as { ok?: unknown; version?: unknown } | null;
  const isOurs = health.status === 200 && body !== null && typeof body === "object" && body.ok === true;
  const version = isOurs && typeof body.version === "string" ? body.version : null;
  const who = isOurs ? `reachprobe control ${version ?? "(version not given)"}` : `answers GET / with HTTP ${health.status}, not as reachprobe's helper (OONI's helper does that)`;
  if (f.auth && "failure" in f.auth) return fail(f.auth.failure);
  const authStatus = f.auth?.status;
  if (authStatus === 401 || authStatus === 403) {
    return check("control", "fail", `control ${f.url}: ${who}, but refuses requests (HTTP ${authStatus}): token ${f.tokenGiven ? "wrong" : "missing"}`, tokenFix, details);
  }
  if (authStatus === 404 || authStatus === 405) {
    return check("control", "fail", `control ${f.url}: ${who}, but POST / is refused (HTTP ${authStatus}): this is not a control helper`, "check the URL: it must be where reachprobe control (or OONI's web-connectivity test helper) answers POST /", details);
  }
  if (authStatus === 503) {
    return check("control", "warn", `control ${f.url}: ${who}, in ${ms(health.latencyMs)}, but busy (HTTP 503)`, "the helper is at its --max-concurrent limit: lower --concurrency, or give the helper more slots", details);
  }
  if (authStatus !== undefined && authStatus >= 500) {
    return check("control", "fail", `control ${f.url}: ${who}, but requests fail (HTTP ${authStatus})`, "look at the helper's log", details);
  }
  const token = f.tokenGiven ? "token accepted" : "no token needed";
  const versionNote = version && version !== ourVersion ? ` (this reachprobe is ${ourVersion})` : "";
  const status = isOurs ? "ok" : "warn";
  const fix = isOurs ? undefined : "if this is not OONI's helper, check the URL";
  return check("control", status, `control ${f.url}: ${who}${versionNote}, ${token}, in ${ms(health.latencyMs)}`, fix, details);
}

/** What one DNS query to a configured server produced (DoH or UDP). */
export interface DnsFacts {
  kind: "doh" | "resolver";
  /** The DoH URL or the resolver's `ip:port`. */
  server: string;
  name: string;
  timeoutMs: number;
  latencyMs: number;
  /** The response code, or null when no valid response came. */
  rcode: string | null;
  addresses: string[];
  failure: Failure | null;
  /** UDP: how many responses arrived, including malformed ones. */
  responses?: number;
}

/** Judges one DoH endpoint or UDP resolver: any DNS answer means it works; no answer must be fixed. */
export function judgeDns(f: DnsFacts): Check {
  const label = f.kind === "doh" ? `DoH ${f.server}` : `resolver ${f.server}`;
  const details = { server: f.server, name: f.name, rcode: f.rcode, addresses: f.addresses, failure: f.failure, latency_ms: Math.round(f.latencyMs), ...(f.responses !== undefined ? { responses: f.responses } : {}) };
  if (f.rcode === null) {
    const failure = f.failure ?? "generic_timeout_error";
    if (failure.startsWith("unknown_failure: malformed") || failure.startsWith("unknown_failure: undecodable")) {
      return check(f.kind, "fail", `${label}: answered with something that is not DNS (${failure})`, "check the address: something else listens there", details);
    }
    const a = failureAdvice(failure, f.timeoutMs);
    const fix = f.kind === "doh" && failure === "http_request_failed" ? "check the URL's path (usually /dns-query)" : a.fix;
    return check(f.kind, "fail", `${label}: ${a.meaning}`, fix, details);
  }
  const asked = `${f.name} A`;
  if (f.rcode === "NOERROR") {
    const got = f.addresses.length > 0 ? f.addresses.slice(0, 4).join(", ") + (f.addresses.length > 4 ? ", ..." : "") : "no address";
    return check(f.kind, "ok", `${label}: answered ${asked} with ${got} in ${ms(f.latencyMs)}`, undefined, details);
  }
  if (f.rcode === "NXDOMAIN") {
    return check(f.kind, "ok", `${label}: answered in ${ms(f.latencyMs)} (NXDOMAIN: ${f.name} does not exist there, but the server works)`, undefined, details);
  }
  return check(
    f.kind,
    "warn",
    `${label}: answers, but with ${f.rcode} for ${asked} (in ${ms(f.latencyMs)})`,
    f.rcode === "REFUSED" ? "the server refuses to resolve for this machine: use one that serves the public" : "the server could not resolve the name: try again later, or another server",
    details,
  );
}
