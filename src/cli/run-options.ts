/**
 * The options of `run`: flags, defaults, environment variables and help. The configuration file
 * is checked against them (`config check`, `doctor`), so they live apart from the run itself.
 */
import { Command, Option } from "commander";
import { configOption, noConfigOption } from "../config/apply.js";
import { positiveInt } from "../base/positive-int.js";
import { DEFAULT_PROBE_CONFIG, DEFAULT_SWAP_NAME } from "../probes/config.js";
import { DEFAULT_CANARY, DEFAULT_DNS_OPERATORS, resolverText } from "../config/defaults.js";
import { EXIT_HELP } from "./exit-codes.js";
import { collect, parseCategoryFlag, parseControlUrl, parseDohUrl, parseLabel, parseResolver, parseSwapName, parseWaitFlag } from "./options.js";
import { DEFAULT_SAMPLE_BYTES } from "../net/http-exchange.js";
import { createDirsOption, dbOption } from "./db-option.js";
import { durationIn } from "../base/duration.js";

/** The parsed flags of `run`. */
export interface RunFlags {
  list?: string;
  file?: string[];
  db?: string;
  createDirs?: boolean;
  store: boolean;
  json?: boolean;
  metrics?: string;
  resolver?: Array<{ host: string; port: number }>;
  doh?: string[];
  dnsControl: boolean;
  yes?: boolean;
  dryRun?: boolean;
  control?: string;
  controlToken?: string;
  systemResolver: boolean;
  timeout: number;
  budget?: number;
  concurrency: number;
  dnsWindow: number;
  maxAddresses: number;
  maxBody: number;
  bodySample: number;
  userAgent: string;
  publicRanges?: string;
  fingerprints: string;
  canary?: string | false;
  logLevel: string;
  networkLabel?: string;
  quiet?: boolean;
  wait?: number | true | string;
  notice: boolean;
  asnDb?: string;
  category?: string[];
  swap: boolean;
  sniSwap: string;
  hostSwap: string;
  push?: boolean;
  pushTo?: string;
  pushTokenFile?: string;
}

