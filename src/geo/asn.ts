/**
 * ASN and country lookups in a MaxMind-format database (GeoLite2-ASN, GeoLite2-Country or
 * -City, DB-IP's, IPinfo's MMDB): the probe's network is recorded as an ASN and a country,
 * never as the address they came from.
 */
import { UsageError } from "../base/errors.js";
import { readFileSync } from "node:fs";
import { Reader } from "mmdb-lib";

/** What a database knows of one address. */
export interface AsnInfo {
  asn: number | null;
  org: string | null;
  cc: string | null;
}

/** A loaded database; `lookup` is pure and cheap (usable inside the analysis). */
export interface AsnDb {
  path: string;
  type: string;
  lookup(ip: string): AsnInfo;
}

interface MmdbRecord {
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
  asn?: string | number;
  as_name?: string;
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  country_code?: string;
}

/** Opens a database; errors name the file. */
export function openAsnDb(path: string): AsnDb {
  let reader: Reader<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- mmdb-lib types only its own record shapes
  try {
    reader = new Reader(readFileSync(path));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(e.code === "ENOENT" ? `--asn-db ${path}: no such file` : `--asn-db ${path}: not a MaxMind database (${e.message})`);
  }
  return {
    path,
    type: reader.metadata.databaseType,
    lookup(ip: string): AsnInfo {
      let r: MmdbRecord | null = null;
      try {
        r = reader.get(ip) as MmdbRecord | null;
      } catch {
        r = null;
      }
      if (!r) return { asn: null, org: null, cc: null };
      // MaxMind says autonomous_system_number; IPinfo's free files say asn: "AS13335".
      const raw = r.autonomous_system_number ?? r.asn;
      const asn = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.replace(/^AS/i, "")) || null : null;
      const cc = r.country?.iso_code ?? r.registered_country?.iso_code ?? r.country_code ?? null;
      return { asn, org: r.autonomous_system_organization ?? r.as_name ?? null, cc };
    },
  };
}
