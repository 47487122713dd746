/**
 * Self-check of two censor rules, run INSIDE the client namespace by lab.test.ts:
 * `ip netns exec <client> node tests/lab/check-filters.mjs` (NODE_EXTRA_CA_CERTS = the lab CA).
 * It speaks raw TCP and TLS, so what it checks is the censor, not reachprobe:
 *
 * - http-host-case: a request with the header written as browsers write it (`Host: name`) is
 *   reset; the same request with `host: name` (lower case, as undici writes it) gets through.
 * - tls-redirect-sni: https://sni-redir.lab.example/ answers 302 to sni-redir-target.lab.example,
 *   and a ClientHello for that name is reset, while one for ok.lab.example on the same address works.
 *
 * Prints one JSON line.
 */
import net from "node:net";
import tls from "node:tls";
import https from "node:https";
import { lookup } from "node:dns/promises";

/** Sends one HTTP/1.1 request (its exact bytes) to port 80; resolves with the status code or the failure's code. */
function rawGet(address, head) {
  return new Promise((resolve) => {
    const sock = net.connect(80, address, () => sock.write(`GET / HTTP/1.1\r\n${head}\r\n\r\n`));
    let buf = "";
    sock.setTimeout(3000, () => sock.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      if (m) {
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on("error", (e) => resolve(e.code ?? e.message));
    sock.on("close", () => resolve(buf ? "short answer" : "closed"));
  });
}

/** A TLS handshake with `servername` on address:443; resolves "ok" or the failure's code. */
function handshake(address, servername) {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: address, port: 443, servername }, () => {
      sock.destroy();
      resolve("ok");
    });
    sock.setTimeout(3000, () => sock.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
    sock.on("error", (e) => resolve(e.code ?? e.message));
  });
}

const out = {};
const hostCase = (await lookup("hostcase.lab.example", { family: 4 })).address;
out.hostCase = {
  browser: await rawGet(hostCase, "Host: hostcase.lab.example\r\nConnection: close"),
  lowerCase: await rawGet(hostCase, "host: hostcase.lab.example\r\nconnection: close"),
};
const first = await new Promise((resolve) => {
  https
    .get("https://sni-redir.lab.example/", (res) => {
      res.resume();
      resolve({ status: res.statusCode, location: res.headers.location });
    })
    .on("error", (e) => resolve(e.code ?? e.message));
});
const target = (await lookup("sni-redir-target.lab.example", { family: 4 })).address;
out.redirectSni = { first, target: await handshake(target, "sni-redir-target.lab.example"), sameAddressOtherName: await handshake(target, "ok.lab.example") };
process.stdout.write(`${JSON.stringify(out)}\n`);
