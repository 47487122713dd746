/**
 * The HTML report's reads (report-rows.ts, ReportRows) on the fleet database. The report
 * (src/report/report-data.ts) reads synchronously, row by row, and a PostgreSQL connection
 * answers asynchronously, so the report is computed in passes: each pass answers from what
 * earlier passes fetched and notes what it asked for and did not get; those queries are then
 * run, all in one REPEATABLE READ snapshot, and the report computed again, until a pass asks
 * for nothing new. The report's reads depend on one another in a few steps (runs, then each
 * network's endpoints and changes, then some runs' measurements, then the details shown), so
 * a handful of passes, each a fraction of the report's own work, do it; with what is read ahead
 * of the passes (report-ahead.ts), two.
 */
import type pg from "pg";
import type {
  ReportChangeDetail,
  ReportChangeRow,
  ReportEndpointRow,
  ReportListedChangeRow,
  ReportNetworkParams,
  ReportRows,
  ReportRunBefore,
  ReportRunDetail,
  ReportRunMeasurementRow,
  ReportRunColumns,
} from "../report-rows.js";
import type { PgReader } from "./read.js";
import { epochMsSql } from "./iso-ms.js";
import { guessNetworkReads, ReadQueue, runsOfPeriodSql, type AheadRead, type RunFilter } from "./report-ahead.js";

// "" (the report's "from the beginning") is before every time.
const from = (t: string) => (t === "" ? "-infinity" : t);

const IN_PERIOD_RUN = "(c.run_id IN (SELECT r.id FROM runs AS r WHERE r.started_at >= $3::timestamptz))::integer";

