/**
 * The Host swap: a plain-HTTP request that failed (reset, timeout, EOF...) or was answered with
 * an error status is sent again to the same address, on a new connection, with an innocuous
 * Host (cfg.hostSwap) and every other header as sent. A server that answers the other name
 * while ours was reset shows that the Host was filtered, with no helper (docs/verdicts.md,
 * "Proof without a helper"). Observations only, tagged `host_swap`.
 */
import { isIP } from "node:net";
import { splitHostPort } from "../net/addr.js";
import type { ProbeConfig } from "./config.js";
import type { HttpObservation, TcpObservation } from "./observation.js";
import { requestOver } from "./http.js";
import { tcpStep } from "./tcp.js";
import type { StepSignal } from "../net/deadline.js";

const REDIRECT = (status: number) => status >= 300 && status < 400;

/**
 * True when `obs` (the last request of a navigation) calls for a Host swap: a plain-HTTP request
 * of the target's own that got no response but a failure, or a response with status 400 or
 * more, or a response whose body was cut by a failure. A redirect the probe chose not to follow
 * (a loop, too many, a policy) is not one: the server answered.
 */
export function needsHostSwap(obs: HttpObservation): boolean {
  if (obs.purpose || !obs.url.startsWith("http:")) return false;
  if (obs.status === undefined) return obs.failure !== null;
  return obs.status >= 400 || (obs.failure !== null && !REDIRECT(obs.status));
}

/**
 * The innocuous name for a Host swap of `obs`, or null when there is none: no name configured,
 * no swap needed (needsHostSwap), the URL's host already is that name or an IP literal, or the
 * target's budget is spent.
 */
export function hostSwapName(obs: HttpObservation, cfg: Pick<ProbeConfig, "hostSwap">, budget: StepSignal): string | null {
  const name = cfg.hostSwap;
  if (!name || budget.aborted || !needsHostSwap(obs)) return null;
  const host = new URL(obs.url).hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0 || host.toLowerCase() === name.toLowerCase()) return null;
  return name;
}

/**
 * The headers of `sent` with the Host value's name replaced by `name` (an explicit port kept),
 * in the same place; every other header as it was sent.
 */
export function swappedHeaders(sent: Record<string, string>, name: string): Array<[string, string]> {
  return Object.entries(sent).map(([k, v]): [string, string] => {
    if (k.toLowerCase() !== "host") return [k, v];
    const port = /:(\d+)$/.exec(v)?.[1];
    return [k, port ? `${name}:${port}` : name];
  });
}

/**
 * Sends `original`'s request again to its address with Host `name`; returns the swap's TCP
 * observation and, when it connected, its HTTP observation (url and hop as the original's,
 * `swappedHost` set). Leaves no socket open.
 */
export async function hostSwap(original: HttpObservation, name: string, cfg: ProbeConfig, budget: StepSignal): Promise<Array<TcpObservation | HttpObservation>> {
  const ep = splitHostPort(original.address, 80);
  if (!ep) return [];
  const { obs: tcp, socket } = await tcpStep(ep.host, ep.port, cfg, budget);
  tcp.purpose = "host_swap";
  if (original.hop > 0) tcp.hop = original.hop;
  if (!socket) return [tcp];
  const headers = swappedHeaders(original.requestHeaders, name);
  const r = await requestOver(new URL(original.url), { socket, ip: ep.host, port: ep.port, alpn: null }, original.hop, headers, cfg, budget);
  socket.destroy();
  return [tcp, { ...r.obs, purpose: "host_swap", swappedHost: name }];
}
