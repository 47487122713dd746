/** The logger the commands and the control helper write through (made by cli/log.ts). */

/** The levels logged at, as pino names them, lowest first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** One level's method: an object of fields and a message, or a message. */
export type LogFn = (objOrMsg: object | string, msg?: string) => void;
/** pino's methods, one a level. */
export type Log = Record<LogLevel, LogFn>;
