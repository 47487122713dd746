/**
 * The demo's scenario: a censor that blocks WeChat the way Russia's ISPs did in May 2017, after
 * Roskomnadzor listed it: DNS and IP blocks on the client's connection hosts, and a stub page on
 * the web front. Every name of targets/wechat.json (and its canary) is answered by the lab's
 * outside resolver with a lab address where lab servers listen; nothing leaves the lab.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./lab.mjs";
import { scenarioOf } from "./scenario.mjs";
import { ADDR } from "./topology.mjs";

/** The bundled WeChat list, read as the CLI reads it. */
export function wechatList() {
  return JSON.parse(readFileSync(join(REPO, "targets", "wechat.json"), "utf8"));
}

/** What the demo's ISP does to which host. */
const NXDOMAIN = ["long.weixin.qq.com", "szlong.weixin.qq.com", "short.weixin.qq.com"];
const BLOCK_IP = ["sglong.wechat.com", "sgshort.wechat.com", "dns.weixin.qq.com"];
const IP_DROP = [...NXDOMAIN, ...BLOCK_IP];
const STUB_PAGE = ["weixin.qq.com", "wx.qq.com"];

/** Builds the demo scenario from targets/wechat.json; also returns which host got which address and treatment. */
export function wechatScenario() {
  const list = wechatList();
  const hosts = [...new Set(list.endpoints.map((e) => new URL(e.target).hostname))];
  const canaryHost = new URL(list.canary).hostname;
  const addressOf = Object.fromEntries(hosts.map((h, i) => [h, `203.0.113.${100 + i}`]));
  // The canary lands on the cases' canary site (203.0.113.10), which serves any host name.
  addressOf[canaryHost] = "203.0.113.10";
  const all = Object.keys(addressOf);
  const piece = {
    outsideZone: Object.fromEntries(all.map((h) => [h, { a: [addressOf[h]] }])),
    ispZone: {
      ...Object.fromEntries(NXDOMAIN.map((h) => [h, { rcode: "NXDOMAIN" }])),
      ...Object.fromEntries(BLOCK_IP.map((h) => [h, { a: [ADDR.blockPage] }])),
    },
    // Every lab address serves HTTP on 80 and 8080 and HTTPS on 443 (the list's tcp:// ports).
    sites: hosts.map((h) => ({ addresses: [addressOf[h]], http: [80, 8080], https: [443], mode: "ok" })),
    nftForward: [`ip daddr { ${IP_DROP.map((h) => addressOf[h]).join(", ")} } drop  # registry-listed IPs`],
    intercept: STUB_PAGE.flatMap((h) => [
      { address: addressOf[h], port: 80, why: `stub page for ${h}` },
      { address: addressOf[h], port: 443, why: `interception of ${h}` },
    ]),
    blockPages: Object.fromEntries(STUB_PAGE.map((h) => [h, { page: "stub" }])),
    certNames: all,
  };
  const treatment = Object.fromEntries(
    all.map((h) => [
      h,
      [
        NXDOMAIN.includes(h) && "ISP resolver: NXDOMAIN",
        BLOCK_IP.includes(h) && `ISP resolver: ${ADDR.blockPage} (block page)`,
        IP_DROP.includes(h) && "packets dropped",
        STUB_PAGE.includes(h) && "port 80: stub page; port 443: intercepted with the censor's certificate",
      ]
        .filter(Boolean)
        .join("; ") || "not blocked",
    ]),
  );
  // The cases' base (canary.lab.example, ok.lab.example, warning.rt.ru) comes along; it is harmless here.
  return { scenario: { ...scenarioOf("wechat-2017", [piece]), name: "wechat-2017" }, addressOf, treatment };
}
