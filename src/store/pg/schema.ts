/**
 * The PostgreSQL schema of the fleet database (docs/fleet.md): the SQLite tables and columns
 * (schema.ts) plus the probe that sent each row, measurements partitioned by month, and the
 * views latest_status and status_changes with the SQLite views' meaning. Versioned like the
 * SQLite migrations: forward-only, one transaction each, the version in schema_migrations.
 */
import type pg from "pg";
import { StoreError } from "../errors.js";
import { SPAN_COLUMNS, SPANS_TABLE_SQL, spansFromMeasurementsSql } from "./spans.js";

// The network key of a run (network.ts, networkKeySql), over a runs row. btrim(x, ' '): SQLite's
// TRIM() removes spaces only.
const NETWORK_KEY = `COALESCE(NULLIF(btrim(network_label, ' '), ''), 'AS' || probe_asn::text, '')`;

// Times are timestamptz (Grafana and every analyst's tool read them as times); the reading
// commands print them with iso(), which gives back exactly the text SQLite stores
// (Date.prototype.toISOString(): milliseconds and a Z).
const V1 = `
CREATE FUNCTION iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

CREATE TABLE probes (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens: only their SHA-256 is kept; a token is good until revoked_at or expires_at.
CREATE TABLE tokens (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  probe_id   bigint NOT NULL REFERENCES probes (id),
  sha256     text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

-- seq orders runs that share a started_at, as SQLite's rowid does, and names them in the report.
CREATE TABLE runs (
  seq                bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                 text PRIMARY KEY,
  probe_id           bigint NOT NULL REFERENCES probes (id),
  started_at         timestamptz NOT NULL,
  finished_at        timestamptz,
  state              text NOT NULL CHECK (state IN ('running', 'completed', 'interrupted', 'failed')),
  reachprobe_version text,
  pid                integer,
  hostname_hash      text,
  network_label      text,
  probe_asn          bigint,
  probe_cc           text,
  options_json       text,
  target_count       integer,
  summary_json       text,
  canary_json        text,
  network            text GENERATED ALWAYS AS (${NETWORK_KEY}) STORED
);
CREATE INDEX runs_started_at ON runs (started_at);
CREATE INDEX runs_network_started_at ON runs (network, started_at);

CREATE TABLE blobs (
  sha256      text PRIMARY KEY,
  size        integer NOT NULL,
  compression text NOT NULL CHECK (compression IN ('none', 'zlib')),
  data        bytea NOT NULL
);

-- Every measurement id once, whatever its month: measurements' own key must hold the
-- partition column, so this table is what makes an id unique and says whose it is.
CREATE TABLE measurement_ids (
  id       text PRIMARY KEY,
  probe_id bigint NOT NULL REFERENCES probes (id)
);

CREATE SEQUENCE measurements_seq;

-- seq orders measurements that share a started_at as SQLite's rowid does: by arrival.
-- network, prev_status, prev_layer and changed are derived as in SQLite (schema.ts); the
-- collector keeps them right (src/store/pg/relink.ts) when rows arrive late or out of order.
CREATE TABLE measurements (
  seq               bigint NOT NULL DEFAULT nextval('measurements_seq'),
  probe_id          bigint NOT NULL,
  id                text NOT NULL,
  run_id            text NOT NULL REFERENCES runs (id),
  network           text NOT NULL,
  target            text NOT NULL,
  service           text NOT NULL,
  status            text NOT NULL CHECK (status IN ('ok', 'blocked', 'anomaly', 'down', 'inconclusive')),
  layer             text CHECK (layer IS NULL OR layer IN ('dns', 'tcp', 'tls', 'http')),
  failure           text,
  prev_status       text,
  prev_layer        text,
  changed           boolean,
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL,
  duration_ms       integer NOT NULL,
  evidence_json     text NOT NULL,
  observations_json text NOT NULL,
  control_json      text,
  PRIMARY KEY (id, started_at)
) PARTITION BY RANGE (started_at);
ALTER SEQUENCE measurements_seq OWNED BY measurements.seq;

CREATE INDEX measurements_network_target_started_at ON measurements (network, target, started_at, seq);
-- Covering what the report reads of a run's measurements, so that reading them touches no row.
CREATE INDEX measurements_run_id ON measurements (run_id, seq) INCLUDE (started_at, target, status, layer, failure);
CREATE INDEX measurements_by_seq ON measurements (seq);
CREATE INDEX measurements_service_started_at ON measurements (service, started_at);
CREATE INDEX measurements_span_starts ON measurements (network, target, started_at, seq) INCLUDE (status, layer)
  WHERE changed IS DISTINCT FROM false;
CREATE INDEX measurements_firsts ON measurements (network, target) WHERE changed IS NULL;
CREATE INDEX measurements_changes ON measurements (started_at, network, target)
  INCLUDE (service, prev_status, prev_layer, status, layer, failure, run_id, id, seq) WHERE changed;

-- The latest measurement of each target on each network.
CREATE VIEW latest_status AS
SELECT f.network, f.target, l.service, l.status, l.layer, l.failure,
       l.started_at AS measured_at, l.run_id, l.id AS measurement_id, l.probe_id,
       (SELECT s.started_at FROM measurements AS s
        WHERE s.network = f.network AND s.target = f.target AND s.changed IS DISTINCT FROM false
        ORDER BY s.started_at DESC, s.seq DESC LIMIT 1) AS status_since
FROM measurements AS f
CROSS JOIN LATERAL (
  SELECT x.service, x.status, x.layer, x.failure, x.started_at, x.run_id, x.id, x.probe_id FROM measurements AS x
  WHERE x.network = f.network AND x.target = f.target
  ORDER BY x.started_at DESC, x.seq DESC LIMIT 1) AS l
WHERE f.changed IS NULL;

-- Every measurement whose status or layer differs from the one before it (same target, same network).
CREATE VIEW status_changes AS
SELECT m.network, m.target, m.service,
       m.prev_status AS previous_status, m.prev_layer AS previous_layer,
       m.status, m.layer, m.failure,
       m.started_at AS changed_at, m.run_id, m.id AS measurement_id, m.probe_id,
       p.started_at AS previous_at, p.run_id AS previous_run_id
FROM measurements AS m
LEFT JOIN LATERAL (
  SELECT q.started_at, q.run_id FROM measurements AS q
  WHERE q.network = m.network AND q.target = m.target AND (q.started_at, q.seq) < (m.started_at, m.seq)
  ORDER BY q.started_at DESC, q.seq DESC LIMIT 1) AS p ON true
WHERE m.changed;
`;

