// Preloaded into a reachprobe process by the chaos suite (node --import): writes the process's
// peak resident memory (KB) to $CHAOS_RSS_FILE when it exits, however it exits (not on SIGKILL).
import { writeFileSync } from "node:fs";

const file = process.env.CHAOS_RSS_FILE;
if (file) {
  process.on("exit", () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // the figure is missing from the table; the suite says so
    }
  });
}
