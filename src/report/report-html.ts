/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched)
 * with the current status per network and service, each endpoint's timeline, the changes and
 * the runs. It is produced as a sequence of chunks, so that it can be written as it is made.
 */
import type { ServiceStatus } from "../analysis/service.js";
import type { Layer, Status } from "../analysis/verdict.js";
import { axisWords, cellSpan, type Axis } from "./report-buckets.js";
import type { Change, EndpointTimeline, NetworkReport, ReportData, RunInfo, VerdictAt } from "./report-data.js";
import { escapeHtml as e, formatDay, formatTime } from "./report-format.js";
import { plural, thousands } from "../base/plural.js";
import { cellKind, LEGEND, serviceColour } from "./report-palette.js";
import { countsWords, serviceStatusWords, statusWords } from "../analysis/status-words.js";
import { REPORT_CSS } from "./report-style.js";
import { countsBarSvg, stripSvg } from "./report-svg.js";

/** What the page says about where it comes from. */
export interface ReportMeta {
  /** The database file as the user named it. */
  database: string;
  /** When the report was made. */
  generatedAt: Date;
  /** The reachprobe version that made it. */
  version: string;
}

function badge(v: { status: Status; layer: Layer | null }): string {
  return `<span class="badge"><span class="sw k-${cellKind(v.status, v.layer)}"></span>${e(statusWords(v))}</span>`;
}

function periodWords(d: ReportData): string {
  if (d.firstRunAt === null || d.lastRunAt === null) return "no runs";
  const from = formatDay(d.firstRunAt);
  const to = formatDay(d.lastRunAt);
  return from === to ? from : `${from} – ${to}`;
}

function header(d: ReportData, meta: ReportMeta, lede: string): string {
  const period = `${periodWords(d)}${d.since !== null ? ` (runs since ${formatTime(d.since)})` : ""}`;
  const networks = d.networks.length ? d.networks.map((n) => n.network).join(", ") : "none";
  const facts = [
    ["Database", `<span class="mono">${e(meta.database)}</span>`],
    ["Period", e(period)],
    [d.networks.length === 1 ? "Network" : "Networks", e(`${networks}${d.network !== null ? " (chosen with --network)" : ""}`)],
    ["Runs", e(`${plural(d.runCount, "run")}, ${plural(d.measurementCount, "measurement")}`)],
    ["Generated", e(formatTime(meta.generatedAt.toISOString()))],
  ];
  const nav = d.runCount
    ? `<nav class="toc" aria-label="Sections"><a href="#now">Current status</a><a href="#timelines">Timelines</a><a href="#changes">Changes (${thousands(d.changeCount)})</a><a href="#runs">Runs (${thousands(d.runCount)})</a></nav>`
    : "";
  return `<header class="top"><div class="brand">reachprobe</div><h1>Reachability report</h1>${lede ? `\n<p class="lede">${lede}</p>` : ""}
<dl class="meta">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join("")}</dl>${nav}</header>\n`;
}

/** One sentence on where things stand: each service that is not ok, with the networks where it is so. */
function ledeOf(d: ReportData): string {
  // "WeChat partly blocked" -> networks, in the order of the worst status first.
  const order: ServiceStatus[] = ["blocked", "partly blocked", "anomalies"];
  const groups = new Map<string, { service: string; status: ServiceStatus; networks: string[] }>();
  let services = 0;
  for (const n of d.networks) {
    for (const s of n.services) {
      services++;
      if (!order.includes(s.summary.status)) continue;
      const key = `${s.summary.status}\u0000${s.service}`;
      const g = groups.get(key) ?? { service: s.service, status: s.summary.status, networks: [] };
      g.networks.push(n.network);
      groups.set(key, g);
    }
  }
  if (d.runCount === 0) return "";
  if (services === 0) return "The runs of this period stored no measurements.";
  const changes = d.changeCount ? ` ${e(plural(d.changeCount, "status change"))} in the period.` : " No status changed in the period.";
  if (groups.size === 0) return `Latest measurements: nothing blocked or suspicious.${changes}`;
  const bad = [...groups.values()]
    .sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
    .map((g) => `<strong>${e(g.service)}</strong> ${e(serviceStatusWords(g.status))}${d.networks.length > 1 ? ` on ${e(listWords(g.networks))}` : ""}`);
  return `Latest measurements: ${bad.slice(0, 5).join("; ")}${bad.length > 5 ? `; and ${bad.length - 5} more` : ""}.${changes}`;
}

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function emptyPage(d: ReportData): string {
  if (d.databaseRunCount === 0) {
    return `<div class="empty"><h2>No measurements yet</h2><p>This database has no runs. Measure with <code>reachprobe run --db FILE</code>, then make the report again.</p></div>\n`;
  }
  const what: string[] = [];
  if (d.since !== null) what.push(`started since ${formatTime(d.since)}`);
  if (d.network !== null) what.push(`from network “${d.network}”`);
  return `<div class="empty"><h2>No runs match</h2><p>None of the ${e(plural(d.databaseRunCount, "run"))} in this database ${e(what.join(" and "))}. Networks in the database: ${e(d.databaseNetworks.join(", "))}.</p></div>\n`;
}