/** The queries, each returning what the ReportRows method of the same name returns. */
function queries(db: pg.ClientBase) {
  const rows = async <R>(text: string, params: unknown[]) => (await db.query(text, params)).rows as R[];
  const arrays = async <R>(text: string, params: unknown[]) => (await db.query({ text, values: params, rowMode: "array" })).rows as R[];
  return {
    runs: async (f: RunFilter): Promise<ReportRunColumns> => {
      const { period, params } = runsOfPeriodSql(f);
      // One JSON document of columns, times as milliseconds: a year's 105,120 runs as rows took
      // half a second to receive, as a JSON array each 250 ms of the server's time, as columns 160 ms.
      const r = await db.query({
        text: `WITH o AS MATERIALIZED (
                 SELECT r.seq, ${epochMsSql("r.started_at")} AS s, ${epochMsSql("r.finished_at")} AS f, (r.state = 'completed')::integer AS c, r.target_count AS t, r.network AS n
                 FROM runs AS r ${period} ORDER BY r.started_at, r.seq)
               SELECT json_build_array(array_agg(o.seq), array_agg(o.s), array_agg(o.f), array_agg(o.c), array_agg(o.t), array_agg(o.n))::text FROM o`,
        values: params,
        rowMode: "array",
      });
      const [rowid, startedAt, finishedAt, completed, planned, network] = JSON.parse((r.rows[0] as [string])[0]) as [number[] | null, ...unknown[]];
      // (array_agg of no rows is null)
      if (rowid === null) return { rowid: [], startedAt: [], finishedAt: [], completed: [], planned: [], network: [] };
      return { rowid, startedAt, finishedAt, completed, planned, network } as ReportRunColumns;
    },
    run: async (rowid: number) =>
      (await rows<ReportRunDetail>(`SELECT id, iso(started_at) AS started_at, iso(finished_at) AS finished_at, state, target_count FROM runs WHERE seq = $1`, [rowid]))[0],
    runBefore: async (since: string, network: string) =>
      (await rows<ReportRunBefore>(
        `SELECT seq AS rowid, iso(finished_at) AS finished_at FROM runs WHERE started_at < $1::timestamptz AND network = $2 ORDER BY started_at DESC, seq DESC LIMIT 1`,
        [since, network],
      ))[0],
    runLastMeasurement: async (rowid: number) =>
      (await arrays<[string | null]>(`SELECT iso(max(m.started_at)) FROM measurements AS m WHERE m.run_id = (SELECT r.id FROM runs AS r WHERE r.seq = $1)`, [rowid]))[0]?.[0] ?? null,
    runMeasurements: (rowid: number) =>
      arrays<ReportRunMeasurementRow>(`SELECT m.target, m.status, m.layer, m.failure FROM measurements AS m WHERE m.run_id = (SELECT r.id FROM runs AS r WHERE r.seq = $1) ORDER BY m.seq`, [rowid]),
    endpoints: (p: ReportNetworkParams) =>
      rows<ReportEndpointRow>(
        `SELECT f.target, l.service, l.status, l.layer, l.failure, iso(l.started_at) AS "latestAt", l.evidence_json AS evidence,
                iso(e.started_at) AS "firstAt", e.status AS "firstStatus", e.layer AS "firstLayer", e.failure AS "firstFailure"
         FROM measurements AS f
         CROSS JOIN LATERAL (SELECT x.service, x.status, x.layer, x.failure, x.started_at, x.evidence_json FROM measurements AS x
           WHERE x.network = f.network AND x.target = f.target ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS l
         CROSS JOIN LATERAL (SELECT x.started_at, x.status, x.layer, x.failure FROM measurements AS x
           WHERE x.network = f.network AND x.target = f.target AND x.started_at >= $2::timestamptz ORDER BY x.started_at, x.seq LIMIT 1) AS e
         WHERE f.changed IS NULL AND f.network = $1`,
        [p.network, from(p.from)],
      ),
    // One JSON document (a year's changes of a network are 4,000 rows), times in milliseconds.
    changes: async (p: ReportNetworkParams, straddled: boolean) => {
      const r = await db.query({
        text: `SELECT json_agg(json_build_array(c.target, c.status, c.layer, c.failure, ${epochMsSql("c.started_at")}, ${straddled ? IN_PERIOD_RUN : "1"})
                 ORDER BY c.started_at, c.target, c.seq)::text
               FROM measurements AS c WHERE c.changed AND c.started_at >= $2::timestamptz AND c.network = $1`,
        values: straddled ? [p.network, from(p.from), p.since] : [p.network, from(p.from)],
        rowMode: "array",
      });
      return JSON.parse((r.rows[0] as [string | null])[0] ?? "[]") as ReportChangeRow[];
    },
    newestChanges: (p: ReportNetworkParams, straddled: boolean, limit: number) =>
      rows<ReportListedChangeRow>(
        `SELECT iso(c.started_at) AS at, c.seq AS rid, c.service, c.target, c.prev_status, c.prev_layer, c.status, c.layer, c.failure
         FROM measurements AS c WHERE c.changed AND c.started_at >= $2::timestamptz AND c.network = $1
         ${straddled ? `AND ${IN_PERIOD_RUN.replace("::integer", "")}` : ""}
         ORDER BY c.started_at DESC, c.seq DESC LIMIT ${straddled ? "$4" : "$3"}`,
        straddled ? [p.network, from(p.from), p.since, limit] : [p.network, from(p.from), limit],
      ),
    changeDetail: async (rid: number) =>
      (await rows<ReportChangeDetail>(
        `SELECT (c.evidence_json::jsonb ->> 0) AS evidence, iso(p.started_at) AS "previousAt", p.failure AS "previousFailure"
         FROM measurements AS c
         LEFT JOIN LATERAL (SELECT x.started_at, x.failure FROM measurements AS x
           WHERE x.network = c.network AND x.target = c.target AND (x.started_at, x.seq) < (c.started_at, c.seq)
           ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS p ON true
         WHERE c.seq = $1`,
        [rid],
      ))[0],
    databaseRunCount: async () => (await arrays<[number]>(`SELECT count(*)::integer FROM runs`, []))[0]?.[0] ?? 0,
    databaseNetworks: async () => (await arrays<[string]>(`SELECT DISTINCT network FROM runs`, [])).map((r) => r[0]),
  };
}

type Queries = ReturnType<typeof queries>;

/**
 * The per-run and per-change reads, many keys in one query: a report over a year asks for
 * hundreds of runs' rows and change details in one pass. Each returns the rows by key.
 */
