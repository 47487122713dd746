/**
 * The first-run notice and consent: when it is shown and waits, what it names, what a yes or a
 * no leaves behind, and which DNS controls follow. settleConsent runs with in-memory streams
 * for the terminal; it sends nothing itself (the pty test, tests/integration/consent.test.ts,
 * checks a real process).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { consentCovers, decideNotice, noticeText, readNoticeState, rememberNotice, type NoticeInputs } from "../../src/cli/notice.js";
import { settleConsent, thirdParties, type ConsentIo } from "../../src/cli/run-consent.js";
import { runOptions, type RunFlags } from "../../src/cli/run-options.js";
import { planTargets } from "../../src/cli/run-plan.js";
import { chooseDnsControls, defaultParties } from "../../src/config/defaults.js";
import { EXIT } from "../../src/cli/exit-codes.js";

async function flagsOf(args: string[]): Promise<RunFlags> {
  const run = runOptions().exitOverride().action(() => {});
  await run.parseAsync(args, { from: "user" });
  return run.opts<RunFlags>();
}

const base: NoticeInputs = { wantsDefaults: true, yes: false, saved: false, seen: false, noticeOn: true, terminal: true };

describe("decideNotice", () => {
  it.each<[string, Partial<NoticeInputs>, { show: boolean; ask: boolean; consent: boolean }]>([
    ["first run on a terminal: shown, waits", {}, { show: true, ask: true, consent: false }],
    ["seen, defaults without consent: asks again", { seen: true }, { show: true, ask: true, consent: false }],
    ["seen, consent remembered: silent", { seen: true, saved: true }, { show: false, ask: false, consent: true }],
    ["seen, own resolvers: silent, no consent needed", { seen: true, wantsDefaults: false }, { show: false, ask: false, consent: false }],
    ["first run, own resolvers: shown, waits", { wantsDefaults: false }, { show: true, ask: true, consent: false }],
    ["--yes on a terminal: shown once, no wait", { yes: true }, { show: true, ask: false, consent: true }],
    ["no terminal: nothing asked, no consent", { terminal: false }, { show: false, ask: false, consent: false }],
    ["no terminal, --yes", { terminal: false, yes: true }, { show: false, ask: false, consent: true }],
    ["no terminal, remembered", { terminal: false, saved: true }, { show: false, ask: false, consent: true }],
    ["--no-notice or --quiet: nothing asked, no consent", { noticeOn: false }, { show: false, ask: false, consent: false }],
  ])("%s", (_name, over, expected) => {
    expect(decideNotice({ ...base, ...over })).toEqual(expected);
  });
});

describe("the notice's text", () => {
  it("names every third party that learns the names, and how to leave the defaults out", async () => {
    const text = noticeText({ targets: 3, list: null, parties: thirdParties(chooseDnsControls(await flagsOf([]), true), "https://helper.example/"), defaults: true, db: null, asks: true });
    expect(text).toContain("Cloudflare (1.1.1.1): every name tested, over UDP to 1.1.1.1:53 and DNS-over-HTTPS to https://cloudflare-dns.com/dns-query");
    expect(text).toContain("Google Public DNS: every name tested, over UDP to 8.8.8.8:53 and DNS-over-HTTPS to https://dns.google/dns-query");
    expect(text).toContain("the control helper https://helper.example/: every URL tested");
    expect(text).toMatch(/--no-dns-control, --doh or --resolver leave them out/);
    expect(text).toMatch(/answer n if the risk is not yours to take/);
  });

  it("says when no third party is asked", async () => {
    const text = noticeText({ targets: 1, list: "wechat", parties: thirdParties(chooseDnsControls(await flagsOf(["--no-dns-control"]), true), null), defaults: false, db: "data/x.db", asks: false });
    expect(text).toMatch(/No third party is asked about the names tested/);
    expect(text).toMatch(/stop now \(Ctrl-C\)/);
  });
});

describe("remembered consent", () => {
  const file = () => join(mkdtempSync(join(tmpdir(), "reachprobe-state-")), "reachprobe", "state.json");

  it("covers the defaults only when it names each of them; the notice alone is no consent", () => {
    const f = file();
    rememberNotice(f);
    expect(consentCovers(readNoticeState(f), defaultParties())).toBe(false);
    rememberNotice(f, defaultParties().slice(0, 2));
    expect(consentCovers(readNoticeState(f), defaultParties()), "a new default asks again").toBe(false);
    rememberNotice(f, defaultParties());
    expect(consentCovers(readNoticeState(f), defaultParties())).toBe(true);
  });

  it("keeps the first notice's time and reads a damaged file as none", () => {
    const f = file();
    rememberNotice(f);
    const first = readNoticeState(f).notice_shown_at;
    rememberNotice(f, ["1.1.1.1:53"]);
    expect(readNoticeState(f).notice_shown_at).toBe(first);
    writeFileSync(f, "[1, 2");
    expect(readNoticeState(f)).toEqual({});
  });
});

describe("settleConsent", () => {
  async function settle(args: string[], answer: string | null, opts: Partial<ConsentIo> = {}) {
    const flags = await flagsOf(args);
    const plan = await planTargets(["https://127.0.0.1/"], flags);
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = "";
    output.on("data", (d: Buffer) => (shown += d.toString()));
    const io: ConsentIo = { input, output, terminal: true, file: join(mkdtempSync(join(tmpdir(), "reachprobe-settle-")), "state.json"), ...opts };
    const settling = settleConsent(plan, flags, null, io);
    if (answer === null) input.end();
    else input.write(answer);
    const result = await settling;
    return { result, shown: () => shown, file: io.file };
  }

  it("y: the defaults are asked, and the consent is remembered for them", async () => {
    const s = await settle([], "y\n");
    expect(s.result).toMatchObject({ dns: { origin: "defaults" }, consent: "answered" });
    expect(s.shown()).toMatch(/Go ahead\? \[y\/N\] $/);
    expect(readNoticeState(s.file).dns_control_consent?.parties).toEqual(defaultParties());
  });

  it("n, anything else, or the end of input: EXIT.USAGE, nothing remembered", async () => {
    for (const answer of ["n\n", "sure\n", null]) {
      const s = await settle([], answer);
      expect(s.result, String(answer)).toBe(EXIT.USAGE);
      expect(s.shown()).toContain("you answered no; nothing was sent");
      expect(readNoticeState(s.file)).toEqual({});
    }
  });

  it("no terminal: no question, no defaults, one line; --yes: the defaults, not remembered", async () => {
    const s = await settle([], null, { terminal: false });
    expect(s.result).toMatchObject({ dns: { origin: "no-consent", resolvers: [], doh: [] }, consent: null });
    expect(s.shown().trim().split("\n")).toHaveLength(1);
    const yes = await settle(["--yes"], null, { terminal: false });
    expect(yes.result).toMatchObject({ dns: { origin: "defaults" }, consent: "--yes" });
    expect(yes.shown()).toBe("");
    expect(readNoticeState(yes.file)).toEqual({});
  });

  it("remembered consent: no question, the defaults", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "reachprobe-settle-")), "state.json");
    rememberNotice(f, defaultParties());
    const s = await settle([], null, { file: f });
    expect(s.result).toMatchObject({ dns: { origin: "defaults" }, consent: "remembered" });
    expect(s.shown()).toBe("");
    expect(JSON.parse(readFileSync(f, "utf8"))).toHaveProperty("dns_control_consent");
  });
});
