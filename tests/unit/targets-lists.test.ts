/**
 * The bundled lists in targets/: each loads, names one service per service list, gives every
 * endpoint a role and a source, has a canary, and repeats no endpoint (not even across the
 * lists that `ru-2017`, `cn-2017` and `all` include). Lists are only read here, never run.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TargetError } from "../../src/targets/errors.js";
import {
  BUNDLED_DIR,
  bundledListNames,
  listBundled,
  loadBundledList,
  loadBundledListDetails,
  parseTargetList,
} from "../../src/targets/load.js";

/** Service lists and the one service each names. */
const SERVICE_LISTS: Record<string, string> = {
  wechat: "WeChat",
  linkedin: "LinkedIn",
  line: "LINE",
  bbm: "BlackBerry Messenger",
  telegram: "Telegram",
  whatsapp: "WhatsApp",
  facebook: "Facebook",
  google: "Google",
  youtube: "YouTube",
  twitter: "Twitter",
  instagram: "Instagram",
  snapchat: "Snapchat",
  flickr: "Flickr",
  dropbox: "Dropbox",
  icloud: "iCloud",
  pinterest: "Pinterest",
  nytimes: "The New York Times",
};

/** Lists made of other lists, and the lists they include. */
const COMBINED: Record<string, string[]> = {
  "ru-2017": ["linkedin", "line", "bbm", "wechat", "telegram"],
  "cn-2017": ["facebook", "google", "youtube", "twitter", "instagram", "flickr", "dropbox", "pinterest", "nytimes", "whatsapp"],
  all: ["wechat", "linkedin", "line", "bbm", "telegram", "facebook", "google", "youtube", "twitter", "instagram", "flickr", "dropbox", "pinterest", "nytimes", "whatsapp", "snapchat", "icloud"],
};

const ALL_NAMES = [...Object.keys(SERVICE_LISTS), ...Object.keys(COMBINED)].sort();

function targetError(fn: () => unknown): TargetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError);
    return err as TargetError;
  }
  throw new Error("expected a TargetError, nothing was thrown");
}

describe("bundled lists: the set", () => {
  it("has exactly the service and combined lists, one file each", async () => {
    expect(await bundledListNames()).toEqual(ALL_NAMES);
    expect(readdirSync(BUNDLED_DIR).filter((f) => !f.endsWith(".json")), "non-JSON files in targets/").toEqual([]);
  });

  it("includes every service list in `all`", () => {
    expect([...(COMBINED.all ?? [])].sort()).toEqual(Object.keys(SERVICE_LISTS).sort());
  });

  it("summarises each list with its services and endpoint count", async () => {
    const info = await listBundled();
    expect(info.map((l) => l.name)).toEqual(ALL_NAMES);
    for (const l of info) {
      expect(l.description, l.name).not.toBe("");
      if (l.name in SERVICE_LISTS) {
        expect(l.services, l.name).toEqual([SERVICE_LISTS[l.name]]);
        expect(l.include, l.name).toEqual([]);
      } else {
        expect(l.include, l.name).toEqual(COMBINED[l.name]);
        expect(l.services, l.name).toEqual(COMBINED[l.name]?.map((n) => SERVICE_LISTS[n]).sort());
      }
    }
  });
});

describe.each(Object.keys(SERVICE_LISTS))("bundled service list %s", (name) => {
  const file = join(BUNDLED_DIR, `${name}.json`);
  const raw = JSON.parse(readFileSync(file, "utf8")) as {
    name: string;
    sources?: Array<{ title: string; url: string; note?: string }>;
    endpoints: Array<Record<string, unknown>>;
  };

  it("loads, with its name, a canary and every endpoint under its one service", async () => {
    const list = await loadBundledListDetails(name);
    expect(raw.name).toBe(name);
    expect(list.name).toBe(name);
    expect(list.canary?.scheme, "canary").toBe("https");
    expect(list.targets.map((t) => t.service).filter((s) => s !== SERVICE_LISTS[name])).toEqual([]);
    expect(list.targets.every((t) => t.origin === `list:${name}`)).toBe(true);
  });

  it("has between 5 and 25 endpoints (WeChat's own list excepted), none repeated", async () => {
    const list = await loadBundledList(name);
    if (name !== "wechat") {
      expect(list.targets.length).toBeGreaterThanOrEqual(5);
      expect(list.targets.length).toBeLessThanOrEqual(25);
    }
    expect(new Set(list.targets.map((t) => t.input)).size).toBe(list.targets.length);
  });

  it("gives every endpoint a service, a role and a source: a sources entry or a note", () => {
    const sources = raw.sources ?? [];
    const bad = raw.endpoints.filter((e) => {
      const src = e.source;
      const sourceOk =
        (typeof src === "number" && Number.isInteger(src) && sources[src] !== undefined) ||
        (typeof src === "string" && src.trim().length > 10);
      return typeof e.service !== "string" || typeof e.role !== "string" || e.role === "" || !sourceOk;
    });
    expect(bad, "endpoints without service, role or a resolvable source").toEqual([]);
    for (const s of sources) {
      expect(s.url, s.title).toMatch(/^https?:\/\/[^\s/]+\.[a-z]+/);
      expect(s.note ?? "", `${s.title}: a note says what the source shows`).not.toBe("");
    }
  });
});

