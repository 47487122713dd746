/**
 * Runs inside a fresh network namespace (see tests/integration/threadpool.test.ts): a DNS server
 * on 127.0.0.1:53, the system resolver's only nameserver, answering every A query with 127.0.0.1
 * (AAAA: empty) after DELAY_MS, and a web server on 127.0.0.1:8080. Then runs each command of
 * the plan one after the other and prints, as one JSON line, what each left behind plus the
 * most names the DNS server had waiting at once while it ran: a lookup holds one libuv pool
 * thread, so that number is the pool size the command really got (up to its concurrency).
 *
 * Usage: node pool-lab.mjs PLAN.json
 * PLAN: { delayMs, commands: [{ label, argv: [...], cwd?, env?, stopOn? }] }; a command is
 * stopped with SIGTERM once a line of its stderr matches `stopOn` (a daemon), else waited for.
 */
import dgram from "node:dgram";
import http from "node:http";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { canonicalName, decodeQuery, responseTo } from "../lab/servers/lib.mjs";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));

const waiting = new Map(); // name -> queries not yet answered
let maxWaiting = 0;
let queries = 0;
const dns = dgram.createSocket("udp4");
dns.on("message", (msg, rinfo) => {
  const q = decodeQuery(msg);
  if (!q) return;
  queries++;
  const name = canonicalName(q.questions[0].name);
  waiting.set(name, (waiting.get(name) ?? 0) + 1);
  maxWaiting = Math.max(maxWaiting, waiting.size);
  setTimeout(() => {
    const left = (waiting.get(name) ?? 1) - 1;
    if (left > 0) waiting.set(name, left);
    else waiting.delete(name);
    dns.send(responseTo(q, { addresses: ["127.0.0.1"] }), rinfo.port, rinfo.address);
  }, plan.delayMs);
});
await new Promise((r) => dns.bind(53, "127.0.0.1", r));

const web = http.createServer((_req, res) => {
  res.setHeader("content-type", "text/html");
  res.end("<html><title>pool test</title><body>fine</body></html>");
});
await new Promise((r) => web.listen(8080, "127.0.0.1", r));

function runOne(c) {
  return new Promise((resolve) => {
    const child = spawn(c.argv[0], c.argv.slice(1), { cwd: c.cwd, env: { ...process.env, ...c.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let stopped = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      // Once: a second SIGTERM makes the daemon quit at once, killed by it.
      if (c.stopOn && !stopped && new RegExp(c.stopOn, "m").test(stderr)) {
        stopped = true;
        child.kill("SIGTERM");
      }
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const results = [];
for (const c of plan.commands) {
  waiting.clear();
  maxWaiting = 0;
  queries = 0;
  const r = await runOne(c);
  results.push({ label: c.label, ...r, maxWaiting, queries });
}
process.stdout.write(`${JSON.stringify(results)}\n`);
dns.close();
web.close();
