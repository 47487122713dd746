/** Filters as people type them (src/cli/name-match.ts): any case, and did-you-mean when nothing matches. */
import { describe, expect, it } from "vitest";
import { closestNames, matchName } from "../../src/cli/name-match.js";

const services = ["WeChat", "WhatsApp", "Telegram", "LINE"];

describe("matchName", () => {
  it("takes the name as stored, or the one equal to it but for case", () => {
    expect(matchName("--service", "WeChat", services, "service")).toBe("WeChat");
    expect(matchName("--service", "wechat", services, "service")).toBe("WeChat");
    expect(matchName("--service", "line", services, "service")).toBe("LINE");
  });

  it("suggests the closest names, and lists them all when none is close", () => {
    expect(() => matchName("--service", "wechta", services, "service")).toThrow('--service: no service "wechta" in the database; did you mean "WeChat"?');
    expect(() => matchName("--service", "Signal", services, "service")).toThrow('--service: no service "Signal" in the database (known: WeChat, WhatsApp, Telegram, LINE)');
    expect(() => matchName("--network", "x", [], "network")).toThrow("(the database has none yet)");
  });

  it("refuses a name that matches two but for case, and shows keys as people read them", () => {
    expect(() => matchName("--network", "lab", ["Lab", "LAB"], "network")).toThrow('--network "lab" matches "Lab" and "LAB" but for case');
    expect(() => matchName("--network", "unlabeled", [""], "network", (k) => (k === "" ? "(unlabelled)" : k))).toThrow('did you mean "(unlabelled)"?');
  });

  it("finds near names by edits or containment", () => {
    expect(closestNames("whatsap", services)).toEqual(["WhatsApp"]);
    expect(closestNames("gram", services)).toEqual(["Telegram"]);
    expect(closestNames("zzzzzz", services)).toEqual([]);
  });
});
