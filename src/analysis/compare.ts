/**
 * Stage 2 of the analysis (docs/verdicts.md "How a verdict is decided"): the table compared
 * with the controls into facts, layer by layer. Later steps inform DNS (an answer is consistent
 * when a handshake validated it, or when it worked and nothing after it went wrong), so DNS is
 * compared last. Pure: no I/O.
 */
import type { AnalysisContext } from "./context.js";
import type { Table } from "./table.js";
import { compareDns } from "./compare-dns.js";
import { compareTcp, compareTls, failedAtNetworkLevel } from "./compare-conn.js";
import { compareAddressSwap, compareHops, compareHttp } from "./compare-http.js";
import { fact, type Fact } from "./facts.js";

/** Every fact the table supports, in the order of the steps (DNS, TCP, TLS, HTTP, redirect hops, the run). */
export function compare(table: Table, ctx: AnalysisContext): Fact[] {
  const tcp = compareTcp(table);
  const tls = compareTls(table);
  const hops = compareHops(table, ctx);
  const http = compareHttp(table, ctx, hops.length > 0);
  // A redirect hop's failure says nothing about the target's own addresses; a page nothing
  // could compare is no sign that something went wrong.
  const later = [...tcp, ...tls, ...http.filter((f) => f.key !== "http_page_uncompared")];
  const validated = new Set<string>();
  const probeValidated = new Set<string>();
  for (const c of table.conns) {
    if (c.hop !== 0 || c.purpose !== "measure") continue;
    if (c.tls && c.tls.failure === null && c.tls.verified) probeValidated.add(c.ip);
    if (c.control?.tls?.ok) validated.add(c.ip);
  }
  // An address is reached when its connect, and its handshake if any, worked.
  const reached = later.length === 0 ? new Set(table.conns.filter((c) => c.hop === 0 && c.purpose === "measure" && c.tcpFailure === null && (!c.tls || c.tls.failure === null)).map((c) => c.ip)) : null;
  const blockPage = http.some((f) => f.key === "http_blockpage" || f.key === "http_status_451");
  const dns = compareDns(table, { validated, probeValidated, reached, blockPage, addressSwap: compareAddressSwap(table) }, ctx);

  const run: Fact[] = [];
  if (table.helper?.failure) run.push(fact("helper_unusable", null, table.helper.failure, [], { helper: table.helper.url }));
  if (ctx.networkDown && failedAtNetworkLevel(table)) run.push(fact("canary_failed", null, null, [], { canary: ctx.networkDown.canary, reason: ctx.networkDown.reason }));
  const own = table.dns.filter((r) => r.hop === 0 && r.engine !== "helper");
  if (own.length === 0 && !table.conns.some((c) => c.hop === 0)) run.push(fact("nothing_ran", null, null, []));
  return [...dns, ...tcp, ...tls, ...http, ...hops, ...run];
}
