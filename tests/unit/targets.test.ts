import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TargetError } from "../../src/targets/errors.js";
import {
  detectFormat,
  listBundled,
  loadBundledList,
  loadTargetFile,
  parseTargetList,
} from "../../src/targets/load.js";
import { parseTarget } from "../../src/targets/parse.js";

/** Runs fn and returns the TargetError it throws (failing the test if it throws anything else). */
function targetError(fn: () => unknown): TargetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe("E_TARGET");
    return err as TargetError;
  }
  throw new Error("expected a TargetError, nothing was thrown");
}

async function targetErrorAsync(p: Promise<unknown>): Promise<TargetError> {
  const err = await p.then(
    () => new Error("expected a TargetError, the promise resolved"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TargetError);
  return err as TargetError;
}

describe("parseTarget: valid inputs", () => {
  // [text, canonical input, host, port, path, isIp]
  const cases: [string, string, string, number, string, boolean][] = [
    ["weixin.qq.com", "https://weixin.qq.com/", "weixin.qq.com", 443, "/", false],
    ["  WeiXin.QQ.com  ", "https://weixin.qq.com/", "weixin.qq.com", 443, "/", false],
    ["https://weixin.qq.com", "https://weixin.qq.com/", "weixin.qq.com", 443, "/", false],
    ["https://weixin.qq.com:443/", "https://weixin.qq.com/", "weixin.qq.com", 443, "/", false],
    ["http://weixin.qq.com:80", "http://weixin.qq.com/", "weixin.qq.com", 80, "/", false],
    ["HTTPS://Example.ORG:8443/A/b?c=D", "https://example.org:8443/A/b?c=D", "example.org", 8443, "/A/b?c=D", false],
    ["https://example.org?q=1", "https://example.org/?q=1", "example.org", 443, "/?q=1", false],
    ["http://example.org:443/", "http://example.org:443/", "example.org", 443, "/", false],
    ["example.org/news/today", "https://example.org/news/today", "example.org", 443, "/news/today", false],
    ["https://example.org/café", "https://example.org/caf%C3%A9", "example.org", 443, "/caf%C3%A9", false],
    ["_srv.example.org", "https://_srv.example.org/", "_srv.example.org", 443, "/", false],
    ["tcp://long.weixin.qq.com:8080", "tcp://long.weixin.qq.com:8080", "long.weixin.qq.com", 8080, "/", false],
    ["TCP://Long.Weixin.QQ.com:80/", "tcp://long.weixin.qq.com:80", "long.weixin.qq.com", 80, "/", false],
    ["tcp://192.0.2.1:443", "tcp://192.0.2.1:443", "192.0.2.1", 443, "/", true],
    ["192.0.2.1", "https://192.0.2.1/", "192.0.2.1", 443, "/", true],
    ["https://[2001:DB8:0::1]:8443/x", "https://[2001:db8::1]:8443/x", "2001:db8::1", 8443, "/x", true],
    ["tcp://[2001:db8::1]:80", "tcp://[2001:db8::1]:80", "2001:db8::1", 80, "/", true],
    ["2001:db8::1", "https://[2001:db8::1]/", "2001:db8::1", 443, "/", true],
    ["[::1]", "https://[::1]/", "::1", 443, "/", true],
  ];
  it.each(cases)("%j -> %s", (text, input, host, port, path, isIp) => {
    const t = parseTarget(text);
    expect(t).toEqual({ input, scheme: input.slice(0, input.indexOf(":")), host, port, path, isIp, service: "(none)" });
  });

  it("carries the service and origin it was given", () => {
    const t = parseTarget("weixin.qq.com", "WeChat", "argv");
    expect(t.service).toBe("WeChat");
    expect(t.origin).toBe("argv");
    expect("origin" in parseTarget("weixin.qq.com")).toBe(false);
  });

  it("gives one canonical input for every spelling of one endpoint", () => {
    const spellings = ["weixin.qq.com", "WEIXIN.qq.com", "https://weixin.qq.com", "https://weixin.qq.com:443/"];
    expect(new Set(spellings.map((s) => parseTarget(s).input))).toEqual(new Set(["https://weixin.qq.com/"]));
  });
});

describe("parseTarget: invalid inputs, with the message a user sees", () => {
  const cases: [string, string][] = [
    ["tcp://x", '"tcp://x" needs a port (tcp://host:port)'],
    ["tcp://x.org:8080/path", '"tcp://x.org:8080/path" has a path; a tcp target is only tcp://host:port'],
    ["ftp://x.org/", '"ftp://x.org/" has an unknown scheme "ftp" (use https://, http:// or tcp://)'],
    ["://x.org", '"://x.org" has no scheme before "://" (use https://, http:// or tcp://)'],
    ["https:x.org", '"https:x.org" needs "//" after "https:"'],
    ["localhost:abc", '"localhost:abc" has an unknown scheme "localhost" (use https://, http:// or tcp://)'],
    ["https://", '"https://" has no host'],
    ["https:///path", '"https:///path" has no host'],
    ["https://:443/", '"https://:443/" has no host'],
    ["https://x.org:0/", '"https://x.org:0/" has a bad port "0" (must be a number from 1 to 65535)'],
    ["https://x.org:65536/", '"https://x.org:65536/" has a bad port "65536" (must be a number from 1 to 65535)'],
    ["tcp://x.org:http", '"tcp://x.org:http" has a bad port "http" (must be a number from 1 to 65535)'],
    ["https://x.org:/", '"https://x.org:/" has a bad port "" (must be a number from 1 to 65535)'],
    ["x.org:abc", '"x.org:abc" has a bad port "abc" (must be a number from 1 to 65535)'],
    [
      "x.org:8080",
      '"x.org:8080" is ambiguous: write https://x.org:8080/ for a web target or tcp://x.org:8080 for a TCP connect',
    ],
    [
      "[::1]:443",
      '"[::1]:443" is ambiguous: write https://[::1]:443/ for a web target or tcp://[::1]:443 for a TCP connect',
    ],
    ["https://user:pw@x.org/", '"https://user:pw@x.org/" has a user name or password ("...@"); remove it'],
    ["https://x.org/a b", '"https://x.org/a b" contains whitespace (one target per entry)'],
    ["x.org\ty.org", '"x.org\\ty.org" contains whitespace (one target per entry)'],
    ["https://x.org/#top", '"https://x.org/#top" has a fragment ("#..."); remove it, it is never sent to the server'],
    ["http:\\\\x.org", '"http:\\\\\\\\x.org" contains a backslash; use "/"'],
    [
      "https://ex!ample.org/",
      '"https://ex!ample.org/" has an invalid host "ex!ample.org" (only letters, digits, "-", "_" and "." are allowed)',
    ],
    ["https://-x.org/", '"https://-x.org/" has an invalid host "-x.org" (a label starts or ends with "-")'],
    ["https://a..b/", '"https://a..b/" has an invalid host "a..b" (empty label: no leading, trailing or double dots)'],
    ["weixin.qq.com.", '"weixin.qq.com." has an invalid host "weixin.qq.com." (empty label: no leading, trailing or double dots)'],
    ["example.123", '"example.123" has an invalid host "example.123" (the last label is all digits)'],
    ["https://bücher․de/", '"https://bücher․de/" has an invalid internationalised host "bücher․de"'],
    ["1.2.3", '"1.2.3" has an invalid IPv4 address "1.2.3"'],
    ["tcp://256.1.1.1:80", '"tcp://256.1.1.1:80" has an invalid IPv4 address "256.1.1.1"'],
    ["https://2001:db8::1/", '"https://2001:db8::1/" has an IPv6 address without brackets (write [address])'],
    ["https://[fe80::1%25eth0]/", '"https://[fe80::1%25eth0]/" has an invalid IPv6 address "fe80::1%25eth0"'],
    ["https://[::1/", '"https://[::1/" has an invalid IPv6 address "::1"'],
    ["https://[::1]x/", '"https://[::1]x/" has unexpected text "x" after the IPv6 address'],
    ["", '"" is empty'],
  ];
  it.each(cases)("%j", (text, message) => {
    const err = targetError(() => parseTarget(text, "WeChat", "targets.txt:7"));
    expect(err.message).toBe(`targets.txt:7: ${message}`);
    expect(err.problems).toEqual([err.message]);
  });

  it("leaves the origin out when none is given", () => {
    expect(targetError(() => parseTarget("tcp://x")).message).toBe('"tcp://x" needs a port (tcp://host:port)');
  });
});

describe("target files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "reachprobe-targets-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it("reads a text file: comments, blank lines, service directives, trailing comments, CRLF", async () => {
    const path = await write(
      "ok.txt",
      [
        "# my targets",
        "example.org",
        "",
        "# service: WeChat",
        "https://weixin.qq.com/   # the web front",
        "  tcp://long.weixin.qq.com:8080",
        "#service:",
        "http://example.net/",
      ].join("\r\n"),
    );
    const list = await loadTargetFile(path);
    expect(list.targets.map((t) => [t.input, t.service, t.origin])).toEqual([
      // No "(none)" in a report's headline: a target whose file names no service is the file's.
      ["https://example.org/", basename(path), `${path}:2`],
      ["https://weixin.qq.com/", "WeChat", `${path}:5`],
      ["tcp://long.weixin.qq.com:8080", "WeChat", `${path}:6`],
      ["http://example.net/", basename(path), `${path}:8`],
    ]);
    expect(list.canary).toBeUndefined();
  });

  it("reports every bad line of a text file at once, duplicates naming both lines", async () => {
    const text = ["weixin.qq.com", "tcp://x", "ftp://y.org", "https://WEIXIN.qq.com:443/", "ok.example.org"].join("\n");
    const err = targetError(() => parseTargetList(text, "targets.txt", "text"));
    expect(err.problems).toEqual([
      'targets.txt:2: "tcp://x" needs a port (tcp://host:port)',
      'targets.txt:3: "ftp://y.org" has an unknown scheme "ftp" (use https://, http:// or tcp://)',
      'targets.txt:4: duplicate target "https://weixin.qq.com/" (first at targets.txt:1)',
    ]);
    expect(err.message).toBe(`targets.txt: 3 problems, no targets loaded:\n  ${err.problems.join("\n  ")}`);
  });

  it("refuses a text file with no targets", () => {
    const err = targetError(() => parseTargetList("# nothing\n\n", "empty.txt", "text"));
    expect(err.problems).toEqual(['empty.txt: no targets (write one per line; "#" starts a comment)']);
  });

  it("reads a JSON list with sources, canary, object and string endpoints", async () => {
    const path = await write(
      "ok.json",
      JSON.stringify(
        {
          name: "demo",
          description: "a demo list",
          sources: [{ title: "A source", url: "https://example.org/about", note: "why" }],
          canary: "https://example.com/",
          endpoints: [
            { target: "https://weixin.qq.com/", service: "WeChat", role: "web front", source: 0 },
            { target: "tcp://long.weixin.qq.com:443", service: "WeChat", source: "seen in a capture" },
            "example.net",
          ],
        },
        null,
        2,
      ),
    );
    const list = await loadTargetFile(path);
    expect(list.name).toBe("demo");
    expect(list.description).toBe("a demo list");
    expect(list.canary?.input).toBe("https://example.com/");
    expect(list.targets.map((t) => [t.input, t.service, t.origin])).toEqual([
      ["https://weixin.qq.com/", "WeChat", `${path}:14`],
      ["tcp://long.weixin.qq.com:443", "WeChat", `${path}:20`],
      ["https://example.net/", "ok.json", `${path}:24`],
    ]);
  });

  it("reads a top-level JSON array as the endpoints", () => {
    const list = parseTargetList('["weixin.qq.com", {"target": "tcp://1.2.3.4:80"}]', "a.json", "json");
    expect(list.targets.map((t) => t.input)).toEqual(["https://weixin.qq.com/", "tcp://1.2.3.4:80"]);
  });

  it("names the line of unknown keys, wrong types, bad targets and duplicates in JSON", () => {
    const text = [
      "{", // 1
      '  "name": "demo",', // 2
      '  "colour": "blue",', // 3
      '  "sources": [{"title": "t", "url": "ftp://x"}],', // 4
      '  "endpoints": [', // 5
      '    {"target": "https://weixin.qq.com/", "servce": "WeChat"},', // 6
      '    {"target": "tcp://x", "service": "WeChat"},', // 7
      "    {", // 8
      '      "target": "example.org",', // 9
      '      "service": 7,', // 10
      '      "source": 3', // 11
      "    },", // 12
      '    {"target": "https://weixin.qq.com:443"},', // 13
      "    42", // 14
      "  ]", // 15
      "}", // 16
    ].join("\n");
    const err = targetError(() => parseTargetList(text, "list.json", "json"));
    expect(err.problems).toEqual([
      'list.json:3: unknown key "colour" in the list (allowed: name, description, sources, canary, include, endpoints)',
      "list.json:4: sources[0].url must be an http(s) URL",
      'list.json:6: unknown key "servce" in endpoints[0] (allowed: target, service, role, source)',
      "list.json:10: endpoints[2].service must be a non-empty string, not a number",
      'list.json:11: endpoints[2].source must be an index into "sources" (0 to 0) or a note, not 3',
      "list.json:14: endpoints[4] must be a target string or an object, not a number",
      'list.json:7: "tcp://x" needs a port (tcp://host:port)',
      'list.json:13: duplicate target "https://weixin.qq.com/" (first at list.json:6)',
    ]);
  });

  it("reports missing endpoints, a missing target and repeated keys", () => {
    expect(targetError(() => parseTargetList('{"name": "x"}', "a.json", "json")).problems).toEqual([
      'a.json:1: missing "endpoints" (the list of targets to measure)',
    ]);
    expect(targetError(() => parseTargetList('{"endpoints": [\n  {"role": "r"}\n]}', "b.json", "json")).problems).toEqual([
      "b.json:2: endpoints[0].target is missing (a string)",
    ]);
    const text = '{\n  "endpoints": ["a.org"],\n  "endpoints": ["b.org"]\n}';
    expect(targetError(() => parseTargetList(text, "c.json", "json")).problems).toEqual([
      'c.json:3: key "endpoints" repeats (first at line 2)',
    ]);
    expect(targetError(() => parseTargetList("[]", "d.json", "json")).problems).toEqual([
      "d.json:1: the list has no endpoints",
    ]);
  });

  it.each([
    ["trailing comma", '{\n  "endpoints": [\n    "a.org",\n  ]\n}', "bad.json:4:3: invalid JSON: Unexpected token ']'"],
    ["missing comma", '{\n  "name": "x"\n  "endpoints": []\n}', "bad.json:3:3: invalid JSON: Expected ',' or '}' after property value"],
    ["cut short", '{\n  "endpoints": [\n', "bad.json:3:1: invalid JSON: Unexpected end of JSON input"],
  ])("reports a JSON syntax error's line and column (%s)", (_name, text, message) => {
    const err = targetError(() => parseTargetList(text, "bad.json", "json"));
    expect(err.message).toBe(message);
  });

  it("detects the format from the extension, then from the first character", () => {
    expect(detectFormat("list.JSON", "x")).toBe("json");
    expect(detectFormat("targets", '  ["a.org"]')).toBe("json");
    expect(detectFormat("targets", "\uFEFF{}")).toBe("json");
    expect(detectFormat("targets", "a.org")).toBe("text");
    expect(detectFormat("targets.txt", "[::1]")).toBe("text");
  });

  it("says so when the file cannot be read", async () => {
    const path = join(dir, "missing.txt");
    const err = await targetErrorAsync(loadTargetFile(path));
    expect(err.message).toBe(`cannot read target file ${path}: no such file`);
  });
});

