/** The probe's own addresses are scrubbed from free text, never from the addresses a measurement is about. */
import { describe, expect, it } from "vitest";
import { scrubOwnAddresses } from "../../src/runner/privacy.js";

describe("scrubOwnAddresses", () => {
  // Partial records on purpose (not tests/helpers/observations.ts): scrubbing walks any JSON, whatever its shape.
  const own = ["198.51.100.7", "2001:db8::7"];

  it("removes the probe's address from page text, headers and notes", () => {
    const obs = { step: "http", bodySample: "<p>You are visiting from 198.51.100.7 (IPv6 2001:db8::7)</p>", headers: { "x-client": "198.51.100.7" }, note: "seen 198.51.100.7" };
    expect(scrubOwnAddresses(obs, own)).toEqual({
      step: "http",
      bodySample: "<p>You are visiting from [probe address] (IPv6 [probe address])</p>",
      headers: { "x-client": "[probe address]" },
      note: "seen [probe address]",
    });
  });

  it("removes it from a body sample kept as base64 (bytes that are not UTF-8), leaving the other bytes as they were", () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(" from 198.51.100.7 "), Buffer.from([0x80])]);
    const out = scrubOwnAddresses({ step: "http", bodySample: bytes.toString("base64"), bodySampleEncoding: "base64" }, own);
    expect(Buffer.from(out.bodySample, "base64")).toEqual(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(" from [probe address] "), Buffer.from([0x80])]));
  });

  it("leaves longer numbers alone: 198.51.100.70 and 1198.51.100.7 are someone else", () => {
    expect(scrubOwnAddresses({ t: "198.51.100.70 and 1198.51.100.7" }, own)).toEqual({ t: "198.51.100.70 and 1198.51.100.7" });
  });

  it("keeps the addresses a measurement is about, which the analysis reads", () => {
    const dns = { step: "dns", resolver: "198.51.100.7:53", addresses: ["198.51.100.7"], responses: [{ addresses: ["198.51.100.7"] }] };
    const tcp = { step: "tcp", address: "198.51.100.7:443" };
    const control = { response: { dns: { addrs: ["198.51.100.7"] } } };
    expect(scrubOwnAddresses([dns, tcp, control], own)).toEqual([dns, tcp, control]);
  });

  it("returns the value as it is when there is nothing to scrub", () => {
    const v = { a: "198.51.100.7" };
    expect(scrubOwnAddresses(v, [])).toBe(v);
  });

  it("hands back the measurement itself when nothing in it names the probe, and copies only what changed", () => {
    const clean = { step: "http", headers: { server: "nginx" }, chain: [{ url: "http://example.com/" }] };
    expect(scrubOwnAddresses(clean, own)).toBe(clean);
    const quoted = { step: "http", headers: { server: "nginx" }, notes: ["ok", "from 198.51.100.7"] };
    const out = scrubOwnAddresses(quoted, own);
    expect(out).toEqual({ step: "http", headers: { server: "nginx" }, notes: ["ok", "from [probe address]"] });
    expect(out.headers).toBe(quoted.headers);
    expect(quoted.notes[1]).toBe("from 198.51.100.7");
  });

  it("scrubs with each call's own addresses, not the previous call's", () => {
    expect(scrubOwnAddresses({ t: "198.51.100.7 203.0.113.9" }, ["203.0.113.9"])).toEqual({ t: "198.51.100.7 [probe address]" });
    expect(scrubOwnAddresses({ t: "198.51.100.7 203.0.113.9" }, own)).toEqual({ t: "[probe address] 203.0.113.9" });
  });
});
