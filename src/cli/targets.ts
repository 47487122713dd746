/**
 * `reachprobe targets`: what can be measured. `targets` lists the bundled lists with their
 * services; `targets show NAME` prints a list's endpoints grouped by service, each with its
 * role and source; `targets show --file PATH [--category CODE]` does the same for a file
 * (JSON, text or a Citizen Lab CSV), so a user sees what `run --file` would probe.
 */
import { plural } from "../base/plural.js";
import { Command } from "commander";
import { TargetError } from "../targets/errors.js";
import {
  listBundled,
  loadBundledListDetails,
  loadTargetFileDetails,
  type BundledListInfo,
  type ListEndpoint,
  type TargetListDetails,
  sourceKey,
} from "../targets/load.js";
import { parseCategoryCodes } from "../targets/citizenlab.js";
import { EXIT } from "./exit-codes.js";
import { parseCategoryFlag } from "./options.js";
import { UsageError } from "../base/errors.js";
import { paintFor, useColor, type Paint } from "./style.js";

interface ShowFlags {
  file?: string[];
  category?: string[];
  json?: boolean;
}

/** Builds the `targets` command and its `list` (default) and `show` subcommands. */
export function targetsCommand(): Command {
  const cmd = new Command("targets").description("list the bundled target lists, or show the endpoints of one (targets show NAME)");
  cmd.addCommand(
    new Command("list")
      .description("list the bundled target lists: name, endpoints, services, description (the default)")
      .argument("[name]", "(none: to see one list, use: reachprobe targets show NAME)")
      .option("--json", "print one JSON document on stdout")
      .action(async (name: string | undefined, flags: { json?: boolean }) => {
        process.exitCode = name === undefined ? await listMain(flags) : usage(`to see the list "${name}", run: reachprobe targets show ${name}`);
      })
      .exitOverride(),
    { isDefault: true },
  );
  cmd.addCommand(
    new Command("show")
      .description("print a list's endpoints grouped by service, with the role and source of each")
      .argument("[name]", "a bundled list (see: reachprobe targets)")
      .option("--file <path>", "a target file instead: JSON, text, or a Citizen Lab test-list CSV; repeatable", (v: string, p: string[] | undefined) => [...(p ?? []), v])
      .option("--category <codes>", "with a Citizen Lab CSV: keep only these category codes (e.g. NEWS,HUMR); repeatable", parseCategoryFlag)
      .option("--json", "print one JSON document on stdout")
      .addHelpText("after", "\nExamples:\n  reachprobe targets show telegram\n  reachprobe targets show --file ru.csv --category NEWS --json")
      .action(async (name: string | undefined, flags: ShowFlags) => {
        process.exitCode = await showMain(name, flags);
      })
      .exitOverride(),
  );
  return cmd;
}

