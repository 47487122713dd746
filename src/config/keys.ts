/**
 * The keys of `reachprobe.config.json`: one a `reachprobe run` flag, named as commander names
 * the flag's value (`--dns-window` is `dnsWindow`, `--no-store` is `store`), with the JSON
 * shape each accepts. Values are checked by the flag's own parser (see read.ts), so this table
 * says only what JSON type goes where and which strings are paths.
 */

/** The JSON shape a key accepts. */
export type KeyKind =
  /** A non-empty string. */
  | "string"
  /** An array of non-empty strings, one a repetition of the flag. */
  | "strings"
  /** A string or an array of strings (`file`). */
  | "string-or-strings"
  /** A comma-separated flag value, given as one string or as an array (`publicRanges`). */
  | "comma-list"
  | "boolean"
  /** A JSON number that the flag's parser accepts. */
  | "integer"
  /** A duration string ("5s", "1500ms") or a number in the flag's unit, through the flag's parser. */
  | "duration"
  /** A string, or false to turn the thing off (`canary`). */
  | "string-or-false"
  /** true, false, or a duration (`wait`: true waits the default time; "30m", or a number of seconds). */
  | "boolean-or-duration";

/** How relative paths in a key's value are made absolute: against the config file's directory. */
export type PathRule = "path" | "fingerprints";

/** What the table says about one key. */
export interface KeySpec {
  kind: KeyKind;
  /** Set when the value holds file paths. */
  paths?: PathRule;
  /** `config show` masks the value. */
  secret?: boolean;
  /** One of the keys choosing what to probe: a command line that chooses any ignores all of them. */
  selection?: boolean;
}

/** Every key a config file may hold (besides `$schema`), in the order `config show` prints them. */
export const CONFIG_KEYS = {
  targets: { kind: "strings", selection: true },
  list: { kind: "string", selection: true },
  file: { kind: "string-or-strings", paths: "path", selection: true },
  db: { kind: "string", paths: "path" },
  createDirs: { kind: "boolean" },
  metrics: { kind: "string", paths: "path" },
  store: { kind: "boolean" },
  control: { kind: "string" },
  controlToken: { kind: "string", secret: true },
  doh: { kind: "strings" },
  resolver: { kind: "strings" },
  dnsControl: { kind: "boolean" },
  systemResolver: { kind: "boolean" },
  timeout: { kind: "duration" },
  budget: { kind: "duration" },
  concurrency: { kind: "integer" },
  dnsWindow: { kind: "duration" },
  maxAddresses: { kind: "integer" },
  maxBody: { kind: "integer" },
  bodySample: { kind: "integer" },
  userAgent: { kind: "string" },
  sniSwap: { kind: "string" },
  hostSwap: { kind: "string" },
  swap: { kind: "boolean" },
  publicRanges: { kind: "comma-list" },
  fingerprints: { kind: "comma-list", paths: "fingerprints" },
  canary: { kind: "string-or-false" },
  networkLabel: { kind: "string" },
  asnDb: { kind: "string", paths: "path" },
  category: { kind: "strings" },
  quiet: { kind: "boolean" },
  notice: { kind: "boolean" },
  logLevel: { kind: "string" },
  wait: { kind: "boolean-or-duration" },
  push: { kind: "boolean" },
  pushTo: { kind: "string" },
  pushTokenFile: { kind: "string", paths: "path" },
} as const satisfies Record<string, KeySpec>;

/** A config key. */
export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Keys a config file may hold that mean nothing to reachprobe (an editor's schema). */
export const IGNORED_KEYS: readonly string[] = ["$schema"];

/** True when `key` is a config key. */
export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, key);
}

/** The spec of a key. */
export function specOf(key: ConfigKey): KeySpec {
  return CONFIG_KEYS[key];
}

/** The command-line flag a key mirrors, for messages and docs (`dnsWindow` is `--dns-window`). */
export function flagOf(key: ConfigKey): string {
  return key === "targets" ? "TARGET..." : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A hint for an unknown key: `(did you mean "timeout"?)`, or an empty string when nothing is
 * close. Catches flag spellings (`dns-window`, `--no-store`), case, and typos.
 */
export function suggestKey(unknown: string): string {
  const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];
  const camel = unknown
    .replace(/^-+/, "")
    .replace(/[-_]+([a-zA-Z])/g, (_m, c: string) => c.toUpperCase());
  const negated = /^no([A-Z].*)$/.exec(camel);
  if (negated) {
    const positive = (negated[1] ?? "").charAt(0).toLowerCase() + (negated[1] ?? "").slice(1);
    if (isConfigKey(positive) && specOf(positive).kind.includes("boolean")) return ` (did you mean "${positive}": false?)`;
    if (positive === "canary") return ' (did you mean "canary": false?)';
  }
  const lower = camel.toLowerCase();
  const exact = keys.find((k) => k.toLowerCase() === lower);
  if (exact) return ` (did you mean "${exact}"?)`;
  let best: { key: string; d: number } | null = null;
  for (const k of keys) {
    const d = editDistance(lower, k.toLowerCase());
    if (best === null || d < best.d) best = { key: k, d };
  }
  const allowed = lower.length <= 4 ? 1 : 2;
  return best && best.d <= allowed ? ` (did you mean "${best.key}"?)` : "";
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
