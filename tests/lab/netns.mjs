/**
 * Low-level helpers for the lab: running `ip`, `nft`, `iptables`, `tc` (synchronously, so that
 * tear-down also works from an `exit` handler), listing and removing lab namespaces, and starting
 * lab servers inside a namespace and waiting for their "ready" line.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LAB_NS_RE } from "./topology.mjs";

/** An error from a command the lab ran, carrying its stderr. */
export class LabCommandError extends Error {
  constructor(cmd, args, r) {
    const out = `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`.trim();
    super(`lab: "${[cmd, ...args].join(" ")}" failed (exit ${r.status}): ${out}`);
    this.name = "LabCommandError";
    this.code = "E_LAB_COMMAND";
  }
}

/** Runs a command and returns its stdout; throws LabCommandError unless it exits 0 (or `allowFail`). */
export function sh(cmd, args, { allowFail = false, input } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  if ((r.status !== 0 || r.error) && !allowFail) throw new LabCommandError(cmd, args, r);
  return r.status === 0 ? r.stdout : null;
}

/** Runs a command inside namespace `ns`. */
export function nsSh(ns, cmd, args, opts) {
  return sh("ip", ["netns", "exec", ns, cmd, ...args], opts);
}

/**
 * Names of every network namespace on the machine.
 * @returns {string[]}
 */
export function listNamespaces() {
  const out = sh("ip", ["netns", "list"], { allowFail: true }) ?? "";
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

/** Ids of every lab that has at least one namespace left. */
export function listLabIds() {
  const ids = new Set();
  for (const n of listNamespaces()) {
    const m = LAB_NS_RE.exec(n);
    if (m) ids.add(m[1]);
  }
  return [...ids];
}

/** Kills every process in `ns`, deletes it and its /etc/netns directory. Never throws. */
export function removeNamespace(ns) {
  const pids = (sh("ip", ["netns", "pids", ns], { allowFail: true }) ?? "").split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  sh("ip", ["netns", "del", ns], { allowFail: true });
  rmSync(join("/etc/netns", ns), { recursive: true, force: true });
}

/** Whether this machine can build a lab; `reason` says why not. */
export function canMakeNamespaces() {
  if (process.platform !== "linux") return { ok: false, reason: `platform is ${process.platform}, not linux` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) return { ok: false, reason: `running as uid ${process.getuid()}, not root` };
  for (const tool of ["ip", "nft", "iptables", "tc", "openssl"]) {
    const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
    if (r.status !== 0) return { ok: false, reason: `${tool} is not installed (Debian: iproute2 nftables iptables openssl)` };
  }
  const probe = `rplcheck-${process.pid}`;
  const r = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (r.status !== 0) return { ok: false, reason: `"ip netns add" failed: ${(r.stderr || String(r.error)).trim()}` };
  spawnSync("ip", ["netns", "del", probe]);
  return { ok: true, reason: null };
}

/**
 * Starts `node script config` inside `ns` and resolves once it prints "ready" on stdout.
 * stderr goes to `logFile`. With `detached`, the server outlives this process (lab:up).
 */
export function startServer({ ns, script, config, logFile, detached = false, readyTimeoutMs = 15_000 }) {
  return startInNamespace({ ns, argv: [process.execPath, script, JSON.stringify(config)], logFile, detached, readyTimeoutMs, ready: /^ready$/m, name: script });
}

/**
 * Starts `argv` inside `ns` and resolves with the child once its stdout matches `ready` (the
 * lab's servers print "ready"; `reachprobe control` prints "listening on http://..."). stderr
 * goes to `logFile`; `env` replaces the environment and `cwd` the working directory when given.
 */
export function startInNamespace({ ns, argv, env, cwd, logFile, detached = false, readyTimeoutMs = 15_000, ready, name = argv.join(" ") }) {
  const errFd = openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", ns, ...argv], {
    stdio: ["ignore", "pipe", errFd],
    detached,
    ...(env ? { env } : {}),
    ...(cwd ? { cwd } : {}),
  });
  closeSync(errFd);
  return new Promise((resolve, reject) => {
    let out = "";
    const fail = (why) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-15).join("\n") : "";
      reject(new Error(`lab: ${name} in ${ns} ${why}${out.trim() ? `; its stdout: ${out.trim().slice(0, 500)}` : ""}${log ? `; its log (${logFile}):\n${log}` : ""}`));
    };
    const timer = setTimeout(() => fail(`printed nothing matching ${ready} within ${readyTimeoutMs} ms`), readyTimeoutMs);
    const onExit = (code, signal) => fail(`exited (${signal ?? code}) before it was ready`);
    child.once("exit", onExit);
    child.once("error", (e) => fail(`could not start: ${e.message}`));
    const onData = (d) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        child.off("exit", onExit);
        child.stdout.off("data", onData);
        // Keep draining stdout: a child that writes more must never block on a full pipe.
        child.stdout.resume();
        if (detached) {
          // Dropping the pipe lets this process exit (the servers print nothing after "ready").
          child.stdout.destroy();
          child.unref();
        }
        child.readyOutput = out;
        resolve(child);
      }
    };
    child.stdout.on("data", onData);
  });
}
