/**
 * Logs go to stderr through pino, never stdout, which is reserved for data: one JSON object a
 * line, `time` in ISO-8601 UTC, the same for run, control and daemon (docs/commands.md, "Logs").
 */
import { createRequire } from "node:module";
import type { Logger } from "pino";
import { LOG_LEVELS as LEVELS, type Log, type LogFn, type LogLevel as Level } from "../base/log.js";

/**
 * A logger writing synchronously to stderr at `level` (or above), times in ISO-8601 UTC.
 * pino (and its dozen modules) is loaded at the first line actually written: a run at the
 * default level `warn` usually writes none, and loading it cost every run's start-up about
 * 20 ms of CPU (issue 9). Calls below the level do nothing.
 */
export function makeLogger(level: string): Log {
  const threshold = level === "silent" ? LEVELS.length : LEVELS.indexOf(level as Level);
  let pinoLogger: Logger | null = null;
  const write = (name: Level): LogFn => (objOrMsg, msg) => {
    pinoLogger ??= openPino(level);
    if (typeof objOrMsg === "string") pinoLogger[name](objOrMsg);
    else pinoLogger[name](objOrMsg, msg);
  };
  const noop: LogFn = () => {};
  return Object.fromEntries(LEVELS.map((name, i) => [name, i >= threshold ? write(name) : noop])) as Log;
}

function openPino(level: string): Logger {
  // pino is CommonJS: required synchronously, so the first line is written in order.
  const { pino } = createRequire(import.meta.url)("pino") as typeof import("pino");
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}
