/**
 * Builds, and tears down, a small internet in Linux network namespaces: a client, a censor (the
 * client's ISP) that routes between the client and the internet, and the internet. What the
 * censor does and what the internet serves come from a scenario (tests/lab/scenario.mjs for the
 * test cases, tests/lab/wechat.mjs for the demo). See tests/lab/README.md for the drawing.
 *
 * Safety: no namespace gets a link to the root namespace and none has a route out of the
 * documentation ranges; `assertIsolated` checks this after set-up, before anything probes.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeCa } from "./certs.mjs";
import { listLabIds, listNamespaces, nsSh, removeNamespace, sh, startInNamespace, startServer } from "./netns.mjs";
import { ADDR, LAB_RANGES, PREFIX, namesOf } from "./topology.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
/** The repository root (tests/lab/../..). */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** The built command (a lab runs its own snapshot of it: `snapshotCli`). */
export const CLI = join(REPO, "dist", "cli", "main.js");
/**
 * What the lab starts, as a user or a scheduled run does: the launcher, which sizes the thread
 * pool before loading dist/ (README "Thread pool").
 */
export const LAUNCHER = join(REPO, "bin", "reachprobe.cjs");
/** The lab's own block-page fingerprints (OONI's CSV format). */
export const LAB_FINGERPRINTS = join(HERE, "fingerprints.csv");

/** The control helper's URL, once `lab.startControl()` has started it in the internet namespace. */
export const CONTROL_URL = `http://${ADDR.control}:${ADDR.controlPort}/`;
/** A helper URL where nothing answers: SYNs to it vanish in the internet namespace. */
export const DEAD_CONTROL_URL = `http://${ADDR.deadControl}:${ADDR.controlPort}/`;
/** The lab's DoH server (in the internet namespace), a DNS control. */
export const DOH_URL = "https://doh.lab.example/dns-query";

/**
 * The helper's limits in the lab (`reachprobe control --timeout --request-timeout`). Nothing the
 * helper measures crosses the censor, so on an idle machine its steps take milliseconds; the
 * margins are for a loaded one (a helper step timing out where the probe's failed would turn
 * "blocked" into "down"), and for the slow origin (1.5 s). A probe's --budget must exceed the
 * time before it asks the helper (its DNS step: --timeout + --dns-window) plus requestTimeoutMs,
 * or the helper's answer would be cut off by the budget on the targets whose DNS is slow.
 *
 * QUIRK: the helper answers 503 (busy, Retry-After) beyond --max-concurrent (default 8), and
 * `reachprobe run` does not retry: with --concurrency 64, a target now and then lost its control
 * (seen on http-451: "could not be used (http_request_failed)", the helper's log said "busy") and
 * fell back to the control-less verdict. A helper is sized for its probes: the lab's takes as
 * many requests at once as the suite's probe sends.
 */
export const CONTROL_LIMITS = Object.freeze({ timeoutMs: 4000, requestTimeoutMs: 8000, maxConcurrent: 64 });

/**
 * How long the lab's resolvers (the ISP's and the outside one) take to answer from their zones,
 * in ms, unless `buildLab(..., { dnsDelayMs })` or the environment variable LAB_DNS_DELAY_MS
 * says otherwise ("0" for instant answers, "50-100" for a uniform spread). A resolver on the
 * internet answers in tens of milliseconds; an instant one hid issue 9's false DNS timeouts
 * (getaddrinfo holds a libuv pool thread for the whole lookup).
 */
export const DNS_DELAY_MS = 60;

/** Parses a resolver delay: a number of ms, "MIN-MAX", or [min, max]; throws naming the value when it is neither. */
export function parseDnsDelay(v) {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isFinite(x) && x >= 0) && v[0] <= v[1]) return v;
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return [v, v];
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(String(v));
  if (m && (m[2] === undefined || Number(m[2]) >= Number(m[1]))) return [Number(m[1]), Number(m[2] ?? m[1])];
  throw new Error(`lab: a resolver delay must be MS or MIN-MAX (ms), got "${v}"`);
}

