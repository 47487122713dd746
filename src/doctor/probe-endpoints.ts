/**
 * The doctor's only network traffic: to the control helper, DoH endpoints and UDP resolvers the
 * user configured, one small exchange each, never anywhere else. Never throws for network
 * errors: each outcome is a fact for endpoints.ts to judge.
 */
import { Agent, type Dispatcher } from "undici";
import type { Failure } from "../net/failures.js";
import { boundedRequest } from "../net/bounded-request.js";
import { startStepTimer } from "../net/deadline.js";
import { dohQuery } from "../net/doh.js";
import { udpDnsQuery } from "../net/dns-udp.js";
import { joinHostPort } from "../net/addr.js";
import type { ControlFacts, DnsFacts } from "./endpoints.js";
import { helperTarget, redactControlUrl } from "../control/client.js";

/** Largest body read from the helper's `GET /`: a health answer is a few bytes. */
const MAX_HEALTH_BYTES = 64 * 1024;

/** One request under its own timer; a health answer past the cap is judged from what came. */
async function exchange(
  url: string,
  init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string; dispatcher: Dispatcher },
  timeoutMs: number,
): Promise<{ status: number; text: string } | { failure: Failure }> {
  const timer = startStepTimer(timeoutMs);
  try {
    const res = await boundedRequest({ ...init, url, signal: timer.signal, maxBodyBytes: MAX_HEALTH_BYTES });
    if (res.status === undefined || (res.failure && !res.truncated)) return { failure: res.failure ?? "http_request_failed" };
    return { status: res.status, text: res.body.toString("utf8") };
  } finally {
    timer.dispose();
  }
}

/**
 * Asks the helper `GET /` (health: version), then `POST /` with an empty request `{}`, which
 * the helper refuses with 400 without measuring anything once the token is accepted (401 if not).
 */
export async function probeControl(url: string, token: string | undefined, timeoutMs: number): Promise<ControlFacts> {
  // An agent of its own, closed at the end: the global one keeps idle sockets open for
  // seconds, and the process would wait for them before exiting.
  const agent = new Agent();
  try {
    return await askHelper(url, token, timeoutMs, agent);
  } finally {
    agent.destroy().catch(() => {});
  }
}

async function askHelper(url: string, token: string | undefined, timeoutMs: number, dispatcher: Dispatcher): Promise<ControlFacts> {
  // Credentials in the URL are sent as the runs send them (HTTP Basic), and never printed.
  const { url: bare, headers: auth } = helperTarget(url, token);
  const t0 = performance.now();
  const got = await exchange(bare, { method: "GET", headers: { accept: "application/json", ...auth }, dispatcher }, timeoutMs);
  const latencyMs = performance.now() - t0;
  const facts: ControlFacts = { url: redactControlUrl(url), tokenGiven: Boolean(token), timeoutMs, health: { failure: "generic_timeout_error", latencyMs } };
  if ("failure" in got) {
    facts.health = { failure: got.failure, latencyMs };
    return facts;
  }
  let body: unknown = null;
  try {
    body = JSON.parse(got.text);
  } catch {
    // Not JSON: not reachprobe's helper; judged from the status.
  }
  facts.health = { status: got.status, body, latencyMs };
  const posted = await exchange(bare, { method: "POST", headers: { "content-type": "application/json", accept: "application/json", ...auth }, body: "{}", dispatcher }, timeoutMs);
  facts.auth = "failure" in posted ? { failure: posted.failure } : { status: posted.status };
  return facts;
}

/** One DoH query (POST, as runs send) for `name`, to the configured endpoint only. */
export async function probeDoh(url: string, name: string, timeoutMs: number): Promise<DnsFacts> {
  const timer = startStepTimer(timeoutMs);
  const t0 = performance.now();
  try {
    const r = await dohQuery({ url, name, qtype: "A", method: "POST", signal: timer.signal });
    return { kind: "doh", server: url, name, timeoutMs, latencyMs: performance.now() - t0, rcode: r.rcode, addresses: r.addresses, failure: r.failure };
  } finally {
    timer.dispose();
  }
}

/** One UDP query for `name` to the configured resolver, taking the first valid answer. */
export async function probeResolver(server: { host: string; port: number }, name: string, timeoutMs: number): Promise<DnsFacts> {
  const t0 = performance.now();
  const r = await udpDnsQuery({ server, name, qtype: "A", timeoutMs, windowMs: 0, now: () => performance.now() - t0 });
  const valid = r.responses.find((x) => !x.malformed);
  return {
    kind: "resolver",
    server: joinHostPort(server.host, server.port),
    name,
    timeoutMs,
    latencyMs: valid?.t ?? performance.now() - t0,
    rcode: valid?.rcode ?? null,
    addresses: valid?.addresses ?? [],
    failure: r.failure,
    responses: r.responses.length,
  };
}
