/**
 * What a benchmark child process cost: CPU time (user + system) and peak RSS, from GNU time
 * (`/usr/bin/time -v -o FILE cmd ...`, which waits for the command and reports its getrusage),
 * or, without GNU time, peak RSS polled from /proc/<pid>/status. Shared by bench/run-bench.mjs
 * (loopback) and bench/field-bench.mjs (the lab, through the system resolver).
 */
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** Whether GNU time (`/usr/bin/time -v -o FILE`) works here; it reports the child's peak RSS and CPU. */
export function gnuTimeWorks() {
  if (!existsSync("/usr/bin/time")) return false;
  const r = spawnSync("/usr/bin/time", ["-v", "-o", "/dev/null", "true"], { stdio: "ignore" });
  return r.status === 0;
}

/** Reads VmHWM (peak resident set, kB) of `pid` from /proc, or null when it is gone. */
export function readVmHwmKb(pid) {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Parses GNU time's `-v` report: peak RSS (kB), user and system CPU (ms) of the command and of
 * every descendant it waited for, and the signal that ended it (null when it exited).
 */
export function parseGnuTime(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const rssKb = num(/Maximum resident set size \(kbytes\):\s*(\d+)/);
  const user = num(/User time \(seconds\):\s*([\d.]+)/);
  const sys = num(/System time \(seconds\):\s*([\d.]+)/);
  const signal = num(/Command terminated by signal (\d+)/);
  const cpuMs = user !== null && sys !== null ? (user + sys) * 1000 : null;
  return { rssKb, userMs: user === null ? null : user * 1000, sysMs: sys === null ? null : sys * 1000, cpuMs, signal };
}