/** The `run` command with its arguments and options, and no action: what a config file is checked against. */
export function runOptions(): Command {
  return new Command("run")
    .description("probe targets (the bundled WeChat list by default), print a verdict for each, and store the results")
    .argument("[targets...]", "targets: https://host/path, http://host/path, tcp://host:port, or a bare host (= https://host/)")
    .addOption(configOption())
    .addOption(noConfigOption())
    .option("--list <name>", "a bundled target list (see targets/); default: wechat, when no target or file is given")
    .option("--file <path>", "a target list: JSON (as in targets/), a Citizen Lab test-list CSV, or text with one target a line and # comments; repeatable", collect(String))
    .option("--category <codes>", "with Citizen Lab CSV files: only these category codes (e.g. NEWS,HUMR); repeatable", parseCategoryFlag)
    .addOption(dbOption("SQLite database to store results in"))
    .addOption(createDirsOption())
    .option("--no-store", "store nothing: print the verdicts and forget them")
    .option("--json", "print one JSON document on stdout instead of the human report")
    .option("--metrics <file>", "also write the run's results for Prometheus (node_exporter's textfile collector, a .prom file), replaced whole after each run")
    .option("--resolver <ip[:port]>", `also ask this resolver with raw UDP queries, keeping every answer; repeatable (default, with consent: ${DEFAULT_DNS_OPERATORS.map((o) => resolverText(o.resolver)).join(", ")}; with --doh or --resolver given, only those are asked)`, collect(parseResolver))
    .addOption(new Option("--control <url>", "a control helper (reachprobe control, or OONI's web-connectivity test helper) that measures each target from outside").env("REACHPROBE_CONTROL").argParser(parseControlUrl))
    .addOption(new Option("--control-token <token>", "bearer token for the control helper").env("REACHPROBE_CONTROL_TOKEN"))
    .option("--doh <url>", `also ask this DNS-over-HTTPS endpoint (RFC 8484), as a control; repeatable (default, with consent: ${DEFAULT_DNS_OPERATORS.map((o) => o.doh).join(", ")})`, collect(parseDohUrl))
    .option("--no-dns-control", "ask none of the default public resolvers (those given with --doh or --resolver are still asked)")
    .option("--no-system-resolver", "do not ask the system resolver (only the --resolver ones)")
    .option("--timeout <duration>", "timeout of each step: one lookup, connect, handshake or HTTP hop (5s, 1500ms; a bare number is ms)", durationIn("--timeout", "ms", 1, 600_000), DEFAULT_PROBE_CONFIG.stepTimeoutMs)
    .option("--budget <duration>", "time budget of each target, all steps together (default: 4 x timeout + DNS window; a bare number is ms)", durationIn("--budget", "ms", 1, 3_600_000))
    .option("-j, --concurrency <n>", "targets probed at once", positiveInt("--concurrency", 1, 4096), 16)
    .option("--dns-window <duration>", "after the first UDP answer, keep listening this long for more (a bare number is ms)", durationIn("--dns-window", "ms", 0, 60_000), DEFAULT_PROBE_CONFIG.dnsWindowMs)
    .option("--max-addresses <n>", "addresses connected to per target", positiveInt("--max-addresses", 1, 64), DEFAULT_PROBE_CONFIG.maxAddresses)
    .option("--user-agent <string>", "the User-Agent sent, and from which the client hints a browser sends with it are derived (default: a current stable desktop Chrome's; docs/browser-request.md)", DEFAULT_PROBE_CONFIG.userAgent)
    .option("--max-body <bytes>", "read at most this much of each HTTP body", positiveInt("--max-body", 0, 1 << 30), DEFAULT_PROBE_CONFIG.maxBodyBytes)
    .option("--body-sample <bytes>", "keep at most this much of each HTTP body as its sample (stored, and exported as OONI's response body)", positiveInt("--body-sample", 0, 1 << 30), DEFAULT_SAMPLE_BYTES)
    .option("--sni-swap <name>", "when a TLS handshake fails, repeat it to the same address with this innocuous SNI (docs/verdicts.md, proof without a helper)", parseSwapName("--sni-swap"), DEFAULT_SWAP_NAME)
    .option("--host-swap <name>", "when a plain-HTTP request fails or gets an error status, repeat it to the same address with this innocuous Host", parseSwapName("--host-swap"), DEFAULT_SWAP_NAME)
    .option("--no-swap", "make no swap: repeat nothing with an innocuous SNI or Host, nor at a witness resolver's address")
    .addOption(new Option("--public-ranges <cidrs>", "comma-separated CIDRs that count as public internet, not bogons (labs)").env("REACHPROBE_PUBLIC_RANGES"))
    .option("--fingerprints <spec>", "block-page fingerprints: bundled, ooni:DIR_OR_FILE, a CSV path, or a comma-separated mix", "bundled")
    .option("--canary <url>", `a target that should always work, probed first to tell a dead network from blocking (default: the list's, else ${DEFAULT_CANARY})`)
    .option("--no-canary", "probe no canary")
    .addOption(new Option("--network-label <label>", 'the network this run measures from, e.g. "Rostelecom Moscow": history and changes are kept apart per network').env("REACHPROBE_NETWORK_LABEL").argParser(parseLabel))
    .addOption(new Option("--asn-db <path>", "a MaxMind-format ASN/country database (.mmdb): records the probe's ASN and country (never its address), and lets answers in the control's ASN count as consistent").env("REACHPROBE_ASN_DB"))
    .option("-q, --quiet", "print nothing unless something needs a human: blocking or anomalies found, or an error")
    .option("--wait [duration]", "if another run holds the database, wait for it (up to DURATION, default 1h; a bare number is seconds) instead of exiting with 6", parseWaitFlag("--wait"))
    .option("--push", "after the run, push what the fleet collector has not acknowledged (docs/fleet.md); a failed push loses nothing")
    .addOption(new Option("--push-to <url>", "the collector for --push").env("REACHPROBE_PUSH_URL"))
    .option("--push-token-file <file>", "the probe's token for --push (else $REACHPROBE_PUSH_TOKEN)")
    .option("--no-notice", "do not show the first-run notice about what is sent where and the risk (nor ask for consent: the default public resolvers are then asked only if consent was given before)")
    .option("--yes", "consent to what the notice lists without being asked, for scripts: the default public resolvers are asked (not remembered)")
    .option("--dry-run", "print, as JSON, what this run would probe and which third parties it would contact, and exit; nothing is sent")
    .addOption(new Option("--log-level <level>", "log level on stderr").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"))
    .addHelpText("after", `\n${EXIT_HELP}\n\nExamples:\n  reachprobe run                          # the bundled WeChat list\n  reachprobe run --json weixin.qq.com tcp://long.weixin.qq.com:8080\n  reachprobe run --file my-targets.txt --resolver 192.0.2.53`);
}
