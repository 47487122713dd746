/**
 * Prints one plain closing line, "N passed, N failed, N skipped", that CI and people can read
 * without knowing vitest's own format; lab cases are counted on a line of their own.
 */
import type { Reporter, TestModule } from "vitest/node";

/** A vitest reporter that only prints the closing count lines. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let lab = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      const isLab = m.moduleId.includes("/tests/lab/");
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        const key = s === "passed" ? "passed" : s === "failed" ? "failed" : "skipped";
        if (key === "passed") passed++;
        else if (key === "failed") failed++;
        else skipped++;
        if (isLab) lab = { ...lab, [key]: lab[key] + 1 };
      }
    }
    if (lab.passed + lab.failed + lab.skipped > 0) {
      process.stdout.write(`lab cases: ${lab.passed} passed, ${lab.failed} failed, ${lab.skipped} skipped\n`);
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
