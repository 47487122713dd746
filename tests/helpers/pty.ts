/**
 * A command on a real terminal: python3's pty module gives it a pseudo-terminal (isatty() is
 * true, the line discipline turns a typed Ctrl-C into SIGINT for its process group), as a person
 * at a terminal runs it. Skipped with a reason where python3 is missing.
 */
import { spawn, spawnSync } from "node:child_process";

/** Why pty tests cannot run here, or null. */
export const noPty: string | null = spawnSync("python3", ["-c", "import pty"]).status === 0 ? null : "python3 with its pty module is not installed";

const DRIVER = `
import os, pty, re, select, sys, time
pattern = os.environ.pop("PTY_CTRL_C_AFTER", "")
limit = float(os.environ.pop("PTY_LIMIT_S", "30"))
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
out = b""
sent = False
deadline = time.time() + limit
while True:
    if time.time() > deadline:
        os.kill(pid, 9)
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    if pattern and not sent and re.search(pattern.encode(), out):
        time.sleep(0.2)
        os.write(fd, b"\\x03")  # Ctrl-C, as typed
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stderr.write(str(os.waitstatus_to_exitcode(status)))
`;

/** What the terminal showed (stdout and stderr together, as a person sees them) and the exit code. */
export interface PtyResult {
  screen: string;
  code: number;
}

/**
 * Runs `argv` on a pseudo-terminal with `env` (the whole environment: nothing is added), and,
 * when `ctrlCAfter` is given, types Ctrl-C once the screen matches it.
 */
export function onPty(argv: string[], env: NodeJS.ProcessEnv, ctrlCAfter?: RegExp): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-c", DRIVER, ...argv], {
      env: { ...env, ...(ctrlCAfter ? { PTY_CTRL_C_AFTER: ctrlCAfter.source } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let screen = "";
    let code = "";
    child.stdout.on("data", (d: Buffer) => (screen += d.toString()));
    child.stderr.on("data", (d: Buffer) => (code += d.toString()));
    child.on("error", reject);
    child.on("close", () => resolve({ screen, code: Number(code.trim().split("\n").at(-1)) }));
  });
}
