/**
 * Prints one plain closing line, "N passed, N failed, N skipped", that CI and people can read
 * without knowing vitest's own format; lab cases are counted on a line of their own, and every
 * skipped suite is listed with the reason its name gives (tests/helpers/skip.ts), so that a
 * contributor's first run says what it did not test.
 */
import type { Reporter, TestCase, TestModule } from "vitest/node";
import { reasonIn } from "./skip.js";

/** The reason of the nearest enclosing suite that gives one. */
function skipReason(t: TestCase): string {
  for (let s: TestCase["parent"] | undefined = t.parent; s && s.type === "suite"; s = s.parent) {
    const reason = reasonIn(s.name);
    if (reason) return reason;
  }
  return reasonIn(t.name) ?? "skipped in the test file (no reason given)";
}

/** A vitest reporter that only prints the closing count lines. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let lab = { passed: 0, failed: 0, skipped: 0 };
    const reasons = new Map<string, { tests: number; files: Set<string> }>();
    for (const m of modules) {
      const isLab = m.moduleId.includes("/tests/lab/");
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        const key = s === "passed" ? "passed" : s === "failed" ? "failed" : "skipped";
        if (key === "passed") passed++;
        else if (key === "failed") failed++;
        else {
          skipped++;
          const why = skipReason(t);
          const entry = reasons.get(why) ?? { tests: 0, files: new Set<string>() };
          entry.tests++;
          entry.files.add(m.relativeModuleId);
          reasons.set(why, entry);
        }
        if (isLab) lab = { ...lab, [key]: lab[key] + 1 };
      }
    }
    if (lab.passed + lab.failed + lab.skipped > 0) {
      process.stdout.write(`lab cases: ${lab.passed} passed, ${lab.failed} failed, ${lab.skipped} skipped\n`);
    }
    if (reasons.size > 0) {
      process.stdout.write("\nNot run:\n");
      for (const [why, e] of reasons) process.stdout.write(`  ${e.tests} test${e.tests === 1 ? "" : "s"} in ${[...e.files].join(", ")}: ${why}\n`);
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