describe("bundled lists: what the endpoints are", () => {
  it("telegram probes the five data centres on 80 and 443 and the web fronts named by OONI and the 2018 block", async () => {
    const inputs = new Set((await loadBundledList("telegram")).targets.map((t) => t.input));
    const dcs = ["149.154.175.50", "149.154.167.51", "149.154.175.100", "149.154.167.91", "149.154.171.5"];
    const missing = [
      ...dcs.flatMap((ip) => [`tcp://${ip}:80`, `tcp://${ip}:443`]),
      "https://web.telegram.org/",
      "https://t.me/",
      "https://telegram.org/",
      "https://core.telegram.org/",
    ].filter((i) => !inputs.has(i));
    expect(missing).toEqual([]);
  });

  it("whatsapp probes chat endpoints on 443 and 5222, the registration service and WhatsApp Web", async () => {
    const inputs = new Set((await loadBundledList("whatsapp")).targets.map((t) => t.input));
    const missing = [
      "tcp://e1.whatsapp.net:443",
      "tcp://e1.whatsapp.net:5222",
      "https://v.whatsapp.net/v2/register",
      "https://web.whatsapp.com/",
      "http://web.whatsapp.com/",
    ].filter((i) => !inputs.has(i));
    expect(missing).toEqual([]);
  });

  it("every service list probes its web front over HTTPS", async () => {
    const fronts: Record<string, string> = {
      linkedin: "https://www.linkedin.com/",
      line: "https://line.me/",
      bbm: "https://www.bbm.com/",
      facebook: "https://www.facebook.com/",
      google: "https://www.google.com/",
      youtube: "https://www.youtube.com/",
      twitter: "https://twitter.com/",
      instagram: "https://www.instagram.com/",
      snapchat: "https://www.snapchat.com/",
      flickr: "https://www.flickr.com/",
      dropbox: "https://www.dropbox.com/",
      icloud: "https://www.icloud.com/",
      pinterest: "https://www.pinterest.com/",
      nytimes: "https://www.nytimes.com/",
    };
    for (const [name, front] of Object.entries(fronts)) {
      const list = await loadBundledList(name);
      expect(list.targets.map((t) => t.input), name).toContain(front);
    }
  });
});

describe.each(Object.entries(COMBINED))("combined list %s", (name, included) => {
  it("is exactly the endpoints of the lists it includes, in order, with their roles and sources", async () => {
    const list = await loadBundledListDetails(name);
    const parts = await Promise.all(included.map((n) => loadBundledListDetails(n)));
    expect(list.include).toEqual(included);
    expect(list.targets.map((t) => t.input)).toEqual(parts.flatMap((p) => p.targets.map((t) => t.input)));
    expect(list.targets.every((t) => t.origin === `list:${name}`)).toBe(true);
    expect(list.endpoints.map((e) => [e.role, e.source])).toEqual(parts.flatMap((p) => p.endpoints.map((e) => [e.role, e.source])));
    expect(list.canary?.input).toBe("https://www.example.com/");
    for (const p of parts) for (const s of p.sources) expect(list.sources, `${name} keeps ${s.title}`).toContainEqual(s);
  });
});

describe("include", () => {
  it("adds a bundled list's endpoints before the list's own", () => {
    const list = parseTargetList('{"include": ["bbm"], "endpoints": ["example.org"]}', "mine.json", "json");
    expect(list.targets.at(-1)?.input).toBe("https://example.org/");
    expect(list.targets[0]?.input).toBe("https://www.bbm.com/");
    expect(list.targets[0]?.origin).toMatch(/^targets\/bbm\.json:\d+$/);
    expect(list.canary?.input, "the canary of the first included list").toBe("https://www.example.com/");
  });

  it("names an unknown list, with the available ones", () => {
    const err = targetError(() => parseTargetList('{\n  "include": ["bbm", "myspace"]\n}', "mine.json", "json"));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^mine\.json:2: include "myspace" is not a bundled list \(available: all, bbm, .*telegram.*\)$/);
  });

  it("reports an endpoint that an included list already has, naming both places", () => {
    const text = '{\n  "include": ["bbm"],\n  "endpoints": [\n    "https://www.bbm.com/"\n  ]\n}';
    const err = targetError(() => parseTargetList(text, "mine.json", "json"));
    expect(err.problems).toEqual([
      expect.stringMatching(/^mine\.json:4: duplicate target "https:\/\/www\.bbm\.com\/" \(first at targets\/bbm\.json:\d+\)$/),
    ]);
  });

  it("checks its shape", () => {
    expect(targetError(() => parseTargetList('{"include": "bbm"}', "a.json", "json")).problems).toEqual([
      'a.json:1: "include" must be a non-empty array of list names, not a string',
    ]);
    expect(targetError(() => parseTargetList('{"include": []}', "a.json", "json")).problems).toEqual([
      'a.json:1: "include" must be a non-empty array of list names, not an array',
    ]);
    expect(targetError(() => parseTargetList('{"include": ["bbm", "bbm", "../x"]}', "a.json", "json")).problems).toEqual([
      'a.json:1: include[1] repeats "bbm"',
      'a.json:1: include[2] must be the name of a bundled list (such as "telegram"), not "../x"',
    ]);
  });

  it("still needs endpoints when there is nothing to include", () => {
    expect(targetError(() => parseTargetList('{"name": "x"}', "a.json", "json")).problems).toEqual([
      'a.json:1: missing "endpoints" (the list of targets to measure)',
    ]);
  });
});