describe("bundled lists", () => {
  it("lists wechat with its description and service", async () => {
    const lists = await listBundled();
    const wechat = lists.find((l) => l.name === "wechat");
    expect(wechat).toBeDefined();
    expect(wechat?.services).toEqual(["WeChat"]);
    expect(wechat?.description).toMatch(/WeChat/);
  });

  it("refuses an unknown list, naming the available ones", async () => {
    const err = await targetErrorAsync(loadBundledList("../package"));
    expect(err.message).toMatch(/^unknown list "\.\.\/package" \(available: .*\bwechat\b.*\)$/);
  });

  it("wechat.json covers the web front, client, media and pay hosts on the right ports", async () => {
    const list = await loadBundledList("wechat");
    expect(list.name).toBe("wechat");
    expect(list.canary?.scheme).toBe("https");
    const inputs = new Set(list.targets.map((t) => t.input));
    const web = ["weixin.qq.com", "wx.qq.com", "web.wechat.com", "www.wechat.com"];
    const media = ["wx.qlogo.cn", "res.wx.qq.com", "pay.weixin.qq.com"];
    const client = [
      "long.weixin.qq.com",
      "short.weixin.qq.com",
      "dns.weixin.qq.com",
      "sglong.wechat.com",
      "sgshort.wechat.com",
    ];
    const missing = [
      ...[...web, ...media].map((h) => `https://${h}/`),
      ...client.flatMap((h) => [80, 443, 8080].map((p) => `tcp://${h}:${p}`)),
    ].filter((i) => !inputs.has(i));
    expect(missing, "endpoints missing from wechat.json").toEqual([]);
    for (const t of list.targets) {
      expect(t.service, t.input).toBe("WeChat");
      expect(t.origin, t.input).toBe("list:wechat");
    }
  });

  it("every endpoint of every bundled list cites a public source (a URL), none a bare note", async () => {
    // Issue 12: the endpoints whose only source was a note (szshort, szextshort.weixin.qq.com,
    // mmsns.qpic.cn) were dropped; pay.weixin.qq.com cites Citizen Lab's capture.
    const dir = join(fileURLToPath(new URL("../../", import.meta.url)), "targets");
    const unsourced: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const doc = JSON.parse(readFileSync(join(dir, file), "utf8")) as { sources?: Array<{ url: string }>; endpoints?: Array<{ target: string; source?: unknown }> };
      for (const e of doc.endpoints ?? []) {
        const s = typeof e.source === "number" ? doc.sources?.[e.source] : undefined;
        if (!s || !/^https:\/\//.test(s.url)) unsourced.push(`${file}: ${e.target}`);
      }
    }
    expect(unsourced).toEqual([]);
    const wechat = JSON.parse(readFileSync(join(dir, "wechat.json"), "utf8")) as { endpoints: Array<{ target: string }> };
    expect(wechat.endpoints.map((e) => new URL(e.target).hostname).filter((h) => /^(szshort|szextshort)\.weixin\.qq\.com$|^mmsns\.qpic\.cn$/.test(h))).toEqual([]);
  });
});

describe("internationalised names (OONI's idnaWithoutCensorship*)", () => {
  it.each([
    ["http://яндекс.рф/", "http://xn--d1acpjx3f.xn--p1ai/"],
    ["http://Яндекс.рф/", "http://xn--d1acpjx3f.xn--p1ai/"],
    ["яндекс.рф/путь", "https://xn--d1acpjx3f.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"],
    ["https://xn--d1acpjx3f.xn--p1ai/", "https://xn--d1acpjx3f.xn--p1ai/"],
  ])("takes %j as a browser does: measured as %j, shown as яндекс.рф", (text, input) => {
    const t = parseTarget(text);
    expect(t).toMatchObject({ input, host: "xn--d1acpjx3f.xn--p1ai", unicodeHost: "яндекс.рф", isIp: false });
  });

  it("keeps no Unicode form for an ASCII name", () => {
    expect(parseTarget("https://example.org/").unicodeHost).toBeUndefined();
  });
});
