/**
 * Skipped suites say why in their name, `... [skipped: <reason>]`, so that the summary at the
 * end of `npm test` (tests/helpers/summary-reporter.ts) can list what did not run and why.
 */

/** The name suffix of a suite that skips for `reason`; empty when it runs (reason null). */
export function skipTag(reason: string | null): string {
  return reason === null ? "" : ` [skipped: ${reason}]`;
}

/** Finds the reason in a skipped suite's name (see skipTag). */
export function reasonIn(name: string): string | null {
  return /\[skipped: ([^\]]+)\]/.exec(name)?.[1] ?? null;
}
