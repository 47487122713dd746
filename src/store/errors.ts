import { ReachprobeError } from "../base/errors.js";

/** Errors the store raises, each with a stable code that callers (the CLI, cron wrappers) match on. */

/** The codes a StoreError can carry. */
export type StoreErrorCode =
  | "E_DB_OPEN"
  | "E_FOREIGN_DB"
  | "E_SCHEMA_NEWER"
  | "E_SCHEMA_OLDER"
  | "E_MIGRATION"
  | "E_RUN_NOT_FOUND"
  | "E_RUN_FINISHED"
  | "E_BAD_TIME";

/** An error from the store whose message says which file and what to do. */
export class StoreError extends ReachprobeError {
  declare readonly code: StoreErrorCode;
  /** The database file concerned, when there is one. */
  readonly file: string | undefined;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; file?: string }) {
    super(code, "failure", message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = options?.file;
  }
}
