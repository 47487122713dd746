/**
 * Colours and words of the HTML report: one colour per status (blocked in a red shade per
 * layer), chosen so that every pair a reader must tell apart stays apart for the common
 * colour-vision deficiencies (tests/unit/report-palette.test.ts simulates them), and always
 * paired with words, so that colour is never the only carrier.
 */
import type { ServiceStatus } from "../analysis/service.js";
import type { Layer, Status } from "../analysis/verdict.js";

/** What one timeline cell shows: a status, and for blocked the layer that decides its shade. */
export type CellKind = "ok" | "blocked-dns" | "blocked-tcp" | "blocked-tls" | "blocked-http" | "blocked" | "anomaly" | "down" | "inconclusive";

/** Every status, worst first: a bucket of several measurements shows its worst. */
export const STATUSES_WORST_FIRST: readonly Status[] = ["blocked", "anomaly", "down", "inconclusive", "ok"];

/** Higher is worse; -1 stands for "not measured". */
export const STATUS_RANK: Readonly<Record<Status, number>> = { blocked: 4, anomaly: 3, down: 2, inconclusive: 1, ok: 0 };

/** The fill of each cell kind, plus the track behind cells (what "not measured" shows). */
export const COLOURS: Readonly<Record<CellKind | "track", string>> = {
  ok: "#6cbf8e",
  // Darkest at the root of the path: DNS, then TCP, TLS and HTTP get lighter.
  "blocked-dns": "#67000d",
  "blocked-tcp": "#a50f15",
  "blocked-tls": "#d7301f",
  "blocked-http": "#ef6548",
  // A blocked verdict always names its layer; this is for rows written without one.
  blocked: "#a50f15",
  anomaly: "#f6b93b",
  down: "#474b51",
  inconclusive: "#83888f",
  track: "#eef0f3",
};

/** The cell kind of a verdict. */
export function cellKind(status: Status, layer: Layer | null): CellKind {
  if (status !== "blocked") return status;
  return layer ? `blocked-${layer}` : "blocked";
}

/** A verdict in plain words, e.g. "blocked at DNS", "suspicious at TLS", "ok". */
export function statusLabel(status: Status, layer: Layer | null): string {
  const at = layer ? ` at ${layer.toUpperCase()}` : "";
  switch (status) {
    case "ok":
      return "ok";
    case "blocked":
      return `blocked${at}`;
    case "anomaly":
      return `suspicious${at}`;
    case "down":
      return "down (not censorship)";
    case "inconclusive":
      return "can't tell";
  }
}

/** One legend entry: a swatch and its words. */
export interface LegendEntry {
  kind: CellKind | "track";
  label: string;
}

/** The legend of the timelines, in reading order. */
export const LEGEND: readonly LegendEntry[] = [
  { kind: "ok", label: "ok" },
  { kind: "blocked-dns", label: "blocked at DNS" },
  { kind: "blocked-tcp", label: "blocked at TCP" },
  { kind: "blocked-tls", label: "blocked at TLS" },
  { kind: "blocked-http", label: "blocked at HTTP" },
  { kind: "anomaly", label: "suspicious (anomaly)" },
  { kind: "down", label: "down" },
  { kind: "inconclusive", label: "can't tell" },
  { kind: "track", label: "not measured" },
];

/** The colour that stands for a service's status in the summary. */
export function serviceColour(status: ServiceStatus): string {
  switch (status) {
    case "blocked":
      return COLOURS["blocked-dns"];
    case "partly blocked":
      return COLOURS["blocked-tls"];
    case "anomalies":
      return COLOURS.anomaly;
    case "ok":
      return COLOURS.ok;
    case "down":
      return COLOURS.down;
    case "inconclusive":
      return COLOURS.inconclusive;
  }
}
