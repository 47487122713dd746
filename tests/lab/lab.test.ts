/**
 * End-to-end censorship cases in network namespaces: the REAL built command
 * (`ip netns exec <client> node dist/cli/main.js run --json ...`) against a lab whose censor
 * blocks with real packets. One run covers every case; the slow/throttled sites and the
 * network-down client get runs of their own. Needs root and `ip netns`; skips with one line
 * otherwise. See tests/lab/README.md.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { CLI, assertIsolated, buildLab, labNamespaces, labRunFlags, teardownOnExit } from "./lab.mjs";
import { canMakeNamespaces } from "./netns.mjs";
import { CANARY, CASES, NETWORK_DOWN, SLOW_CASES, THROTTLE, casesScenario } from "./scenario.mjs";

interface Result {
  target: string;
  status: string;
  layer: string | null;
  failure: string | null;
  evidence: string[];
  duration_ms: number;
  observations: Array<Record<string, unknown>>;
}
interface JsonDoc {
  run: { id: string | null; state: string; measured: number; targets: number; canary: { ok: boolean; reason: string | null } | null };
  results: Result[];
}
interface Case {
  name: string;
  what: string;
  target: string;
  expect: { status: string; layer: string | null; failure?: string | null; evidence?: RegExp };
  final?: string;
  notBlocked?: boolean;
}
interface Lab {
  id: string;
  ns: { client: string; censor: string; internet: string };
  caFile: string;
  dir: string;
  stop(): void;
  setClientLink(up: boolean): void;
  runClient(args: string[], opts?: { env?: Record<string, string>; killAfterMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
}

const can = canMakeNamespaces();
if (!can.ok) console.log(`lab: skipped: needs root and ip netns (${can.reason})`);

/** Flags of every lab run (the brief's: fast timeouts, the lab's ranges, resolver, fingerprints, canary). */
const FAST = ["--timeout", "2000", "--dns-window", "300", "--concurrency", "64"];

const table: Array<{ name: string; expected: string; got: string; final: string }> = [];
const show = (r: { status: string; layer: string | null; failure: string | null } | undefined) =>
  r ? [r.status, r.layer, r.failure].filter((x) => x !== null && x !== undefined).join(" ") : "(no result)";

