/**
 * The one vocabulary of verdicts for people: the words of each status, their order (worst
 * first) and their tone, which each output turns into its colours. Every human output (the run's
 * report, history, changes, the HTML report) takes its words from here; machine outputs (JSON,
 * CSV, the database) keep the status names themselves.
 */
import type { ServiceStatus } from "./service.js";
import type { Layer, Status } from "./verdict.js";

/** Every status, worst first: lists are sorted, and a bucket of measurements shows its worst, in this order. */
export const STATUSES_WORST_FIRST: readonly Status[] = ["blocked", "anomaly", "down", "inconclusive", "ok"];

/** Higher is worse; -1 stands for "not measured". */
export const STATUS_RANK: Readonly<Record<Status, number>> = { blocked: 4, anomaly: 3, down: 2, inconclusive: 1, ok: 0 };

/** A status in a word or two, as counts use it: "3 suspicious", "1 can't tell". */
export const STATUS_WORD: Readonly<Record<Status, string>> = {
  blocked: "blocked",
  anomaly: "suspicious",
  down: "down",
  inconclusive: "can't tell",
  ok: "reachable",
};

/** How alarming a status is; each output maps tones to its own colours. */
export type Tone = "bad" | "warn" | "muted" | "good";

/** The tone of each status. */
export const STATUS_TONE: Readonly<Record<Status, Tone>> = { blocked: "bad", anomaly: "warn", down: "muted", inconclusive: "muted", ok: "good" };

/** A one-character mark of each status, for terminals. */
export const STATUS_MARK: Readonly<Record<Status, string>> = { blocked: "✗", anomaly: "!", down: "-", inconclusive: "?", ok: "✓" };

/** A verdict in plain words: "BLOCKED at DNS", "suspicious at TLS", "down (not censorship)", "can't tell", "reachable". */
export function statusWords(v: { status: Status; layer: Layer | null }): string {
  const at = v.layer ? ` at ${v.layer.toUpperCase()}` : "";
  switch (v.status) {
    case "blocked":
      return `BLOCKED${at}`;
    case "anomaly":
      return `suspicious${at}`;
    case "down":
      return "down (not censorship)";
    case "inconclusive":
      return "can't tell";
    case "ok":
      return "reachable";
  }
}

/** Counts in words, worst first, zeros left out: "5 of 17 blocked, 2 suspicious, 10 reachable". */
export function countsWords(counts: Readonly<Record<Status, number>>, endpoints?: number): string {
  return STATUSES_WORST_FIRST.filter((s) => counts[s] > 0)
    .map((s) => (s === "blocked" && endpoints !== undefined ? `${counts[s]} of ${endpoints} blocked` : `${counts[s]} ${STATUS_WORD[s]}`))
    .join(", ");
}

/** A service's status in words: "blocked", "partly blocked", "suspicious", "reachable", "down", "can't tell". */
export function serviceStatusWords(s: ServiceStatus): string {
  switch (s) {
    case "anomalies":
      return "suspicious";
    case "ok":
      return STATUS_WORD.ok;
    case "inconclusive":
      return STATUS_WORD.inconclusive;
    default:
      return s;
  }
}
