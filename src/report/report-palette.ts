/**
 * Colours and words of the HTML report: one colour per status (blocked in a red shade per
 * layer), chosen so that every pair a reader must tell apart stays apart for the common
 * colour-vision deficiencies (tests/unit/report-palette.test.ts simulates them), and always
 * paired with words, so that colour is never the only carrier.
 */
import type { ServiceStatus } from "../analysis/service.js";
import type { Layer, Status } from "../analysis/verdict.js";
import { statusWords } from "../analysis/status-words.js";

/** What one timeline cell shows: a status, and for blocked the layer that decides its shade. */
export type CellKind = "ok" | "blocked-dns" | "blocked-tcp" | "blocked-tls" | "blocked-http" | "blocked" | "anomaly" | "down" | "inconclusive";

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

/** One legend entry: a swatch and its words. */
export interface LegendEntry {
  kind: CellKind | "track";
  label: string;
}

/** The legend of the timelines, in reading order. */
export const LEGEND: readonly LegendEntry[] = [
  { kind: "ok", label: statusWords({ status: "ok", layer: null }) },
  { kind: "blocked-dns", label: statusWords({ status: "blocked", layer: "dns" }) },
  { kind: "blocked-tcp", label: statusWords({ status: "blocked", layer: "tcp" }) },
  { kind: "blocked-tls", label: statusWords({ status: "blocked", layer: "tls" }) },
  { kind: "blocked-http", label: statusWords({ status: "blocked", layer: "http" }) },
  { kind: "anomaly", label: statusWords({ status: "anomaly", layer: null }) },
  { kind: "down", label: statusWords({ status: "down", layer: null }) },
  { kind: "inconclusive", label: statusWords({ status: "inconclusive", layer: null }) },
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
