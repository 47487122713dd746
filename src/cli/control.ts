/** `reachprobe control`: run the control helper, an HTTP server that measures URLs for probes. */
import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parsePublicRanges, type Cidr } from "../net/bogons.js";
import { CONTROL_DEFAULTS, startControlServer, type ControlServer } from "../control/server.js";
import { DEFAULT_ALLOW_PORTS, parseAllowPorts } from "../control/policy.js";
import { EXIT, reportError } from "./exit-codes.js";
import { makeLogger } from "./log.js";
import { UsageError } from "../base/errors.js";
import { positiveInt } from "../base/positive-int.js";
import { durationIn } from "../base/duration.js";
import { collect, parseResolver } from "./options.js";

/** The parsed flags of `control`. */
interface ControlFlags {
  listen: { host: string; port: number };
  token?: string;
  allowPrivate?: boolean;
  publicRanges?: string;
  resolver?: Array<{ host: string; port: number }>;
  systemResolver: boolean;
  maxRequestBytes: number;
  maxEndpoints: number;
  maxBody: number;
  requestTimeout: number;
  timeout: number;
  maxConcurrent: number;
  allowPorts: number[] | "any";
  listedPortsOnly?: boolean;
  maxConnections: number;
  headerTimeout: number;
  readTimeout: number;
  logLevel: string;
}

/** Parses `--listen HOST:PORT` (`[v6]:PORT` for IPv6; port 0 picks a free one). */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(v.trim());
  const port = Number(m?.[2]);
  const host = (m?.[1] ?? "").replace(/^\[|\]$/g, "");
  if (!m || port > 65535 || (m[1]?.startsWith("[") && isIP(host) !== 6)) {
    throw new UsageError(`--listen must be HOST:PORT (IPv6 as [addr]:port; port 0 picks a free one), got "${v}"`);
  }
  return { host, port };
}

/** This process's open-file limit (Node raises the soft limit to the hard one), or null where /proc does not say. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Parses `--allow-ports`, as a usage error naming the bad item. */
function allowPortsArg(v: string): number[] | "any" {
  try {
    return parseAllowPorts(v);
  } catch (err) {
    throw new UsageError(`--allow-ports: ${(err as Error).message}`);
  }
}

