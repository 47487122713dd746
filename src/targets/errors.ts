/** Errors raised while reading targets: one stable code, messages that say where and what. */
import { UsageError } from "../base/errors.js";
import { quote } from "../base/read-file.js";

/** A target, target file or target list is invalid; `problems` holds one line per invalid entry. */
export class TargetError extends UsageError {
  /** Every problem found, each already prefixed with its origin (`file:line: ...`). */
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[] = [message]) {
    super(message, "E_TARGET");
    this.problems = problems;
  }
}

/** Formats one problem as `origin: "text" problem`, quoting the input (its first 100 characters) so stray whitespace shows. */
export function describeProblem(text: string, problem: string, origin?: string): string {
  const where = origin === undefined || origin === "" ? "" : `${origin}: `;
  return `${where}${quote(text)} ${problem}`;
}
