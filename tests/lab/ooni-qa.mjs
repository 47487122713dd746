/**
 * OONI's web_connectivity QA catalogue (ooni/probe-cli, internal/webconnectivityqa, `AllTestCases`),
 * rebuilt in this lab with real packets: each scenario under OONI's name, with the input OONI
 * uses, the test keys OONI expects (`blocking`, `accessible`), the verdict those keys map to
 * (issue 16: blocking=false/accessible=true -> ok; false/false -> down; "dns" -> blocked dns;
 * "tcp_ip" -> blocked tcp; "http-failure" -> blocked at the step that failed (`ooniLayer`);
 * "http-diff" -> blocked http; null -> anomaly or inconclusive), and our exact verdicts:
 *
 * - `withControl`: with the control helper and DoH (the `qaWithControls` run);
 * - `expect`: with no helper and no DoH (the `qaNoHelper` run: the outside resolver is the only
 *   witness, as in most volunteers' runs);
 * - `helperDown`: the scenario IS the helper being unreachable (OONI's controlFailure*): its
 *   verdict "with the helper" is the dead-helper run's (`qaDeadControl`);
 * - `differs`: a deliberate difference with OONI (with the helper), with the reason; listed in
 *   docs/ooni-qa.md;
 * - `notRebuilt`: why the scenario cannot be rebuilt on Linux.
 *
 * The lab's names stand for OONI's (qa-*.lab.example for www.example.com, bit.ly, badssl.com...).
 * Verdicts compare status and layer; failures are printed, not scored.
 */

/** ok.lab.example's address (SITE.ok in scenario.mjs, which imports this file): the real address of the QA names that have a working site. */
const SITE = Object.freeze({ ok: "203.0.113.11" });

const a = (...addresses) => ({ a: addresses });
const site = (address, mode = "ok", extra = {}) => ({ addresses: [address], http: [80], https: [443], mode, ...extra });
const ok = { status: "ok", layer: null };
const down = { status: "down", layer: null };
const blocked = (layer) => ({ status: "blocked", layer });
const anomaly = (layer) => ({ status: "anomaly", layer });
const sni = (name, ...verdict) => ["-p", "tcp", "--dport", "443", "-m", "string", "--string", name, "--algo", "bm", ...verdict];
const host = (name, ...verdict) => ["-p", "tcp", "--dport", "80", "-m", "string", "--string", name, "--algo", "bm", "--icase", ...verdict];
const RST = ["-j", "REJECT", "--reject-with", "tcp-reset"];
const DROP = ["-j", "DROP"];

/** QA addresses: sites in the internet namespace, and the censor's own. */
const QA = Object.freeze({
  untrusted: "203.0.113.100",
  expired: "203.0.113.101",
  wrongName: "203.0.113.102",
  captcha: "203.0.113.103",
  httpDiff: "203.0.113.104",
  largeFile: "203.0.113.105",
  brokenHttp: "203.0.113.106",
  brokenHttps: "203.0.113.107",
  refusedTarget: "203.0.113.111",
  eofTarget: "203.0.113.117",
  chain: "203.0.113.121",
  tcpDrop: "203.0.113.122",
  throttled: "203.0.113.124",
  throttledTls: "203.0.113.125",
  // The censor's: a public block page reached by DNAT, an address where nothing listens, the ISP's transparent proxy, its block-page "proxy".
  ghostPage: "192.0.2.81",
  refusing: "192.0.2.82",
  ispBlockProxy: "192.0.2.83",
  proxy: "192.0.2.90",
});

/** A redirecting source (OONI's bit.ly) at `address` whose 302 leads to `location`. */
const redirector = (name, address, location) => ({ outsideZone: { [name]: a(address) }, sites: [site(address, "redirect", { location })] });
const EOF_HTTP = 18080;
const EOF_HTTPS = 18443;