describe.skipIf(!can.ok)("censorship lab (network namespaces)", () => {
  let lab: Lab;
  let removeHandlers: () => void;
  let dir: string;
  const t0 = performance.now();

  /** Runs reachprobe in the client with the lab's flags; parses the JSON document. */
  async function probe(db: string, extra: string[], targets: string[]) {
    const r = await lab.runClient(["run", "--json", ...labRunFlags(lab), "--canary", CANARY, "--db", join(dir, db), ...extra, ...targets]);
    let doc: JsonDoc | null = null;
    try {
      doc = JSON.parse(r.stdout) as JsonDoc;
    } catch {
      /* asserted by the caller, with stderr */
    }
    return { ...r, doc };
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
    // QUIRK: getaddrinfo gives up on a silent resolver with EAI_AGAIN, which reads as SERVFAIL;
    // glibc's timeout (3 s) must outlast --timeout (2 s) so that our own timer sees the silence.
    lab = (await buildLab(casesScenario(), { resolvOptions: "timeout:3 attempts:1" })) as Lab;
    removeHandlers = teardownOnExit(lab);
    // Databases live in the lab's state directory, so tear-down (also on SIGINT) removes them.
    dir = join(lab.dir, "runs");
    mkdirSync(dir);
  }, 90_000);

  afterAll(() => {
    lab?.stop();
    removeHandlers?.();
    const w = (k: "name" | "expected" | "got" | "final") => Math.max(k.length, ...table.map((r) => r[k].length));
    const line = (r: Record<"name" | "expected" | "got" | "final", string>) => `${r.name.padEnd(w("name"))}  ${r.expected.padEnd(w("expected"))}  ${r.got.padEnd(w("got"))}  ${r.final}`;
    console.log(
      [
        `lab ${lab?.id ?? "?"}: ${table.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        line({ name: "case", expected: "expected", got: "got", final: "after issue 4" }),
        ...table.map(line),
      ].join("\n"),
    );
  });

  it("has no way out: each namespace has only its lab links and no route beyond the documentation ranges", () => {
    expect(assertIsolated(lab)).toMatch(/no namespace has a route to 8\.8\.8\.8/);
  });

  it("serves the outside resolver over TCP and DoH (GET and POST) to the client", async () => {
    const script = fileURLToPath(new URL("./check-client.mjs", import.meta.url));
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile("ip", ["netns", "exec", lab.ns.client, process.execPath, script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: lab.caFile }, timeout: 15_000 }, (e, out, err) =>
        resolve({ code: e ? 1 : 0, out, err }),
      );
    });
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out) as Record<string, unknown>;
    expect(got).toEqual({
      tcp: ["203.0.113.11"],
      dohGet: { status: 200, type: "application/dns-message", addresses: ["203.0.113.11"] },
      dohPost: { status: 200, type: "application/dns-message", addresses: ["203.0.113.11"] },
    });
  });

  describe("one run with every case's target", () => {
    let run: Awaited<ReturnType<typeof probe>>;
    beforeAll(async () => {
      run = await probe("cases.db", FAST, (CASES as Case[]).map((c) => c.target));
      for (const c of CASES as Case[]) {
        const r = run.doc?.results.find((x) => x.target === c.target);
        table.push({ name: c.name, expected: show({ failure: null, ...c.expect }), got: show(r), final: c.final ?? "" });
      }
    }, 60_000);

    it("finishes with a JSON document, the canary ok, and exit code 3 (blocking found)", () => {
      expect(run.doc, `stdout was not JSON; stderr: ${run.stderr}`).not.toBeNull();
      expect(run.doc!.run.canary, run.stderr).toEqual({ target: CANARY, ok: true, reason: null });
      expect(run.doc!.run.state).toBe("completed");
      expect(run.doc!.results).toHaveLength(CASES.length);
      expect(run.code, run.stderr).toBe(3);
    });

    for (const c of CASES as Case[]) {
      const want = `${c.expect.status}${c.expect.layer ? ` ${c.expect.layer}` : ""}${c.expect.failure ? ` ${c.expect.failure}` : ""}`;
      it(`${c.name}: ${c.what} -> ${want}${c.final ? ` (issue 4 makes this exact: ${c.final})` : ""}`, () => {
        const r = run.doc?.results.find((x) => x.target === c.target);
        expect(r, `no result for ${c.target}; stderr: ${run.stderr}`).toBeDefined();
        const why = `${c.target}: ${r!.evidence.join(" | ")}`;
        if (c.notBlocked) expect(r!.status, `not censorship, must never be blocked: ${why}`).not.toBe("blocked");
        expect({ status: r!.status, layer: r!.layer }, why).toEqual({ status: c.expect.status, layer: c.expect.layer });
        if (c.expect.failure !== undefined) expect(r!.failure, why).toBe(c.expect.failure);
        if (c.expect.evidence) expect(r!.evidence.join("\n")).toMatch(c.expect.evidence);
      });
    }

    it("stores one row per target, with the verdicts printed", () => {
      const conn = new Database(join(dir, "cases.db"), { readonly: true });
      const rows = conn.prepare("SELECT target, status, layer FROM measurements").all() as Array<{ target: string; status: string; layer: string | null }>;
      const runs = conn.prepare("SELECT state FROM runs").all();
      conn.close();
      expect(runs).toEqual([{ state: "completed" }]);
      expect(rows).toHaveLength(CASES.length);
      for (const r of run.doc!.results) expect(rows).toContainEqual({ target: r.target, status: r.status, layer: r.layer });
    });
  });

  describe("a slow origin and a throttled one (--timeout 4000)", () => {
    let run: Awaited<ReturnType<typeof probe>>;
    beforeAll(async () => {
      run = await probe("slow.db", ["--timeout", "4000", "--dns-window", "300", "--concurrency", "8"], [...(SLOW_CASES as Case[]).map((c) => c.target), THROTTLE.target]);
      for (const c of SLOW_CASES as Case[]) {
        table.push({ name: c.name, expected: show({ failure: null, ...c.expect }), got: show(run.doc?.results.find((x) => x.target === c.target)), final: c.final ?? "" });
      }
      const t = run.doc?.results.find((x) => x.target === THROTTLE.target);
      const http = t?.observations.find((o) => o.step === "http") as { t0: number; t: number; bodyLength?: number; failure: string | null } | undefined;
      const ms = http ? http.t - http.t0 : 0;
      const got = http ? `${show(t)}; ${http.bodyLength ?? 0} B in ${ms} ms (${ms ? Math.round(((http.bodyLength ?? 0) * 8) / ms) : 0} kbit/s); target ${t!.duration_ms} ms` : show(t);
      table.push({ name: THROTTLE.name, expected: `(recorded: tc tbf ${THROTTLE.rate})`, got, final: "" });
    }, 60_000);

    for (const c of SLOW_CASES as Case[]) {
      it(`${c.name}: ${c.what} -> ${c.expect.status}`, () => {
        const r = run.doc?.results.find((x) => x.target === c.target);
        expect(r, `no result for ${c.target}; stderr: ${run.stderr}`).toBeDefined();
        expect({ status: r!.status, layer: r!.layer }, r!.evidence.join(" | ")).toEqual({ status: c.expect.status, layer: c.expect.layer });
      });
    }

    it(`${THROTTLE.name}: ${THROTTLE.what} (recorded, no verdict asserted)`, () => {
      const r = run.doc?.results.find((x) => x.target === THROTTLE.target);
      expect(r, `no result for ${THROTTLE.target}; stderr: ${run.stderr}`).toBeDefined();
    });
  });

  describe("the client's whole network is down", () => {
    let run: Awaited<ReturnType<typeof probe>>;
    beforeAll(async () => {
      lab.setClientLink(false);
      try {
        run = await probe("down.db", FAST, NETWORK_DOWN.targets);
      } finally {
        lab.setClientLink(true);
      }
      const statuses = run.doc ? [...new Set(run.doc.results.map((r) => r.status))].join(", ") : "(no JSON)";
      table.push({ name: NETWORK_DOWN.name, expected: `inconclusive x${NETWORK_DOWN.targets.length}, exit 5`, got: `${statuses} x${run.doc?.results.length ?? 0}, exit ${run.code}`, final: "" });
    }, 60_000);

    it(`${NETWORK_DOWN.name}: ${NETWORK_DOWN.what} -> every target inconclusive, exit code 5`, () => {
      expect(run.doc, `stdout was not JSON; stderr: ${run.stderr}`).not.toBeNull();
      expect(run.doc!.run.canary?.ok).toBe(false);
      expect(run.doc!.results.map((r) => [r.target, r.status])).toEqual(expect.arrayContaining(NETWORK_DOWN.targets.map((t) => [t, "inconclusive"])));
      expect(run.doc!.results).toHaveLength(NETWORK_DOWN.targets.length);
      expect(run.code, run.stderr).toBe(5);
    });
  });

  it("leaves no namespace behind after tear-down", () => {
    const before = labNamespaces().filter((n: string) => n.includes(`-${lab.id}-`));
    expect(before).toHaveLength(3);
    lab.stop();
    expect(labNamespaces().filter((n: string) => n.includes(`-${lab.id}-`))).toEqual([]);
    expect(existsSync(`/etc/netns/${lab.ns.client}`)).toBe(false);
  });
});
