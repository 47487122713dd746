/** The `--service` and `--network` filters of the reading commands, resolved against the database's names. */
import type Database from "better-sqlite3";
import { listNetworkKeys, listServices } from "../store/names.js";
import { networkFromInput, networkName } from "../store/network.js";
import { matchName } from "./name-match.js";
import type { ReadSource } from "./read-source.js";

/** The stored service that `--service VALUE` means (case ignored); a UsageError with suggestions otherwise. */
export function resolveService(db: Database.Database, typed: string): string {
  return serviceIn(listServices(db), typed);
}

/** The network key that `--network VALUE` means (case ignored, "(unlabelled)" for none); a UsageError with suggestions otherwise. */
export function resolveNetwork(db: Database.Database, typed: string): string {
  return networkIn(listNetworkKeys(db), typed);
}

/** resolveService against a read source's services (an SQLite file or a fleet database). */
export async function resolveSourceService(source: ReadSource, typed: string): Promise<string> {
  return serviceIn(await source.listServices(), typed);
}

/** resolveNetwork against a read source's networks (an SQLite file or a fleet database). */
export async function resolveSourceNetwork(source: ReadSource, typed: string): Promise<string> {
  return networkIn((await source.listNetworks()).map((n) => n.network), typed);
}

function serviceIn(services: readonly string[], typed: string): string {
  return matchName("--service", typed.trim(), services, "service");
}

/** The network key that `typed` means among `keys` (resolveNetwork's rule). */
export function networkIn(keys: readonly string[], typed: string): string {
  return matchName("--network", networkFromInput(typed), keys, "network", networkName);
}
