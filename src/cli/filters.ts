/** The `--service` and `--network` filters of the reading commands, resolved against the database's names. */
import type Database from "better-sqlite3";
import { listNetworkKeys, listServices } from "../store/names.js";
import { networkFromInput, networkName } from "../store/network.js";
import { matchName } from "./name-match.js";

/** The stored service that `--service VALUE` means (case ignored); a UsageError with suggestions otherwise. */
export function resolveService(db: Database.Database, typed: string): string {
  return matchName("--service", typed.trim(), listServices(db), "service");
}

/** The network key that `--network VALUE` means (case ignored, "(unlabelled)" for none); a UsageError with suggestions otherwise. */
export function resolveNetwork(db: Database.Database, typed: string): string {
  return matchName("--network", networkFromInput(typed), listNetworkKeys(db), "network", networkName);
}
