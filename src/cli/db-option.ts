/** The `--db` option every command shares: its environment variable and its default, said in --help. */
import { Option } from "commander";
import { defaultDbPath } from "../store/db-path.js";

/** `--db <path>` described as `what` for this command, with $REACHPROBE_DB and the default database. */
export function dbOption(what: string): Option {
  return new Option("--db <path>", `${what}; default: data/reachprobe.db in a reachprobe checkout, else $XDG_DATA_HOME/reachprobe/reachprobe.db (~/.local/share/reachprobe/reachprobe.db)`)
    .env("REACHPROBE_DB")
    .default(defaultDbPath());
}

/** The `--create-dirs` option of the commands that write a database. */
export function createDirsOption(): Option {
  return new Option("--create-dirs", "create the directory of --db when it is missing (the default database's is always created)");
}
