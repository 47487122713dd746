/**
 * The internet's web servers: one process listening on many addresses, plain HTTP and HTTPS
 * (a certificate from the lab CA that covers every lab name).
 *
 * Config: {
 *   "tls": {"keyFile", "certFile"},
 *   "sites": [{"addresses": ["203.0.113.11"], "http": [80], "https": [443], "mode": MODE,
 *              "delayMs": 1500, "bodyBytes": 262144, "location": "https://..."}]
 * }
 * MODE: "ok" (a small HTML page naming the host), "slow" (the same after delayMs), "big" (a body
 * of bodyBytes), "redirect" (302 to `location`), "reset" (accepts, then answers the first bytes with a RST: an origin that resets
 * everyone), "captcha" (a challenge page, 403, for clients in `challenge` (a prefix such as
 * "192.0.2."), the ok page for everyone else: a site that challenges one network), "chain"
 * (`/redirect/N` redirects to `/redirect/N-1`, `/redirect/0` is the ok page), "binary" (16 bytes
 * that are not UTF-8, with two Set-Cookie headers).
 * A site's own `tls` ({keyFile, certFile}) replaces the shared certificate (a bad one, for instance).
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { readFileSync } from "node:fs";
import { config, log, ready } from "./lib.mjs";

const cfg = config();
const tlsOpts = { key: readFileSync(cfg.tls.keyFile), cert: readFileSync(cfg.tls.certFile) };

function page(host) {
  const h = String(host ?? "").replace(/[^\w.:-]/g, "");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${h}: a lab site</title></head><body><h1>${h}</h1><p>Served by the reachprobe lab's internet namespace.</p></body></html>\n`;
}

function handler(site) {
  return (req, res) => {
    const send = () => {
      if (site.mode === "captcha" && String(req.socket.remoteAddress ?? "").replace(/^::ffff:/, "").startsWith(site.challenge ?? "192.0.2.")) {
        res.writeHead(403, { "content-type": "text/html; charset=utf-8", "cf-mitigated": "challenge", "cache-control": "no-store" });
        return res.end(`<!doctype html><html><head><title>Just a moment...</title></head><body><p>Checking your browser before accessing the site.</p></body></html>\n`);
      }
      const chain = site.mode === "chain" ? /^\/redirect\/(\d+)$/.exec(req.url ?? "") : null;
      if (chain && Number(chain[1]) > 0) {
        res.writeHead(302, { location: `/redirect/${Number(chain[1]) - 1}`, "content-type": "text/html; charset=utf-8" });
        return res.end("moved\n");
      }
      if (site.mode === "redirect") {
        res.writeHead(302, { location: site.location, "content-type": "text/html; charset=utf-8" });
        return res.end(`<!doctype html><html><head><title>Moved</title></head><body><a href="${site.location}">moved</a></body></html>\n`);
      }
      if (site.mode === "binary") {
        // Issue 15's body: a PNG signature, a NUL, bytes that are not UTF-8, then "AB"; two Set-Cookie headers.
        res.writeHead(200, [["Content-Type", "image/png"], ["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2; Path=/"]]);
        return res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x41, 0x42]));
      }
      if (site.mode === "big") {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(site.bodyBytes) });
        const chunk = Buffer.alloc(16 * 1024, 97);
        let left = site.bodyBytes;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once("drain", pump);
          }
          res.end();
        };
        return pump();
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page(req.headers.host));
    };
    if (site.mode === "slow") setTimeout(send, site.delayMs ?? 1500);
    else send();
  };
}

const servers = [];
async function listen(server, host, port) {
  server.on("error", (e) => log(`${host}:${port}: ${e.message}`));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  servers.push(server);
}

let count = 0;
for (const site of cfg.sites) {
  for (const address of site.addresses) {
    for (const [ports, tls] of [[site.http ?? [], false], [site.https ?? [], true]]) {
      for (const port of ports) {
        let server;
        if (site.mode === "reset") {
          server = net.createServer((s) => {
            s.on("error", () => {});
            s.once("data", () => s.resetAndDestroy());
          });
        } else if (tls) {
          const own = site.tls ? { key: readFileSync(site.tls.keyFile), cert: readFileSync(site.tls.certFile) } : tlsOpts;
          server = https.createServer(own, handler(site));
          server.on("tlsClientError", () => {});
        } else {
          server = http.createServer(handler(site));
        }
        server.on("connection", (s) => s.on("error", () => {}));
        await listen(server, address, port);
        count++;
      }
    }
  }
}
ready(`web: ${count} listeners on ${cfg.sites.length} sites`);
