import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  blockPageMatch,
  locationName,
  matchDnsAddress,
  matchHttp,
  parseFingerprints,
  type Fingerprint,
  type FingerprintMatch,
} from "../../src/analysis/fingerprints.js";
import { analyzeTarget } from "../../src/analysis/target.js";
import { BUNDLED_FINGERPRINTS, fromPrecompiled, loadFingerprints, precompileBundled } from "../../src/fingerprints/load.js";
import { parsePublicRanges } from "../../src/net/bogons.js";
import { encodeBodySample } from "../../src/probes/body-sample.js";
import { parseTarget } from "../../src/targets/parse.js";
import { dnsObs, httpObs, tcpObs } from "../helpers/observations.js";
import { sharedTag, SAMPLES, sharedData } from "../helpers/shared-data.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");

const SHARED_OONI_DIR = sharedData("ooni-blocking-fingerprints/");
const SAMPLE_OONI_DIR = join(SAMPLES, "ooni-fingerprints/");
const HEADER = "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes";

function csv(...rows: string[]): string {
  return [HEADER, ...rows].join("\n") + "\n";
}

function names(matches: FingerprintMatch[]): string[] {
  return matches.map((m) => m.fingerprint.name);
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).toBe("E_FINGERPRINTS");
    return (err as { problems: string[] }).problems;
  }
  throw new Error("expected an E_FINGERPRINTS error, got none");
}

describe("parseFingerprints", () => {
  test("reads a valid row into a Fingerprint", () => {
    const [fp, ...rest] = parseFingerprints(
      csv('t.one,isp,other,header.Location,prefix,http://stop.example,7,"ru, BY",me,https://x,"a note, quoted"'),
      "t.csv",
    );
    expect(rest).toEqual([]);
    expect(fp).toEqual({
      name: "t.one",
      scope: "isp",
      location: { header: "location" },
      patternType: "prefix",
      pattern: "http://stop.example",
      confidence: 7,
      countries: ["RU", "BY"],
      source: "me",
      notes: "a note, quoted",
      origin: "t.csv:2",
    });
    expect(locationName(fp!.location)).toBe("header.location");
  });

  test("every bad row is reported as file:line: field: problem, all at once", () => {
    const text = csv(
      "ok.1,nat,,body,contains,fine,5,RU,s,,",
      "bad.scope,national,,body,contains,x,5,RU,s,,",
      "bad.loc,nat,,headers.location,contains,x,5,RU,s,,",
      "bad.type,nat,,body,glob,x,5,RU,s,,",
      "bad.conf,nat,,body,contains,x,11,RU,s,,",
      "bad.conf2,nat,,body,contains,x,high,RU,s,,",
      "bad.re,nat,,body,regexp,(unclosed,5,RU,s,,",
      "bad.cc,nat,,body,contains,x,5,RUS,s,,",
      ",nat,,body,contains,x,5,RU,s,,",
      "ok.1,nat,,body,contains,again,5,RU,s,,",
      "bad.empty,nat,,body,contains,,5,RU,s,,",
      "too,few,fields",
    );
    expect(problemsOf(() => parseFingerprints(text, "lab.csv"))).toEqual([
      'lab.csv:3: scope: "national" is not one of nat, isp, prod, inst, vbw, fp, injb, prov',
      'lab.csv:4: location_found: "headers.location" is not body, dns or header.<name>',
      'lab.csv:5: pattern_type: "glob" is not one of full, prefix, contains, regexp',
      'lab.csv:6: confidence_no_fp: "11" is not a whole number from 0 to 10',
      'lab.csv:7: confidence_no_fp: "high" is not a whole number from 0 to 10',
      expect.stringMatching(/^lab\.csv:8: pattern: invalid regexp "\(unclosed": .+/),
      'lab.csv:9: expected_countries: "RUS" is not a two-letter country code',
      "lab.csv:10: name: is empty",
      'lab.csv:11: name: "ok.1" is already used on line 2',
      "lab.csv:12: pattern: is empty",
      "lab.csv:13: expected 11 fields, found 3",
    ]);
  });

  test("the thrown message lists the problems too", () => {
    expect(() => parseFingerprints(csv("x,nat,,body,contains,y,99,,,,"), "f.csv")).toThrow(
      /invalid fingerprints \(1 problem\):\n {2}f\.csv:2: confidence_no_fp/,
    );
  });

  test("a wrong header row or a CSV syntax error is reported with its line", () => {
    expect(problemsOf(() => parseFingerprints("name,scope\nx,y\n", "h.csv"))).toEqual([
      expect.stringMatching(/^h\.csv:1: the header row is "name,scope"; expected "name,scope,other_names,/),
    ]);
    expect(problemsOf(() => parseFingerprints("", "empty.csv"))).toEqual([expect.stringMatching(/^empty\.csv: the file is empty/)]);
    expect(problemsOf(() => parseFingerprints(csv('x,nat,,body,contains,"open,5,,,,'), "q.csv"))).toEqual([
      "q.csv:2: a quoted field is never closed (a '\"' is missing)",
    ]);
  });

  test("with a warnings list, a regexp JavaScript rejects is skipped and reported instead", () => {
    const warnings: string[] = [];
    const fps = parseFingerprints(csv("a,nat,,body,contains,ok,5,,,,", "b,nat,,body,regexp,a(?<!x,5,,,,"), "w.csv", { warnings });
    expect(fps.map((f) => f.name)).toEqual(["a"]);
    expect(warnings).toEqual([expect.stringMatching(/^w\.csv:3: pattern: invalid regexp "a\(\?<!x": .+ \(fingerprint "b" skipped\)$/)]);
  });

  test("RE2/Python spellings are translated: (?i), (?P<name>), \\A, \\z; dot matches line breaks", () => {
    const fps = parseFingerprints(
      csv(
        "re.i,nat,,body,regexp,(?i)access denied,5,,,,",
        "re.named,nat,,body,regexp,id=(?P<id>\\d+),5,,,,",
        "re.anchors,nat,,header.server,regexp,\\ABlockGate\\z,5,,,,",
        "re.dotall,nat,,body,regexp,<h1>.*</h1>,5,,,,",
      ),
      "re.csv",
    );
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: "ACCESS DENIED" }))).toEqual(["re.i"]);
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: "x id=42" }))).toEqual(["re.named"]);
    expect(names(matchHttp(fps, { status: 200, headers: { Server: "BlockGate" }, bodySample: "" }))).toEqual(["re.anchors"]);
    expect(names(matchHttp(fps, { status: 200, headers: { server: "BlockGate 2" } }))).toEqual([]);
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: "<h1>two\r\nlines</h1>" }))).toEqual(["re.dotall"]);
  });
});

