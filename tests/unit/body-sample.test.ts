/**
 * A body sample's bytes: held exactly by the observation's text fields (UTF-8, or base64 when
 * the bytes are not UTF-8), and read back by the analysis without encoding the text again
 * while the text is the one the bytes gave, and from the text once it is not.
 */
import { describe, expect, it } from "vitest";
import { analysisBodySample, bodySampleBytes, setBodySample, type BodySampleFields } from "../../src/probes/body-sample.js";

const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x41, 0x42]);

describe("body samples", () => {
  it("keep every byte, in text or base64, and give the bytes back", () => {
    const text: BodySampleFields = {};
    setBodySample(text, Buffer.from("<title>Доступ ограничен</title>"));
    expect(text).toEqual({ bodySample: "<title>Доступ ограничен</title>" });
    const bin: BodySampleFields = {};
    setBodySample(bin, BINARY);
    expect(bin).toEqual({ bodySample: BINARY.toString("base64"), bodySampleEncoding: "base64" });
    expect(bodySampleBytes(bin).equals(BINARY)).toBe(true);
    // The same sample read from a stored (parsed) copy: decoded from its text.
    expect(bodySampleBytes(JSON.parse(JSON.stringify(bin)) as BodySampleFields).equals(BINARY)).toBe(true);
  });

  it("read from the text again once the text changed (a scrubbed copy, an edit)", () => {
    const o: BodySampleFields = {};
    setBodySample(o, Buffer.from("your address is 203.0.113.7"));
    o.bodySample = "your address is [scrubbed]";
    expect(bodySampleBytes(o).toString("utf8")).toBe("your address is [scrubbed]");
  });

  it("are written into the analysis table as their text, each read its own view", () => {
    const o: BodySampleFields = {};
    setBodySample(o, Buffer.from("<p>blocked</p>"));
    const a = analysisBodySample(o);
    const b = analysisBodySample(o);
    expect(JSON.stringify({ a, b })).toBe('{"a":"<p>blocked</p>","b":"<p>blocked</p>"}');
    expect(a).not.toBe(b);
  });
});
