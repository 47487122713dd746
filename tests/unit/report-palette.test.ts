/**
 * The report's colours and words: every verdict maps to one cell kind with a colour and a
 * label, and the colours a reader must tell apart stay apart under simulated protanopia,
 * deuteranopia and tritanopia (Machado, Oliveira and Fernandes 2009, severity 1).
 */
import { describe, expect, test } from "vitest";
import type { Layer, Status } from "../../src/analysis/verdict.js";
import { cellKind, COLOURS, LEGEND, serviceColour, type CellKind } from "../../src/report/report-palette.js";
import { statusWords } from "../../src/analysis/status-words.js";
import { REPORT_CSS } from "../../src/report/report-style.js";

describe("cellKind, and the words of the one vocabulary", () => {
  const cases: Array<[Status, Layer | null, CellKind, string]> = [
    ["ok", null, "ok", "reachable"],
    ["blocked", "dns", "blocked-dns", "BLOCKED at DNS"],
    ["blocked", "tcp", "blocked-tcp", "BLOCKED at TCP"],
    ["blocked", "tls", "blocked-tls", "BLOCKED at TLS"],
    ["blocked", "http", "blocked-http", "BLOCKED at HTTP"],
    ["blocked", null, "blocked", "BLOCKED"],
    ["anomaly", "tls", "anomaly", "suspicious at TLS"],
    ["anomaly", null, "anomaly", "suspicious"],
    ["down", null, "down", "down (not censorship)"],
    ["inconclusive", null, "inconclusive", "can't tell"],
  ];
  test.each(cases)("%s at %s is drawn as %s and read as %j", (status, layer, kind, label) => {
    expect(cellKind(status, layer)).toBe(kind);
    expect(statusWords({ status, layer })).toBe(label);
  });

  test("blocked shades get lighter from the root of the path (DNS) to HTTP", () => {
    const lightness = (hex: string) => toLab(hex, IDENTITY)[0];
    const shades = (["dns", "tcp", "tls", "http"] as const).map((l) => lightness(COLOURS[`blocked-${l}`]));
    expect([...shades].sort((a, b) => a - b)).toEqual(shades);
  });

  test("every kind has a CSS rule for cells and swatches, and the legend names each colour once", () => {
    for (const kind of Object.keys(COLOURS)) expect(REPORT_CSS).toContain(`.k-${kind}{fill:${COLOURS[kind as CellKind]}`);
    const legendKinds = LEGEND.map((l) => l.kind);
    expect(new Set(legendKinds).size).toBe(legendKinds.length);
    for (const kind of Object.keys(COLOURS)) {
      // The layer-less "blocked" shares its colour with TCP and needs no entry of its own.
      if (kind !== "blocked") expect(legendKinds, kind).toContain(kind);
    }
  });

  test("a service's colour follows its status", () => {
    expect(serviceColour("blocked")).toBe(COLOURS["blocked-dns"]);
    expect(serviceColour("partly blocked")).toBe(COLOURS["blocked-tls"]);
    expect(serviceColour("anomalies")).toBe(COLOURS.anomaly);
    expect(serviceColour("ok")).toBe(COLOURS.ok);
  });
});

// --- Colour-vision deficiency simulation: sRGB -> linear -> Machado matrix -> CIELAB -> ΔE76.

type Matrix = readonly [readonly number[], readonly number[], readonly number[]];
const IDENTITY: Matrix = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
const VISION: Record<string, Matrix> = {
  normal: IDENTITY,
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
};

function toLab(hex: string, m: Matrix): [number, number, number] {
  const lin = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const v = [lin(1), lin(3), lin(5)];
  const [r, g, b] = m.map((row) => Math.min(1, Math.max(0, row[0]! * v[0]! + row[1]! * v[1]! + row[2]! * v[2]!))) as [number, number, number];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

function deltaE(a: string, b: string, m: Matrix): number {
  const [l1, a1, b1] = toLab(a, m);
  const [l2, a2, b2] = toLab(b, m);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

describe("colour-blind safety", () => {
  // What a reader must tell apart: the statuses, and each from the empty track. The blocked
  // shades among themselves only refine "blocked" (the layer is also in words), so they are
  // only held to a lower bar.
  const main = ["ok", "blocked-dns", "blocked-tcp", "blocked-tls", "blocked-http", "anomaly", "down", "inconclusive", "track"] as const;
  const pairs = main.flatMap((a, i) => main.slice(i + 1).map((b) => [a, b] as const));
  // ΔE76 of about 2 is just noticeable; 20 is an obvious difference at a glance.
  const FAR = 20;
  const NEAR = 10;

  for (const [vision, m] of Object.entries(VISION)) {
    test(`${vision}: every status stays apart from every other and from "not measured"`, () => {
      const tooClose: string[] = [];
      for (const [a, b] of pairs) {
        const bothBlocked = a.startsWith("blocked") && b.startsWith("blocked");
        const d = deltaE(COLOURS[a], COLOURS[b], m);
        if (d < (bothBlocked ? NEAR : FAR)) tooClose.push(`${a}/${b} ΔE ${d.toFixed(1)}`);
      }
      expect(tooClose, `colours too close for ${vision}`).toEqual([]);
    });
  }
});
