/** The error of a config file that cannot be used: every problem in it, found at once. */
import { UsageError } from "../base/errors.js";

/**
 * A missing or invalid config file. It is a UsageError (exit code 2, nothing runs); `problems`
 * holds one line per problem, each starting with the file's path.
 */
export class ConfigError extends UsageError {
  /** Every problem found, each `path: ...` or `path:line:column: ...`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], path?: string) {
    const n = problems.length;
    super(n === 1 || path === undefined ? problems.join("\n") : `${path}: ${n} problems:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