describe("matching", () => {
  const fps = parseFingerprints(
    csv(
      "full.h,isp,,header.server,full,Blocker/1.0,5,,,,",
      "prefix.h,isp,,header.location,prefix,http://stop.example/,9,,,,Stop page",
      "contains.b,nat,,body,contains,you shall not pass,6,,,,",
      "fp.b,fp,,body,contains,Thank you for using nginx,5,,,,",
      "injb.b,injb,,body,contains,router update,10,,,,",
      "dns.v4,isp,,dns,full,198.51.100.99,5,,,,",
      "dns.v6,isp,,dns,full,2001:DB8:0::53,5,,,,",
      "dns.cname,nat,,dns,full,block.example.net,5,,,,",
    ),
    "m.csv",
  );

  test("header fingerprints look at that header only, any letter case in the name", () => {
    const m = matchHttp(fps, { status: 302, headers: { Location: "http://stop.example/?u=x", Server: "Blocker/1.0" } });
    expect(names(m)).toEqual(["full.h", "prefix.h"]);
    expect(m[1]).toMatchObject({ where: "header.location", matched: "http://stop.example/?u=x", falsePositive: false });
    expect(m[1]!.evidence).toBe("HTTP 302 with location: http://stop.example/?u=x, fingerprint prefix.h (Stop page)");
    expect(names(matchHttp(fps, { status: 200, headers: { server: "Blocker/1.0.1" }, bodySample: "http://stop.example/" }))).toEqual([]);
  });

  test("body fingerprints need a body sample", () => {
    expect(names(matchHttp(fps, { status: 403, headers: {} }))).toEqual([]);
    const m = matchHttp(fps, { status: 403, headers: {}, bodySample: "<p>You shall not pass</p><p>you shall not pass</p>" });
    expect(m.map((x) => [x.fingerprint.name, x.matched])).toEqual([["contains.b", "you shall not pass"]]);
  });

  test("a known false positive (scope fp) is flagged, and blockPageMatch then says: not a block page", () => {
    const m = matchHttp(fps, { status: 200, headers: {}, bodySample: "you shall not pass. Thank you for using nginx." });
    expect(m.map((x) => [x.fingerprint.name, x.falsePositive])).toEqual([
      ["contains.b", false],
      ["fp.b", true],
    ]);
    expect(blockPageMatch(m)).toBeNull();
  });

  test("blockPageMatch picks the most confident match and ignores benign injections", () => {
    const m = matchHttp(fps, { status: 302, headers: { location: "http://stop.example/", server: "Blocker/1.0" }, bodySample: "router update" });
    expect(names(m)).toEqual(["full.h", "prefix.h", "injb.b"]);
    expect(blockPageMatch(m)?.fingerprint.name).toBe("prefix.h");
    expect(blockPageMatch(matchHttp(fps, { status: 200, headers: {}, bodySample: "router update" }))).toBeNull();
    expect(blockPageMatch([])).toBeNull();
  });

  test("matchDnsAddress compares addresses canonically, and CNAME targets by name", () => {
    expect(names(matchDnsAddress(fps, "198.51.100.99"))).toEqual(["dns.v4"]);
    expect(names(matchDnsAddress(fps, "2001:db8::53"))).toEqual(["dns.v6"]);
    expect(names(matchDnsAddress(fps, "Block.Example.NET."))).toEqual(["dns.cname"]);
    expect(matchDnsAddress(fps, "198.51.100.9")).toEqual([]);
    expect(matchDnsAddress(fps, "198.51.100.99")[0]!.evidence).toBe("DNS answer 198.51.100.99 is a known blocking address, fingerprint dns.v4");
    // DNS fingerprints never match HTTP, and HTTP ones never match DNS.
    expect(matchHttp(fps, { status: 200, headers: {}, bodySample: "198.51.100.99" })).toEqual([]);
    expect(matchDnsAddress(fps, "Blocker/1.0")).toEqual([]);
  });
});

