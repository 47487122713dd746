/**
 * Stage 3 of the analysis, and the only place where a verdict is decided (docs/verdicts.md
 * "How a verdict is decided"): the facts of one target, looked up in one ordered table. The
 * first rule whose fact is present decides the status, the layer and the failure; the root
 * cause comes first (a forged DNS answer outranks the failures that followed from it), proof
 * of blocking before the site's own faults, the local network's faults before anything
 * unconfirmed. The run's other verdicts (a target not measured, a service's summary, the exit
 * code) are decided here too.
 */
import type { Fact, FactKey } from "./facts.js";
import type { Layer, Status, Verdict } from "./verdict.js";
import { fact } from "./facts.js";
import { sentence } from "./evidence.js";

/** One rule: the fact that decides, and what it decides. `layer` "fact" takes the fact's layer. */
interface Rule {
  fact: FactKey;
  status: Status;
  layer: "fact" | Layer | null;
}

const blocked = (f: FactKey, layer: Rule["layer"] = "fact"): Rule => ({ fact: f, status: "blocked", layer });
const down = (f: FactKey): Rule => ({ fact: f, status: "down", layer: null });
const inconclusive = (f: FactKey): Rule => ({ fact: f, status: "inconclusive", layer: null });
const anomaly = (f: FactKey): Rule => ({ fact: f, status: "anomaly", layer: "fact" });
const ok = (f: FactKey): Rule => ({ fact: f, status: "ok", layer: null });

/** The decision, first match wins. Facts not listed here are notes (NOTES). */
export const RULES: readonly Rule[] = [
  // Proof of blocking, root cause first.
  inconclusive("not_measured"),
  blocked("dns_bogon_probe_only"),
  blocked("dns_bogon_to_blockpage"),
  blocked("dns_blockpage_address"),
  blocked("dns_two_answers"),
  blocked("dns_failed_probe_only"),
  blocked("dns_probe_only_addresses"),
  // The page at the browser's address differs from the page the same request got at a witness's address (the address swap).
  blocked("dns_address_swap_differs"),
  blocked("tcp_failed_probe_only"),
  blocked("tls_failed_probe_only"),
  blocked("tls_sni_swap_answered"),
  blocked("http_blockpage"),
  blocked("http_status_451"),
  blocked("http_failed_probe_only"),
  blocked("http_host_swap_answered"),
  blocked("http_redirect_elsewhere"),
  blocked("http_response_differs"),
  blocked("hop_failed_probe_only"),
  blocked("hop_dns_failed_probe_only"),
  // The control was never sent where the probe was redirected: the redirect itself differs.
  blocked("hop_redirect_elsewhere", "http"),
  // The site's own fault, seen by the controls too.
  down("dns_no_address_anywhere"),
  down("dns_bogon_everywhere"),
  down("tcp_failed_everywhere"),
  down("tls_failed_everywhere"),
  down("http_failed_everywhere"),
  down("hop_failed_everywhere"),
  // This machine's network, not the target.
  inconclusive("tcp_no_route"),
  inconclusive("dns_unreachable_everywhere"),
  inconclusive("canary_failed"),
  // Failures no control could confirm or refute.
  anomaly("dns_bogon_unconfirmed"),
  anomaly("dns_failed_unconfirmed"),
  anomaly("tcp_failed_unconfirmed"),
  anomaly("tls_failed_unconfirmed"),
  anomaly("http_failed_unconfirmed"),
  anomaly("hop_failed_unconfirmed"),
  // The resolver sent the client where no control was sent, an address answered there, and nothing could compare its page.
  anomaly("dns_probe_only_addresses_worked"),
  inconclusive("nothing_ran"),
  // A plain-HTTP page loaded, and the helper the run was given to compare it could not be used:
  // nothing can tell the site's page from one a middlebox wrote (after every anomaly, which says more).
  inconclusive("http_page_uncompared"),
  // Reached, with something worth saying: the site itself answered this client otherwise.
  ok("http_differs_over_validated_tls"),
];

