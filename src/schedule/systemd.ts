/** systemd user units for scheduled runs: `reachprobe.service` (one run) and `reachprobe.timer` (when). */
import { UsageError } from "../base/errors.js";

/** The command a scheduled run executes, all paths absolute. */
export interface Invocation {
  /** Absolute path of node (process.execPath). */
  node: string;
  /** Absolute path of the command (bin/reachprobe.cjs, which sizes libuv's thread pool before loading dist/cli/main.js). */
  cli: string;
  /** Directory the run starts in: relative paths in its arguments (and the default database) are read from there. */
  cwd: string;
  /** Arguments after `reachprobe run`. */
  runArgs: string[];
  /** Arguments after `reachprobe changes --quiet --last-run` (the run's --db, if it has one), run after each run; null when the runs store nothing (--no-store). */
  changesArgs: string[] | null;
}

/** When the timer fires. */
export type TimerWhen = { onCalendar: string } | { everyS: number };

/** What the timer needs besides the command. */
export interface TimerSpec {
  when: TimerWhen;
  /** Shortest time between runs, in seconds: a run still going after it is stopped. */
  intervalS: number;
  /** Longest random delay before each run, in seconds (RandomizedDelaySec=). */
  jitterS: number;
  /** Printed in the header comment, e.g. `reachprobe schedule --every 1h`. */
  madeBy: string;
}

/** Names of the unit files, in ~/.config/systemd/user/. */
export const SERVICE_NAME = "reachprobe.service";
export const TIMER_NAME = "reachprobe.timer";

/** Writes seconds as a systemd time span in its largest whole unit: 3600 -> `1h`, 90 -> `90s`. */
export function systemdSpan(seconds: number): string {
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["min", 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Quotes one word of an ExecStart= command line: `%` and `$` are specifiers and variables to systemd, so they are doubled. */
export function systemdQuote(word: string): string {
  if (/[\n\r]/.test(word)) throw new UsageError(`an argument of a systemd unit cannot contain a line break: ${JSON.stringify(word)}`);
  const escaped = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A path in a unit setting that takes one path (WorkingDirectory=): only `%` needs escaping. */
function systemdPath(path: string): string {
  if (/[\n\r]/.test(path)) throw new UsageError(`a path in a systemd unit cannot contain a line break: ${JSON.stringify(path)}`);
  return path.replace(/%/g, "%%");
}

/** The service: one run, niced, hardened with what an unprivileged user manager allows. */
export function renderService(inv: Invocation, spec: TimerSpec): string {
  const exec = [inv.node, inv.cli, "run", ...inv.runArgs].map(systemdQuote).join(" ");
  const changes = inv.changesArgs && [inv.node, inv.cli, "changes", "--quiet", "--last-run", ...inv.changesArgs].map(systemdQuote).join(" ");
  return `# ${SERVICE_NAME}: one reachprobe run, started by ${TIMER_NAME}.
# Written by \`${spec.madeBy}\`; run it again to replace this file.
[Unit]
Description=reachprobe: one censorship measurement run

[Service]
Type=oneshot
WorkingDirectory=${systemdPath(inv.cwd)}
ExecStart=${exec}
${
  changes
    ? `# Then what a human must see: the changes that run saw, if any (nothing when there are none).
# Both go to the journal, which journald rotates: journalctl --user -u ${SERVICE_NAME}
ExecStartPost=${changes}
`
    : ""
}Environment=NO_COLOR=1
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
# Exit codes 3, 4 and 5 are measurements (blocking, anomalies, network down), not failures.
SuccessExitStatus=3 4 5
# A run still going when the next is due is stopped with SIGTERM; it keeps what it measured.
TimeoutStartSec=${systemdSpan(spec.intervalS)}
TimeoutStopSec=30s
# Hardening that needs no privileges, so that it works in a user unit.
NoNewPrivileges=yes
UMask=0077
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
`;
}

/** The timer: calendar times (or a fixed interval), a random delay for each run, and catch-up after downtime. */
export function renderTimer(spec: TimerSpec): string {
  const when =
    "onCalendar" in spec.when
      ? `OnCalendar=${spec.when.onCalendar}\n# Runs missed while the machine was off happen once, at the next start.\nPersistent=true`
      : `OnActiveSec=1min\nOnUnitActiveSec=${systemdSpan(spec.when.everyS)}`;
  return `# ${TIMER_NAME}: starts ${SERVICE_NAME} on schedule.
# Written by \`${spec.madeBy}\`; run it again to replace this file.
[Unit]
Description=reachprobe: scheduled censorship measurement runs

[Timer]
${when}
# Each run waits a random delay up to this, so that probes do not all start at once.
RandomizedDelaySec=${systemdSpan(spec.jitterS)}
Unit=${SERVICE_NAME}

[Install]
WantedBy=timers.target
`;
}