async function listMain(flags: { json?: boolean }): Promise<number> {
  let lists: BundledListInfo[];
  try {
    lists = await listBundled();
  } catch (err) {
    return fail(err);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ lists }, null, 2)}\n`);
    return EXIT.OK;
  }
  const p = paintFor(useColor(process.stdout));
  const lines: string[] = [];
  for (const l of lists) {
    if (l.services.length === 1) {
      lines.push(`${p.bold(l.name)}  ${plural(l.endpoints, "endpoint")}: ${l.services[0]}`);
    } else {
      const what = l.include.length > 0 ? `, includes ${l.include.join(", ")}` : "";
      lines.push(`${p.bold(l.name)}  ${plural(l.endpoints, "endpoint")}, ${plural(l.services.length, "service")}${what}`);
      lines.push(`  services: ${l.services.join(", ")}`);
    }
    if (l.description !== "") lines.push(`  ${l.description}`);
    lines.push("");
  }
  lines.push(p.gray("Show one with: reachprobe targets show NAME"));
  process.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.OK;
}

async function showMain(name: string | undefined, flags: ShowFlags): Promise<number> {
  const files = flags.file ?? [];
  if (name !== undefined && files.length > 0) return usage("give a list NAME or --file PATH, not both");
  if (flags.category !== undefined && files.length === 0) return usage("--category filters Citizen Lab CSV files: use it with --file PATH");
  if (name === undefined && files.length === 0) return usage("which list? give a NAME (see: reachprobe targets) or --file PATH");
  let lists: Array<{ label: string; list: TargetListDetails }>;
  try {
    lists =
      name !== undefined
        ? [{ label: name, list: await loadBundledListDetails(name) }]
        : await Promise.all(
            files.map(async (f) => ({ label: f, list: await loadTargetFileDetails(f, flags.category ? { categories: flags.category } : {}) })),
          );
  } catch (err) {
    return fail(err);
  }
  if (flags.json) {
    const docs = lists.map(({ label, list }) => showJson(label, list));
    process.stdout.write(`${JSON.stringify(docs.length === 1 ? docs[0] : { lists: docs }, null, 2)}\n`);
    return EXIT.OK;
  }
  const p = paintFor(useColor(process.stdout));
  process.stdout.write(`${lists.map(({ label, list }) => showHuman(label, list, p)).join("\n\n")}\n`);
  return EXIT.OK;
}

/** Endpoints grouped by service, services in order of first appearance. */
function byService(endpoints: readonly ListEndpoint[]): Map<string, ListEndpoint[]> {
  const groups = new Map<string, ListEndpoint[]>();
  for (const e of endpoints) {
    const g = groups.get(e.target.service);
    if (g) g.push(e);
    else groups.set(e.target.service, [e]);
  }
  return groups;
}

function showJson(label: string, list: TargetListDetails): unknown {
  return {
    name: list.name ?? label,
    description: list.description ?? "",
    canary: list.canary?.input ?? null,
    include: list.include,
    endpoints: list.endpoints.length,
    services: [...byService(list.endpoints)].map(([service, endpoints]) => ({
      service,
      endpoints: endpoints.map((e) => ({ target: e.target.input, role: e.role ?? null, source: e.source ?? null })),
    })),
    sources: list.sources,
  };
}

function showHuman(label: string, list: TargetListDetails, p: Paint): string {
  const groups = byService(list.endpoints);
  const out: string[] = [];
  out.push(`${p.bold(list.name ?? label)}: ${plural(list.endpoints.length, "endpoint")}, ${plural(groups.size, "service")}`);
  if (list.description) out.push(list.description);
  if (list.include.length > 0) out.push(`includes: ${list.include.join(", ")}`);
  if (list.canary) out.push(`canary: ${list.canary.input}`);
  const sourceNumber = new Map<string, number>(list.sources.map((s, i) => [sourceKey(s), i + 1]));
  const width = Math.min(48, Math.max(...list.endpoints.map((e) => e.target.input.length)));
  for (const [service, endpoints] of groups) {
    out.push("", `${p.bold(service)} (${endpoints.length})`);
    for (const e of endpoints) {
      const cite = e.source === undefined ? "" : "url" in e.source ? `[${sourceNumber.get(sourceKey(e.source)) ?? "?"}]` : `(${e.source.note})`;
      const target = e.target.input.padEnd(width);
      out.push(`  ${target}  ${[e.role ?? "", p.gray(cite)].filter((x) => x !== "").join("  ")}`.trimEnd());
    }
  }
  if (list.sources.length > 0) {
    out.push("", p.bold("Sources"));
    list.sources.forEach((s, i) => {
      out.push(`  [${i + 1}] ${s.title}`, `      ${s.url}`);
      if (s.note) out.push(`      ${s.note}`);
    });
  }
  return out.join("\n");
}

function usage(message: string): number {
  process.stderr.write(`reachprobe: ${message}\n`);
  return EXIT.USAGE;
}

/** Input errors (unknown list, bad file) exit 2; anything else is a crash for main.ts. */
function fail(err: unknown): number {
  if (err instanceof TargetError || err instanceof UsageError) return usage(err.message);
  throw err;
}
