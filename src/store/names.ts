/** The names a filter can match: the services and networks the database holds. */
import type Database from "better-sqlite3";
import { listNetworks } from "./network.js";

/** Every service measured, sorted (read through measurements_service_started_at). */
export function listServices(db: Database.Database): string[] {
  return db.prepare<[], { service: string }>(`SELECT DISTINCT service FROM measurements ORDER BY service`).all().map((r) => r.service);
}

/** Every network key measured from, sorted ("" for unlabelled). */
export function listNetworkKeys(db: Database.Database): string[] {
  return listNetworks(db).map((n) => n.network);
}
