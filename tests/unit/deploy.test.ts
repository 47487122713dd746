/**
 * The control helper's deployment files (deploy/) start what they say: the systemd unit's
 * ExecStart and the container's ENTRYPOINT + CMD name the real launcher and `control` options
 * that `reachprobe control --help` lists, and those exact options start a helper (on a loopback
 * port here) that answers its health check and stops cleanly on SIGTERM. No docker or systemd
 * needed: the files are read as text.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");
/** Where the files install reachprobe: the repository stands in for it. */
const INSTALL = "/opt/reachprobe/";

/** The unit's ExecStart, split into words (it has no quoting). */
function execStart(): string[] {
  const line = /^ExecStart=(.*)$/m.exec(read("deploy/reachprobe-control.service"));
  expect(line, "the unit has an ExecStart").not.toBeNull();
  return line![1]!.trim().split(/\s+/);
}

/** The container's ENTRYPOINT followed by its CMD (exec form: JSON arrays). */
function entrypoint(): string[] {
  const text = read("deploy/Containerfile");
  const json = (key: string) => JSON.parse(new RegExp(`^${key} (\\[.*\\])$`, "m").exec(text)?.[1] ?? "null") as string[] | null;
  const entry = json("ENTRYPOINT");
  const cmd = json("CMD");
  expect(entry && cmd, "the Containerfile has an exec-form ENTRYPOINT and CMD").toBeTruthy();
  return [...entry!, ...cmd!];
}

/** The `control` options of a command line (after `.../bin/reachprobe.cjs control`), checked against the launcher's path. */
function controlArgs(words: string[]): string[] {
  expect(words[0]).toMatch(/(^|\/)node$/);
  expect(words[1]).toBe(`${INSTALL}bin/reachprobe.cjs`);
  expect(existsSync(join(ROOT, words[1]!.slice(INSTALL.length))), "the launcher is in the package").toBe(true);
  expect(words[2]).toBe("control");
  return words.slice(3);
}

/** Every long option `reachprobe control --help` lists. */
async function helpOptions(): Promise<Set<string>> {
  const r = await runCli(["control", "--help"]);
  expect(r.code).toBe(0);
  return new Set([...r.stdout.matchAll(/(--[a-z][a-z-]*)/g)].map((m) => m[1]!));
}

describe.each([
  ["the systemd unit's ExecStart", execStart],
  ["the container's ENTRYPOINT and CMD", entrypoint],
])("%s", (_name, words) => {
  it("names the launcher, `control`, and options that control --help lists", async () => {
    const args = controlArgs(words());
    const known = await helpOptions();
    const flags = args.filter((a) => a.startsWith("--"));
    expect(flags).toContain("--listen");
    for (const f of flags) expect(known, `${f} is a reachprobe control option`).toContain(f);
  });

  it("starts a helper with exactly those options (on a loopback port), which stops on SIGTERM with 0", async () => {
    const args = controlArgs(words());
    const i = args.indexOf("--listen");
    args[i + 1] = "127.0.0.1:0";
    const helper = await startCli(["control", ...args], /listening on (http:\/\/\S+)/);
    const health = await fetch(helper.match[1]!);
    expect(await health.json()).toMatchObject({ ok: true });
    helper.child.kill("SIGTERM");
    expect((await helper.exited).code).toBe(0);
  });
});

describe("the deployment files", () => {
  it("read the token from the environment variable the helper knows, never a flag", async () => {
    const help = (await runCli(["control", "--help"])).stdout;
    const env = read("deploy/control.env.example");
    const keys = [...env.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
    expect(keys).toEqual(["REACHPROBE_CONTROL_TOKEN"]);
    // Commander wraps the help to the terminal width: compare with the line breaks folded.
    for (const k of keys) expect(help.replace(/\s+/g, " ")).toContain(`env: ${k}`);
    expect(read("deploy/reachprobe-control.service")).toMatch(/^EnvironmentFile=\/etc\/reachprobe\/control\.env$/m);
    expect([...execStart(), ...entrypoint()]).not.toContain("--token");
  });

  it("the container copies what exists, and the whole package into its final stage", () => {
    const text = read("deploy/Containerfile");
    const fromContext = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    for (const p of fromContext) expect(existsSync(join(ROOT, p)), `COPY ${p}`).toBe(true);
    const final = text.slice(text.lastIndexOf("FROM "));
    const pkg = JSON.parse(read("package.json")) as { files: string[] };
    for (const p of [...pkg.files, "package.json", "node_modules"]) expect(final, `the final stage has ${p}`).toContain(`COPY --from=build /src/${p} `);
  });

  it("the unit never lets the helper reach private addresses", () => {
    expect([...execStart(), ...entrypoint()]).not.toContain("--allow-private");
  });
});
