/** What the collector accepts and refuses in a batch (src/collector/validate.ts), and the collector's flags. */
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseExpiry, parseListen } from "../../src/cli/collector.js";
import { BatchInvalid, validateBatch } from "../../src/collector/validate.js";
import { blobKey } from "../../src/store/blobs.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const run = { id: "r-1", started_at: "2026-06-01T10:00:00.000Z", finished_at: null, state: "running", reachprobe_version: "0.1.0", pid: 7, hostname_hash: "ab", network_label: "home", probe_asn: 8359, probe_cc: "RU", options_json: "{}", target_count: 1, summary_json: null, canary_json: null };
const m = { id: "m-1", run_id: "r-1", target: "https://a.example/", service: "A", status: "blocked", layer: "dns", failure: "dns_bogon_error", evidence_json: '["x"]', observations_json: "[]", control_json: null, started_at: "2026-06-01T10:00:01.000Z", finished_at: "2026-06-01T10:00:02.000Z", duration_ms: 1000 };
const batch = (over: Record<string, unknown> = {}) => ({ version: 1, runs: [run], measurements: [m], blobs: [], ...over });
const refusal = (body: unknown) => {
  try {
    validateBatch(body, NOW);
  } catch (err) {
    expect(err).toBeInstanceOf(BatchInvalid);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("validateBatch", () => {
  it("accepts a well-formed batch as it is", () => {
    expect(validateBatch(batch(), NOW)).toEqual(batch());
  });

  it.each([
    [{ measurements: [{ ...m, status: "censored" }] }, 'measurements[0]: status must be one of ok, blocked, anomaly, down, inconclusive, not "censored"'],
    [{ measurements: [{ ...m, layer: "ip" }] }, 'measurements[0]: layer must be one of dns, tcp, tls, http or null, not "ip"'],
    [{ measurements: [m, { ...m, id: "m-2", started_at: "2026-06-01 10:00" }] }, 'measurements[1]: started_at must be a UTC time like 2026-05-04T10:00:00.000Z, not "2026-06-01 10:00"'],
    [{ measurements: [{ ...m, started_at: "2026-06-03T00:00:00.000Z" }] }, "measurements[0]: started_at 2026-06-03T00:00:00.000Z is outside 2015-01-01T00:00:00.000Z .. 2026-06-02T12:00:00.000Z (is the probe's clock right?)"],
    [{ measurements: [{ ...m, started_at: "2026-02-30T00:00:00.000Z" }] }, 'measurements[0]: started_at must be a UTC time like 2026-05-04T10:00:00.000Z, not "2026-02-30T00:00:00.000Z"'],
    [{ measurements: [{ ...m, target: "x".repeat(2049) }] }, "measurements[0]: target is 2049 characters long; at most 2048 are accepted"],
    [{ measurements: [{ ...m, observations_json: "[" }] }, "measurements[0]: observations_json is not valid JSON"],
    [{ measurements: [{ ...m, evidence_json: "[1]" }] }, "measurements[0]: evidence_json must be a JSON array of strings"],
    [{ measurements: [{ ...m, duration_ms: -1 }] }, "measurements[0]: duration_ms must be an integer from 0 to 86400000, not -1"],
    [{ measurements: [{ ...m, id: "../../etc" }] }, 'measurements[0]: id must be letters, digits and . _ : - (at most 100), not "../../etc"'],
    [{ measurements: [m, m] }, "measurements[1]: id m-1 appears twice in the batch"],
    [{ runs: [{ ...run, state: "done" }] }, 'runs[0]: state must be one of running, completed, interrupted, failed, not "done"'],
    [{ runs: [{ ...run, probe_asn: "8359" }] }, 'runs[0]: probe_asn must be an integer from 0 to 4294967295, not "8359"'],
    [{ version: 2 }, "the batch's version must be 1, not 2"],
    [{ measurements: "all" }, "measurements must be an array"],
    [{ measurements: Array.from({ length: 5001 }, () => m) }, "measurements holds 5001 rows; at most 5000 a batch are accepted"],
  ])("refuses %j whole: %s", (over, message) => {
    expect(refusal(batch(over))).toBe(message);
  });

  it("checks that a blob's bytes are what its key says", () => {
    const bytes = Buffer.from("<html>".repeat(50));
    const good = { sha256: blobKey(bytes), size: bytes.length, compression: "zlib", data: deflateSync(bytes).toString("base64") };
    expect(validateBatch(batch({ blobs: [good] }), NOW).blobs).toEqual([good]);
    expect(refusal(batch({ blobs: [{ ...good, sha256: blobKey(Buffer.from("other")) }] }))).toBe("blobs[0]: data does not hash to its sha256");
    expect(refusal(batch({ blobs: [{ ...good, size: 3 }] }))).toMatch(/^blobs\[0\]: data does not decode: /);
  });
});

describe("collector flags", () => {
  it("--listen takes HOST:PORT", () => {
    expect(parseListen("127.0.0.1:8443")).toEqual({ host: "127.0.0.1", port: 8443 });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(() => parseListen("8443")).toThrow('--listen takes HOST:PORT, e.g. 127.0.0.1:8443, got "8443"');
  });

  it("--expires takes a duration or a date", () => {
    expect(parseExpiry("90d", NOW).toISOString()).toBe("2026-08-30T12:00:00.000Z");
    expect(parseExpiry("2027-01-01", NOW).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(() => parseExpiry("soon", NOW)).toThrow("--expires takes a duration (12h, 90d, 8w) or a date (2027-01-01), got \"soon\"");
  });
});