/** Services down, networks across: where each stands by its endpoints' latest verdicts. */
function currentStatus(d: ReportData): string {
  const services = [...new Set(d.networks.flatMap((n) => n.services.map((s) => s.service)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [
    `<section id="now"><h2>Current status</h2><p class="note">Each endpoint's latest measurement in the period, added up per service: <b>blocked</b> when every endpoint is, <b>partly blocked</b> when some are.</p>`,
    `<div class="table-wrap matrix-wrap"><table class="matrix"><thead><tr><th scope="col">Service</th>`,
  ];
  for (const n of d.networks) {
    out.push(`<th scope="col">${e(n.network)}<span class="th-sub">last run ${e(formatTime(n.lastRun.startedAt))}</span></th>`);
  }
  out.push(`</tr></thead><tbody>`);
  for (const service of services) {
    out.push(`<tr><th scope="row">${e(service)}</th>`);
    for (const n of d.networks) {
      const s = n.services.find((x) => x.service === service);
      if (!s) {
        out.push(`<td><div class="mx mx-none"><span class="state">not measured</span></div></td>`);
        continue;
      }
      const c = s.summary.counts;
      out.push(
        `<td><div class="mx" style="--c:${serviceColour(s.summary.status)}"><span class="state">${e(serviceStatusWords(s.summary.status))}</span>` +
          `<span class="counts">${e(plural(s.summary.endpoints, "endpoint"))}: ${e(countsWords(c, s.summary.endpoints))}</span>${countsBarSvg(c)}</div></td>`,
      );
    }
    out.push(`</tr>`);
  }
  out.push(`</tbody></table></div></section>\n`);
  return out.join("");
}

function ticks(axis: Axis): string {
  if (axis.cells === 0) return `<div class="ticks"></div>`;
  const first = cellSpan(axis, 0).from;
  const lastSpan = cellSpan(axis, axis.cells - 1);
  const last = axis.mode === "run" ? lastSpan.from : lastSpan.to;
  // A run axis is even in runs, not in time: its middle is the middle run's time.
  const middle = axis.mode === "time" ? (first + last) / 2 : axis.runTimes[Math.floor(axis.cells / 2)]!;
  // Runs minutes apart (tests, a burst of manual runs) need seconds to tell the labels apart.
  const seconds = last - first < 3_600_000;
  const mid = axis.mode === "time" || axis.cells > 2 ? `<span>${e(formatTime(middle, seconds))}</span>` : "";
  return `<div class="ticks"><span>${e(formatTime(first, seconds))}</span>${mid}<span>${e(formatTime(last, seconds))}</span></div>`;
}

function latestCell(ep: EndpointTimeline): string {
  const l = ep.latest;
  const title = [`latest: ${formatTime(l.at, true)}`, statusWords(l), l.failure ?? "", ...l.evidence].filter(Boolean).join("\n");
  const failure = l.failure && l.status !== "ok" ? ` <span class="f">${e(l.failure)}</span>` : "";
  return `<div class="now" title="${e(title)}"><span class="sw k-${cellKind(l.status, l.layer)}"></span><b>${e(statusWords(l))}</b>${failure}</div>`;
}

function* networkTimelines(n: NetworkReport): Generator<string> {
  const first = formatTime(n.firstRunAt);
  const last = formatTime(n.lastRun.startedAt);
  yield `<div class="network"><h3><span class="net">${e(n.network)}</span><small>${e(plural(n.runCount, "run"))}, ${e(first)} – ${e(last)}; ${e(axisWords(n.axis))}</small></h3>\n`;
  for (const s of n.services) {
    yield `<div class="svc-block"><h4>${e(s.service)} <span class="sub">${e(serviceStatusWords(s.summary.status))}</span></h4><div class="tl" role="list">`;
    yield `<div class="tl-row tl-axis" aria-hidden="true"><span class="ep">endpoint</span>${ticks(n.axis)}<span class="ep pad">latest</span></div>`;
    for (const ep of s.endpoints) {
      yield `<div class="tl-row" role="listitem"><div class="ep" title="${e(ep.target)}">${e(ep.target)}</div>${stripSvg(n.axis, ep.cells, `Timeline of ${ep.target}`)}${latestCell(ep)}</div>\n`;
    }
    yield `</div></div>\n`;
  }
  yield `</div>\n`;
}

function legend(d: ReportData): string {
  const items = LEGEND.map((l) => `<li><span class="sw k-${l.kind}"></span>${e(l.label)}</li>`).join("");
  const modes = [...new Set(d.networks.map((n) => axisWords(n.axis)))];
  return `<ul class="legend" aria-label="Legend">${items}</ul><p class="note">Time runs left to right; ${e(modes.join("; "))}. Point at a cell for its time, status, layer and failure.</p>`;
}

function changeWhy(to: { failure: string | null; evidence: string[] }): string {
  const parts: string[] = [];
  if (to.failure) parts.push(`<code>${e(to.failure)}</code>`);
  if (to.evidence[0]) parts.push(e(to.evidence[0]));
  return parts.join(" · ");
}

function changesSection(d: ReportData): string {
  const out: string[] = [`<section id="changes"><h2>Changes</h2><p class="note">Every time an endpoint's status (or the layer of its blocking) differed from its previous measurement on the same network, newest first.</p>`];
  if (d.changes.length === 0) {
    out.push(`<p class="more">No status changed in the period.</p></section>\n`);
    return out.join("");
  }
  out.push(`<div class="table-wrap"><table class="changes"><thead><tr><th>When</th><th>Network</th><th>Endpoint</th><th>Change</th><th>Why</th></tr></thead><tbody>`);
  for (const c of d.changes) out.push(changeRow(c));
  out.push(`</tbody></table></div>`);
  if (d.changeCount > d.changes.length) out.push(`<p class="more">${e(plural(d.changeCount - d.changes.length, "earlier change"))} not listed.</p>`);
  out.push(`</section>\n`);
  return out.join("");
}

function changeRow(c: Change): string {
  const from: VerdictAt = c.from;
  return `<tr><td class="when">${e(formatTime(c.at))}</td><td>${e(c.network)}</td><td class="target"><span class="svc">${e(c.service)}</span>${e(c.target)}</td><td><span class="change">${badge(from)}<span class="arrow" aria-label="to">→</span>${badge(c.to)}</span></td><td class="why">${changeWhy(c.to)}</td></tr>\n`;
}

function runRow(r: RunInfo): string {
  const planned = r.targetCount ?? r.measured;
  const targets = r.measured === planned ? String(planned) : `${r.measured} of ${planned}`;
  return `<tr><td class="when" title="run ${e(r.id)}">${e(formatTime(r.startedAt, true))}</td><td>${e(r.network)}</td><td class="state-${e(r.state)}">${e(r.state)}</td><td class="num">${e(targets)}</td><td class="num${r.counts.blocked ? " hot" : ""}">${r.counts.blocked}</td><td class="num">${r.counts.anomaly}</td><td class="runbar">${r.measured ? countsBarSvg(r.counts) : ""}</td></tr>\n`;
}

function* runsSection(d: ReportData): Generator<string> {
  yield `<section id="runs"><h2>Runs</h2><p class="note">Newest first. Targets: measured of planned, when a run stopped early.</p><div class="table-wrap"><table class="runs"><thead><tr><th>Started</th><th>Network</th><th>State</th><th class="num">Targets</th><th class="num">Blocked</th><th class="num">Suspicious</th><th>Verdicts</th></tr></thead><tbody>`;
  for (const r of d.runs) yield runRow(r);
  yield `</tbody></table></div>`;
  if (d.runCount > d.runs.length) yield `<p class="more">${e(plural(d.runCount - d.runs.length, "earlier run"))} not listed.</p>`;
  yield `</section>\n`;
}

/** The page, chunk by chunk. */
export function* renderReport(d: ReportData, meta: ReportMeta): Generator<string> {
  const title = `reachprobe report: ${meta.database}${d.firstRunAt ? `, ${periodWords(d)}` : ""}`;
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="reachprobe ${e(meta.version)}"><title>${e(title)}</title><style>${REPORT_CSS}</style></head>
<body><div class="page">\n`;
  yield header(d, meta, ledeOf(d));
  yield `<main>\n`;
  if (d.runCount === 0) {
    yield emptyPage(d);
  } else {
    yield currentStatus(d);
    yield `<section id="timelines"><h2>Timelines</h2>${legend(d)}\n`;
    for (const n of d.networks) yield* networkTimelines(n);
    yield `</section>\n`;
    yield changesSection(d);
    yield* runsSection(d);
  }
  yield `</main><footer>Made by reachprobe ${e(meta.version)} from <span class="mono">${e(meta.database)}</span>, opened read-only. Times are UTC. The database holds every observation behind these verdicts; see reachprobe's docs/database.md to query it.</footer></div></body></html>\n`;
}
