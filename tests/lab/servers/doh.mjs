/**
 * A DNS-over-HTTPS server (RFC 8484) in the internet namespace, for the control measurements of
 * the next issue: `GET /dns-query?dns=<base64url>` and `POST /dns-query` with
 * `content-type: application/dns-message`; answers come from the outside resolver (UDP).
 *
 * Config: {"listen": {"host", "port"}, "path": "/dns-query", "upstream": {"host", "port"}, "tls": {"keyFile", "certFile"}}
 */
import https from "node:https";
import { readFileSync } from "node:fs";
import { config, decodeQuery, makeForwarder, ready } from "./lib.mjs";

const cfg = config();
const path = cfg.path ?? "/dns-query";
const upstream = makeForwarder(cfg.upstream);
const TYPE = "application/dns-message";

function fail(res, status, why) {
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(`${why}\n`);
}

function resolveAndSend(res, query) {
  if (!decodeQuery(query)) return fail(res, 400, "not a DNS query");
  const timer = setTimeout(() => fail(res, 504, "upstream resolver did not answer"), 4000);
  upstream.forward(query, (answer) => {
    clearTimeout(timer);
    if (res.headersSent) return;
    res.writeHead(200, { "content-type": TYPE, "content-length": String(answer.length), "cache-control": "max-age=0" });
    res.end(answer);
  });
}

const server = https.createServer({ key: readFileSync(cfg.tls.keyFile), cert: readFileSync(cfg.tls.certFile) }, (req, res) => {
  const url = new URL(req.url ?? "/", "https://doh.invalid");
  if (url.pathname !== path) return fail(res, 404, `DoH lives at ${path}`);
  if (req.method === "GET") {
    const dns = url.searchParams.get("dns");
    if (!dns) return fail(res, 400, "missing ?dns=");
    return resolveAndSend(res, Buffer.from(dns, "base64url"));
  }
  if (req.method === "POST") {
    if ((req.headers["content-type"] ?? "").split(";")[0].trim() !== TYPE) return fail(res, 415, `content-type must be ${TYPE}`);
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > 65535) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => resolveAndSend(res, Buffer.concat(chunks)));
    return;
  }
  res.setHeader("allow", "GET, POST");
  fail(res, 405, "GET or POST");
});
server.on("tlsClientError", () => {});
server.on("connection", (s) => s.on("error", () => {}));
await new Promise((r) => server.listen(cfg.listen.port, cfg.listen.host, r));
ready(`doh on https://${cfg.listen.host}:${cfg.listen.port}${path}`);