function batchQueries(db: pg.ClientBase) {
  const byKey = async <R>(text: string, keys: number[], shape: (row: Record<string, unknown>) => R, many = false) => {
    const out = new Map<number, R | R[]>();
    if (many) for (const k of keys) out.set(k, []);
    for (const row of (await db.query(text, [keys])).rows as Array<Record<string, unknown>>) {
      const k = Number(row.k);
      if (many) (out.get(k) as R[]).push(shape(row));
      else out.set(k, shape(row));
    }
    return out;
  };
  return {
    run: (keys: number[]) =>
      byKey<ReportRunDetail>(`SELECT seq AS k, id, iso(started_at) AS started_at, iso(finished_at) AS finished_at, state, target_count FROM runs WHERE seq = ANY($1::bigint[])`, keys,
        ({ id, started_at, finished_at, state, target_count }) => ({ id, started_at, finished_at, state, target_count }) as ReportRunDetail),
    runLastMeasurement: (keys: number[]) =>
      byKey<string | null>(`SELECT r.seq AS k, iso(max(m.started_at)) AS t FROM runs AS r JOIN measurements AS m ON m.run_id = r.id WHERE r.seq = ANY($1::bigint[]) GROUP BY r.seq`, keys, (row) => row.t as string | null),
    // A run's measurements started while it ran: the bounds let PostgreSQL skip the months the
    // run does not reach (a finished run's finished_at is after its last measurement, store.ts).
    // One row per run, its measurements as one JSON array of [target, status, layer, failure]:
    // a week's 230,000 measurements as rows took a second to receive.
    runMeasurements: async (keys: number[]) => {
      const out = new Map<number, ReportRunMeasurementRow[]>(keys.map((k) => [k, []]));
      const r = await db.query({
        text: `SELECT r.seq, json_agg(json_build_array(m.target, m.status, m.layer, m.failure) ORDER BY m.seq)::text
               FROM runs AS r JOIN measurements AS m ON m.run_id = r.id
                 AND m.started_at >= r.started_at AND m.started_at <= COALESCE(r.finished_at, 'infinity')
               WHERE r.seq = ANY($1::bigint[]) GROUP BY r.seq`,
        values: [keys],
        rowMode: "array",
      });
      for (const [k, json] of r.rows as Array<[number, string]>) out.set(Number(k), JSON.parse(json) as ReportRunMeasurementRow[]);
      return out;
    },
    changeDetail: (keys: number[]) =>
      byKey<ReportChangeDetail>(
        `SELECT c.seq AS k, (c.evidence_json::jsonb ->> 0) AS evidence, iso(p.started_at) AS "previousAt", p.failure AS "previousFailure"
         FROM measurements AS c
         LEFT JOIN LATERAL (SELECT x.started_at, x.failure FROM measurements AS x
           WHERE x.network = c.network AND x.target = c.target AND (x.started_at, x.seq) < (c.started_at, c.seq)
           ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS p ON true
         WHERE c.seq = ANY($1::bigint[])`,
        keys, ({ evidence, previousAt, previousFailure }) => ({ evidence, previousAt, previousFailure }) as ReportChangeDetail),
  };
}

// What a batched read gives for a key the database has no row for.
const MISSING: Record<string, unknown> = { run: undefined, runLastMeasurement: null, runMeasurements: [], changeDetail: undefined };

// What a method returns before its rows are fetched: nothing, or for a run, a stand-in (the
// report takes a run it was told of to exist, and would stop at the first one it lacks).
const EMPTY: { [K in keyof Queries]: unknown } = {
  runs: { rowid: [], startedAt: [], finishedAt: [], completed: [], planned: [], network: [] } satisfies ReportRunColumns, run: { id: "", started_at: "", finished_at: null, state: "completed", target_count: null } satisfies ReportRunDetail, runBefore: undefined, runLastMeasurement: null, runMeasurements: [], endpoints: [], changes: [],
  newestChanges: [], changeDetail: undefined, databaseRunCount: 0, databaseNetworks: [],
};

/** How many runs' measurements a fetch splits between two sessions. */
const SPLIT_AT = 64;

/** Thrown to end a pass early: what it lacks is noted, and nothing it could compute on would stand. */
class NotYet extends Error {}

/** The runs and changes the report lists by default (report-data.ts, maxRuns and maxChanges). */
const LISTED = 500;

/**
 * Fetches ahead what the next pass will most likely ask for, from what was just fetched, so
 * that it need not be a pass of its own: once the runs are in, the database's run count and
 * networks, each network's run before the period and the details of the runs the report lists
 * (the newest, and each network's last);
 * once the networks' newest changes are in, the details of the newest of them all. A guess
 * that misses costs only the fetch: the passes still ask for whatever they lack.
 */