/** The resolvers' delay for a lab: the option, else LAB_DNS_DELAY_MS, else DNS_DELAY_MS; `{isp, outside}` as [min, max]. */
function dnsDelays(opt) {
  const base = opt ?? process.env.LAB_DNS_DELAY_MS ?? DNS_DELAY_MS;
  if (base && typeof base === "object" && !Array.isArray(base)) return { isp: parseDnsDelay(base.isp ?? DNS_DELAY_MS), outside: parseDnsDelay(base.outside ?? DNS_DELAY_MS) };
  const d = parseDnsDelay(base);
  return { isp: d, outside: d };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The newest modification time under `dir` and how many files it holds. */
function treeState(dir) {
  let newest = 0;
  let count = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    count++;
    newest = Math.max(newest, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return { newest, count };
}

/**
 * Copies the built CLI (dist/, bin/, package.json; data/, targets/ and node_modules/ linked) into
 * `dest` and returns the path of its launcher (bin/reachprobe.cjs), so that one lab runs one build
 * from start to end.
 *
 * QUIRK: the lab starts the helper at set-up and a probe process for every run, each importing
 * dist/ afresh; a `npm run build` in between (another terminal, another engineer's tests on a
 * shared machine) once left the helper importing a half-rebuilt dist/ ("store.js: './schema.js'
 * does not provide an export named 'CURRENT_SCHEMA_VERSION'") and the suite failed to start.
 * The copy is taken once dist/ has been still for `quietMs`, checked to be unchanged after the
 * copy, and must load (`--version` imports every command); otherwise it is taken again.
 */
export async function snapshotCli(dest, { quietMs = 1500, attempts = 40 } = {}) {
  const dist = join(REPO, "dist");
  let why = "";
  for (let i = 0; i < attempts; i++) {
    if (!existsSync(join(dist, "cli", "main.js"))) {
      why = `${CLI} is missing`;
      await sleep(quietMs);
      continue;
    }
    const before = treeState(dist);
    const still = Date.now() - before.newest;
    if (still < quietMs) {
      why = "dist/ was being rebuilt";
      await sleep(quietMs - still + 100);
      continue;
    }
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    cpSync(dist, join(dest, "dist"), { recursive: true });
    // The launcher, which the lab runs (and which `node dist/cli/main.js run` relaunches itself through).
    cpSync(join(REPO, "bin"), join(dest, "bin"), { recursive: true });
    copyFileSync(join(REPO, "package.json"), join(dest, "package.json"));
    for (const d of ["node_modules", "data", "targets"]) if (existsSync(join(REPO, d))) symlinkSync(join(REPO, d), join(dest, d));
    const after = treeState(dist);
    if (after.newest !== before.newest || after.count !== before.count) {
      why = "dist/ changed while it was copied";
      continue;
    }
    const main = join(dest, "bin", "reachprobe.cjs");
    // Nothing here touches the network: --version loads every module and prints a line.
    const r = spawnSync(process.execPath, [main, "--version"], { encoding: "utf8", timeout: 30_000 });
    if (r.status === 0) return main;
    why = `the copy does not load: ${(r.stderr || String(r.error)).trim().split("\n").slice(0, 6).join(" / ")}`;
    await sleep(quietMs);
  }
  throw new Error(`lab: could not take a consistent copy of ${dist} (${why}); run "npm run build" and try again`);
}

/** Where a lab keeps its certificates, logs and state file. */
export function stateDir(id) {
  return join(tmpdir(), `${PREFIX}-${id}`);
}

function readState(id) {
  try {
    return JSON.parse(readFileSync(join(stateDir(id), "lab.json"), "utf8"));
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

/** Tears lab `id` down: kills its processes, deletes its namespaces, /etc/netns entries and state. Synchronous; never throws. */
export function teardownLab(id) {
  const { ns } = namesOf(id);
  for (const n of [ns.client, ns.censor, ns.internet]) removeNamespace(n);
  rmSync(stateDir(id), { recursive: true, force: true });
}

/** Tears down every lab on the machine (every `rpl-<hex>-*` namespace); returns their ids. */
export function teardownAllLabs() {
  const ids = new Set(listLabIds());
  // State directories of labs whose namespaces are already gone.
  for (const d of readdirSync(tmpdir())) {
    const m = new RegExp(`^${PREFIX}-([0-9a-f]{4})$`).exec(d);
    if (m) ids.add(m[1]);
  }
  for (const id of ids) teardownLab(id);
  return [...ids];
}

/** Removes labs left by a test process that died (its owner pid is gone); labs from lab:up have no owner and stay. */
function sweepStaleLabs() {
  for (const id of listLabIds()) {
    const s = readState(id);
    if (s && s.owner && !alive(s.owner)) teardownLab(id);
  }
}

function pickId() {
  const taken = new Set(listLabIds());
  for (;;) {
    const id = randomBytes(2).toString("hex");
    if (!taken.has(id) && !existsSync(stateDir(id))) return id;
  }
}

/**
 * Refuses to build when the client's name lookups could leave its namespace: nscd answers
 * getaddrinfo over a Unix socket from the root namespace, whatever /etc/resolv.conf says.
 */
function assertNoHostResolverCache() {
  for (const p of ["/run/nscd/socket", "/var/run/nscd/socket"]) {
    if (existsSync(p)) throw new Error(`lab: ${p} exists: nscd would answer the client's lookups from the root namespace (real DNS); stop nscd first`);
  }
}

/** Builds the nft ruleset of the censor: safety rules, the injector's DNAT, interceptions, the scenario's drops and rejects. */
function nftRuleset(names, scenario) {
  const intercepts = (scenario.intercept ?? []).map(
    (i) => `    iifname $client_if ip daddr ${i.address} tcp dport ${i.port} dnat ip to ${ADDR.blockPage}:${i.toPort ?? i.port}  # ${i.why ?? "intercepted"}`,
  );
  const forward = (scenario.nftForward ?? []).map((r) => `    ${r}`);
  return `# reachprobe lab ${names.id}: the censor (the client's ISP)
define client_if = "${names.if.censorClient}"
define internet_if = "${names.if.censorInternet}"
table ip rpl_censor {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    # On-path DNS injector: UDP queries to the outside resolver go to a local process.
    iifname $client_if ip daddr ${ADDR.outsideResolver} udp dport 53 dnat ip to ${ADDR.injector}:${ADDR.injectorPort}
${intercepts.join("\n")}
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    # Safety: only lab traffic between the two lab links is ever forwarded.
    iifname != { $client_if, $internet_if } drop
    oifname != { $client_if, $internet_if } drop
    ip daddr != { ${LAB_RANGES.join(", ")} } drop
${forward.join("\n")}
  }
}
`;
}

/** Every name (and IP) the lab's certificates must cover. */
function certNames(scenario) {
  return [...new Set(["lab.example", "*.lab.example", "doh.lab.example", ADDR.doh, ...(scenario.certNames ?? [])])];
}

/**
 * Checks, with route lookups and link lists only (nothing is sent), that no lab namespace can
 * reach anything outside the lab, and that the client resolves through the ISP's resolver.
 * Throws naming what is wrong; returns a short report.
 */
export function assertIsolated(lab) {
  const { ns, if: ifs } = lab.names;
  const expected = {
    [ns.client]: ["lo", ifs.client],
    [ns.censor]: ["lo", ifs.censorClient, ifs.censorInternet],
    [ns.internet]: ["lo", ifs.internet],
  };
  const lines = [];
  for (const [n, want] of Object.entries(expected)) {
    const links = (nsSh(n, "ip", ["-o", "link", "show"]) ?? "")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(":")[1].trim().split("@")[0]);
    if (links.sort().join(",") !== [...want].sort().join(",")) throw new Error(`lab: namespace ${n} has links ${links.join(", ")}; expected only ${want.join(", ")}`);
    for (const outside of ["8.8.8.8", "1.1.1.1", "10.255.255.53", "77.88.8.8"]) {
      const r = nsSh(n, "ip", ["route", "get", outside], { allowFail: true });
      if (r !== null) throw new Error(`lab: namespace ${n} has a route to ${outside}: ${r.trim()}`);
    }
    const routes = (nsSh(n, "ip", ["-4", "route", "show"]) ?? "").trim().split("\n").filter(Boolean);
    if (routes.some((r) => r.startsWith("default"))) throw new Error(`lab: namespace ${n} has a default route`);
    lines.push(`${n}: links ${want.join(", ")}; routes: ${routes.map((r) => r.split(" ").slice(0, 3).join(" ")).join("; ")}`);
  }
  const resolv = nsSh(ns.client, "cat", ["/etc/resolv.conf"]) ?? "";
  const servers = [...resolv.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
  if (servers.join(",") !== ADDR.ispResolver) throw new Error(`lab: the client's /etc/resolv.conf names ${servers.join(", ") || "no resolver"}, not ${ADDR.ispResolver} (is /etc/resolv.conf a dangling symlink?)`);
  const nss = nsSh(ns.client, "cat", ["/etc/nsswitch.conf"]) ?? "";
  if (!/^hosts:\s+files dns\s*$/m.test(nss)) throw new Error(`lab: the client's /etc/nsswitch.conf does not say "hosts: files dns"`);
  // The control helper's system resolver (getaddrinfo in the internet namespace) must be the
  // lab's outside resolver, never the root namespace's (whose resolv.conf names a real one).
  const inetResolv = nsSh(ns.internet, "cat", ["/etc/resolv.conf"]) ?? "";
  const inetServers = [...inetResolv.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
  if (inetServers.join(",") !== ADDR.outsideResolver) throw new Error(`lab: the internet namespace's /etc/resolv.conf names ${inetServers.join(", ") || "no resolver"}, not ${ADDR.outsideResolver}`);
  const inetNss = nsSh(ns.internet, "cat", ["/etc/nsswitch.conf"]) ?? "";
  if (!/^hosts:\s+files dns\s*$/m.test(inetNss)) throw new Error(`lab: the internet namespace's /etc/nsswitch.conf does not say "hosts: files dns"`);
  lines.push(`${ns.client}: resolver ${ADDR.ispResolver} (hosts: files dns); ${ns.internet} (the control helper): resolver ${ADDR.outsideResolver} (hosts: files dns); no namespace has a route to 8.8.8.8, 1.1.1.1 or the host's resolver`);
  return lines.join("\n");
}

/**
 * Builds a lab for `scenario` and starts its servers. Options: `id` (4 hex; a lab with that id
 * is removed first), `persistent` (servers outlive this process and no owner is recorded: lab:up),
 * `resolvOptions` (an `options` line for the client's resolv.conf), `control` (true, or
 * `{timeoutMs, requestTimeoutMs}`: start `reachprobe control` in the internet namespace once the
 * lab is checked; `lab.startControl()` does it later), `snapshot` (run a copy of dist/ taken at
 * set-up, so that a rebuild during the lab's life does not change what it runs; default: unless
 * persistent), `dnsDelayMs` (how long the ISP and outside resolvers take to answer: ms,
 * "MIN-MAX", [min, max], or `{isp, outside}`; default LAB_DNS_DELAY_MS or DNS_DELAY_MS).
 * Returns the lab; call `lab.stop()` (synchronous) to tear it down.
 */
export async function buildLab(scenario, opts = {}) {
  assertNoHostResolverCache();
  sweepStaleLabs();
  const id = opts.id ?? pickId();
  teardownLab(id);
  const names = namesOf(id);
  const { ns, if: ifs } = names;
  const dir = stateDir(id);
  const delays = dnsDelays(opts.dnsDelayMs);
  mkdirSync(join(dir, "logs"), { recursive: true });
  writeFileSync(join(dir, "lab.json"), JSON.stringify({ id, owner: opts.persistent ? null : process.pid, scenario: scenario.name, created: new Date().toISOString() }, null, 2));

  const children = [];
  // Routes: only the documentation ranges, never a default route.
  const clientRoutes = () => {
    for (const r of LAB_RANGES) sh("ip", ["-n", ns.client, "route", "replace", r, "via", ADDR.censorClientSide]);
  };
  const lab = {
    id,
    names,
    ns,
    dir,
    addr: ADDR,
    scenario,
    /** How long the ISP and the outside resolver take to answer, [min, max] ms each. */
    dnsDelayMs: delays,
    caFile: "",
    censorCaFile: "",
    /** The command this lab runs: the launcher of a snapshot of dist/ (see snapshotCli), or the repository's. */
    cli: LAUNCHER,
    fingerprints: LAB_FINGERPRINTS,
    stopped: false,
    /** Tears the lab down (synchronous, idempotent). */
    stop() {
      if (lab.stopped) return;
      lab.stopped = true;
      for (const c of children) c.kill("SIGKILL");
      teardownLab(id);
    },
    /** Takes the client's only link down (the whole network is down) or brings it back with its routes. */
    setClientLink(up) {
      sh("ip", ["-n", ns.client, "link", "set", ifs.client, up ? "up" : "down"]);
      if (up) clientRoutes();
      else if (nsSh(ns.client, "ip", ["-4", "route", "show"]).trim() !== "") throw new Error(`lab: the client still has routes with its link down`);
    },
    /** Runs `reachprobe ARGS` in the client namespace; resolves with code, stdout, stderr and wall time. */
    runClient(args, { env = {}, killAfterMs = 60_000, stdio = "pipe" } = {}) {
      return runInClient(lab, args, { env, killAfterMs, stdio });
    },
    /** The running control helper's child process (null when stopped or started detached). */
    control: null,
    /**
     * Starts `reachprobe control` (the built CLI) in the internet namespace on CONTROL_URL and
     * resolves once it prints "listening on http://...". Its log (one JSON line a request) is
     * logs/control.log.
     */
    async startControl(limits = CONTROL_LIMITS) {
      limits = { ...CONTROL_LIMITS, ...limits };
      if (!existsSync(lab.cli)) throw new Error(`lab: ${lab.cli} is missing: run "npm run build" first`);
      lab.stopControl();
      const child = await startInNamespace({
        ns: ns.internet,
        argv: [process.execPath, lab.cli, ...controlArgs(limits)],
        env: controlEnv(lab),
        cwd: dir,
        logFile: join(dir, "logs", "control.log"),
        detached: Boolean(opts.persistent),
        ready: /^listening on http:\/\/\S+\n/m,
        name: "reachprobe control",
      });
      const said = /^listening on (\S+)/m.exec(child.readyOutput)?.[1];
      if (said !== CONTROL_URL) throw new Error(`lab: reachprobe control said it listens on ${said}, not ${CONTROL_URL}`);
      if (!opts.persistent) {
        children.push(child);
        lab.control = child;
      }
      return CONTROL_URL;
    },
    /** Stops the control helper (SIGKILL; synchronous). */
    stopControl() {
      if (lab.control && lab.control.exitCode === null) lab.control.kill("SIGKILL");
      lab.control = null;
    },
  };

  try {
    if (opts.snapshot ?? !opts.persistent) lab.cli = await snapshotCli(join(dir, "pkg"));
    for (const n of [ns.client, ns.censor, ns.internet]) {
      sh("ip", ["netns", "add", n]);
      sh("ip", ["-n", n, "link", "set", "lo", "up"]);
      // IPv4 only: no link-local IPv6 chatter, and nothing the lab does not describe.
      nsSh(n, "sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    }
    // veth pairs are created inside the namespaces (never in the root namespace).
    sh("ip", ["-n", ns.client, "link", "add", ifs.client, "type", "veth", "peer", "name", ifs.censorClient, "netns", ns.censor]);
    sh("ip", ["-n", ns.censor, "link", "add", ifs.censorInternet, "type", "veth", "peer", "name", ifs.internet, "netns", ns.internet]);
    const addr = (n, dev, a) => sh("ip", ["-n", n, "addr", "add", a, "dev", dev]);
    const up = (n, dev) => sh("ip", ["-n", n, "link", "set", dev, "up"]);
    addr(ns.client, ifs.client, `${ADDR.client}/${ADDR.clientLinkPrefix}`);
    addr(ns.censor, ifs.censorClient, `${ADDR.censorClientSide}/${ADDR.clientLinkPrefix}`);
    addr(ns.censor, ifs.censorInternet, `${ADDR.censorInternetSide}/${ADDR.internetLinkPrefix}`);
    addr(ns.internet, ifs.internet, `${ADDR.internet}/${ADDR.internetLinkPrefix}`);
    for (const a of [ADDR.ispResolver, ADDR.injector, ADDR.blockPage, ...(scenario.censorAddresses ?? []), ...(scenario.proxies ?? []).map((p) => p.address)]) addr(ns.censor, "lo", `${a}/32`);
    const internetAddrs = new Set([ADDR.outsideResolver, ADDR.doh, ADDR.control, ...(scenario.internetAddresses ?? [])]);
    for (const s of scenario.sites ?? []) s.addresses.forEach((a) => internetAddrs.add(a));
    for (const a of internetAddrs) addr(ns.internet, "lo", `${a}/32`);
    up(ns.client, ifs.client);
    up(ns.censor, ifs.censorClient);
    up(ns.censor, ifs.censorInternet);
    up(ns.internet, ifs.internet);
    clientRoutes();
    for (const r of ["198.51.100.0/24", "203.0.113.0/24"]) sh("ip", ["-n", ns.censor, "route", "replace", r, "via", ADDR.internet]);
    sh("ip", ["-n", ns.internet, "route", "replace", "192.0.2.0/24", "via", ADDR.censorInternetSide]);
    nsSh(ns.censor, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);

    // The client's resolver is the ISP's: `ip netns exec` bind-mounts these over /etc/*.
    const etc = join("/etc/netns", ns.client);
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, "resolv.conf"), `# reachprobe lab ${id}: the ISP's resolver\nnameserver ${ADDR.ispResolver}\n${opts.resolvOptions ? `options ${opts.resolvOptions}\n` : ""}`);
    // Only files and DNS: no nss-resolve, mdns or other module that could ask the root namespace.
    writeFileSync(join(etc, "nsswitch.conf"), "hosts: files dns\nnetworks: files\n");
    writeFileSync(join(etc, "hosts"), "127.0.0.1 localhost\n");
    // The internet namespace's resolver is the outside one: the control helper lives there and
    // looks names up with getaddrinfo, as a helper on a real unfiltered network would.
    const inetEtc = join("/etc/netns", ns.internet);
    mkdirSync(inetEtc, { recursive: true });
    writeFileSync(join(inetEtc, "resolv.conf"), `# reachprobe lab ${id}: the internet's (unfiltered) resolver\nnameserver ${ADDR.outsideResolver}\noptions timeout:2 attempts:1\n`);
    writeFileSync(join(inetEtc, "nsswitch.conf"), "hosts: files dns\nnetworks: files\n");
    writeFileSync(join(inetEtc, "hosts"), "127.0.0.1 localhost\n");

    // The censor: nftables for DNAT, drops and rejects; iptables string matches for SNI and Host.
    sh("ip", ["netns", "exec", ns.censor, "nft", "-f", "-"], { input: nftRuleset(names, scenario) });
    for (const rule of scenario.iptablesForward ?? []) nsSh(ns.censor, "iptables", ["-A", "FORWARD", ...rule]);
    // Matches on traffic to the censor's own servers (its transparent proxy).
    for (const rule of scenario.iptablesInput ?? []) nsSh(ns.censor, "iptables", ["-A", "INPUT", ...rule]);
    applyShaping(lab, scenario.shape ?? []);

    const labCa = makeCa(join(dir, "lab-ca"), "reachprobe lab CA");
    const censorCa = makeCa(join(dir, "censor-ca"), "Censor Interception CA");
    lab.caFile = labCa.certFile;
    lab.censorCaFile = censorCa.certFile;
    const names_ = certNames(scenario);
    const siteTls = labCa.issue("internet", names_);
    const censorTls = censorCa.issue("censor", names_);
    // Sites with a bad certificate of their own (OONI's badSSL cases): for everyone, the helper included.
    const badCerts = { untrusted: () => makeCa(join(dir, "untrusted-ca"), "Untrusted Root CA"), labCa };
    const sites = (scenario.sites ?? []).map((site, i) => {
      if (!site.cert) return site;
      const base = `site-${i}`;
      if (site.cert === "untrusted") return { ...site, tls: (badCerts.untrustedCa ??= badCerts.untrusted()).issue(base, names_) };
      if (site.cert === "expired") return { ...site, tls: labCa.issueExpired(base, names_) };
      if (site.cert === "wrong-name") return { ...site, tls: labCa.issue(base, ["wrong.host.example"]) };
      throw new Error(`lab: unknown site certificate ${site.cert}`);
    });

    const log = (n) => join(dir, "logs", `${n}.log`);
    const start = async (n, nsName, script, config) => {
      const owned = opts.persistent ? config : { ...config, ownerPid: process.pid };
      const child = await startServer({ ns: nsName, script: join(HERE, "servers", script), config: owned, logFile: log(n), detached: Boolean(opts.persistent) });
      if (!opts.persistent) children.push(child);
    };
    await Promise.all([
      start("outside-dns", ns.internet, "dns.mjs", { listen: { host: ADDR.outsideResolver, port: 53 }, tcp: true, zone: scenario.outsideZone ?? {}, forward: null, delayMs: delays.outside }),
      start("web", ns.internet, "web.mjs", { tls: siteTls, sites }),
      ...(scenario.proxies ?? []).map((p, i) => start(`proxy-${i}`, ns.censor, "proxy.mjs", { address: p.address, ports: p.ports ?? [80, 443], upstream: p.upstream, clients: p.clients ?? "192.0.2." })),
      start("doh", ns.internet, "doh.mjs", { listen: { host: ADDR.doh, port: 443 }, path: "/dns-query", upstream: { host: ADDR.outsideResolver, port: 53 }, tls: siteTls }),
      start("isp-dns", ns.censor, "dns.mjs", { listen: { host: ADDR.ispResolver, port: 53 }, tcp: true, zone: scenario.ispZone ?? {}, forward: { host: ADDR.outsideResolver, port: 53 }, delayMs: delays.isp }),
      start("injector", ns.censor, "injector.mjs", { listen: { host: ADDR.injector, port: ADDR.injectorPort }, upstream: { host: ADDR.outsideResolver, port: 53 }, inject: scenario.inject ?? {} }),
      start("blockpage", ns.censor, "blockpage.mjs", { address: ADDR.blockPage, http: [80], https: [443], tls: censorTls, hosts: scenario.blockPages ?? {}, defaultPage: "stub", eof: scenario.blockPageEof ?? [] }),
    ]);
    lab.isolation = assertIsolated(lab);
    writeFileSync(join(dir, "censor.nft"), nftRuleset(names, scenario));
    // Only after the isolation check: the helper resolves names, so its namespace must be sealed first.
    if (opts.control) await lab.startControl(opts.control === true ? CONTROL_LIMITS : { ...CONTROL_LIMITS, ...opts.control });
    return lab;
  } catch (err) {
    lab.stop();
    throw err;
  }
}

/** Throttles traffic from each `{address, rate}` towards the client: htb classifies, a tbf shapes. */
function applyShaping(lab, shape) {
  if (shape.length === 0) return;
  const dev = lab.names.if.censorClient;
  const tc = (args) => nsSh(lab.ns.censor, "tc", args);
  tc(["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1", "r2q", "1000"]);
  tc(["class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit"]);
  shape.forEach((s, i) => {
    const cls = 10 + i;
    tc(["class", "add", "dev", dev, "parent", "1:", "classid", `1:${cls}`, "htb", "rate", "10gbit"]);
    tc(["qdisc", "add", "dev", dev, "parent", `1:${cls}`, "handle", `${cls}:`, "tbf", "rate", s.rate, "burst", "16kb", "latency", "2s"]);
    tc(["filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "src", `${s.address}/32`, "flowid", `1:${cls}`]);
  });
}

function runInClient(lab, args, { env, killAfterMs, stdio }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Hermetic: no REACHPROBE_* setting of the caller's (database, control, token, config file)
    // and the lab's own directory as the working directory, where no reachprobe.config.json is.
    const child = spawn("ip", ["netns", "exec", lab.ns.client, process.execPath, lab.cli, ...args], {
      cwd: lab.dir,
      env: { ...withoutReachprobeVars(process.env), NODE_EXTRA_CA_CERTS: lab.caFile, ...env },
      stdio: stdio === "inherit" ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d.toString()));
    child.stderr?.on("data", (d) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
  });
}

/** The arguments of `reachprobe control` in the lab. */
export function controlArgs(limits = CONTROL_LIMITS) {
  return [
    "control",
    "--listen", `${ADDR.control}:${ADDR.controlPort}`,
    "--public-ranges", LAB_RANGES.join(","),
    "--timeout", String(limits.timeoutMs),
    "--request-timeout", String(limits.requestTimeoutMs),
    "--max-concurrent", String(limits.maxConcurrent ?? CONTROL_LIMITS.maxConcurrent),
    "--log-level", "info",
  ];
}

/** `env` without the REACHPROBE_* variables. */
function withoutReachprobeVars(env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("REACHPROBE_")));
}

/** The helper's environment: the lab CA trusted, and no REACHPROBE_* setting of the caller's (a token would lock the probe out). */
function controlEnv(lab) {
  return { ...withoutReachprobeVars(process.env), NODE_EXTRA_CA_CERTS: lab.caFile };
}

/** The flags every lab run passes: lab ranges are public, the outside resolver, lab fingerprints. */
export function labRunFlags(lab) {
  return ["--public-ranges", LAB_RANGES.join(","), "--resolver", ADDR.outsideResolver, "--fingerprints", `bundled,${lab.fingerprints}`];
}

/**
 * Tears the lab down when this process exits or is interrupted (SIGINT, SIGTERM, SIGHUP); a
 * signal is re-raised afterwards when nobody else handles it. Returns a function that removes the handlers.
 */
export function teardownOnExit(lab) {
  const onExit = () => lab.stop();
  const onSignal = (sig) => {
    lab.stop();
    remove();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const remove = () => {
    process.off("exit", onExit);
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.off(s, onSignal);
  };
  process.on("exit", onExit);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, onSignal);
  return remove;
}

/**
 * Lab namespaces left on the machine (for checks after tear-down).
 * @returns {string[]}
 */
export function labNamespaces() {
  return listNamespaces().filter((n) => n.startsWith(`${PREFIX}-`));
}