/** The catalogue, in `AllTestCases` order. */
export const OONI_QA = [
  // ---- badssl
  {
    ooni: "badSSLWithUnknownAuthorityWithConsistentDNS",
    input: "https://untrusted-root.badssl.com/",
    ooniKeys: { blocking: false, accessible: false },
    target: "https://qa-untrusted.lab.example/",
    withControl: down,
    expect: anomaly("tls"),
    notBlocked: true,
    lab: { outsideZone: { "qa-untrusted.lab.example": a(QA.untrusted) }, sites: [site(QA.untrusted, "ok", { cert: "untrusted" })] },
  },
  {
    ooni: "badSSLWithExpiredCertificate",
    input: "https://expired.badssl.com/",
    ooniKeys: { blocking: false, accessible: false },
    target: "https://qa-expired.lab.example/",
    withControl: down,
    expect: anomaly("tls"),
    notBlocked: true,
    lab: { outsideZone: { "qa-expired.lab.example": a(QA.expired) }, sites: [site(QA.expired, "ok", { cert: "expired" })] },
  },
  {
    ooni: "badSSLWithWrongServerName",
    input: "https://wrong.host.badssl.com/",
    ooniKeys: { blocking: false, accessible: false },
    target: "https://qa-wrong-name.lab.example/",
    withControl: down,
    expect: anomaly("tls"),
    notBlocked: true,
    lab: { outsideZone: { "qa-wrong-name.lab.example": a(QA.wrongName) }, sites: [site(QA.wrongName, "ok", { cert: "wrong-name" })] },
  },
  {
    ooni: "badSSLWithUnknownAuthorityWithInconsistentDNS",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-badssl-dns.lab.example/",
    withControl: blocked("dns"),
    // The outside resolver (--resolver) witnesses the system resolver's answer even without a helper.
    expect: blocked("dns"),
    lab: { ispZone: { "qa-badssl-dns.lab.example": a(QA.untrusted) }, outsideZone: { "qa-badssl-dns.lab.example": a(SITE.ok) } },
  },

  // ---- cloudflare: the site challenges the client's network (192.0.2.0/24), not the helper's.
  {
    ooni: "cloudflareCAPTCHAWithHTTP",
    input: "http://www.cloudflare-cache.com/",
    ooniKeys: { blocking: "http-diff", accessible: false },
    target: "http://qa-captcha.lab.example/",
    withControl: blocked("http"),
    // Without a control, a 403 page proves nothing (no fingerprint).
    expect: ok,
    lab: { outsideZone: { "qa-captcha.lab.example": a(QA.captcha) }, sites: [site(QA.captcha, "captcha", { challenge: "192.0.2." })] },
  },
  {
    ooni: "cloudflareCAPTCHAWithHTTPS",
    input: "https://www.cloudflare-cache.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "https://qa-captcha.lab.example/",
    withControl: { ...ok, evidence: /validated for the site, so the site itself chose to answer this client otherwise/ },
    expect: ok,
    notBlocked: true,
    lab: {},
  },

  // ---- control: the helper unreachable (the suite's dead helper).
  {
    ooni: "controlFailureWithSuccessfulHTTPWebsite",
    input: "http://www.example.org/",
    ooniKeys: { blocking: null, accessible: null },
    target: "http://qa-ctrlfail.lab.example/",
    helperDown: true,
    // The helper the run was given could not be used: nothing compared the page (docs/verdicts.md "A helper that fails").
    withControl: { status: "inconclusive", layer: null, evidence: /over plain HTTP with no sign of a block, but the control helper this run was given could not be used[^]*control helper \S+ could not be used/ },
    // With no helper configured, only a signature proves a block, and none was seen.
    expect: ok,
    notBlocked: true,
    lab: { outsideZone: { "qa-ctrlfail.lab.example": a(SITE.ok) } },
  },
  {
    ooni: "controlFailureWithSuccessfulHTTPSWebsite",
    input: "https://www.example.org/",
    ooniKeys: { blocking: false, accessible: true },
    target: "https://qa-ctrlfail.lab.example/",
    helperDown: true,
    withControl: { ...ok, evidence: /control helper \S+ could not be used/ },
    expect: ok,
    notBlocked: true,
    lab: {},
  },

  // ---- dnsblocking
  {
    ooni: "dnsBlockingAndroidDNSCacheNoData",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    notRebuilt:
      "it emulates Android's getaddrinfo (bionic), which answers EAI_NODATA from its cache where glibc says EAI_NONAME; on Linux the same network is dnsBlockingNXDOMAIN (and dns-no-data in the lab's own cases)",
  },
  {
    ooni: "dnsBlockingBOGON",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-bogon.lab.example/",
    withControl: blocked("dns"),
    expect: blocked("dns"),
    lab: { ispZone: { "qa-bogon.lab.example": a("10.10.34.35") }, outsideZone: { "qa-bogon.lab.example": a(SITE.ok) } },
  },
  {
    ooni: "dnsBlockingNXDOMAIN",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-nxdomain.lab.example/",
    withControl: blocked("dns"),
    expect: blocked("dns"),
    lab: { ispZone: { "qa-nxdomain.lab.example": { rcode: "NXDOMAIN" } }, outsideZone: { "qa-nxdomain.lab.example": a(SITE.ok) } },
  },

  // ---- dnshijacking
  {
    ooni: "dnsHijackingToLocalhostWithHTTP",
    input: "http://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "http://qa-localhost-hijack.lab.example/",
    withControl: blocked("dns"),
    expect: blocked("dns"),
    lab: { ispZone: { "qa-localhost-hijack.lab.example": a("127.0.0.1") }, outsideZone: { "qa-localhost-hijack.lab.example": a(SITE.ok) } },
  },
  {
    ooni: "dnsHijackingToLocalhostWithHTTPS",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-localhost-hijack.lab.example/",
    withControl: blocked("dns"),
    expect: blocked("dns"),
    lab: {},
  },
  {
    ooni: "dnsHijackingToProxyWithHTTPURL",
    input: "http://www.example.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "http://qa-proxy.lab.example/",
    // Reached: the proxy served the control's page; the proxy is named in a note.
    withControl: { ...ok, evidence: /^note: the system resolver returned 192\.0\.2\.90, which no control returned [^\n]*192\.0\.2\.90 served the page the control saw, so the site was reached, through 192\.0\.2\.90: a transparent proxy/ },
    // With no control page, the address swap compares it with the page the outside resolver's address serves: the same, so reached.
    expect: { ...ok, evidence: /^note: the system resolver returned 192\.0\.2\.90, which no control returned [^\n]*192\.0\.2\.90:80 served the same page as 203\.0\.113\.11:80, an address a witness gave, for the same request [^\n]*so the site was reached, through 192\.0\.2\.90: a transparent proxy/ },
    notBlocked: true,
    lab: { ispZone: { "qa-proxy.lab.example": a(QA.proxy) }, outsideZone: { "qa-proxy.lab.example": a(SITE.ok) }, proxies: [{ address: QA.proxy, upstream: SITE.ok, ports: [80, 443] }] },
  },
  {
    ooni: "dnsHijackingToProxyWithHTTPSURL",
    input: "https://www.example.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "https://qa-proxy.lab.example/",
    withControl: { ...ok, evidence: /^note: [^\n]*a TLS handshake with 192\.0\.2\.90 validated for qa-proxy\.lab\.example, so the site was reached, through 192\.0\.2\.90: a transparent proxy/ },
    // The certificate validated: reached with no helper too, the proxy still named.
    expect: { ...ok, evidence: /^note: [^\n]*validated for qa-proxy\.lab\.example, so the site was reached, through 192\.0\.2\.90/ },
    notBlocked: true,
    lab: {},
  },

  // ---- ghost: the name exists nowhere, yet the ISP's resolver answers with its public block page.
  {
    ooni: "ghostDNSBlockingWithHTTP",
    input: "http://itsat.info/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "http://qa-ghost.lab.example/",
    withControl: { ...blocked("dns"), evidence: /resolved it to no address \(the name does not exist\)/ },
    // The outside resolver's NXDOMAIN witnesses against the ISP's answer even without a helper.
    expect: blocked("dns"),
    lab: {
      ispZone: { "qa-ghost.lab.example": a(QA.ghostPage) },
      intercept: [
        { address: QA.ghostPage, port: 80, why: "ghost DNS: the ISP's public block page" },
        { address: QA.ghostPage, port: 443, why: "ghost DNS: the ISP's public block page" },
      ],
      blockPages: { "qa-ghost.lab.example": { page: "plain" } },
    },
  },
  {
    ooni: "ghostDNSBlockingWithHTTPS",
    input: "https://itsat.info/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-ghost.lab.example/",
    withControl: blocked("dns"),
    expect: blocked("dns"),
    lab: {},
  },

  // ---- httpblocking
  {
    ooni: "httpBlockingConnectionReset",
    input: "http://www.example.com/",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "http://qa-http-rst.lab.example/",
    withControl: blocked("http"),
    expect: blocked("http"),
    lab: { outsideZone: { "qa-http-rst.lab.example": a(SITE.ok) }, iptablesForward: [host("qa-http-rst.lab.example", ...RST)] },
  },

  // ---- httpdiff: a terse block page (no fingerprint) in place of the site.
  {
    ooni: "httpDiffWithConsistentDNS",
    input: "http://www.example.com/",
    ooniKeys: { blocking: "http-diff", accessible: false },
    target: "http://qa-httpdiff.lab.example/",
    withControl: { ...blocked("http"), evidence: /they differ in body length .*title, uncommon headers/ },
    expect: ok,
    lab: {
      outsideZone: { "qa-httpdiff.lab.example": a(QA.httpDiff) },
      sites: [site(QA.httpDiff)],
      intercept: [{ address: QA.httpDiff, port: 80, why: "a terse block page on consistent DNS" }],
      blockPages: { "qa-httpdiff.lab.example": { page: "plain" } },
    },
  },
  {
    ooni: "httpDiffWithInconsistentDNS",
    input: "http://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "http://qa-httpdiff-dns.lab.example/",
    withControl: blocked("dns"),
    // The address swap: the same request to the outside resolver's address got the site's page, not the ISP's.
    expect: { ...blocked("dns"), evidence: /over 192\.0\.2\.83:80 answered HTTP 200, \d+ bytes, "Access Denied", but the same request to 203\.0\.113\.11:80, an address a witness gave, answered HTTP 200, \d+ bytes, "qa-httpdiff-dns\.lab\.example: a lab site": they differ in / },
    lab: {
      ispZone: { "qa-httpdiff-dns.lab.example": a(QA.ispBlockProxy) },
      outsideZone: { "qa-httpdiff-dns.lab.example": a(SITE.ok) },
      intercept: [{ address: QA.ispBlockProxy, port: 80, why: "the ISP's proxy serving a terse block page" }],
      blockPages: { "qa-httpdiff-dns.lab.example": { page: "plain" } },
    },
  },

  // ---- idna: the lab's resolvers know the name in its xn-- form only, as DNS does.
  {
    ooni: "idnaWithoutCensorshipLowercase",
    input: "http://яндекс.рф/",
    ooniKeys: { blocking: false, accessible: true },
    target: "http://яндекс.рф/",
    key: "http://xn--d1acpjx3f.xn--p1ai/",
    withControl: ok,
    expect: ok,
    notBlocked: true,
    lab: { outsideZone: { "xn--d1acpjx3f.xn--p1ai": a(SITE.ok) } },
  },
  {
    ooni: "idnaWithoutCensorshipWithFirstLetterUppercase",
    input: "http://Яндекс.рф/",
    ooniKeys: { blocking: false, accessible: true },
    // Another path: the same URL would be the same target as the case above.
    target: "http://Яндекс.рф/upper",
    key: "http://xn--d1acpjx3f.xn--p1ai/upper",
    withControl: ok,
    expect: ok,
    notBlocked: true,
    lab: {},
  },

  // ---- largefile: 4 MiB, more than the probe keeps (--max-body); reading stops at the cap.
  {
    ooni: "largeFileWithHTTP",
    input: "http://largefile.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "http://qa-largefile.lab.example/",
    withControl: ok,
    expect: ok,
    notBlocked: true,
    lab: { outsideZone: { "qa-largefile.lab.example": a(QA.largeFile) }, sites: [site(QA.largeFile, "big", { bodyBytes: 4 * 1024 * 1024 })] },
  },
  {
    ooni: "largeFileWithHTTPS",
    input: "https://largefile.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "https://qa-largefile.lab.example/",
    withControl: ok,
    expect: ok,
    notBlocked: true,
    lab: {},
  },

  // ---- localhost: the name points to 127.0.0.1 for everyone.
  {
    ooni: "localhostWithHTTP",
    input: "http://www.example.com/",
    ooniKeys: { blocking: false, accessible: false },
    target: "http://qa-localhost.lab.example/",
    withControl: down,
    expect: down,
    notBlocked: true,
    lab: { ispZone: { "qa-localhost.lab.example": a("127.0.0.1") }, outsideZone: { "qa-localhost.lab.example": a("127.0.0.1") } },
  },
  {
    ooni: "localhostWithHTTPS",
    input: "https://www.example.com/",
    ooniKeys: { blocking: false, accessible: false },
    target: "https://qa-localhost.lab.example/",
    withControl: down,
    expect: down,
    notBlocked: true,
    lab: {},
  },

  // ---- redirect
  {
    ooni: "redirectWithBrokenLocationForHTTP",
    input: "http://httpbin.com/broken-redirect-http",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "http://qa-broken-redirect.lab.example/",
    withControl: down,
    expect: anomaly("http"),
    notBlocked: true,
    differs:
      "down, where OONI says http-failure: the site's own redirect has no host (Location: http:///), and the control helper's fetch fails on it too; a fault every client sees is the site's, not the network's.",
    lab: { outsideZone: { "qa-broken-redirect.lab.example": a(QA.brokenHttp) }, sites: [site(QA.brokenHttp, "redirect", { location: "http:///" })] },
  },
  {
    ooni: "redirectWithBrokenLocationForHTTPS",
    input: "https://httpbin.com/broken-redirect-https",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "https://qa-broken-redirect-s.lab.example/",
    withControl: down,
    expect: anomaly("http"),
    notBlocked: true,
    differs: "down, where OONI says http-failure: as for HTTP, the site's own broken redirect (Location: https:///), which the control helper sees too.",
    lab: { outsideZone: { "qa-broken-redirect-s.lab.example": a(QA.brokenHttps) }, sites: [site(QA.brokenHttps, "redirect", { location: "https:///" })] },
  },
  {
    ooni: "redirectWithConsistentDNSAndThenConnectionRefusedForHTTP",
    input: "https://bit.ly/32447",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "tcp",
    target: "https://qa-r-refused-http.lab.example/",
    withControl: blocked("tcp"),
    expect: anomaly("tcp"),
    lab: {
      ...redirector("qa-r-refused-http.lab.example", "203.0.113.110", "http://qa-r-refused-target.lab.example/"),
      outsideZone: { "qa-r-refused-http.lab.example": a("203.0.113.110"), "qa-r-refused-target.lab.example": a(QA.refusedTarget) },
      sites: [site("203.0.113.110", "redirect", { location: "http://qa-r-refused-target.lab.example/" }), site(QA.refusedTarget)],
      nftForward: [`ip daddr ${QA.refusedTarget} tcp flags & (syn | ack) == syn reject with tcp reset`],
    },
  },
  {
    ooni: "redirectWithConsistentDNSAndThenConnectionRefusedForHTTPS",
    input: "https://bit.ly/21645",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "tcp",
    target: "https://qa-r-refused-https.lab.example/",
    withControl: blocked("tcp"),
    expect: anomaly("tcp"),
    lab: redirector("qa-r-refused-https.lab.example", "203.0.113.112", "https://qa-r-refused-target.lab.example/"),
  },
  {
    ooni: "redirectWithConsistentDNSAndThenConnectionResetForHTTP",
    input: "https://bit.ly/32447",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "https://qa-r-reset-http.lab.example/",
    withControl: blocked("http"),
    expect: blocked("http"),
    lab: {
      ...redirector("qa-r-reset-http.lab.example", "203.0.113.113", "http://qa-r-reset-target.lab.example/"),
      outsideZone: { "qa-r-reset-http.lab.example": a("203.0.113.113"), "qa-r-reset-target.lab.example": a(SITE.ok) },
      iptablesForward: [host("qa-r-reset-target.lab.example", ...RST), sni("qa-r-reset-target.lab.example", ...RST)],
    },
  },
  {
    ooni: "redirectWithConsistentDNSAndThenConnectionResetForHTTPS",
    input: "https://bit.ly/21645",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "tls",
    target: "https://qa-r-reset-https.lab.example/",
    withControl: blocked("tls"),
    expect: blocked("tls"),
    lab: redirector("qa-r-reset-https.lab.example", "203.0.113.114", "https://qa-r-reset-target.lab.example/"),
  },
  {
    ooni: "redirectWithConsistentDNSAndThenNXDOMAIN",
    input: "https://bit.ly/21645",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-r-nx.lab.example/",
    // The hop resolves through the system resolver only, as a browser: the outside resolver's answer is a control, never a way around.
    withControl: { ...blocked("dns"), evidence: /the redirect to qa-r-nx-target\.lab\.example stopped: the lookup through the system resolver/ },
    // Without a helper the outside resolver witnesses the hop's name, as it does the target's own.
    expect: { ...blocked("dns"), evidence: /the redirect to qa-r-nx-target\.lab\.example stopped: the lookup through the system resolver [^\n]*, but resolver \S+ resolved it to 203\.0\.113\.11/ },
    lab: {
      ...redirector("qa-r-nx.lab.example", "203.0.113.115", "https://qa-r-nx-target.lab.example/"),
      outsideZone: { "qa-r-nx.lab.example": a("203.0.113.115"), "qa-r-nx-target.lab.example": a(SITE.ok) },
      ispZone: { "qa-r-nx-target.lab.example": { rcode: "NXDOMAIN" } },
    },
  },
  {
    ooni: "redirectWithConsistentDNSAndThenEOFForHTTP",
    input: "https://bit.ly/32447",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "https://qa-r-eof-http.lab.example/",
    withControl: blocked("http"),
    expect: anomaly("http"),
    lab: {
      ...redirector("qa-r-eof-http.lab.example", "203.0.113.116", "http://qa-r-eof-target.lab.example/"),
      outsideZone: { "qa-r-eof-http.lab.example": a("203.0.113.116"), "qa-r-eof-target.lab.example": a(QA.eofTarget) },
      sites: [site("203.0.113.116", "redirect", { location: "http://qa-r-eof-target.lab.example/" }), site(QA.eofTarget)],
      intercept: [
        { address: QA.eofTarget, port: 80, toPort: EOF_HTTP, why: "EOF after the request" },
        { address: QA.eofTarget, port: 443, toPort: EOF_HTTPS, why: "EOF after the ClientHello" },
      ],
      blockPageEof: [EOF_HTTP, EOF_HTTPS],
    },
  },
  {
    ooni: "redirectWithConsistentDNSAndThenEOFForHTTPS",
    input: "https://bit.ly/21645",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "tls",
    target: "https://qa-r-eof-https.lab.example/",
    withControl: blocked("tls"),
    expect: anomaly("tls"),
    lab: redirector("qa-r-eof-https.lab.example", "203.0.113.118", "https://qa-r-eof-target.lab.example/"),
  },
  {
    ooni: "redirectWithConsistentDNSAndThenTimeoutForHTTP",
    input: "https://bit.ly/32447",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "https://qa-r-drop-http.lab.example/",
    withControl: blocked("http"),
    expect: blocked("http"),
    lab: {
      ...redirector("qa-r-drop-http.lab.example", "203.0.113.119", "http://qa-r-drop-target.lab.example/"),
      outsideZone: { "qa-r-drop-http.lab.example": a("203.0.113.119"), "qa-r-drop-target.lab.example": a(SITE.ok) },
      iptablesForward: [host("qa-r-drop-target.lab.example", ...DROP), sni("qa-r-drop-target.lab.example", ...DROP)],
    },
  },
  {
    ooni: "redirectWithConsistentDNSAndThenTimeoutForHTTPS",
    input: "https://bit.ly/21645",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "tls",
    target: "https://qa-r-drop-https.lab.example/",
    withControl: blocked("tls"),
    expect: blocked("tls"),
    lab: redirector("qa-r-drop-https.lab.example", "203.0.113.120", "https://qa-r-drop-target.lab.example/"),
  },
  {
    ooni: "redirectWithMoreThanTenRedirectsAndHTTP",
    input: "http://httpbin.com/redirect/15",
    ooniKeys: { blocking: false, accessible: false },
    target: "http://qa-chain.lab.example/redirect/15",
    withControl: down,
    expect: anomaly("http"),
    notBlocked: true,
    lab: { outsideZone: { "qa-chain.lab.example": a(QA.chain) }, sites: [site(QA.chain, "chain")] },
  },
  {
    ooni: "redirectWithMoreThanTenRedirectsAndHTTPS",
    input: "https://httpbin.com/redirect/15",
    ooniKeys: { blocking: false, accessible: false },
    target: "https://qa-chain.lab.example/redirect/15",
    withControl: down,
    expect: anomaly("http"),
    notBlocked: true,
    lab: {},
  },

  // ---- success
  {
    ooni: "successWithHTTP",
    input: "http://www.example.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "http://qa-success.lab.example/",
    withControl: ok,
    expect: ok,
    notBlocked: true,
    lab: { outsideZone: { "qa-success.lab.example": a(SITE.ok) } },
  },
  {
    ooni: "successWithHTTPS",
    input: "https://www.example.com/",
    ooniKeys: { blocking: false, accessible: true },
    target: "https://qa-success.lab.example/",
    withControl: ok,
    expect: ok,
    notBlocked: true,
    lab: {},
  },

  // ---- tcpblocking
  {
    ooni: "tcpBlockingConnectTimeout",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "tcp_ip", accessible: false },
    target: "https://qa-tcp-drop.lab.example/",
    withControl: blocked("tcp"),
    expect: anomaly("tcp"),
    lab: { outsideZone: { "qa-tcp-drop.lab.example": a(QA.tcpDrop) }, sites: [site(QA.tcpDrop)], nftForward: [`ip daddr ${QA.tcpDrop} drop`] },
  },
  {
    ooni: "tcpBlockingConnectionRefusedWithInconsistentDNS",
    input: "http://www.example.org/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "http://qa-tcp-refused-dns.lab.example/",
    withControl: blocked("dns"),
    expect: blocked("dns"),
    lab: { ispZone: { "qa-tcp-refused-dns.lab.example": a(QA.refusing) }, outsideZone: { "qa-tcp-refused-dns.lab.example": a(SITE.ok) }, censorAddresses: [QA.refusing] },
  },

  // ---- throttling: 64 kbit/s from the site's address (tc on the censor), a 4 MiB body: the fetch outlasts --timeout.
  {
    ooni: "throttlingWithHTTP",
    input: "http://largefile.com/",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    target: "http://qa-throttled.lab.example/",
    withControl: blocked("http"),
    expect: anomaly("http"),
    lab: {
      outsideZone: { "qa-throttled.lab.example": a(QA.throttled) },
      sites: [site(QA.throttled, "big", { bodyBytes: 4 * 1024 * 1024 })],
      shape: [{ address: QA.throttled, rate: "64kbit" }],
    },
  },
  {
    ooni: "throttlingWithHTTPS",
    input: "https://largefile.com/",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "http",
    // Its own address and shaper: the HTTP scenario's transfers do not share its 64 kbit/s.
    target: "https://qa-throttled-s.lab.example/",
    // tc shapes by address, not by SNI as OONI's simulation does: the same traffic, slowed the same way.
    withControl: blocked("http"),
    expect: anomaly("http"),
    lab: {
      outsideZone: { "qa-throttled-s.lab.example": a(QA.throttledTls) },
      sites: [site(QA.throttledTls, "big", { bodyBytes: 4 * 1024 * 1024 })],
      shape: [{ address: QA.throttledTls, rate: "64kbit" }],
    },
  },

  // ---- tlsblocking
  {
    ooni: "tlsBlockingConnectionResetWithConsistentDNS",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "http-failure", accessible: false },
    ooniLayer: "tls",
    target: "https://qa-tls-rst.lab.example/",
    withControl: blocked("tls"),
    expect: blocked("tls"),
    lab: { outsideZone: { "qa-tls-rst.lab.example": a(SITE.ok) }, iptablesForward: [sni("qa-tls-rst.lab.example", ...RST)] },
  },
  {
    ooni: "tlsBlockingConnectionResetWithInconsistentDNS",
    input: "https://www.example.com/",
    ooniKeys: { blocking: "dns", accessible: false },
    target: "https://qa-tls-rst-dns.lab.example/",
    withControl: blocked("dns"),
    // The outside resolver witnesses the DNS answer (the root cause) even without a helper; the SNI swap is in the evidence.
    expect: blocked("dns"),
    // As in OONI's simulation, the ISP's resolver sends the name to its proxy, where the SNI is reset.
    lab: {
      ispZone: { "qa-tls-rst-dns.lab.example": a(QA.proxy) },
      outsideZone: { "qa-tls-rst-dns.lab.example": a(SITE.ok) },
      iptablesInput: [sni("qa-tls-rst-dns.lab.example", ...RST)],
    },
  },

  // ---- websitedown
  {
    ooni: "websiteDownNXDOMAIN",
    input: "http://www.example.xyz/",
    ooniKeys: { blocking: false, accessible: false },
    target: "http://qa-nowhere.lab.example/",
    withControl: down,
    expect: down,
    notBlocked: true,
    lab: {},
  },
  {
    ooni: "websiteDownNoAddrs",
    input: "http://www.example.com/",
    ooniKeys: { blocking: false, accessible: false },
    target: "http://qa-noaddrs.lab.example/",
    withControl: down,
    expect: down,
    notBlocked: true,
    lab: { ispZone: { "qa-noaddrs.lab.example": a() }, outsideZone: { "qa-noaddrs.lab.example": a() } },
  },
  {
    ooni: "websiteDownTCPConnect",
    input: "http://www.example.com:444/",
    ooniKeys: { blocking: false, accessible: false },
    target: "http://qa-success.lab.example:444/",
    // The helper connects to port 444 on the addresses it resolved itself, and is refused too (docs/control-helper.md "Refusals and limits").
    withControl: { ...down, evidence: /and the control helper failed too \(connection_refused\)/ },
    expect: anomaly("tcp"),
    notBlocked: true,
    lab: {},
  },
];

