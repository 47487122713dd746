/**
 * Runs a command on a pseudo-terminal, as a person at a terminal would, through python3's pty
 * module: isatty() is true, what the terminal shows is read back, answers are typed, and a typed
 * Ctrl-C becomes SIGINT for the command's process group (the line discipline does it).
 */
import { spawn, spawnSync } from "node:child_process";
import { assertNoDefaultThirdParties, hermeticEnv, LAUNCHER } from "./cli.js";

/** True when python3 (with its pty module) is there to run one. */
export const HAS_PTY = spawnSync("python3", ["-c", "import pty"]).status === 0;
/** Why pty tests cannot run here, or null. */
export const noPty: string | null = HAS_PTY ? null : "python3 with its pty module is not installed";

// Relays the terminal's output to stdout and stdin to the terminal; the end of stdin is typed
// as Ctrl-D (the end of input on a terminal). Exits as the command did (128 + signal if killed).
const RELAY = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
watch = [fd, 0]
while True:
    r, _, _ = select.select(watch, [], [])
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            os.write(fd, b"\\x04")
            watch = [fd]
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

/** A command running on a terminal. */
export interface OnTerminal {
  /** Everything the terminal showed so far (what was typed is echoed in it). */
  output(): string;
  /** Types `text` (end a line with "\n"). */
  type(text: string): void;
  /** Ends the input: the command reads the end of input (Ctrl-D). */
  endInput(): void;
  /** Resolves once `pattern` shows on the terminal; rejects if the command exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; output: string }>;
}

/** Starts `reachprobe ARGS...` on a terminal, in hermeticEnv(env). */
export function onTerminal(args: string[], env: Record<string, string | undefined> = {}, killAfterMs = 25_000): OnTerminal {
  assertNoDefaultThirdParties(args, { env });
  return terminal([process.execPath, LAUNCHER, ...args], hermeticEnv({ ...env, TERM: "dumb" }), killAfterMs);
}

/** Starts `argv` on a terminal with `env` (the whole environment: nothing is added). */
export function terminal(argv: string[], env: NodeJS.ProcessEnv, killAfterMs = 25_000): OnTerminal {
  const child = spawn("python3", ["-c", RELAY, ...argv], { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const waiters = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  });
  child.stderr.resume();
  const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      for (const w of waiters) w();
      resolve({ code, output: out });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    output: () => out,
    type: (text) => child.stdin.write(text),
    endInput: () => child.stdin.end(),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            waiters.delete(check);
            resolve();
          } else if (done || child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`exited before ${pattern} showed:\n${out}`));
          }
        };
        waiters.add(check);
        check();
      }),
    exited,
  };
}

/** What the terminal showed (stdout and stderr together, as a person sees them) and the exit code. */
export interface PtyResult {
  screen: string;
  code: number | null;
}

/**
 * Runs `argv` on a terminal with `env` (the whole environment) to its end, typing Ctrl-C once
 * the screen matches `ctrlCAfter` when given.
 */
export async function onPty(argv: string[], env: NodeJS.ProcessEnv, ctrlCAfter?: RegExp): Promise<PtyResult> {
  const t = terminal(argv, env, 30_000);
  if (ctrlCAfter) {
    await t.waitFor(ctrlCAfter).then(
      async () => {
        // As a person would: a moment after the screen showed it.
        await new Promise((r) => setTimeout(r, 200));
        t.type("\x03");
      },
      () => undefined,
    );
  }
  const { code, output } = await t.exited;
  return { screen: output, code };
}