/**
 * Facts that only add context to whatever is decided: the helper could not be used; the
 * browser's resolver sent the client to an address no witness gave, where the site itself
 * answered (a transparent proxy, a CDN node: docs/verdicts.md "Comparing a page with the control's").
 */
export const NOTES: ReadonlySet<FactKey> = new Set(["helper_unusable", "dns_probe_only_addresses_site_answered"]);

/** A verdict with the facts it was decided from; `decidedBy` is null for `ok`. */
export interface Classified {
  verdict: Verdict;
  decidedBy: FactKey | null;
}

/** Decides one target's verdict from its facts; evidence is written from the facts, deciding one first. */
export function classify(facts: readonly Fact[]): Classified {
  const notes = facts.filter((f) => NOTES.has(f.key));
  const others = facts.filter((f) => !NOTES.has(f.key));
  for (const rule of RULES) {
    const deciding = others.find((f) => f.key === rule.fact);
    if (!deciding) continue;
    const rest = others.filter((f) => f !== deciding);
    // Blocked and anomaly verdicts list what the other steps found too; a failed canary names the
    // failure it excuses; down and inconclusive verdicts rest on their one fact.
    const also = rule.status === "blocked" || rule.status === "anomaly" || rule.status === "ok" ? rest : rule.fact === "canary_failed" ? rest.slice(0, 1) : [];
    const failure = rule.fact === "canary_failed" ? (rest[0]?.failure ?? null) : deciding.failure;
    const layer = rule.layer === "fact" ? deciding.layer : rule.layer;
    return { verdict: { status: rule.status, layer, failure, evidence: [deciding, ...also, ...notes].flatMap(sentence) }, decidedBy: rule.fact };
  }
  // Reached with no control to compare with: the note says so (docs/verdicts.md "Without a helper").
  return { verdict: { status: "ok", layer: null, failure: null, evidence: notes.flatMap(sentence) }, decidedBy: null };
}

/** The verdict of a target the run did not measure because this machine's network is down. */
export function notMeasured(canary: string, reason: string): Verdict {
  return classify([fact("not_measured", null, null, [], { canary, reason })]).verdict;
}

/** What a run's verdicts add up to, for its exit code (docs/commands.md "Exit codes"). */
export type RunOutcome = "blocked" | "anomaly" | "inconclusive" | "ok";

/** A run with any blocked target is `blocked`; else any anomaly `anomaly`; all inconclusive `inconclusive`; else `ok`. */
export function runOutcome(statuses: Iterable<Status | string>): RunOutcome {
  let any = false;
  let anomalies = false;
  let allInconclusive = true;
  for (const s of statuses) {
    any = true;
    if (s === "blocked") return "blocked";
    if (s === "anomaly") anomalies = true;
    if (s !== "inconclusive") allInconclusive = false;
  }
  if (anomalies) return "anomaly";
  return any && allInconclusive ? "inconclusive" : "ok";
}

/** What a service's endpoints add up to. */
export type ServiceStatus = "blocked" | "partly blocked" | "anomalies" | "ok" | "down" | "inconclusive";

/** A service's status from its endpoints' counts (docs/verdicts.md): blocked when all are, partly when some are. */
export function serviceStatus(c: Readonly<Record<Status, number>>, n: number): ServiceStatus {
  if (c.blocked === n) return "blocked";
  if (c.blocked > 0) return "partly blocked";
  if (c.anomaly > 0) return "anomalies";
  if (c.inconclusive === n) return "inconclusive";
  if (c.down === n) return "down";
  // With no endpoint reached (some down, the rest inconclusive) "ok" would claim a service
  // nobody reached works; ok means "reached" (docs/verdicts.md). What is known is that it is down.
  if (c.ok === 0) return "down";
  return "ok";
}