async function prefetch(db: pg.ClientBase, batch: ReturnType<typeof batchQueries>, cache: Map<string, unknown>, seen: Set<string>): Promise<void> {
  const runKeys = new Set<number>();
  const changeKeys: ReportListedChangeRow[] = [];
  for (const [key, value] of [...cache]) {
    if (seen.has(key)) continue;
    const name = key.slice(0, key.indexOf("\n"));
    if (name === "runs") {
      seen.add(key);
      const [filter] = JSON.parse(key.slice(name.length + 1)) as [RunFilter];
      const runs = value as ReportRunColumns;
      // What the report reads last: the database's runs, and its networks when the report has filters.
      const counted = `databaseRunCount\n[]`;
      if (!cache.has(counted)) cache.set(counted, (await db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM runs`)).rows[0]!.n);
      const named = `databaseNetworks\n[]`;
      if ((filter.since !== null || filter.network !== null) && !cache.has(named)) {
        cache.set(named, (await db.query<{ network: string }>(`SELECT DISTINCT network FROM runs`)).rows.map((r) => r.network));
      }
      const lastOf = new Map<string, number>();
      const n = runs.rowid.length;
      for (let i = 0; i < n; i++) lastOf.set(runs.network[i]!, runs.rowid[i]!);
      for (let i = Math.max(0, n - LISTED); i < n; i++) runKeys.add(runs.rowid[i]!);
      for (const k of lastOf.values()) runKeys.add(k);
      if (filter.since !== null && lastOf.size) {
        const before = await db.query<{ network: string; rowid: number | null; finished_at: string | null }>(
          `SELECT k.network, b.seq AS rowid, iso(b.finished_at) AS finished_at FROM unnest($2::text[]) AS k(network)
           LEFT JOIN LATERAL (SELECT r.seq, r.finished_at FROM runs AS r WHERE r.started_at < $1::timestamptz AND r.network = k.network
             ORDER BY r.started_at DESC, r.seq DESC LIMIT 1) AS b ON true`,
          [filter.since, [...lastOf.keys()]],
        );
        for (const row of before.rows) {
          cache.set(`runBefore\n${JSON.stringify([filter.since, row.network])}`, row.rowid === null ? undefined : { rowid: row.rowid, finished_at: row.finished_at });
        }
      }
    } else if (name === "newestChanges") {
      seen.add(key);
      changeKeys.push(...(value as ReportListedChangeRow[]));
    }
  }
  const runs = [...runKeys].filter((k) => !cache.has(`run\n[${k}]`));
  if (runs.length) {
    const found = await batch.run(runs);
    for (const k of runs) cache.set(`run\n[${k}]`, found.get(k));
  }
  if (changeKeys.length) {
    // The newest of all networks' newest changes, as the report lists them.
    changeKeys.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.rid - a.rid));
    const rids = changeKeys.slice(0, LISTED).map((c) => c.rid).filter((k) => !cache.has(`changeDetail\n[${k}]`));
    if (rids.length) {
      const found = await batch.changeDetail(rids);
      for (const k of rids) cache.set(`changeDetail\n[${k}]`, found.get(k));
    }
  }
}

/** From this many network-wide reads in a pass on, the second session takes half of them. */
const SPLIT_SINGLE_AT = 6;

/** How many runs' measurements one read ahead fetches. */
const AHEAD_RUNS = 64;

/** The most passes before giving up (the report's reads are a few steps deep). */
const MAX_PASSES = 24;

/**
 * Computes `compute(rows)` (the report: loadReport) over the fleet database, in passes (see
 * above). `runsRead` names the runs whose measurements `compute` will read, from the period's
 * runs (report-data.ts, runsReadAhead), so that they are read ahead with the runs' pass.
 */
export async function computeWithPgRows<T>(reader: PgReader, compute: (rows: ReportRows) => T, runsRead?: (runs: ReportRunColumns) => number[]): Promise<T> {
  const q = queries(reader.db);
  const batch = batchQueries(reader.db);
  const cache = new Map<string, unknown>();
  const seen = new Set<string>();
  await reader.snapshot();
  // The second session, opened when first needed, in this session's snapshot.
  let other: Promise<pg.Client> | null = null;
  const second = () =>
    (other ??= (async () => {
      const snapshot = (await reader.db.query<{ s: string }>("SELECT pg_export_snapshot() AS s")).rows[0]!.s;
      const c = await reader.connect!();
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      await c.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "")}'`);
      return c;
    })());
  try {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const misses = new Map<string, () => Promise<unknown>>();
      // Once a network-wide read is missing, the per-run and per-change reads of this pass are
      // guesses that will not be fetched (see below): they are answered empty and not noted,
      // which spares a pass over a year's runs 105,120 notes.
      let wideMissed = false;
      // Per-run reads the report said it will make whatever the network-wide rows say (willRead).
      const certain = new Set<string>();
      const answer = <K extends keyof Queries>(name: K, args: Parameters<Queries[K]>): Awaited<ReturnType<Queries[K]>> => {
        const perKey = Object.hasOwn(batch, name);
        if (perKey && wideMissed) return EMPTY[name] as Awaited<ReturnType<Queries[K]>>;
        // (a per-key read's one argument is a number: its key is what JSON.stringify would make, made faster)
        const key = perKey ? `${name}\n[${args[0] as number}]` : `${name}\n${JSON.stringify(args)}`;
        if (cache.has(key)) return cache.get(key) as Awaited<ReturnType<Queries[K]>>;
        if (!perKey) wideMissed = true;
        misses.set(key, () => (q[name] as (...a: unknown[]) => Promise<unknown>)(...args));
        return EMPTY[name] as Awaited<ReturnType<Queries[K]>>;
      };
      const rows: ReportRows = {
        snapshot: (read) => read(),
        runs: (f) => answer("runs", [f]),
        run: (rowid) => answer("run", [rowid]),
        runBefore: (since, network) => answer("runBefore", [since, network]),
        runLastMeasurement: (rowid) => answer("runLastMeasurement", [rowid]),
        runMeasurements: (rowid) => answer("runMeasurements", [rowid]),
        endpoints: (p) => answer("endpoints", [p]),
        changes: (p, straddled) => answer("changes", [p, straddled]),
        newestChanges: (p, straddled, limit) => answer("newestChanges", [p, straddled, limit]),
        changeDetail: (rid) => answer("changeDetail", [rid]),
        databaseRunCount: () => answer("databaseRunCount", []),
        databaseNetworks: () => answer("databaseNetworks", []),
        willRead: (reads) => {
          for (const { params, straddled, maxChanges, runsRead } of reads) {
            answer("endpoints", [params]);
            answer("changes", [params, straddled]);
            answer("newestChanges", [params, straddled, maxChanges]);
            // Read whatever the network-wide rows say: fetched with them, not on a guess.
            for (const rowid of runsRead) {
              const key = `runMeasurements\n[${rowid}]`;
              if (cache.has(key)) continue;
              certain.add(key);
              misses.set(key, () => q.runMeasurements(rowid));
            }
          }
          // Computing on without them would be a pass whose every later read is a guess, or (the
          // network-wide rows fetched ahead with the runs) one computed whole on empty runs.
          if (wideMissed || certain.size > 0) throw new NotYet();
        },
      };
      let result: T | undefined;
      const t0 = performance.now();
      try {
        result = compute(rows);
      } catch (err) {
        // A pass that lacked rows may fail on what it did not get; one that lacked nothing may not.
        if (misses.size === 0) throw err;
      }
      if (process.env.REACHPROBE_DEBUG_REPORT) {
        const by: Record<string, number> = {};
        for (const k of misses.keys()) by[k.split("\n")[0]!] = (by[k.split("\n")[0]!] ?? 0) + 1;
        process.stderr.write(`report pass ${pass}: computed in ${(performance.now() - t0).toFixed(0)} ms, asked for ${JSON.stringify(by)}\n`);
      }
      if (misses.size === 0) return result as T;
      // The per-run and per-change reads a pass asks for depend on the network-wide rows (a run
      // that the endpoints vouch for is not read row by row): while any network-wide row was
      // missing, they were asked for on a guess, and only the network-wide rows are fetched.
      const wide = [...misses].filter(([key]) => !Object.hasOwn(batch, key.split("\n")[0]!));
      const todo = wide.length > 0 ? [...wide, ...[...misses].filter(([key]) => certain.has(key))] : [...misses];
      const batched = new Map<keyof ReturnType<typeof batchQueries>, number[]>();
      const single: Array<[string, () => Promise<unknown>]> = [];
      for (const [key, fetch] of todo) {
        const [name, args] = key.split("\n") as [string, string];
        if (Object.hasOwn(batch, name)) {
          const list = batched.get(name as keyof ReturnType<typeof batchQueries>) ?? [];
          list.push((JSON.parse(args) as [number])[0]);
          batched.set(name as keyof ReturnType<typeof batchQueries>, list);
        } else single.push([key, fetch]);
      }
      const keep = (name: keyof ReturnType<typeof batchQueries>, keys: number[], found: Map<number, unknown>) => {
        for (const k of keys) cache.set(`${name}\n[${k}]`, found.has(k) ? found.get(k) : MISSING[name]);
      };
      // Many runs' measurements (a week of runs, a cell each): half of them read by a second
      // session in the same snapshot while this one reads the rest, the server working on both.
      const many = batched.get("runMeasurements");
      let aside: Promise<void> | null = null;
      if (many && many.length >= SPLIT_AT && reader.connect) {
        const half = many.splice(many.length >> 1);
        // A second session that cannot be had (max_connections reached) leaves the half to this one.
        aside = second().then(
          async (other) => keep("runMeasurements", half, await batchQueries(other).runMeasurements(half)),
          async () => keep("runMeasurements", half, await batch.runMeasurements(half)),
        );
        aside.catch(() => {}); // (awaited below; this keeps a failure from going unhandled meanwhile)
      }
      // The network-wide reads (three a network, a year's each a few milliseconds of the
      // server's time): half of them read by the second session too, in the same snapshot,
      // unless it has many runs' measurements to read already.
      let asideSingle: Promise<void> | null = null;
      if (!aside && single.length >= SPLIT_SINGLE_AT && reader.connect) {
        const half = single.splice(single.length >> 1);
        asideSingle = second().then(
          async (other) => {
            const q2 = queries(other) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
            for (const [key] of half) {
              const [name, args] = key.split("\n") as [string, string];
              cache.set(key, await q2[name]!(...(JSON.parse(args) as unknown[])));
            }
          },
          async () => {
            for (const [key, fetch] of half) cache.set(key, await fetch());
          },
        );
        asideSingle.catch(() => {}); // (awaited below)
      }
      // While the runs are read (the first pass), the second session reads what the next pass
      // will ask for (report-ahead.ts), and this one joins it once the runs are in.
      const runsKey = single.find(([key]) => key.startsWith("runs\n"))?.[0];
      let ahead: ReadQueue | null = null;
      let aheadOther: Promise<void> | null = null;
      if (runsKey !== undefined && pass === 0 && reader.connect) {
        const [filter] = JSON.parse(runsKey.slice("runs\n".length)) as [RunFilter];
        const queue = (ahead = new ReadQueue(2));
        // Without a second session (max_connections reached) the passes ask for these reads.
        aheadOther = second().then(
          async (c) => {
            try {
              queue.add((await guessNetworkReads(c, filter, LISTED)).map(([name, args]): AheadRead => async (db) => {
                const key = `${name}\n${JSON.stringify(args)}`;
                if (!cache.has(key)) cache.set(key, await (queries(db)[name] as (...a: unknown[]) => Promise<unknown>)(...args));
              }));
            } finally {
              queue.done();
            }
            await queue.take(c);
          },
          () => queue.done(),
        );
        aheadOther.catch(() => {}); // (awaited below)
      }
      try {
        for (const [key, fetch] of single) cache.set(key, await fetch());
        if (asideSingle) await asideSingle;
      } catch (err) {
        ahead?.done(); // (the second session stops waiting for the runs' reads)
        throw err;
      }
      if (ahead) {
        try {
          // The runs whose measurements the report will read (a timeline with a cell a run), in
          // slices that both sessions take.
          const rowids = runsRead?.(cache.get(runsKey!) as ReportRunColumns) ?? [];
          for (let i = 0; i < rowids.length; i += AHEAD_RUNS) {
            const keys = rowids.slice(i, i + AHEAD_RUNS);
            ahead.add([async (db) => keep("runMeasurements", keys, await batchQueries(db).runMeasurements(keys))]);
          }
        } finally {
          ahead.done();
        }
        // What the runs tell (prefetch) is fetched while the second session reads on.
        await prefetch(reader.db, batch, cache, seen);
        await ahead.take(reader.db);
        await aheadOther;
      }
      for (const [name, keys] of batched) keep(name, keys, await batch[name](keys));
      if (aside) await aside;
      await prefetch(reader.db, batch, cache, seen);
      if (process.env.REACHPROBE_DEBUG_REPORT) process.stderr.write(`report pass ${pass}: fetched in ${(performance.now() - t0).toFixed(0)} ms since the pass began\n`);
    }
    throw new Error(`the report needed more than ${MAX_PASSES} rounds of queries`);
  } finally {
    if (other) await other.then((c) => c.end(), () => {}).catch(() => {});
    await reader.db.query("ROLLBACK").catch(() => {});
  }
}