describe("OONI's blocking-fingerprints format (the project's samples in tests/samples)", () => {
  let ooni: Awaited<ReturnType<typeof loadFingerprints>>;
  let http: Fingerprint[];
  beforeAll(async () => {
    ooni = await loadFingerprints(`ooni:${SAMPLE_OONI_DIR}`);
    http = ooni.fingerprints.filter((f) => f.origin.includes("fingerprints_http.csv"));
  });

  test("a folder loads both files whole, HTTP first: CRLF lines, a quoted pattern over two lines, a regexp", () => {
    expect(ooni.files.map((f) => f.split("/").pop())).toEqual(["fingerprints_http.csv", "fingerprints_dns.csv"]);
    expect(ooni.warnings).toEqual([]);
    expect(ooni.fingerprints.map((f) => f.name)).toEqual(["rp.zz_0", "rp.zz_1", "rp.zz_2", "rp.zz_3", "rp.zz_4", "rp.fp_nginx", "rp.zz_10", "rp.zz_11", "rp.yy_12"]);
    expect(http.find((f) => f.name === "rp.zz_3")!.pattern).toBe("<p>This page is blocked.\r\nPlease read the notice below.</p>");
    expect(http.find((f) => f.name === "rp.zz_4")!.patternType).toBe("regexp");
  });

  test("one file can be named directly", async () => {
    const one = await loadFingerprints(`ooni:${join(SAMPLE_OONI_DIR, "fingerprints_dns.csv")}`);
    expect(one.fingerprints.map((f) => f.name)).toEqual(["rp.zz_10", "rp.zz_11", "rp.yy_12"]);
  });

  test("each kind of pattern matches what it describes, and nothing else", () => {
    expect(names(matchHttp(http, { status: 302, headers: { location: "http://warning.isp.example/?id=17" } }))).toEqual(["rp.zz_0"]);
    expect(names(matchHttp(http, { status: 302, headers: { location: "http://warning.isp.example.net/?id=17" } }))).toEqual([]);
    expect(names(matchHttp(http, { status: 200, headers: { server: "FilterBox/2.1" } }))).toEqual(["rp.zz_2"]);
    expect(names(matchHttp(http, { status: 200, headers: { server: "FilterBox/2.10" } }))).toEqual([]);
    const two = "<body><p>This page is blocked.\r\nPlease read the notice below.</p></body>";
    expect(names(matchHttp(http, { status: 200, headers: {}, bodySample: two }))).toEqual(["rp.zz_3"]);
    expect(names(matchHttp(http, { status: 200, headers: {}, bodySample: "This site was blocked by decision no. 27-31" }))).toEqual(["rp.zz_4"]);
    expect(names(matchHttp(http, { status: 200, headers: {}, bodySample: "blocked by decision no. none" }))).toEqual([]);
    expect(blockPageMatch(matchHttp(http, { status: 200, headers: {}, bodySample: "Access to this resource is restricted by order of the court" }))?.fingerprint.name).toBe("rp.zz_1");
  });

  test("a known false positive makes the response not a block page", () => {
    const m = matchHttp(http, { status: 404, headers: {}, bodySample: "<hr><center>nginx</center>" });
    expect(m.find((x) => x.fingerprint.name === "rp.fp_nginx")?.falsePositive).toBe(true);
    expect(blockPageMatch(m)).toBeNull();
  });

  test("matchDnsAddress finds an answer address and a CNAME target", () => {
    const dns = ooni.fingerprints.filter((f) => f.location === "dns");
    expect(names(matchDnsAddress(dns, "203.0.113.66"))).toEqual(["rp.zz_10"]);
    expect(names(matchDnsAddress(dns, "blockpage.isp.example."))).toEqual(["rp.zz_11"]);
    expect(matchDnsAddress(dns, "203.0.113.67")).toEqual([]);
  });
});