/** Builds the `control` command. */
export function controlCommand(): Command {
  return new Command("control")
    .description("run the control helper: an HTTP server that measures, from this unfiltered network, the URLs probes ask about (OONI web-connectivity test helper compatible)")
    .requiredOption("--listen <host:port>", "address and port to listen on, e.g. 127.0.0.1:8080 or [::]:8080; port 0 picks a free one", parseListen)
    .addOption(new Option("--token <token>", "require Authorization: Bearer <token> on every measurement (prefer the environment variable: flags show in ps)").env("REACHPROBE_CONTROL_TOKEN"))
    .option("--allow-private", "also connect to private, loopback, link-local and other reserved addresses (never on a public helper)")
    .addOption(new Option("--public-ranges <cidrs>", "comma-separated CIDRs that count as public internet, not bogons (labs)").env("REACHPROBE_PUBLIC_RANGES"))
    .option("--resolver <ip[:port]>", "look names up with raw UDP queries to this resolver too; repeatable", collect(parseResolver))
    .option("--no-system-resolver", "do not ask the system resolver (only the --resolver ones)")
    .option("--max-request-bytes <bytes>", "largest request body accepted (larger: 413)", positiveInt("--max-request-bytes", 256, 1 << 24), CONTROL_DEFAULTS.maxRequestBytes)
    .option("--max-endpoints <n>", "most endpoints in one request's tcp_connect (more: 400); also bounds the helper's own addresses", positiveInt("--max-endpoints", 1, 256), CONTROL_DEFAULTS.maxEndpoints)
    .option("--max-body <bytes>", "read at most this much of each HTTP body", positiveInt("--max-body", 0, 1 << 30), CONTROL_DEFAULTS.maxBodyBytes)
    .option("--request-timeout <duration>", "time one request may take, all steps together (a bare number is ms)", durationIn("--request-timeout", "ms", 100, 600_000), CONTROL_DEFAULTS.requestTimeoutMs)
    .option("--timeout <duration>", "timeout of each step: one lookup, connect, handshake or HTTP hop (a bare number is ms)", durationIn("--timeout", "ms", 1, 600_000), CONTROL_DEFAULTS.stepTimeoutMs)
    .option("--max-concurrent <n>", "requests measured at once; more get 503 with Retry-After", positiveInt("--max-concurrent", 1, 4096), CONTROL_DEFAULTS.maxConcurrent)
    .option("--allow-ports <ports>", "connect to any endpoint a probe sends on these ports besides 80 and 443, and open these service ports (comma-separated, ranges a-b, none or any); a URL on another port is measured on the helper's own addresses for its host name only", allowPortsArg, [...DEFAULT_ALLOW_PORTS])
    .option("--listed-ports-only", "refuse a URL on a port that is not 80, 443 or an --allow-ports one, instead of measuring it on the helper's own addresses")
    .option("--max-connections <n>", "connections served at once; past it 503 with Retry-After, past twice it closed at once (each takes a file descriptor)", positiveInt("--max-connections", 1, 1 << 20), CONTROL_DEFAULTS.maxConnections)
    .option("--header-timeout <duration>", "time a client has to send a request's headers, from connecting or from the previous answer, however slowly it trickles them", durationIn("--header-timeout", "ms", 100, 600_000), CONTROL_DEFAULTS.headersTimeoutMs)
    .option("--read-timeout <duration>", "time a client has to send a whole request, headers and body, from the same moment", durationIn("--read-timeout", "ms", 100, 600_000), CONTROL_DEFAULTS.readTimeoutMs)
    .addOption(new Option("--log-level <level>", "log level on stderr (each request is one info line)").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"))
    .addHelpText(
      "after",
      `\nIt prints "listening on http://HOST:PORT/" on stdout once it listens, logs one JSON line a\nrequest on stderr, and exits 0 on SIGTERM or SIGINT (2 on a usage error, 1 if it cannot listen).\n\nExamples:\n  REACHPROBE_CONTROL_TOKEN=$(openssl rand -hex 24) reachprobe control --listen 127.0.0.1:8080\n  reachprobe control --listen 198.51.100.60:8080 --public-ranges 192.0.2.0/24,198.51.100.0/24,203.0.113.0/24`,
    )
    .action(async (flags: ControlFlags) => {
      process.exitCode = await controlMain(flags);
    });
}

async function controlMain(flags: ControlFlags): Promise<number> {
  let publicRanges: Cidr[];
  try {
    publicRanges = flags.publicRanges ? parsePublicRanges(flags.publicRanges) : [];
  } catch (err) {
    return reportError("control", err, "--public-ranges");
  }
  if (!flags.systemResolver && !flags.resolver?.length) {
    process.stderr.write("reachprobe: --no-system-resolver needs at least one --resolver to look names up\n");
    return EXIT.USAGE;
  }
  if (flags.token !== undefined && flags.token.trim() === "") {
    process.stderr.write("reachprobe: the token is empty; set a real one or leave --token and REACHPROBE_CONTROL_TOKEN unset\n");
    return EXIT.USAGE;
  }
  const log = makeLogger(flags.logLevel);
  let server: ControlServer;
  try {
    server = await startControlServer({
      host: flags.listen.host,
      port: flags.listen.port,
      token: flags.token ?? null,
      allowPrivate: flags.allowPrivate ?? false,
      publicRanges,
      systemResolver: flags.systemResolver,
      resolvers: flags.resolver ?? [],
      maxRequestBytes: flags.maxRequestBytes,
      maxEndpoints: flags.maxEndpoints,
      maxBodyBytes: flags.maxBody,
      requestTimeoutMs: flags.requestTimeout,
      stepTimeoutMs: flags.timeout,
      maxConcurrent: flags.maxConcurrent,
      allowPorts: flags.allowPorts,
      listedPortsOnly: flags.listedPortsOnly ?? false,
      maxConnections: flags.maxConnections,
      headersTimeoutMs: flags.headerTimeout,
      readTimeoutMs: Math.max(flags.readTimeout, flags.headerTimeout),
      logger: log,
    });
  } catch (err) {
    process.stderr.write(`reachprobe: cannot listen on ${flags.listen.host}:${flags.listen.port}: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  const fds = openFileLimit();
  if (fds !== null && fds < flags.maxConnections * 2 + 64) {
    log.warn({ open_file_limit: fds, max_connections: flags.maxConnections }, `the open-file limit (${fds}) is below what --max-connections ${flags.maxConnections} needs (${flags.maxConnections * 2 + 64}, with the 503 answers past the cap): raise it (ulimit -n, LimitNOFILE=) or lower --max-connections`);
  }
  log.info(
    { token: Boolean(flags.token), allow_private: Boolean(flags.allowPrivate), public_ranges: publicRanges.map((c) => c.text), allow_ports: flags.allowPorts === "any" ? "any" : flags.allowPorts.length, listed_ports_only: Boolean(flags.listedPortsOnly), max_connections: flags.maxConnections },
    "control helper started",
  );
  process.stdout.write(`listening on ${server.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      log.info(`${sig}: stopping`);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.close();
  // A lookup still waiting in getaddrinfo would keep the process alive; nothing is left to flush
  // (the log writes synchronously), so leave now.
  process.exit(EXIT.OK);
}
