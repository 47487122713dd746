/**
 * Logs go to stderr through pino, never stdout, which is reserved for data: one JSON object a
 * line, `time` in ISO-8601 UTC, the same for run, control and daemon (docs/commands.md, "Logs").
 */
import { pino, type Logger } from "pino";

/** A pino logger writing synchronously to stderr at `level`, times in ISO-8601 UTC. */
export function makeLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}
