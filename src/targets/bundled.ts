/** The lists bundled in `targets/`: loading one by name, and the summary `reachprobe targets` prints. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BUNDLED_DIR, bundledListNamesSync } from "./bundled-dir.js";
import { TargetError } from "./errors.js";
import { parseJsonList } from "./json-list.js";
import { plain, type BundledListInfo, type TargetList, type TargetListDetails } from "./target-list.js";

/** Names of the bundled lists, sorted. */
export async function bundledListNames(): Promise<string[]> {
  return bundledListNamesSync();
}

/** Loads the bundled list `name` (`targets/<name>.json`); each target's origin is `list:<name>`. */
export async function loadBundledList(name: string): Promise<TargetList> {
  return plain(await loadBundledListDetails(name));
}

/** Like loadBundledList, keeping each endpoint's role and source, and the list's sources. */
export async function loadBundledListDetails(name: string): Promise<TargetListDetails> {
  const names = await bundledListNames();
  if (!names.includes(name)) {
    throw new TargetError(`unknown list ${JSON.stringify(name)} (available: ${names.join(", ") || "none"})`);
  }
  const text = await readFile(join(BUNDLED_DIR, `${name}.json`), "utf8");
  const list = parseJsonList(text.replace(/^\uFEFF/, ""), `targets/${name}.json`, [name]);
  const origin = `list:${name}`;
  const targets = list.targets.map((t) => ({ ...t, origin }));
  return {
    ...list,
    name: list.name ?? name,
    targets,
    endpoints: list.endpoints.map((e, i) => ({ ...e, target: targets[i] ?? e.target })),
    ...(list.canary === undefined ? {} : { canary: { ...list.canary, origin } }),
  };
}

/** Name, description, services and endpoint count of every bundled list. */
export async function listBundled(): Promise<BundledListInfo[]> {
  const out: BundledListInfo[] = [];
  for (const name of await bundledListNames()) {
    const list = await loadBundledListDetails(name);
    const services = [...new Set(list.targets.map((t) => t.service))].sort();
    out.push({ name, description: list.description ?? "", services, endpoints: list.targets.length, include: list.include });
  }
  return out;
}
