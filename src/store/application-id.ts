/**
 * `PRAGMA application_id`: the four bytes at offset 68 of an SQLite file that say which program
 * it belongs to (docs/database.md, "Whose file it is"). reachprobe writes its own on every database
 * it creates, and refuses a file that another program's id, or another program's tables, mark
 * as not ours: `run --db other-app.sqlite` must not add our tables to someone else's database.
 */
import type Database from "better-sqlite3";
import { StoreError } from "./errors.js";

/** reachprobe's application_id: "RPRB" in ASCII. */
export const APPLICATION_ID = 0x52505242;

/** What a file is to us. */
export type Ownership = "ours" | "new" | "adoptable";

/**
 * Whether `db` (the file `file`) is a reachprobe database: `ours` (our id), `new` (empty: no
 * tables, no id, user_version 0), `adoptable` (no id, but our runs and measurements tables: a
 * file made before the id was written). Anything else throws StoreError E_FOREIGN_DB naming the file.
 */
export function ownership(db: Database.Database, file: string): Ownership {
  const id = db.pragma("application_id", { simple: true }) as number;
  if (id === APPLICATION_ID) return "ours";
  if (id !== 0) {
    const hex = `0x${(id >>> 0).toString(16).padStart(8, "0")}`;
    throw new StoreError("E_FOREIGN_DB", `${file} is not a reachprobe database: it belongs to another application (its application_id is ${hex}, reachprobe's is 0x${APPLICATION_ID.toString(16)}); it was not changed. Name another file with --db.`, { file });
  }
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  if (tables.length === 0) return "new";
  if (tables.includes("runs") && tables.includes("measurements")) return "adoptable";
  const shown = tables.slice(0, 5).join(", ") + (tables.length > 5 ? ", ..." : "");
  throw new StoreError("E_FOREIGN_DB", `${file} is not a reachprobe database: it holds another application's tables (${shown}) and none of reachprobe's; it was not changed. Name another file with --db.`, { file });
}