describe.skipIf(!SHARED_OONI_DIR)(`OONI's real blocking-fingerprints files ${sharedTag(SHARED_OONI_DIR)}`, () => {
  const OONI_DIR = SHARED_OONI_DIR!;
  let ooni: Awaited<ReturnType<typeof loadFingerprints>>;
  let http: Fingerprint[];
  let dns: Fingerprint[];
  beforeAll(async () => {
    ooni = await loadFingerprints(`ooni:${OONI_DIR}`);
    http = ooni.fingerprints.filter((f) => f.origin.includes("fingerprints_http.csv"));
    dns = ooni.fingerprints.filter((f) => f.origin.includes("fingerprints_dns.csv"));
  });

  test("load whole: 1729 HTTP and 226 DNS fingerprints, nothing skipped", () => {
    // data/README.md says 1,738 HTTP rows: that counts physical lines, and six patterns span
    // several lines. Every one of the 14 regexps compiles in JavaScript, so nothing is skipped.
    expect(http.length).toBe(1729);
    expect(dns.length).toBe(226);
    expect(ooni.warnings).toEqual([]);
    expect(ooni.files.map((f) => f.split("/").pop())).toEqual(["fingerprints_http.csv", "fingerprints_dns.csv"]);
    expect(http.filter((f) => f.patternType === "regexp").length).toBe(14);
    expect(dns.every((f) => f.location === "dns")).toBe(true);
  });

  test("one file can be named directly", async () => {
    const one = await loadFingerprints(`ooni:${join(OONI_DIR, "fingerprints_dns.csv")}`);
    expect(one.fingerprints.length).toBe(226);
  });

  test("OONI's Rostelecom redirect fingerprint matches a synthetic redirect to warning.rt.ru", () => {
    const m = matchHttp(http, { status: 302, headers: { location: "http://warning.rt.ru/?id=17&st=0&dt=example.com" } });
    expect(names(m)).toContain("ooni.ru_6");
    expect(blockPageMatch(m)).not.toBeNull();
  });

  test("a body fingerprint (ooni.ru_0), a multi-line one (ooni.th_11) and a regexp (cp.b_nat_sa_national_2) match bodies built from them", () => {
    const ru0 = http.find((f) => f.name === "ooni.ru_0")!;
    expect(names(matchHttp(http, { status: 200, headers: {}, bodySample: `<html><body><p>${ru0.pattern}.</p></body></html>` }))).toContain("ooni.ru_0");
    const th11 = http.find((f) => f.name === "ooni.th_11")!;
    expect(th11.pattern).toContain("\r\n");
    expect(names(matchHttp(http, { status: 200, headers: {}, bodySample: `<body>${th11.pattern}</body>` }))).toContain("ooni.th_11");
    const body = "If you believe the requested page should not be blocked please click here:\n<a href=http://www.internet.gov.sa/x>";
    expect(names(matchHttp(http, { status: 200, headers: {}, bodySample: body }))).toContain("cp.b_nat_sa_national_2");
  });

  test("every full/prefix/contains HTTP fingerprint matches a response built from its own pattern", () => {
    const missed: string[] = [];
    for (const fp of http) {
      if (fp.patternType === "regexp") continue;
      const text = fp.patternType === "full" ? fp.pattern : fp.patternType === "prefix" ? `${fp.pattern}/rest` : `before ${fp.pattern} after`;
      const sample = fp.location === "body" ? { status: 200, headers: {}, bodySample: text } : { status: 302, headers: { [locationName(fp.location).slice(7)]: text } };
      if (!names(matchHttp([fp], sample)).includes(fp.name)) missed.push(fp.origin);
    }
    expect(missed).toEqual([]);
  });

  test("a known false positive from OONI's file makes the response not a block page", () => {
    const m = matchHttp(http, { status: 404, headers: {}, bodySample: "<hr><center>nginx</center><p><em>Thank you for using nginx.</em></p>" });
    expect(m.find((x) => x.fingerprint.name === "cp.fp_x_fpru_nginx")?.falsePositive).toBe(true);
    expect(blockPageMatch(m)).toBeNull();
  });

  test("matchDnsAddress finds OONI's Russian DNS fingerprint address and a CNAME target", () => {
    expect(names(matchDnsAddress(dns, "46.175.31.250"))).toEqual(["ooni.ru_90"]);
    expect(names(matchDnsAddress(dns, "trustpositif.kominfo.go.id."))).toEqual(["ooni.id_95"]);
    expect(matchDnsAddress(dns, "93.184.216.34")).toEqual([]);
  });
});