// show finds runs and measurements by the start of their id, compared byte by byte as SQLite
// compares them (runs.ts, findById): indexes in the "C" collation, whatever the database's.
const V2 = `
CREATE INDEX runs_id_bytes ON runs ((id COLLATE "C"));
CREATE INDEX measurement_ids_bytes ON measurement_ids ((id COLLATE "C"));
`;

// The spans of equal status and layer of each (network, target), kept per batch by the
// collector (spans.ts), so that history and changes read a row per span instead of counting
// and looking up measurements; filled here from the measurements already stored.
const V3 = `
${SPANS_TABLE_SQL}
INSERT INTO spans (${SPAN_COLUMNS.join(", ")}) ${spansFromMeasurementsSql()};
ANALYZE spans;
`;

// The changes of one network by time, for the report's reads of each network (report-rows.ts):
// measurements_changes leads with the time, so a network's year of changes was a scan of every
// network's (52,000 entries read for 4,300, twelve times over).
const V4 = `
CREATE INDEX measurements_network_changes ON measurements (network, started_at)
  INCLUDE (target, service, prev_status, prev_layer, status, layer, failure, run_id, seq) WHERE changed;
`;

/** Every migration in order; MIGRATIONS[n - 1] brings version n - 1 to n. Append only. */
export const PG_MIGRATIONS: readonly string[] = [V1, V2, V3, V4];

/** The schema version this code writes and reads. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

// One number for the advisory lock that serializes migrations across collectors.
const MIGRATION_LOCK = 7_014_001;

/** The schema version of the database (0 when reachprobe never migrated it). */
export async function pgSchemaVersion(db: pg.ClientBase): Promise<number> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (exists.rows[0]?.t == null) return 0;
  const r = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM schema_migrations`);
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings the database to PG_SCHEMA_VERSION, one transaction per migration under an advisory
 * lock (two collectors starting at once migrate once), and refuses a newer one (E_SCHEMA_NEWER).
 */
export async function migratePg(db: pg.ClientBase, where: string): Promise<void> {
  await db.query(`SELECT pg_advisory_lock($1)`, [MIGRATION_LOCK]);
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const found = await pgSchemaVersion(db);
    if (found > PG_SCHEMA_VERSION) {
      throw new StoreError("E_SCHEMA_NEWER", `${where} has schema version ${found}, but this reachprobe only knows versions up to ${PG_SCHEMA_VERSION}; upgrade reachprobe to use it (nothing was changed).`);
    }
    for (let v = found + 1; v <= PG_SCHEMA_VERSION; v++) {
      await db.query("BEGIN");
      try {
        await db.query(PG_MIGRATIONS[v - 1]!);
        await db.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [v]);
        await db.query("COMMIT");
      } catch (err) {
        await db.query("ROLLBACK");
        throw new StoreError("E_MIGRATION", `could not upgrade ${where} from schema version ${v - 1} to ${v}: ${(err as Error).message}; it was left at version ${v - 1}.`, { cause: err });
      }
    }
  } finally {
    await db.query(`SELECT pg_advisory_unlock($1)`, [MIGRATION_LOCK]);
  }
}

/** The name of the month partition holding `month` ("2026-05"). */
export function partitionName(month: string): string {
  return `measurements_${month.replace("-", "_")}`;
}

// Partitions known to exist, per database (its URL), in this process.
const madePartitions = new Map<string, Set<string>>();

/**
 * Creates the month partitions for these months ("2026-05") unless they exist, each in its
 * own short transaction under an advisory lock, before a batch's transaction needs them.
 */
export async function ensurePartitions(db: pg.ClientBase, database: string, months: Iterable<string>): Promise<void> {
  let made = madePartitions.get(database);
  if (!made) madePartitions.set(database, (made = new Set()));
  for (const month of new Set(months)) {
    if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`not a month: ${month}`);
    if (made.has(month)) continue;
    const [y, m] = month.split("-").map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
    await db.query("BEGIN");
    try {
      await db.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK + 1]);
      await db.query(`CREATE TABLE IF NOT EXISTS ${partitionName(month)} PARTITION OF measurements
        FOR VALUES FROM ('${month}-01 00:00:00+00') TO ('${next}-01 00:00:00+00')`);
      await db.query("COMMIT");
    } catch (err) {
      await db.query("ROLLBACK");
      throw err;
    }
    made.add(month);
  }
}
