/** Small address helpers shared by the network primitives. */
import { isIP } from "node:net";

/** Formats ip and port as `ip:port`, with IPv6 in brackets. */
export function joinHostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Parses `ip`, `ip:port` or `[v6]:port` (port defaulting to defaultPort); null when it is not an address. */
export function splitHostPort(text: string, defaultPort: number): { host: string; port: number } | null {
  const t = text.trim();
  let host = t;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    host = bracket[1] ?? "";
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(t) === 0) {
    const i = t.lastIndexOf(":");
    if (i <= 0) return null;
    host = t.slice(0, i);
    port = Number(t.slice(i + 1));
  }
  if (isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}
