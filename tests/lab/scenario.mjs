/**
 * The censorship cases of the lab: each a named case with its target, two expected verdicts,
 * and what the lab does to produce it (resolver zones, censor rules, sites). `scenarioOf(cases)`
 * merges them into one scenario for `buildLab`.
 *
 * - `withControl`: the EXACT verdict with controls (the control helper in the internet
 *   namespace and the lab's DoH): what the case really is. The main run asserts it.
 * - `expect`: the verdict without a usable control (the helper unreachable, no DoH): the outside
 *   resolver (--resolver) still witnesses the system resolver's DNS; otherwise a failure a censor
 *   would cause is an `anomaly`, and only signatures (block-page address, two answers,
 *   fingerprint, 451) and the SNI and Host swaps make `blocked`.
 * - `notBlocked`: not censorship; never to be called blocked, with or without controls.
 * - `withDohOnly`: the verdict with the helper unreachable but DoH working (the `helperDownDoh`
 *   run, a few cases): DNS is still compared with a control; the rest is control-less.
 * - `helperSees`: part of the control helper's answer (matched as a subset): the helper lives in
 *   the internet namespace, so the censor's filters, interceptions and injector never touch it.
 * Each `{status, layer, failure, evidence?}`: failure is the deciding step's failure string (or
 * null), evidence a pattern the evidence must match.
 */
import { ADDR } from "./topology.mjs";
import { qaPieces } from "./ooni-qa.mjs";

/** Addresses of the internet's sites (203.0.113.0/24, in the internet namespace). */
export const SITE = Object.freeze({
  canary: "203.0.113.10",
  ok: "203.0.113.11", // ok.lab.example, and the real address of every DNS/SNI/Host case
  tcpDrop: "203.0.113.30",
  tcpRst: "203.0.113.31",
  tcpUnreach: "203.0.113.32",
  mitm: "203.0.113.42",
  httpBlockPage: "203.0.113.50",
  httpRedirect: "203.0.113.51",
  http451: "203.0.113.52",
  sniRedirect: "203.0.113.53", // an ok https site that redirects to an SNI-filtered name
  down: "203.0.113.60", // assigned, nothing listens
  resetOrigin: "203.0.113.61",
  slow: "203.0.113.62",
  throttled: "203.0.113.63",
  whoami: "203.0.113.64", // its port 80 is answered by the ISP's "whoami" page
  binary: "203.0.113.65", // serves a binary body with two Set-Cookie headers
  forged: "203.0.113.250", // what the injector forges; assigned nowhere
});

const a = (...addresses) => ({ a: addresses });
const site = (address, mode = "ok", extra = {}) => ({ addresses: [address], http: [80], https: [443], mode, ...extra });

/** The part every lab run shares: the canary, a plain working site, the DoH name, warning.rt.ru. */
const BASE = {
  outsideZone: {
    "canary.lab.example": a(SITE.canary),
    "ok.lab.example": a(SITE.ok),
    "doh.lab.example": a(ADDR.doh),
    "control.lab.example": a(ADDR.control),
  },
  // warning.rt.ru is where Rostelecom's redirects lead; inside the lab the ISP resolves it to its block-page server.
  ispZone: { "warning.rt.ru": a(ADDR.blockPage) },
  sites: [site(SITE.canary), site(SITE.ok)],
  blockPages: { "warning.rt.ru": { page: "rt-warning" } },
};

const sniMatch = (name, ...verdict) => ["-p", "tcp", "--dport", "443", "-m", "string", "--string", name, "--algo", "bm", ...verdict];

/**
 * Cases of the runs over every case (tests/lab/runs.mjs: one with controls, one with a helper
 * that never answers). `lab` holds the scenario pieces that produce the case.
 */
