/**
 * The ISP's block-page server, in the censor namespace. The censor DNATs blocked sites' port 80
 * (and, for interception, 443) here, and its resolver answers some blocked names with this
 * address. HTTPS uses a certificate from the censor's own CA, which the client does not trust.
 *
 * Config: {
 *   "address": "192.0.2.80", "http": [80], "https": [443], "tls": {"keyFile", "certFile"},
 *   "hosts": {"host.example": {"page": "stub"|"rt-warning"|"451"|"plain"|"whoami"} | {"redirect": "http://..."}},
 *   "defaultPage": "stub", "eof": [18080]
 * }
 * `eof` ports close every connection after its first bytes (the censor's EOF).
 * The stub pages carry the wording of Russian ISPs' stubs (Federal Law 149-FZ, the Unified
 * Register, a link to Roskomnadzor's lookup), which data/fingerprints/reachprobe.csv matches.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { readFileSync } from "node:fs";
import { config, log, ready } from "./lib.mjs";

const cfg = config();

function escape(s) {
  return String(s ?? "").replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

const PAGES = {
  // A typical ISP stub (the wording MGTS, MTS and smaller ISPs used in 2017).
  stub: (url) => ({
    status: 200,
    body: `<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Доступ к ресурсу ограничен</title></head>
<body>
<h1>Доступ к информационному ресурсу ограничен</h1>
<p>Доступ к запрашиваемому ресурсу ограничен на основании Федерального закона от 27.07.2006 № 149-ФЗ «Об информации, информационных технологиях и о защите информации».</p>
<p>Ресурс включен в Единый реестр доменных имен, указателей страниц сайтов в сети «Интернет» и сетевых адресов, позволяющих идентифицировать сайты в сети «Интернет», содержащие информацию, распространение которой в Российской Федерации запрещено.</p>
<p>Проверить, включен ли ресурс в реестр, можно на сайте <a href="https://eais.rkn.gov.ru/">eais.rkn.gov.ru</a>.</p>
<p class="url">Запрошенный адрес: ${escape(url)}</p>
</body></html>
`,
  }),
  // Rostelecom's warning page, where its redirects lead.
  "rt-warning": (url) => ({
    status: 200,
    body: `<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Ростелеком: доступ ограничен</title></head>
<body>
<h1>Уважаемый абонент!</h1>
<p>Доступ к запрашиваемому ресурсу ограничен по решению органов государственной власти в соответствии с Федеральным законом № 149-ФЗ «Об информации, информационных технологиях и о защите информации».</p>
<p>Подробнее: <a href="https://eais.rkn.gov.ru/">eais.rkn.gov.ru</a></p>
<p class="url">${escape(url)}</p>
</body></html>
`,
  }),
  // A middlebox's terse page that matches no fingerprint (as OONI's QA simulation injects): only a control can tell it from the site.
  plain: () => ({ status: 200, bare: true, body: `<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1><p>This page is not available.</p></body></html>\n` }),
  // A bare 451 whose body matches no fingerprint, so that the status alone decides.
  451: () => ({ status: 451, body: `<!DOCTYPE html><html><head><title>451 Unavailable For Legal Reasons</title></head><body><h1>Unavailable For Legal Reasons</h1></body></html>\n` }),
};

// An ISP page that tells the subscriber where it saw them (some do): the visitor's address and
// its public ones behind the ISP's NAT (rule.publicV4, rule.publicV6, which the probe's own
// interfaces do not carry) in the body, between bytes that are not UTF-8, in a header, and in
// one of two Set-Cookie headers.
function whoami(req, res, rule) {
  const WHOAMI_PUBLIC = { v4: rule.publicV4, v6: rule.publicV6 };
  const visitor = String(req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const text = `<html><head><title>Blocked</title></head><body><p>Access blocked. Your address: ${visitor}, public ${WHOAMI_PUBLIC.v4}:51234, IPv6 [${WHOAMI_PUBLIC.v6}]:443.</p></body></html>\n`;
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xff, 0xfe]), Buffer.from(text), Buffer.from([0x80, 0xc3, 0x28])]);
  res.writeHead(403, [
    ["Content-Type", "text/html"],
    ["X-Subscriber-IP", `${WHOAMI_PUBLIC.v4}, ${WHOAMI_PUBLIC.v6}`],
    ["Set-Cookie", `seen=${visitor}; Path=/`],
    ["Set-Cookie", `nat=${WHOAMI_PUBLIC.v4}; Path=/`],
  ]);
  res.end(body);
}

function handler(req, res) {
  const host = String(req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const rule = cfg.hosts?.[host] ?? { page: cfg.defaultPage ?? "stub" };
  if (rule.page === "whoami") return whoami(req, res, rule);
  if (rule.redirect) {
    res.writeHead(302, { location: rule.redirect, "content-type": "text/html", connection: "close" });
    return res.end(`<a href="${escape(rule.redirect)}">moved</a>\n`);
  }
  const page = (PAGES[rule.page] ?? PAGES.stub)(`${host}${req.url}`);
  res.writeHead(page.status, page.bare ? {} : { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(page.body);
}

// Ports where the censor closes the connection after the first bytes (an EOF where the site should answer).
for (const port of cfg.eof ?? []) {
  const server = net.createServer((s) => {
    s.on("error", () => {});
    s.once("data", () => s.end());
  });
  await new Promise((r) => server.listen(port, cfg.address, r));
}

let count = 0;
const tlsOpts = cfg.tls ? { key: readFileSync(cfg.tls.keyFile), cert: readFileSync(cfg.tls.certFile) } : null;
for (const [ports, secure] of [[cfg.http ?? [80], false], [cfg.https ?? [], true]]) {
  for (const port of ports) {
    const server = secure ? https.createServer(tlsOpts, handler) : http.createServer(handler);
    server.on("connection", (s) => s.on("error", () => {}));
    server.on("tlsClientError", () => {});
    server.on("error", (e) => log(`${cfg.address}:${port}: ${e.message}`));
    await new Promise((r) => server.listen(port, cfg.address, r));
    count++;
  }
}
ready(`block pages on ${cfg.address} (${count} listeners, ${Object.keys(cfg.hosts ?? {}).length} host rules)`);
