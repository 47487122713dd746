/** Logs go to stderr through pino, never stdout, which is reserved for data. */
import { pino, type Logger } from "pino";

/** A pino logger writing synchronously to stderr at `level`. */
export function makeLogger(level: string): Logger {
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}
