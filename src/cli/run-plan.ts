/** The targets of a run, from its arguments, files and bundled list, and its canary. */
import { UsageError } from "../base/errors.js";
import { DEFAULT_CANARY } from "../config/defaults.js";
import { loadBundledList, loadTargetFiles } from "../targets/load.js";
import { parseTarget } from "../targets/parse.js";
import type { Target } from "../targets/target.js";
import type { RunFlags } from "./run-options.js";

/** What a run will probe: the targets (duplicates dropped), the canary, and the bundled list used, if any. */
export interface Plan {
  targets: Target[];
  canary: Target | null;
  /** Where the canary comes from: `--canary` (or the config file), a list, or the built-in default. */
  canarySource: "flag" | "list" | "default" | null;
  listName: string | null;
}

/** Builds the plan from the command line, --file and --list; a UsageError (or TargetError) names what is wrong. */
export async function planTargets(args: string[], flags: RunFlags): Promise<Plan> {
  const targets: Target[] = [];
  let canary: Target | null = null;
  let listName: string | null = null;
  args.forEach((a, i) => targets.push(parseTarget(a, "(command line)", `argument ${i + 1}`)));
  if (flags.category?.length && !flags.file?.length) throw new UsageError("--category filters Citizen Lab CSV files: give one with --file");
  // Loops, not push(...list): a spread of a million targets overflows the stack.
  if (flags.file?.length) {
    const files = await loadTargetFiles(flags.file, flags.category?.length ? { categories: flags.category } : {});
    for (const t of files.targets) targets.push(t);
    canary = files.canary ?? null;
  }
  if (flags.list || (targets.length === 0 && !flags.file?.length)) {
    listName = flags.list ?? "wechat";
    const list = await loadBundledList(listName);
    for (const t of list.targets) targets.push(t);
    canary = list.canary ?? canary;
  }
  let canarySource: Plan["canarySource"] = canary ? "list" : null;
  // Targets with no list canary (the command line, text files) get the default one, as a
  // bundled list's targets get the list's: without it an offline machine looks censored.
  if (canary === null) [canary, canarySource] = [parseTarget(DEFAULT_CANARY, "(default canary)", "default"), "default"];
  if (typeof flags.canary === "string") [canary, canarySource] = [parseTarget(flags.canary, "(canary)", "--canary"), "flag"];
  if (flags.canary === false) [canary, canarySource] = [null, null];
  const seen = new Set<string>();
  const unique = targets.filter((t) => !seen.has(t.input) && seen.add(t.input));
  if (unique.length === 0) throw new UsageError("no targets to probe");
  return { targets: unique, canary, canarySource, listName };
}