/** The scenarios rebuilt in the lab. */
export const QA_CASES = OONI_QA.filter((c) => !c.notRebuilt);

/** The key a result carries for a scenario: its canonical target. */
export const qaKey = (c) => c.key ?? c.target;

/** What OONI's expected keys map to (issue 16): `{status: [...], layer}`; layer undefined when any. */
export function ooniMapped(c) {
  const { blocking, accessible } = c.ooniKeys;
  if (blocking === false) return { status: [accessible ? "ok" : "down"], layer: null };
  if (blocking === null) return { status: ["anomaly", "inconclusive"], layer: undefined };
  const layer = { dns: "dns", tcp_ip: "tcp", "http-diff": "http", "http-failure": c.ooniLayer }[blocking];
  return { status: ["blocked"], layer };
}

/** True when a verdict (`{status, layer}`) is what OONI's keys map to. */
export function agreesWithOoni(c, v) {
  const m = ooniMapped(c);
  return Boolean(v) && m.status.includes(v.status) && (m.layer === undefined || v.layer === m.layer);
}

/**
 * The score of one run: how many rebuilt scenarios agree with OONI, how many differ deliberately
 * (`differs`, with the verdict recorded for that run), and, without the helper, how many more are
 * an anomaly at OONI's blocking layer (nothing could confirm them). `verdictOf(c)` gives our verdict.
 */