describe("the bundled set (data/fingerprints/reachprobe.csv)", () => {
  let bundled: Fingerprint[];
  beforeAll(async () => {
    const loaded = await loadFingerprints("bundled");
    expect(loaded.warnings).toEqual([]);
    expect(loaded.files).toEqual([BUNDLED_FINGERPRINTS]);
    bundled = loaded.fingerprints;
  });

  test("is our own, small and in the same format", () => {
    expect(bundled.length).toBeGreaterThanOrEqual(15);
    expect(bundled.length).toBeLessThanOrEqual(30);
    for (const fp of bundled) {
      expect(fp.source, fp.origin).toBe("reachprobe");
      expect(fp.name, fp.origin).toMatch(/^rp\./);
      expect(fp.notes, fp.origin).not.toBe("");
      expect(fp.countries, fp.origin).toEqual(["RU"]);
    }
  });

  test.each([
    ["http://warning.rt.ru/?id=17&st=0&dt=web.wechat.com&rs=web.wechat.com%2F", "rp.ru_rostelecom_warning_http"],
    ["https://warning.rt.ru/", "rp.ru_rostelecom_warning_https"],
    ["http://blocked.mts.ru/?host=web.wechat.com", "rp.ru_mts_redirect"],
    ["http://blackhole.beeline.ru/?url=web.wechat.com", "rp.ru_beeline_redirect"],
    ["http://lawfilter.ertelecom.ru", "rp.ru_ertelecom_redirect"],
    ["https://forbidden.yota.ru/", "rp.ru_yota_redirect"],
    ["http://fz139.ttk.ru/", "rp.ru_ttk_redirect"],
    ["http://blocked.mgts.ru/", "rp.ru_mgts_redirect"],
    ["http://t2blocked.com/", "rp.ru_tele2_redirect"],
  ])("a redirect to %s is a block page (%s)", (location, name) => {
    const m = matchHttp(bundled, { status: 302, headers: { Location: location } });
    expect(names(m)).toEqual([name]);
    expect(blockPageMatch(m)?.fingerprint.name).toBe(name);
  });

  test("a Russian stub page body matches several fingerprints, the most confident first", () => {
    const body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Доступ ограничен</title></head><body>
<h1>Доступ к информационному ресурсу ограничен</h1>
<p>Доступ к информационному ресурсу ограничен на основании Федерального закона от 27 июля 2006 г. № 149-ФЗ
«Об информации, информационных технологиях и о защите информации».</p>
<p>Ресурс включен в Единый реестр. Проверить: <a href="https://blocklist.rkn.gov.ru/">blocklist.rkn.gov.ru</a></p>
</body></html>`;
    const m = matchHttp(bundled, { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, bodySample: body });
    expect(names(m)).toEqual([
      "rp.ru_rkn_blocklist_link",
      "rp.ru_text_access_restricted_149fz",
      "rp.ru_text_info_resource_restricted",
      "rp.ru_text_registry",
    ]);
    expect(blockPageMatch(m)?.fingerprint.name).toBe("rp.ru_text_access_restricted_149fz");
  });

  test("an ordinary page and an ordinary redirect match nothing", () => {
    const page = `<!DOCTYPE html><html lang="ru"><head><title>Новости</title></head><body>
<h1>Погода в Москве</h1><p>Завтра ожидается до +20, без осадков. Доступ к архиву открыт для всех.</p>
<a href="https://www.wechat.com/">WeChat</a></body></html>`;
    expect(matchHttp(bundled, { status: 200, headers: { server: "nginx" }, bodySample: page })).toEqual([]);
    expect(matchHttp(bundled, { status: 301, headers: { location: "https://web.wechat.com/" } })).toEqual([]);
    // Look-alike hosts are not the stub hosts.
    expect(matchHttp(bundled, { status: 302, headers: { location: "http://blocked.mts.ru.example.com/" } })).toEqual([]);
  });

  test("is what the CSV parses to, whether it came from the build's precompiled copy or not", async () => {
    const text = await readFile(BUNDLED_FINGERPRINTS, "utf8");
    expect(bundled).toEqual(parseFingerprints(text, BUNDLED_FINGERPRINTS));
  });

  test("a precompiled copy is used only for the CSV it was made from", async () => {
    const text = await readFile(BUNDLED_FINGERPRINTS, "utf8");
    const json = JSON.stringify(precompileBundled(text));
    expect(fromPrecompiled(json, text, BUNDLED_FINGERPRINTS)).toEqual(parseFingerprints(text, BUNDLED_FINGERPRINTS));
    // The CSV edited since the build: the copy is stale, the caller parses the CSV.
    const edited = text.replace("Rostelecom", "Rostelekom");
    expect(edited).not.toBe(text);
    expect(fromPrecompiled(json, edited, BUNDLED_FINGERPRINTS)).toBeNull();
    expect(fromPrecompiled("{not json", text, BUNDLED_FINGERPRINTS)).toBeNull();
    expect(fromPrecompiled("", text, BUNDLED_FINGERPRINTS)).toBeNull();
  });

  test("reading it through the build loads no CSV parser (the precompiled copy is current)", () => {
    const load = join(ROOT, "dist", "fingerprints", "load.js");
    // ES module imports are seen by a resolve hook, CommonJS requires in require.cache.
    const hook = `export function initialize({ port }) { globalThis.port = port; }
export async function resolve(specifier, context, next) { if (specifier.includes("csv-parse")) globalThis.port.postMessage(specifier); return next(specifier, context); }`;
    const script = `import { createRequire, register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const imported = [];
port1.on("message", (s) => imported.push(s));
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
const m = await import(${JSON.stringify(pathToFileURL(load).href)});
const r = await m.loadFingerprints("bundled");
await new Promise((done) => setTimeout(done, 100));
port1.close();
const required = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("csv-parse"));
console.log(JSON.stringify({ count: r.fingerprints.length, csvParse: [...imported, ...required] }));`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({ count: bundled.length, csvParse: [] });
  });

  test("the bundled set and OONI's load together", async () => {
    const both = await loadFingerprints(`bundled,ooni:${SAMPLE_OONI_DIR}`);
    expect(both.fingerprints.length).toBe(bundled.length + 6 + 3);
    expect(both.warnings).toEqual([]);
  });
});

describe("loadFingerprints errors", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "reachprobe-fp-"));
    await mkdir(join(dir, "empty"));
    await writeFile(join(dir, "bad.csv"), csv("ok,nat,,body,contains,x,5,,,,", "bad,nat,,body,regexp,(,5,,,,", "worse,nowhere,,body,contains,x,5,,,,"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a missing file names the path", async () => {
    const path = join(dir, "missing.csv");
    await expect(loadFingerprints(path)).rejects.toThrow(`cannot read fingerprint file ${path}: no such file`);
    await expect(loadFingerprints(`bundled,${path}`)).rejects.toMatchObject({ code: "E_FINGERPRINTS" });
    await expect(loadFingerprints(`ooni:${path}`)).rejects.toThrow(`cannot read OONI fingerprints at ${path}: no such file or directory`);
  });

  test("an ooni: folder without OONI's files, a folder given as a file, and an empty spec are refused", async () => {
    await expect(loadFingerprints(`ooni:${join(dir, "empty")}`)).rejects.toThrow(
      `no OONI fingerprint files in ${join(dir, "empty")}: expected fingerprints_http.csv and/or fingerprints_dns.csv`,
    );
    await expect(loadFingerprints(join(dir, "empty"))).rejects.toThrow(/is a directory; give a CSV file, or ooni:/);
    await expect(loadFingerprints(" , ")).rejects.toThrow(/empty fingerprint spec/);
    await expect(loadFingerprints("ooni:")).rejects.toThrow(/needs a directory or file/);
  });

  test("in a user's file, bad rows are errors with file:line, but a regexp JS cannot compile is only a warning", async () => {
    const path = join(dir, "bad.csv");
    await expect(loadFingerprints(path)).rejects.toThrow(`${path}:4: scope: "nowhere" is not one of`);
    await writeFile(path, csv("ok,nat,,body,contains,x,5,,,,", "bad,nat,,body,regexp,(,5,,,,"));
    const loaded = await loadFingerprints(path);
    expect(loaded.fingerprints.map((f) => f.name)).toEqual(["ok"]);
    expect(loaded.warnings).toEqual([expect.stringMatching(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:3: pattern: invalid regexp "\\(".*skipped\\)$`))]);
  });
});

