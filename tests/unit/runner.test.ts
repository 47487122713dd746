/**
 * The runner's worker pool: it pulls targets from the plan only as workers free up (the plan is
 * streamed, never queued whole), never runs more than `concurrency` at once, reports each
 * result as it finishes, and a compact plan gives back the same targets, each once.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { CompactPlan, KEEP_PARSED, runTargets } from "../../src/runner/runner.js";
import { DEFAULT_PROBE_CONFIG } from "../../src/probes/config.js";
import { parseTarget } from "../../src/targets/parse.js";
import type { Target } from "../../src/targets/target.js";
import { dnsObs } from "../helpers/observations.js";

const targets = (n: number) => Array.from({ length: n }, (_, i) => parseTarget(`tcp://127.0.0.${(i % 250) + 1}:${1000 + i}`, i % 2 ? "odd" : "even"));

describe("runTargets", () => {
  it("pulls a target only when a worker is free, and never runs more than `concurrency` at once", async () => {
    let pulled = 0;
    let running = 0;
    let most = 0;
    const pulledWhenStarted: number[] = [];
    function* plan(): Generator<Target> {
      for (const t of targets(50)) {
        pulled++;
        yield t;
      }
    }
    const done: string[] = [];
    const stop = new AbortController().signal;
    let stopListeners = 0;
    const outcome = await runTargets(
      {
        targets: plan(),
        probe: { ...DEFAULT_PROBE_CONFIG, now: () => 0 },
        concurrency: 4,
        context: { publicRanges: [], fingerprints: [] },
        stop,
        probeFn: async () => {
          stopListeners = Math.max(stopListeners, getEventListeners(stop, "abort").length);
          running++;
          most = Math.max(most, running);
          pulledWhenStarted.push(pulled);
          await new Promise((r) => setImmediate(r));
          running--;
          return { observations: [], control: null };
        },
      },
      { onResult: (r) => done.push(r.target.input) },
    );
    expect(outcome.completed).toBe(50);
    expect(done).toHaveLength(50);
    expect(most).toBe(4);
    // The targets follow the stop signal through one listener, removed when the run is over.
    expect(stopListeners).toBe(1);
    expect(getEventListeners(stop, "abort")).toHaveLength(0);
    // Each target started with at most 4 pulled beyond those finished: nothing read ahead.
    pulledWhenStarted.forEach((p, i) => expect(p, `target ${i}`).toBeLessThanOrEqual(i + 4));
  });

  it("with lookups to start, looks up a quarter of `concurrency` targets ahead, and hands each probe its own lookup", async () => {
    let pulled = 0;
    let lookupsInFlight = 0;
    let mostLookups = 0;
    const pulledWhenStarted: number[] = [];
    function* plan(): Generator<Target> {
      for (const t of targets(40)) {
        pulled++;
        yield t;
      }
    }
    const given: Array<[string, string]> = [];
    await runTargets(
      {
        targets: plan(),
        probe: { ...DEFAULT_PROBE_CONFIG, now: () => 0 },
        concurrency: 4,
        context: { publicRanges: [], fingerprints: [] },
        stop: new AbortController().signal,
        lookupFn: (t) => {
          lookupsInFlight++;
          mostLookups = Math.max(mostLookups, lookupsInFlight);
          return new Promise((r) =>
            setTimeout(() => {
              lookupsInFlight--;
              r([dnsObs(t.input, [])]);
            }, 5),
          );
        },
        probeFn: async (t, _cfg, _stop, lookup) => {
          pulledWhenStarted.push(pulled);
          const dns = (await lookup) ?? [];
          given.push([t.input, dns[0]?.hostname ?? "none"]);
          await new Promise((r) => setTimeout(r, 10));
          return { observations: dns, control: null };
        },
      },
      { onResult: () => {} },
    );
    expect(given).toHaveLength(40);
    expect(given.every(([target, looked]) => target === looked), "each probe got the lookup of its own target").toBe(true);
    // The 4 in the slots, and at most 1 (plus the one being taken) waiting with its lookup started.
    pulledWhenStarted.forEach((p, i) => expect(p, `target ${i}`).toBeLessThanOrEqual(i + 4 + 2));
    expect(mostLookups).toBeLessThanOrEqual(4 + 2);
    expect(mostLookups, "lookups were started ahead of the slots").toBeGreaterThan(4);
  });

  it("stops pulling once stopped", async () => {
    const stop = new AbortController();
    let pulled = 0;
    function* plan(): Generator<Target> {
      for (const t of targets(100)) {
        pulled++;
        yield t;
      }
    }
    await runTargets(
      {
        targets: plan(),
        probe: { ...DEFAULT_PROBE_CONFIG, now: () => 0 },
        concurrency: 2,
        context: { publicRanges: [], fingerprints: [] },
        stop: stop.signal,
        probeFn: async () => {
          if (pulled >= 10) stop.abort();
          return { observations: [], control: null };
        },
      },
      { onResult: () => {} },
    );
    expect(pulled).toBeLessThanOrEqual(11);
  });
});

describe("CompactPlan", () => {
  const fields = (t: Target) => [t.input, t.service, t.scheme, t.host, t.port, t.path, t.isIp];

  it("gives back every target as parsed, each once, and forgets what it gave", () => {
    const list = targets(300);
    const plan = new CompactPlan(list);
    expect(plan.length).toBe(300);
    const it = plan[Symbol.iterator]();
    const first = it.next().value as Target;
    expect(first).toEqual(list[0]);
    const rest = [...it];
    expect(rest.map(fields)).toEqual(list.slice(1).map(fields));
    expect([...plan], "a second pass finds nothing: each target is taken once").toEqual([]);
  });

  it("keeps the first KEEP_PARSED targets as parsed and parses the rest again, in the plan's order", () => {
    const list = Array.from({ length: KEEP_PARSED + 3 }, (_, i) => parseTarget(`https://h${i}.example/p?q=${i}`, i % 3 ? "a" : "b", `list.txt:${i + 1}`));
    const plan = new CompactPlan(list);
    expect(plan.length).toBe(KEEP_PARSED + 3);
    const got = [...plan];
    expect(got.map(fields)).toEqual(list.map(fields));
    // The head is the very objects given; the tail is parsed again from the canonical input,
    // which does not keep where the target came from.
    expect(got[0]).toBe(list[0]);
    expect(got[KEEP_PARSED - 1]).toBe(list[KEEP_PARSED - 1]);
    expect(got[KEEP_PARSED]).not.toBe(list[KEEP_PARSED]);
    expect(got[KEEP_PARSED]?.origin).toBeUndefined();
    expect([...plan]).toEqual([]);
  });
});