export const CASES = [
  // ---- DNS: the ISP's resolver (censor namespace) lies; the outside resolver has the truth.
  {
    name: "dns-nxdomain",
    technique: "ISP resolver: NXDOMAIN",
    what: "the ISP resolver answers NXDOMAIN for a blocked name (the outside resolver has its address)",
    target: "https://nx-blocked.lab.example/",
    // The outside resolver (--resolver, asked in every run) is a witness: it resolves the name.
    expect: { status: "blocked", layer: "dns", failure: "dns_nxdomain_error", evidence: /NXDOMAIN.*but resolver 198\.51\.100\.53:53 resolved nx-blocked\.lab\.example to 203\.0\.113\.11/ },
    withDohOnly: { status: "blocked", layer: "dns", failure: "dns_nxdomain_error", evidence: /but DoH \S+ resolved nx-blocked\.lab\.example to 203\.0\.113\.11/ },
    withControl: { status: "blocked", layer: "dns", failure: "dns_nxdomain_error", evidence: /NXDOMAIN.*but the control helper and DoH \S+ resolved nx-blocked\.lab\.example to 203\.0\.113\.11/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] } },
    lab: { ispZone: { "nx-blocked.lab.example": { rcode: "NXDOMAIN" } }, outsideZone: { "nx-blocked.lab.example": a(SITE.ok) } },
  },
  {
    name: "dns-bogon",
    technique: "ISP resolver: 127.0.0.1",
    what: "the ISP resolver answers 127.0.0.1",
    target: "https://bogon.lab.example/",
    // The outside resolver has the public address; with no witness at all a bogon would be unconfirmed (dns-bogon-everywhere).
    expect: { status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: /127\.0\.0\.1, a loopback address, but resolver 198\.51\.100\.53:53 resolved the name to 203\.0\.113\.11/ },
    withControl: { status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: /127\.0\.0\.1, a loopback address/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] } },
    lab: { ispZone: { "bogon.lab.example": a("127.0.0.1") }, outsideZone: { "bogon.lab.example": a(SITE.ok) } },
  },
  {
    name: "dns-private",
    technique: "ISP resolver: private address",
    what: "the ISP resolver answers a private address (10.10.34.35)",
    target: "https://private.lab.example/",
    expect: { status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: /10\.10\.34\.35, a private address/ },
    withControl: { status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence: /10\.10\.34\.35, a private address/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] } },
    lab: { ispZone: { "private.lab.example": a("10.10.34.35") }, outsideZone: { "private.lab.example": a(SITE.ok) } },
  },
  {
    name: "dns-blockpage-ip",
    technique: "ISP resolver: its block-page server's address",
    what: `the ISP resolver answers its block-page server's address (${ADDR.blockPage}, a dns fingerprint in tests/lab/fingerprints.csv)`,
    target: "https://blockip.lab.example/",
    expect: { status: "blocked", layer: "dns", failure: null, evidence: /192\.0\.2\.80 is a known blocking address/ },
    withControl: { status: "blocked", layer: "dns", failure: null, evidence: /192\.0\.2\.80 is a known blocking address/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] }, http_request: { failure: null, status_code: 200, title: "blockip.lab.example: a lab site" } },
    lab: { ispZone: { "blockip.lab.example": a(ADDR.blockPage) }, outsideZone: { "blockip.lab.example": a(SITE.ok) } },
  },
  {
    name: "dns-timeout",
    technique: "ISP resolver: silence",
    what: "the ISP resolver never answers for a blocked name",
    target: "https://dns-drop.lab.example/",
    expect: { status: "blocked", layer: "dns", failure: "generic_timeout_error", evidence: /timed out.*but resolver 198\.51\.100\.53:53 resolved dns-drop\.lab\.example/ },
    withDohOnly: { status: "blocked", layer: "dns", failure: "generic_timeout_error", evidence: /but DoH \S+ resolved dns-drop\.lab\.example to 203\.0\.113\.11/ },
    withControl: { status: "blocked", layer: "dns", failure: "generic_timeout_error", evidence: /timed out.*but the control helper and DoH \S+ resolved dns-drop\.lab\.example to 203\.0\.113\.11/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] } },
    lab: { ispZone: { "dns-drop.lab.example": { drop: true } }, outsideZone: { "dns-drop.lab.example": a(SITE.ok) } },
  },
  {
    name: "dns-servfail",
    technique: "ISP resolver: SERVFAIL",
    what: "the ISP resolver answers SERVFAIL for a blocked name",
    target: "https://servfail.lab.example/",
    // Through getaddrinfo a SERVFAIL is EAI_AGAIN, which proves nothing alone (README "Failures").
    expect: { status: "blocked", layer: "dns", failure: "dns_server_misbehaving", evidence: /but resolver 198\.51\.100\.53:53 resolved servfail\.lab\.example/ },
    withDohOnly: { status: "blocked", layer: "dns", failure: "dns_server_misbehaving", evidence: /but DoH \S+ resolved servfail\.lab\.example to 203\.0\.113\.11/ },
    withControl: { status: "blocked", layer: "dns", failure: "dns_server_misbehaving", evidence: /could not resolve the name .*but the control helper and DoH \S+ resolved servfail\.lab\.example to 203\.0\.113\.11/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] } },
    lab: { ispZone: { "servfail.lab.example": { rcode: "SERVFAIL" } }, outsideZone: { "servfail.lab.example": a(SITE.ok) } },
  },
  {
    name: "dns-injection",
    technique: "on-path DNS injection (two answers)",
    what: `an on-path injector answers queries to the outside resolver with ${SITE.forged} ahead of the real answer`,
    target: "https://inject.lab.example/",
    expect: { status: "blocked", layer: "dns", failure: null, evidence: /2 different answers.*203\.0\.113\.250.*then 203\.0\.113\.11/ },
    withControl: { status: "blocked", layer: "dns", failure: null, evidence: /2 different answers to one query: 203\.0\.113\.250 at \d+ ms is forged, 203\.0\.113\.11 at \d+ ms agrees with the control/ },
    helperSees: { dns: { failure: null, addrs: ["203.0.113.11"] } },
    lab: { outsideZone: { "inject.lab.example": a(SITE.ok) }, inject: { "inject.lab.example": SITE.forged } },
  },

  // ---- TCP: the censor's nftables forward chain.
  {
    name: "tcp-drop",
    technique: "IP blocking: drop",
    what: "packets to the site's address are silently dropped",
    target: "https://tcp-drop.lab.example/",
    expect: { status: "anomaly", layer: "tcp", failure: "generic_timeout_error" },
    withDohOnly: { status: "anomaly", layer: "tcp", failure: "generic_timeout_error" },
    withControl: { status: "blocked", layer: "tcp", failure: "generic_timeout_error", evidence: /203\.0\.113\.30:443 timed out .*but the control helper connected to it/ },
    helperSees: { tcp_connect: { "203.0.113.30:443": { status: true, failure: null } } },
    lab: { outsideZone: { "tcp-drop.lab.example": a(SITE.tcpDrop) }, sites: [site(SITE.tcpDrop)], nftForward: [`ip daddr ${SITE.tcpDrop} drop`] },
  },
  {
    name: "tcp-rst",
    technique: "IP blocking: RST to SYN",
    what: "SYNs to the site's address are answered with a RST by the censor",
    target: "https://tcp-rst.lab.example/",
    expect: { status: "anomaly", layer: "tcp", failure: "connection_refused" },
    withControl: { status: "blocked", layer: "tcp", failure: "connection_refused", evidence: /203\.0\.113\.31:443 was refused .*but the control helper connected to it/ },
    helperSees: { tcp_connect: { "203.0.113.31:443": { status: true, failure: null } } },
    lab: { outsideZone: { "tcp-rst.lab.example": a(SITE.tcpRst) }, sites: [site(SITE.tcpRst)], nftForward: [`ip daddr ${SITE.tcpRst} tcp flags & (syn | ack) == syn reject with tcp reset`] },
  },
  {
    name: "tcp-unreachable",
    technique: "IP blocking: ICMP host-unreachable",
    what: "the censor answers SYNs to the site's address with ICMP host-unreachable",
    target: "https://tcp-unreach.lab.example/",
    expect: { status: "anomaly", layer: "tcp", failure: "host_unreachable" },
    withControl: { status: "blocked", layer: "tcp", failure: "host_unreachable", evidence: /203\.0\.113\.32:443 found the host unreachable .*but the control helper connected to it/ },
    helperSees: { tcp_connect: { "203.0.113.32:443": { status: true, failure: null } } },
    lab: { outsideZone: { "tcp-unreach.lab.example": a(SITE.tcpUnreach) }, sites: [site(SITE.tcpUnreach)], nftForward: [`ip daddr ${SITE.tcpUnreach} reject with icmp type host-unreachable`] },
  },

  // ---- TLS: SNI filtering (iptables string match on the ClientHello) and interception.
  {
    name: "tls-sni-rst",
    technique: "SNI filter: RST",
    what: "a ClientHello carrying a blocked SNI is answered with a RST (same address as ok.lab.example)",
    target: "https://sni-rst.lab.example/",
    // Without a helper, the SNI swap proves it: the same address completed a handshake for another name.
    expect: { status: "blocked", layer: "tls", failure: "connection_reset", evidence: /SNI sni-rst\.lab\.example was reset .*same address completed one for SNI example\.com/ },
    withControl: { status: "blocked", layer: "tls", failure: "connection_reset", evidence: /SNI sni-rst\.lab\.example was reset .*but the control helper's handshake succeeded/ },
    helperSees: { tls_handshake: { "203.0.113.11:443": { server_name: "sni-rst.lab.example", status: true, failure: null } } },
    lab: { outsideZone: { "sni-rst.lab.example": a(SITE.ok) }, iptablesForward: [sniMatch("sni-rst.lab.example", "-j", "REJECT", "--reject-with", "tcp-reset")] },
  },
  {
    name: "tls-sni-drop",
    technique: "SNI filter: drop",
    what: "a ClientHello carrying a blocked SNI is silently dropped (same address as ok.lab.example)",
    target: "https://sni-drop.lab.example/",
    expect: { status: "blocked", layer: "tls", failure: "generic_timeout_error", evidence: /SNI sni-drop\.lab\.example timed out .*same address completed one for SNI example\.com/ },
    withControl: { status: "blocked", layer: "tls", failure: "generic_timeout_error", evidence: /SNI sni-drop\.lab\.example timed out .*but the control helper's handshake succeeded/ },
    helperSees: { tls_handshake: { "203.0.113.11:443": { server_name: "sni-drop.lab.example", status: true, failure: null } } },
    lab: { outsideZone: { "sni-drop.lab.example": a(SITE.ok) }, iptablesForward: [sniMatch("sni-drop.lab.example", "-j", "DROP")] },
  },
  {
    name: "tls-mitm",
    technique: "TLS interception (censor's CA)",
    what: "the censor intercepts the site's port 443 with a certificate from its own CA (not trusted by the client)",
    target: "https://tls-mitm.lab.example/",
    expect: { status: "anomaly", layer: "tls", failure: "ssl_unknown_authority", evidence: /Censor Interception CA/ },
    withControl: { status: "blocked", layer: "tls", failure: "ssl_unknown_authority", evidence: /certificate that only it sees .*issuer CN=Censor Interception CA.*control helper's handshake validated/ },
    helperSees: { tls_handshake: { "203.0.113.42:443": { status: true, failure: null } } },
    lab: { outsideZone: { "tls-mitm.lab.example": a(SITE.mitm) }, sites: [site(SITE.mitm)], intercept: [{ address: SITE.mitm, port: 443, why: "TLS interception" }] },
  },

  {
    name: "tls-redirect-sni",
    technique: "SNI filter on a redirect's target: RST",
    what: "an ok https site redirects (302) to https://sni-redir-target.lab.example/, whose ClientHello the censor resets (SNI match)",
    target: "https://sni-redir.lab.example/",
    // The first hop's TLS works; the redirect hop's handshake is reset: the failing step is TLS,
    // measured on the hop's own connection (issue 9), not an HTTP failure of the redirect chain.
    expect: { status: "blocked", layer: "tls", failure: "connection_reset", evidence: /redirect to sni-redir-target\.lab\.example stopped: .*same address completed one for SNI example\.com/ },
    withControl: { status: "blocked", layer: "tls", failure: "connection_reset", evidence: /sni-redir-target\.lab\.example/ },
    helperSees: { http_request: { failure: null, status_code: 200, title: "sni-redir-target.lab.example: a lab site" } },
    lab: {
      outsideZone: { "sni-redir.lab.example": a(SITE.sniRedirect), "sni-redir-target.lab.example": a(SITE.ok) },
      sites: [site(SITE.sniRedirect, "redirect", { location: "https://sni-redir-target.lab.example/" })],
      iptablesForward: [sniMatch("sni-redir-target.lab.example", "-j", "REJECT", "--reject-with", "tcp-reset")],
    },
  },

  // ---- HTTP: Host filtering and the ISP's block pages (DNAT of port 80 to its block-page server).
  {
    name: "http-host-rst",
    technique: "Host filter: RST",
    what: "a request whose Host is blocked is answered with a RST (same address as ok.lab.example)",
    target: "http://http-rst.lab.example/",
    // Without a helper, the Host swap proves it: the same address answered the same request for another name.
    expect: { status: "blocked", layer: "http", failure: "connection_reset", evidence: /was reset .*answered the same request with Host: example\.com/ },
    withControl: { status: "blocked", layer: "http", failure: "connection_reset", evidence: /was reset .*here, but the control fetched it \(HTTP 200/ },
    helperSees: { http_request: { failure: null, status_code: 200, title: "http-rst.lab.example: a lab site" } },
    lab: {
      outsideZone: { "http-rst.lab.example": a(SITE.ok) },
      iptablesForward: [["-p", "tcp", "--dport", "80", "-m", "string", "--string", "http-rst.lab.example", "--algo", "bm", "--icase", "-j", "REJECT", "--reject-with", "tcp-reset"]],
    },
  },
  {
    name: "http-host-case",
    technique: "Host filter on the literal bytes `Host: name`: RST",
    what: "the censor resets a request carrying the exact bytes \"Host: hostcase.lab.example\" (case-sensitive, as DPI boxes match what browsers send; same address as ok.lab.example)",
    target: "http://hostcase.lab.example/",
    // A request written `host: hostcase...` (lower case, as undici writes it) slips through: the
    // probe must send the header as a browser does (issue 9) to see what a browser's user sees.
    // Without a helper, the Host swap proves it: the same address answered the same request for another name.
    expect: { status: "blocked", layer: "http", failure: "connection_reset", evidence: /was reset .*answered the same request with Host: example\.com/ },
    withControl: { status: "blocked", layer: "http", failure: "connection_reset", evidence: /was reset .*here, but the control fetched it \(HTTP 200/ },
    helperSees: { http_request: { failure: null, status_code: 200, title: "hostcase.lab.example: a lab site" } },
    lab: {
      outsideZone: { "hostcase.lab.example": a(SITE.ok) },
      // No --icase: only the capitalised header name a browser sends matches.
      iptablesForward: [["-p", "tcp", "--dport", "80", "-m", "string", "--string", "Host: hostcase.lab.example", "--algo", "bm", "-j", "REJECT", "--reject-with", "tcp-reset"]],
    },
  },
  {
    name: "http-blockpage",
    technique: "block page (HTTP 200 stub)",
    what: "the ISP's stub page (HTTP 200, Russian 149-FZ wording) is served in place of the site",
    target: "http://http-blockpage.lab.example/",
    expect: { status: "blocked", layer: "http", failure: null, evidence: /149-ФЗ/ },
    withControl: { status: "blocked", layer: "http", failure: null, evidence: /149-ФЗ/ },
    helperSees: { http_request: { failure: null, status_code: 200, title: "http-blockpage.lab.example: a lab site" } },
    lab: {
      outsideZone: { "http-blockpage.lab.example": a(SITE.httpBlockPage) },
      sites: [site(SITE.httpBlockPage)],
      intercept: [{ address: SITE.httpBlockPage, port: 80, why: "stub page" }],
      blockPages: { "http-blockpage.lab.example": { page: "stub" } },
    },
  },
  {
    name: "http-redirect",
    technique: "redirect to the ISP's warning page",
    what: "the ISP redirects to its warning page on another domain (http://warning.rt.ru/?id=...)",
    target: "http://http-redirect.lab.example/",
    expect: { status: "blocked", layer: "http", failure: null, evidence: /warning\.rt\.ru/ },
    withControl: { status: "blocked", layer: "http", failure: null, evidence: /warning\.rt\.ru/ },
    helperSees: { http_request: { failure: null, status_code: 200, title: "http-redirect.lab.example: a lab site", x_urls: ["http://http-redirect.lab.example/"] } },
    lab: {
      outsideZone: { "http-redirect.lab.example": a(SITE.httpRedirect) },
      sites: [site(SITE.httpRedirect)],
      intercept: [{ address: SITE.httpRedirect, port: 80, why: "redirect to warning.rt.ru" }],
      blockPages: { "http-redirect.lab.example": { redirect: "http://warning.rt.ru/?id=17&st=0&dt=http-redirect.lab.example&rs=http%3A%2F%2Fhttp-redirect.lab.example%2F" } },
    },
  },
  {
    name: "http-451",
    technique: "HTTP 451 page",
    what: "the ISP answers HTTP 451 (Unavailable For Legal Reasons) in place of the site",
    target: "http://http-451.lab.example/",
    expect: { status: "blocked", layer: "http", failure: null, evidence: /HTTP 451/ },
    withControl: { status: "blocked", layer: "http", failure: null, evidence: /HTTP 451/ },
    helperSees: { http_request: { failure: null, status_code: 200, title: "http-451.lab.example: a lab site" } },
    lab: {
      outsideZone: { "http-451.lab.example": a(SITE.http451) },
      sites: [site(SITE.http451)],
      intercept: [{ address: SITE.http451, port: 80, why: "451 page" }],
      blockPages: { "http-451.lab.example": { page: "451" } },
    },
  },

  // ---- Not censorship: must never be called blocked.
  {
    name: "server-down",
    technique: "(not censorship) server down",
    what: "the site's address exists in the internet namespace but nothing listens",
    target: "https://down.lab.example/",
    expect: { status: "anomaly", layer: "tcp", failure: "connection_refused" },
    notBlocked: true,
    withControl: { status: "down", layer: null, failure: "connection_refused", evidence: /control helper failed too/ },
    helperSees: { tcp_connect: { "203.0.113.60:443": { status: false, failure: "connection_refused" } } },
    lab: { outsideZone: { "down.lab.example": a(SITE.down) }, internetAddresses: [SITE.down] },
  },
  {
    name: "name-nowhere",
    technique: "(not censorship) name exists nowhere",
    what: "a name that exists nowhere (NXDOMAIN from the ISP and the outside resolver)",
    target: "https://nowhere.lab.example/",
    expect: { status: "down", layer: null, failure: "dns_nxdomain_error" },
    notBlocked: true,
    withDohOnly: { status: "down", layer: null, failure: "dns_nxdomain_error" },
    withControl: { status: "down", layer: null, failure: "dns_nxdomain_error" },
    helperSees: { dns: { failure: "dns_name_error", x_failure: "dns_nxdomain_error", addrs: [] } },
    lab: {},
  },
  {
    name: "dns-bogon-everywhere",
    technique: "(not censorship) a name that points to 127.0.0.1 for everyone",
    what: "the name resolves to 127.0.0.1 at the ISP's resolver and outside alike, the helper and DoH included (a misconfigured site; OONI's localhostWithHTTP)",
    target: "https://localhost-everywhere.lab.example/",
    // The outside resolver sees 127.0.0.1 too: the site's own setting, without a helper or DoH.
    expect: { status: "down", layer: null, failure: "dns_bogon_error", evidence: /for everyone/ },
    notBlocked: true,
    withControl: { status: "down", layer: null, failure: "dns_bogon_error", evidence: /for everyone/ },
    withDohOnly: { status: "down", layer: null, failure: "dns_bogon_error", evidence: /DoH \S+ resolved the name to 127\.0\.0\.1 too/ },
    lab: { ispZone: { "localhost-everywhere.lab.example": a("127.0.0.1") }, outsideZone: { "localhost-everywhere.lab.example": a("127.0.0.1") } },
  },
  {
    name: "dns-no-data",
    technique: "(not censorship) a name with no address anywhere",
    what: "the name exists but has no A record (NOERROR, no data) at the ISP's resolver and outside alike",
    target: "https://nodata.lab.example/",
    // The outside resolver (--resolver) is asked in every run: its NOERROR-no-data answer is enough.
    expect: { status: "down", layer: null, failure: "dns_no_answer" },
    notBlocked: true,
    withControl: { status: "down", layer: null, failure: "dns_no_answer" },
    withDohOnly: { status: "down", layer: null, failure: "dns_no_answer" },
    lab: { ispZone: { "nodata.lab.example": a() }, outsideZone: { "nodata.lab.example": a() } },
  },
  {
    name: "origin-resets",
    technique: "(not censorship) origin resets everyone",
    what: "the origin itself resets every connection after its first bytes",
    target: "https://reset-origin.lab.example/",
    expect: { status: "anomaly", layer: "tls", failure: "connection_reset" },
    notBlocked: true,
    withControl: { status: "down", layer: null, failure: "connection_reset", evidence: /control helper's failed too/ },
    helperSees: { tls_handshake: { "203.0.113.61:443": { status: false, failure: "connection_reset" } } },
    lab: { outsideZone: { "reset-origin.lab.example": a(SITE.resetOrigin) }, sites: [site(SITE.resetOrigin, "reset")] },
  },
  {
    name: "ok-https",
    technique: "(not censorship) working site, HTTPS",
    what: "a working site over HTTPS (its address also serves the SNI and Host cases)",
    target: "https://ok.lab.example/",
    expect: { status: "ok", layer: null, failure: null },
    notBlocked: true,
    withDohOnly: { status: "ok", layer: null, failure: null },
    withControl: { status: "ok", layer: null, failure: null },
    helperSees: { http_request: { failure: null, status_code: 200 } },
    lab: {},
  },
  {
    name: "ok-http",
    technique: "(not censorship) working site, HTTP",
    what: "a working site over plain HTTP",
    target: "http://ok.lab.example/",
    // The run was given a helper and it could not be used: nothing compared the plain-HTTP page (docs/verdicts.md "A helper that fails").
    expect: { status: "inconclusive", layer: null, failure: null, evidence: /over plain HTTP with no sign of a block, but the control helper this run was given could not be used/ },
    notBlocked: true,
    withControl: { status: "ok", layer: null, failure: null },
    helperSees: { http_request: { failure: null, status_code: 200 } },
    lab: {},
  },
];

/** Cases of the slow run (with the slow and throttled origins): slowness is not censorship. */
export const SLOW_CASES = [
  {
    name: "slow-origin",
    technique: "(not censorship) origin answers after 1.5 s",
    what: "the origin answers after 1.5 s (within --timeout)",
    target: "https://slow.lab.example/",
    expect: { status: "ok", layer: null, failure: null },
    notBlocked: true,
    withControl: { status: "ok", layer: null, failure: null },
    helperSees: { http_request: { failure: null, status_code: 200 } },
    lab: { outsideZone: { "slow.lab.example": a(SITE.slow) }, sites: [site(SITE.slow, "slow", { delayMs: 1500 })] },
  },
];

/** Throttling (a stretch): recorded and printed, no verdict asserted. */
export const THROTTLE = {
  name: "throttled",
  what: `tc (htb + tbf at 1mbit) on the censor shapes traffic from ${SITE.throttled} to the client; the site serves 256 KiB`,
  target: "http://throttled.lab.example/",
  rate: "1mbit",
  bodyBytes: 256 * 1024,
  lab: {
    outsideZone: { "throttled.lab.example": a(SITE.throttled) },
    sites: [site(SITE.throttled, "big", { bodyBytes: 256 * 1024 })],
    shape: [{ address: SITE.throttled, rate: "1mbit" }],
  },
};

/** The subscriber's public addresses the "whoami" block page prints (not the probe's own interfaces'). */
export const WHOAMI_PUBLIC = Object.freeze({ v4: "203.0.113.201", v6: "2001:db8:cafe::17" });

/**
 * What issue 15's export must carry through OONI's format (the export run of lab.test.ts): a
 * binary body with repeated headers, a block page quoting the subscriber's addresses (body,
 * header, Set-Cookie) among bytes that are not UTF-8, and tcp:// targets, besides the cases
 * above with interception (tls-mitm), a redirect (http-redirect) and injection (dns-injection).
 */
export const EXPORT_CASES = [
  {
    name: "binary-body",
    what: "a site that serves 16 bytes that are not UTF-8 with two Set-Cookie headers",
    target: "http://binary.lab.example/",
    lab: { outsideZone: { "binary.lab.example": a(SITE.binary) }, sites: [site(SITE.binary, "binary")] },
  },
  {
    name: "whoami-blockpage",
    what: "the ISP's page prints the subscriber's address and its public IPv4 and IPv6 addresses in the body, a header and a cookie",
    target: "http://whoami.lab.example/",
    lab: {
      outsideZone: { "whoami.lab.example": a(SITE.whoami) },
      sites: [site(SITE.whoami)],
      intercept: [{ address: SITE.whoami, port: 80, why: "a block page quoting addresses" }],
      blockPages: { "whoami.lab.example": { page: "whoami", publicV4: WHOAMI_PUBLIC.v4, publicV6: WHOAMI_PUBLIC.v6 } },
    },
  },
  { name: "tcp-ok", what: "a bare endpoint that connects", target: `tcp://${SITE.ok}:443`, lab: {} },
  { name: "tcp-rst", what: "a bare endpoint the censor resets", target: "tcp://tcp-rst.lab.example:443", lab: {} },
];

/** The network-down run: the client's link is down; every target must be inconclusive (exit 5). */
export const NETWORK_DOWN = {
  name: "network-down",
  what: "the client's only link is down; run with the canary",
  targets: ["https://ok.lab.example/", "https://bogon.lab.example/", "https://tcp-drop.lab.example/", `tcp://${SITE.ok}:443`],
  expect: { status: "inconclusive", layer: null, exitCode: 5 },
};

/** The canary every lab run uses: a lab web server. */
export const CANARY = "https://canary.lab.example/";

/** Merges the base and every case's `lab` pieces into one scenario. */
export function scenarioOf(name, pieces) {
  const lists = ["sites", "internetAddresses", "intercept", "nftForward", "iptablesForward", "shape", "certNames", "censorAddresses", "proxies", "blockPageEof", "iptablesInput"];
  const s = { name, outsideZone: {}, ispZone: {}, inject: {}, blockPages: {}, ...Object.fromEntries(lists.map((k) => [k, []])) };
  for (const p of [BASE, ...pieces]) {
    Object.assign(s.outsideZone, p.outsideZone);
    Object.assign(s.ispZone, p.ispZone);
    Object.assign(s.inject, p.inject);
    Object.assign(s.blockPages, p.blockPages);
    for (const k of lists) s[k].push(...(p[k] ?? []));
  }
  s.blockPageEof = [...new Set(s.blockPageEof)];
  return s;
}

/** The scenario of the test suite (and of `lab:up`): every case at once, OONI's QA scenarios (tests/lab/ooni-qa.mjs) included. */
export function casesScenario() {
  return scenarioOf("cases", [...[...CASES, ...SLOW_CASES, THROTTLE, ...EXPORT_CASES].map((c) => c.lab), ...qaPieces()]);
}
