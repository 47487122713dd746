/**
 * The errors reachprobe raises on purpose, under one base with a stable `code` (callers match
 * on the code, not on the class) and the kind of exit it means. The commands turn them into exit
 * codes in one place (src/cli/exit-codes.ts); anything else that reaches a command is a bug
 * and exits as a failure.
 */

/** What an error means for the exit code of the command it stops. */
export type ErrorExit = "usage" | "failure" | "busy";

/** An error reachprobe raises on purpose. */
export class ReachprobeError extends Error {
  readonly code: string;
  readonly exit: ErrorExit;
  constructor(code: string, exit: ErrorExit, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exit = exit;
  }
}

/** Bad input from the user: a flag, a file, a configuration value. Nothing ran, nothing was written. */
export class UsageError extends ReachprobeError {
  constructor(message: string, code = "E_USAGE", options?: { cause?: unknown }) {
    super(code, "usage", message, options);
  }
}
