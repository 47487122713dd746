/**
 * The report's stylesheet, inlined in the page: system fonts only (nothing to download),
 * a width that follows the window, and a print layout that keeps the colours.
 */
import { COLOURS } from "./report-palette.js";

// One rule a kind serves both the SVG cells (fill) and the HTML swatches (background).
const kindRules = Object.entries(COLOURS)
  .map(([kind, colour]) => `.k-${kind}{fill:${colour};background:${colour}}`)
  .join("\n");

/** The whole stylesheet. */
export const REPORT_CSS = `
:root{color-scheme:light;--fg:#1c2230;--muted:#5d6675;--faint:#8a929e;--line:#e2e5ea;--panel:#f6f7f9;--bg:#fff;--accent:#2c5a85;--track:${COLOURS.track};
--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans","DejaVu Sans",Arial,sans-serif;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 var(--sans);-webkit-font-smoothing:antialiased}
.page{max-width:1240px;margin:0 auto;padding:0 clamp(14px,3vw,36px) 48px}
header.top{padding:30px 0 18px;border-bottom:1px solid var(--line)}
.brand{font:600 12px/1 var(--sans);letter-spacing:.14em;text-transform:uppercase;color:var(--accent)}
h1{font-size:clamp(24px,3.2vw,32px);line-height:1.15;margin:8px 0 6px;font-weight:700;letter-spacing:-.01em}
.lede{font-size:17px;color:var(--fg);margin:0 0 16px;max-width:60em}
.meta{display:flex;flex-wrap:wrap;gap:10px 34px;margin:0}
.meta div{min-width:0}
.meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);font-weight:600}
.meta dd{margin:2px 0 0;font-size:14px;overflow-wrap:anywhere}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:18px;font-size:14px}
nav.toc a{color:var(--accent);text-decoration:none;border-bottom:1px solid transparent}
nav.toc a:hover{border-bottom-color:currentColor}
section{padding-top:26px}
h2{font-size:21px;margin:0 0 4px;letter-spacing:-.005em}
h3{font-size:16px;margin:22px 0 8px;display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px}
h3 .net{font-weight:700}
h3 small,.sub{font-weight:400;color:var(--muted);font-size:13px}
h4{font-size:14px;margin:16px 0 6px;font-weight:650}
.note{color:var(--muted);font-size:13.5px;margin:0 0 10px;max-width:62em}
code,.mono{font-family:var(--mono);font-size:.92em}
.matrix th[scope=row]{font-size:14px;color:var(--fg);text-transform:none;letter-spacing:0;background:var(--bg);white-space:nowrap;vertical-align:middle}
.matrix thead th{font-size:13px;color:var(--fg);text-transform:none;letter-spacing:0}
.th-sub{display:block;font-weight:400;font-size:11.5px;color:var(--muted)}
.matrix-wrap{display:inline-block;max-width:100%;min-width:min(100%,34rem)}
.matrix td{padding:8px 12px;min-width:15rem;width:24rem}
.matrix tbody tr:nth-child(even) td{background:var(--bg)}
.mx{border-left:5px solid var(--c);padding:2px 0 2px 10px;display:flex;flex-direction:column;gap:3px}
.mx .state{font-size:17px;font-weight:700;line-height:1.2}
.mx .counts{font-size:12.5px;color:var(--muted)}
.mx-none{border-left-color:var(--track)}
.mx-none .state{font-size:13px;font-weight:400;color:var(--muted)}
td.runbar{width:140px;vertical-align:middle}
td.runbar svg.bar{height:6px}
svg.bar{display:block;width:100%;height:8px;border-radius:4px;background:var(--track)}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:10px 0 4px;padding:10px 12px;background:var(--panel);border-radius:8px;font-size:13px;list-style:none}
.legend li{display:flex;align-items:center;gap:6px;white-space:nowrap}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;flex:none}
.sw.k-track{box-shadow:inset 0 0 0 1px #d3d7dd}
.tl{margin:0 0 6px}
.tl-row{display:grid;grid-template-columns:minmax(9rem,19rem) minmax(0,1fr) 12.5rem;gap:4px 14px;align-items:center;padding:3px 0;border-bottom:1px solid #f0f1f4}
.tl-row:last-child{border-bottom:0}
.ep{font-family:var(--mono);font-size:12.5px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}
svg.strip{display:block;width:100%;height:16px;background:var(--track);border-radius:2px}
svg.strip.sparse rect{stroke:var(--bg);stroke-width:2px;vector-effect:non-scaling-stroke}
.now{display:flex;align-items:center;gap:7px;font-size:13px;min-width:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.now b{font-weight:600}
.now .f{color:var(--muted);font-family:var(--mono);font-size:11.5px;overflow:hidden;text-overflow:ellipsis}
.tl-axis{border-bottom:0;padding:0 0 2px}
.ticks{display:flex;justify-content:space-between;font-size:11.5px;color:var(--muted);gap:8px}
.ticks span:nth-child(2){text-align:center}
.tl-axis .ep{font-family:var(--sans);color:var(--muted);font-size:11.5px}
.empty{margin:36px 0;padding:28px;border:1px dashed #c9ced6;border-radius:10px;background:var(--panel);text-align:center}
.empty h2{font-size:22px}
.empty p{color:var(--muted);margin:6px auto 0;max-width:40em}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel);font-weight:600;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;position:sticky;top:0}
tbody tr:last-child td,tbody tr:last-child th{border-bottom:0}
tbody tr:nth-child(even) td{background:#fbfbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.when{white-space:nowrap;font-variant-numeric:tabular-nums}
td.target{font-family:var(--mono);font-size:12px;overflow-wrap:anywhere;min-width:18em}
.change{white-space:nowrap}
td .svc{display:block;font-family:var(--sans);color:var(--muted);font-size:11.5px}
.badge{display:inline-flex;align-items:center;gap:5px;white-space:nowrap}
.arrow{color:var(--faint);margin:0 6px}
.why{color:var(--muted);font-size:12.5px;overflow-wrap:anywhere}
.why code{color:var(--fg)}
.state-completed{color:var(--muted)}
.state-interrupted,.state-failed{color:${COLOURS["blocked-tls"]};font-weight:600}
.state-running{color:var(--accent);font-weight:600}
.hot{font-weight:700;color:${COLOURS["blocked-tcp"]}}
.more{color:var(--muted);font-size:13px;margin:8px 2px 0}
footer{margin-top:36px;padding-top:14px;border-top:1px solid var(--line);color:var(--muted);font-size:12.5px}
${kindRules}
@media (max-width:760px){
.tl-row{grid-template-columns:minmax(0,1fr) auto;grid-template-areas:"ep now" "strip strip"}
.tl-row .ep{grid-area:ep}.tl-row svg.strip,.tl-row .ticks{grid-area:strip}.tl-row .now{grid-area:now}
.tl-axis .ep,.tl-axis .pad{display:none}
.now .f{display:none}
.matrix td{min-width:12rem;width:auto}
}
@media print{
@page{margin:12mm}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:10pt}
.page{max-width:none;padding:0}
nav.toc{display:none}
section{break-before:auto}
.svc-block,tr{break-inside:avoid}
h2,h3,h4{break-after:avoid}
.table-wrap{overflow:visible;border:0}
.tl-row{grid-template-columns:minmax(8rem,15rem) minmax(0,1fr) 9.5rem;gap:2px 10px}
.now .f{display:none}
th{position:static}
}
`;
