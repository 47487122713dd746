/**
 * Per-probe bearer tokens (docs/fleet.md, "Tokens"): `reachprobe collector token add NAME`
 * makes one and prints it once; only its SHA-256 is stored. A token names its probe, and the
 * probe of every row a collector writes is the token's.
 */
import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";

/** The prefix of every token, so that one found in a file or a log is recognised. */
export const TOKEN_PREFIX = "rpt_";

/** The stored form of a token. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new token: the prefix and 32 random bytes, base64url. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Adds a token for probe `name` (creating the probe), valid until `expiresAt` (null: until revoked); returns the token. */
export async function addToken(db: pg.ClientBase, name: string, expiresAt: Date | null): Promise<string> {
  const token = newToken();
  await db.query("BEGIN");
  try {
    await db.query(`INSERT INTO probes (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
    await db.query(
      `INSERT INTO tokens (probe_id, sha256, expires_at) SELECT id, $2, $3 FROM probes WHERE name = $1`,
      [name, tokenHash(token), expiresAt],
    );
    await db.query("COMMIT");
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  }
  return token;
}

/** Revokes every live token of probe `name`; returns how many. */
export async function revokeTokens(db: pg.ClientBase, name: string): Promise<number> {
  const r = await db.query(
    `UPDATE tokens SET revoked_at = now() FROM probes
     WHERE probes.id = tokens.probe_id AND probes.name = $1 AND tokens.revoked_at IS NULL`,
    [name],
  );
  return r.rowCount ?? 0;
}

/** One probe's tokens as `token list` shows them. */
export interface TokenInfo {
  probe: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Every token, by probe name then age (never the tokens themselves: they are not stored). */
export async function listTokens(db: pg.ClientBase): Promise<TokenInfo[]> {
  const r = await db.query<TokenInfo>(
    `SELECT p.name AS probe, iso(t.created_at) AS "createdAt", iso(t.expires_at) AS "expiresAt", iso(t.revoked_at) AS "revokedAt"
     FROM tokens AS t JOIN probes AS p ON p.id = t.probe_id ORDER BY p.name, t.created_at`,
  );
  return r.rows;
}

/** Who a token belongs to, or why it is refused. */
export type TokenCheck = { ok: true; probeId: number; probe: string } | { ok: false; reason: "unknown" | "revoked" | "expired" };

/** Looks a presented token up by its hash. */
export async function checkToken(db: pg.Pool | pg.ClientBase, token: string): Promise<TokenCheck> {
  const r = await db.query<{ probe_id: number; name: string; revoked: boolean; expired: boolean }>(
    `SELECT t.probe_id, p.name, t.revoked_at IS NOT NULL AS revoked, (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired
     FROM tokens AS t JOIN probes AS p ON p.id = t.probe_id WHERE t.sha256 = $1`,
    [tokenHash(token)],
  );
  const row = r.rows[0];
  if (!row) return { ok: false, reason: "unknown" };
  if (row.revoked) return { ok: false, reason: "revoked" };
  if (row.expired) return { ok: false, reason: "expired" };
  return { ok: true, probeId: row.probe_id, probe: row.name };
}
