/**
 * Preloaded into the CLI by `run-bench.mjs --monitor` (node --import); the CLI knows nothing
 * of it. Records, and writes to the file named by REACHPROBE_BENCH_MONITOR_FILE at exit:
 * - the event loop's delay (how late timers and I/O callbacks run), p50/p99/max;
 * - the CPU time of the process;
 * - the heap in use right after each major (mark-compact) GC, i.e. roughly the live data,
 *   its maximum and its last value: what grows with the target list, unlike peak RSS, which
 *   also counts garbage not yet collected.
 */
import { writeFileSync } from "node:fs";
import { PerformanceObserver, constants, monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.REACHPROBE_BENCH_MONITOR_FILE;
if (file) {
  const RESOLUTION_MS = 10;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const cpu0 = process.cpuUsage();
  const live = { max: 0, last: 0, majorGcs: 0 };
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      const used = process.memoryUsage().heapUsed;
      live.majorGcs++;
      live.last = used;
      live.max = Math.max(live.max, used);
    }
  });
  gc.observe({ entryTypes: ["gc"] });
  process.on("exit", () => {
    h.disable();
    gc.disconnect();
    // The histogram holds the whole sampling interval; an idle loop reads ~RESOLUTION_MS.
    const ms = (ns) => Math.max(0, Number(ns) / 1e6 - RESOLUTION_MS);
    const cpu = process.cpuUsage(cpu0);
    writeFileSync(
      file,
      JSON.stringify({
        loop: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        liveHeap: { maxMB: live.max / 2 ** 20, lastMB: live.last / 2 ** 20, majorGcs: live.majorGcs },
      }),
    );
  });
}
