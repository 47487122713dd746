/** The error of a config file that cannot be used: every problem in it, found at once. */
import { UsageError } from "../base/errors.js";
import { firstProblems } from "../base/read-file.js";

/**
 * A missing or invalid config file. It is a UsageError (exit code 2, nothing runs); `problems`
 * holds one line per problem, each starting with the file's path.
 */
export class ConfigError extends UsageError {
  /** Every problem found, each `path: ...` or `path:line:column: ...`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], path?: string) {
    const n = problems.length;
    // Bounded: the first few problems, then how many more.
    super(n === 1 || path === undefined ? firstProblems(problems).join("\n") : `${path}: ${n} problems:\n  ${firstProblems(problems).join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
