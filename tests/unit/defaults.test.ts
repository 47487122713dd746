/**
 * The third parties a run contacts when the user names none: which DNS controls and canary a
 * run would use, decided by pure functions and printed by `run --dry-run`. Nothing here sends a
 * packet: the defaults are configuration, checked, never contacted.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chooseDnsControls, DEFAULT_CANARY, DEFAULT_DNS_OPERATORS, defaultParties, wantsDefaultDnsControls } from "../../src/config/defaults.js";
import { planTargets } from "../../src/cli/run-plan.js";
import { dryRunReport } from "../../src/cli/run-consent.js";
import { runOptions, type RunFlags } from "../../src/cli/run-options.js";
import { applyLoadedConfig, effectiveSettings } from "../../src/config/apply.js";
import { readConfigFile } from "../../src/config/read.js";
import { spawnSync } from "node:child_process";
import { hermeticEnv, LAUNCHER } from "../helpers/cli.js";
import { skipTag } from "../helpers/skip.js";

/** The flags `reachprobe run ARGS` parses to (commander's defaults included); no action runs. */
async function flagsOf(args: string[], config?: Record<string, unknown>): Promise<RunFlags> {
  const run = runOptions().exitOverride().action(() => {});
  await run.parseAsync(args, { from: "user" });
  if (config) {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-defaults-"));
    const path = join(dir, "c.json");
    writeFileSync(path, JSON.stringify(config));
    applyLoadedConfig(run, run.args, await readConfigFile({ path, absolute: path, origin: "--config" }, run));
  }
  return run.opts<RunFlags>();
}

describe("the default DNS controls", () => {
  it("are two public services, each over DoH (https) and UDP port 53", () => {
    expect(DEFAULT_DNS_OPERATORS).toHaveLength(2);
    for (const o of DEFAULT_DNS_OPERATORS) {
      expect(new URL(o.doh).protocol).toBe("https:");
      expect(o.resolver.port).toBe(53);
    }
    expect(defaultParties()).toEqual(["1.1.1.1:53", "https://cloudflare-dns.com/dns-query", "8.8.8.8:53", "https://dns.google/dns-query"]);
  });

  it("are asked only with consent, and not at all with --no-dns-control", async () => {
    const plain = await flagsOf([]);
    expect(wantsDefaultDnsControls(plain)).toBe(true);
    expect(chooseDnsControls(plain, false)).toEqual({ origin: "no-consent", resolvers: [], doh: [] });
    expect(chooseDnsControls(plain, true)).toEqual({
      origin: "defaults",
      resolvers: [{ host: "1.1.1.1", port: 53 }, { host: "8.8.8.8", port: 53 }],
      doh: ["https://cloudflare-dns.com/dns-query", "https://dns.google/dns-query"],
    });
    expect(chooseDnsControls(await flagsOf(["--no-dns-control"]), true)).toEqual({ origin: "off", resolvers: [], doh: [] });
  });

  it("give way entirely to --doh or --resolver, on the command line or in the config file", async () => {
    expect(chooseDnsControls(await flagsOf(["--resolver", "127.0.0.1:5353"]), true)).toEqual({ origin: "chosen", resolvers: [{ host: "127.0.0.1", port: 5353 }], doh: [] });
    expect(chooseDnsControls(await flagsOf(["--doh", "https://doh.example/dns-query", "--no-dns-control"]), true)).toEqual({ origin: "chosen", resolvers: [], doh: ["https://doh.example/dns-query"] });
    const fromFile = await flagsOf([], { resolver: ["192.0.2.53"] });
    expect(chooseDnsControls(fromFile, true)).toEqual({ origin: "chosen", resolvers: [{ host: "192.0.2.53", port: 53 }], doh: [] });
    // An empty list in the file is a choice too: none.
    expect(chooseDnsControls(await flagsOf([], { doh: [] }), true)).toEqual({ origin: "chosen", resolvers: [], doh: [] });
    expect(chooseDnsControls(await flagsOf([], { dnsControl: false }), true).origin).toBe("off");
    // The flag overrides the file.
    expect(chooseDnsControls(await flagsOf(["--no-dns-control"], { dnsControl: true }), true).origin).toBe("off");
  });
});

describe("config show", () => {
  async function shown(args: string[], config?: Record<string, unknown>) {
    const run = runOptions().exitOverride().action(() => {});
    await run.parseAsync(args, { from: "user" });
    let applied = { configPath: null as string | null, targets: [] as string[], applied: [] as never[], config: null as never };
    if (config) {
      const dir = mkdtempSync(join(tmpdir(), "reachprobe-show-"));
      const path = join(dir, "c.json");
      writeFileSync(path, JSON.stringify(config));
      applied = applyLoadedConfig(run, [], await readConfigFile({ path, absolute: path, origin: "--config" }, run)) as never;
    }
    const s = effectiveSettings(run, applied);
    return { doh: s.doh, resolver: s.resolver };
  }

  it("shows the default public resolvers when neither doh nor resolver is set, and none when turned off or chosen", async () => {
    expect(await shown([])).toEqual({
      doh: { value: ["https://cloudflare-dns.com/dns-query", "https://dns.google/dns-query"], source: "default" },
      resolver: { value: ["1.1.1.1:53", "8.8.8.8:53"], source: "default" },
    });
    expect(await shown([], { dnsControl: false })).toEqual({ doh: { value: null, source: "unset" }, resolver: { value: null, source: "unset" } });
    expect(await shown([], { doh: ["https://doh.example/dns-query"] })).toEqual({ doh: { value: ["https://doh.example/dns-query"], source: "config" }, resolver: { value: null, source: "unset" } });
  });
});