describe("body fingerprints match the body's bytes", () => {
  const fps = parseFingerprints(
    csv(
      "ru_rkn_text,nat,,body,contains,Доступ к ресурсу ограничен,1,RU,test,,",
      "marker_regexp,isp,,body,regexp,blocked-by-(isp|state),1,,test,,",
      "mojibake,isp,,body,contains,Access \uFFFD denied,1,,test,,",
      "mojibake_re,isp,,body,regexp,^\uFFFD+$,1,,test,,",
      "starts,isp,,body,prefix,<html><title>Stop,1,,test,,",
    ),
    "bytes.csv",
  );
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

  test("a block page between bytes that are not UTF-8 still matches, contains and regexp alike", () => {
    const body = bytes([0x89, 0xff, 0xfe, 0x00], "<h1>Доступ к ресурсу ограничен</h1> blocked-by-state", [0x80, 0xc3, 0x28]);
    const m = matchHttp(fps, { status: 200, headers: {}, bodySample: body });
    expect(names(m).sort()).toEqual(["marker_regexp", "ru_rkn_text"]);
    expect(m.find((x) => x.fingerprint.name === "ru_rkn_text")!.matched).toBe("Доступ к ресурсу ограничен");
    expect(m.find((x) => x.fingerprint.name === "marker_regexp")!.matched).toBe("blocked-by-state");
  });

  test("a U+FFFD of a text view matches nothing: a stray byte is not the character U+FFFD", () => {
    const body = bytes("Access ", [0xff], " denied");
    // The old text view of these bytes did match the mojibake fingerprint.
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: body.toString("utf8") }))).toEqual(["mojibake"]);
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: body }))).toEqual([]);
    // Nor does a body of bytes that are all invalid read as a run of U+FFFD.
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: Buffer.from([0xff, 0xfe, 0xfd]) }))).toEqual([]);
    // A page that really holds the character (EF BF BD) matches it.
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: Buffer.from("Access \uFFFD denied", "utf8") }))).toEqual(["mojibake"]);
  });

  test("a pattern is never matched across bytes that are not UTF-8, and prefix compares the first bytes", () => {
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: bytes("blocked-by-", [0xff], "state") }))).toEqual([]);
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: bytes("<html><title>Stop", [0xff]) }))).toEqual(["starts"]);
    expect(names(matchHttp(fps, { status: 200, headers: {}, bodySample: bytes([0xff], "<html><title>Stop") }))).toEqual([]);
  });

  test("a stored binary sample reaches the verdict as bytes: the block page is found among them", () => {
    const body = bytes([0xff, 0xfe], "<h1>Доступ к ресурсу ограничен</h1>", [0x80]);
    const obs = [dnsObs("news.example", ["203.0.113.9"]), tcpObs("203.0.113.9:80"), httpObs("203.0.113.9:80", "http://news.example/", { status: 200, headers: {}, bodyLength: body.length, ...encodeBodySample(body) })];
    const v = analyzeTarget(parseTarget("http://news.example/"), obs, { publicRanges: parsePublicRanges("203.0.113.0/24"), fingerprints: fps, networkDown: null }, null);
    expect({ status: v.status, layer: v.layer }).toEqual({ status: "blocked", layer: "http" });
    expect(v.evidence.join(" ")).toContain("fingerprint ru_rkn_text");
  });
});
