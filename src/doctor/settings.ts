/**
 * Where the doctor's settings come from: its flags and their environment variables first, then
 * the config file a run would read (reachprobe.config.json, --config, REACHPROBE_CONFIG), then
 * the defaults; the same order a run uses, so the doctor checks what a run would use. Pure.
 */
import { check, type Check } from "./check.js";
import { plural } from "../base/plural.js";

/** The settings the doctor shares with `reachprobe run`, under run's option names. */
export interface SharedSettings {
  db: string;
  control?: string;
  controlToken?: string;
  doh: string[];
  resolver: Array<{ host: string; port: number }>;
  concurrency: number;
  timeout: number;
}

/** The keys of SharedSettings, which a config file may set. */
export const SHARED_KEYS = ["db", "control", "controlToken", "doh", "resolver", "concurrency", "timeout"] as const;

/** One setting the config file gave, its value parsed by run's own flag parser. */
export interface FileSetting {
  key: string;
  value: unknown;
}

/**
 * Fills in from the config file each shared setting that neither a flag nor its environment
 * variable set (`sourceOf` is commander's getOptionValueSource), and says which keys it took.
 */
export function mergeConfig(flags: SharedSettings, sourceOf: (key: string) => string | undefined, file: readonly FileSetting[]): { settings: SharedSettings; fromFile: string[] } {
  const settings: SharedSettings = { ...flags };
  const fromFile: string[] = [];
  for (const s of file) {
    if (!(SHARED_KEYS as readonly string[]).includes(s.key) || s.value === undefined) continue;
    const source = sourceOf(s.key);
    if (source === "cli" || source === "env") continue;
    (settings as unknown as Record<string, unknown>)[s.key] = s.value;
    fromFile.push(s.key);
  }
  return { settings, fromFile };
}

/** What finding and reading the config file gave. */
export type ConfigOutcome =
  | { kind: "none" }
  | { kind: "disabled" }
  /** The file named by --config or REACHPROBE_CONFIG cannot be found or read. */
  | { kind: "unreadable"; problem: string }
  | { kind: "read"; path: string; origin: string; keys: string[]; fromFile: string[]; problems: string[] };

/** Judges the config file: none is fine; one a run would refuse must be fixed. */
export function judgeConfig(o: ConfigOutcome): Check {
  switch (o.kind) {
    case "none":
      return check("config", "ok", "no config file (no ./reachprobe.config.json, and neither --config nor REACHPROBE_CONFIG names one): flags and environment only");
    case "disabled":
      return check("config", "ok", "no config file read (--no-config)");
    case "unreadable":
      return check("config", "fail", o.problem, "fix the path given by --config or REACHPROBE_CONFIG, or unset it: reachprobe run stops on it", { problem: o.problem });
    case "read": {
      const details = { path: o.path, origin: o.origin, keys: o.keys, used: o.fromFile, problems: o.problems };
      const used = o.fromFile.length > 0 ? `; checking with its ${o.fromFile.join(", ")}` : "";
      if (o.problems.length > 0) {
        const first = o.problems[0] ?? "";
        return check(
          "config",
          "fail",
          `${plural(o.problems.length, "problem")} in the config file: ${first}${o.problems.length > 1 ? " (and more)" : ""}`,
          `fix the file (reachprobe config check ${o.path} lists every problem): reachprobe run refuses to start with it`,
          details,
        );
      }
      return check("config", "ok", `${o.path} (${o.origin}): ${plural(o.keys.length, "key")}${used}`, undefined, details);
    }
  }
}
