/** Runs the built `reachprobe` command as a real process, as a user or cron would. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Path of the built entry point; tests run after `npm run build` (npm test does it). */
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/**
 * The `reachprobe` command as users start it: the launcher that sizes libuv's pool before Node
 * starts, then loads CLI (started directly, CLI would start itself again through it).
 */
export const LAUNCHER = fileURLToPath(new URL("../../bin/reachprobe.cjs", import.meta.url));

/** What a finished process left behind. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for one invocation. */
export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called with the child once it started, e.g. to send it a signal. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
  /** Hard limit, so a hanging command fails the test instead of hanging it. */
  killAfterMs?: number;
}

/**
 * The config directory of commands under test: empty, so that no consent the developer gave
 * (~/.config/reachprobe/state.json) lets a test's run ask the default public resolvers.
 */
export const TEST_CONFIG_HOME = mkdtempSync(join(tmpdir(), "reachprobe-test-config-"));

/**
 * The environment of a command under test: the caller's, without any REACHPROBE_* setting (a
 * developer's database, control helper or config file must never leak into a test), with an
 * empty config directory (no remembered consent), no colour.
 */
export function hermeticEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("REACHPROBE_")) env[k] = v;
  return { ...env, XDG_CONFIG_HOME: TEST_CONFIG_HOME, ...extra };
}

/**
 * Throws unless a `reachprobe run` with `args` (also one after `--`, as `daemon` and `schedule`
 * take it) is sure to contact no default third party: `--yes` (consent to the default public
 * resolvers) needs `--no-dns-control`, `--doh` or `--resolver`; and the canary must be named
 * (`--no-canary` or `--canary`, here or in the config file the run reads): the default one is a
 * real site (www.example.com). Tests run outside network namespaces, where one lookup of a real
 * name breaks the safety rule (docs/development.md).
 */
export function assertNoDefaultThirdParties(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): void {
  const at = args[0] === "run" ? 0 : args.indexOf("--") >= 0 && args[args.indexOf("--") + 1] === "run" ? args.indexOf("--") + 1 : -1;
  if (at < 0) return;
  const run = args.slice(at + 1);
  const has = (flag: string) => run.some((a) => a === flag || a.startsWith(`${flag}=`));
  if (has("--help")) return;
  const config = configOf(run, opts);
  const named = (key: string) => config !== null && Object.hasOwn(config, key);
  if (has("--yes") && !(has("--no-dns-control") || has("--doh") || has("--resolver") || config?.dnsControl === false || named("doh") || named("resolver"))) {
    throw new Error(`reachprobe ${args.join(" ")}: --yes consents to the default public resolvers: add --no-dns-control, or the test's own --doh/--resolver`);
  }
  if (!(has("--no-canary") || has("--canary") || named("canary"))) {
    throw new Error(`reachprobe ${args.join(" ")}: name the canary (--no-canary, or a loopback --canary): the default one is a real site, and failing to reach it turns every verdict inconclusive`);
  }
}

/** The config file a run with these flags reads, as JSON, or null (none, or not readable). */
function configOf(run: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> }): Record<string, unknown> | null {
  if (run.includes("--no-config")) return null;
  const i = run.indexOf("--config");
  const path = i >= 0 ? run[i + 1] : (opts.env && "REACHPROBE_CONFIG" in opts.env ? opts.env.REACHPROBE_CONFIG : undefined) ?? "reachprobe.config.json";
  try {
    const v: unknown = JSON.parse(readFileSync(resolve(opts.cwd ?? process.cwd(), path ?? ""), "utf8"));
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Runs `reachprobe ARGS...` and resolves when it exits. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  assertNoDefaultThirdParties(args, opts);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, ...args], {
      cwd: opts.cwd,
      env: hermeticEnv(opts.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 25_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
    opts.onSpawn?.(child);
  });
}

/** A long-running `reachprobe` process (a server), ready once a stdout line matched. */
export interface LongRunningCli {
  child: ReturnType<typeof spawn>;
  /** The match of `ready` against the first stdout line it matched. */
  match: RegExpMatchArray;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits (it is SIGKILLed after killAfterMs). */
  exited: Promise<CliResult>;
}

/** Starts `reachprobe ARGS...` and resolves once a stdout line matches `ready`; rejects if it exits first. */
export function startCli(args: string[], ready: RegExp, opts: Omit<CliOptions, "onSpawn"> = {}): Promise<LongRunningCli> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  assertNoDefaultThirdParties(args, opts);
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd: opts.cwd,
    env: hermeticEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const killer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 25_000);
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let settled = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (settled) return;
      for (const line of stdout.split("\n")) {
        const match = ready.exec(line);
        if (match) {
          settled = true;
          resolve({ child, match, stdout: () => stdout, stderr: () => stderr, exited });
          return;
        }
      }
    });
    exited.then(
      (r) => {
        if (!settled) reject(new Error(`reachprobe exited (code ${r.code}, signal ${r.signal}) before printing a line matching ${ready}:\n${r.stderr}`));
      },
      reject,
    );
  });
}