export function qaScore(verdictOf, { withHelper }) {
  let agree = 0;
  let deliberate = 0;
  let anomalyAtLayer = 0;
  const misses = [];
  // A deliberate difference is our recorded verdict for the run (docs/ooni-qa.md).
  const recorded = (c) => (withHelper ? c.withControl : c.expect);
  for (const c of QA_CASES) {
    const v = verdictOf(c);
    if (agreesWithOoni(c, v)) agree++;
    else if (c.differs && v && v.status === recorded(c).status && v.layer === recorded(c).layer) deliberate++;
    else {
      if (!withHelper && v?.status === "anomaly" && ooniMapped(c).status.includes("blocked") && v.layer === ooniMapped(c).layer) anomalyAtLayer++;
      misses.push(c.ooni);
    }
  }
  const line = withHelper
    ? `OONI QA: ${agree} of ${QA_CASES.length} agree (${deliberate} deliberate differences) with the helper`
    : `OONI QA: ${agree} of ${QA_CASES.length} agree (${deliberate} deliberate differences) without the helper; ${anomalyAtLayer} more an anomaly at OONI's layer`;
  return { agree, deliberate, anomalyAtLayer, total: QA_CASES.length, misses, line };
}

/** The lab pieces of every rebuilt scenario. */
export function qaPieces() {
  return QA_CASES.map((c) => c.lab);
}

export { QA as QA_ADDR };