describe("the canary of a run", () => {
  it("is the default one for targets that come without a list", async () => {
    const plan = await planTargets(["https://127.0.0.1/"], await flagsOf([]));
    expect([plan.canary?.input, plan.canarySource]).toEqual([DEFAULT_CANARY, "default"]);
    expect(DEFAULT_CANARY).toBe("https://www.example.com/");
  });

  it("is the one a text file's targets get too, and a JSON file's own when it has one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reachprobe-canary-"));
    writeFileSync(join(dir, "t.txt"), "https://127.0.0.1/\n");
    writeFileSync(join(dir, "l.json"), JSON.stringify({ name: "mine", canary: "https://127.0.0.2/", endpoints: [{ target: "https://127.0.0.3/", service: "x" }] }));
    const text = await planTargets([], await flagsOf(["--file", join(dir, "t.txt")]));
    expect([text.canary?.input, text.canarySource]).toEqual([DEFAULT_CANARY, "default"]);
    const json = await planTargets([], await flagsOf(["--file", join(dir, "t.txt"), "--file", join(dir, "l.json")]));
    expect([json.canary?.input, json.canarySource]).toEqual(["https://127.0.0.2/", "list"]);
  });

  it("is the bundled list's, --canary's, or none with --no-canary (flag or config file)", async () => {
    expect((await planTargets([], await flagsOf(["--list", "wechat"]))).canarySource).toBe("list");
    const flagged = await planTargets(["https://127.0.0.1/"], await flagsOf(["--canary", "http://127.0.0.1:9/"]));
    expect([flagged.canary?.input, flagged.canarySource]).toEqual(["http://127.0.0.1:9/", "flag"]);
    expect((await planTargets(["https://127.0.0.1/"], await flagsOf(["--no-canary"]))).canary).toBeNull();
    expect((await planTargets(["https://127.0.0.1/"], await flagsOf([], { canary: false }))).canary).toBeNull();
  });
});

describe("run --dry-run", () => {
  const noState = () => join(mkdtempSync(join(tmpdir(), "reachprobe-dry-")), "state.json");

  it("says what a run would contact, without consent and with --yes", async () => {
    const plan = await planTargets(["https://127.0.0.1/"], await flagsOf([]));
    const without = dryRunReport(plan, await flagsOf([]), null, noState());
    expect(without).toMatchObject({
      canary: { target: DEFAULT_CANARY, from: "default" },
      dns_control: { origin: "no-consent", resolvers: [], doh: [], with_consent: { resolvers: ["1.1.1.1:53", "8.8.8.8:53"] } },
      third_parties: [],
    });
    const yes = dryRunReport(plan, await flagsOf(["--yes"]), "https://helper.example/", noState());
    expect(yes).toMatchObject({ dns_control: { origin: "defaults", resolvers: ["1.1.1.1:53", "8.8.8.8:53"] } });
    expect(yes.third_parties).toEqual(["Cloudflare (1.1.1.1)", "Google Public DNS", "the control helper https://helper.example/"]);
  });

  // The run consents to the default public resolvers (--yes): were --dry-run broken and the run
  // went ahead, it would ask them. So the process runs in a network namespace of its own with
  // only loopback up (root), where nothing can leave this machine; elsewhere this test is skipped.
  const isolated = process.getuid?.() === 0 && spawnSync("unshare", ["--net", "true"]).status === 0;
  it.skipIf(!isolated)(`as a real process in a namespace with no route out: prints it and exits 0, having sent nothing${skipTag(isolated ? null : "needs root and unshare --net")}`, () => {
    // --no-canary and an IP literal: were --dry-run to probe after all, it would look no name up.
    const args = ["run", "--dry-run", "--yes", "--no-canary", "https://127.0.0.1/"];
    const r = spawnSync("unshare", ["--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, LAUNCHER, ...args], { env: hermeticEnv(), encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const doc = JSON.parse(r.stdout) as { dns_control: { origin: string; doh: string[] }; sent: string };
    expect(doc.dns_control).toMatchObject({ origin: "defaults", doh: ["https://cloudflare-dns.com/dns-query", "https://dns.google/dns-query"] });
    expect(doc.sent).toBe("nothing (--dry-run)");
  });
});
