/**
 * The exports: CSV quoting that a strict RFC 4180 reader reads back exactly, the JSONL line
 * shape, OONI's web_connectivity keys for a measurement with every step and a control, and the
 * store's streaming read with its --since and --network filters.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCsv } from "../../src/base/csv.js";
import type { Verdict } from "../../src/analysis/verdict.js";
import type { ControlObservation, Observation } from "../../src/probes/observation.js";
import { CSV_COLUMNS, csvField, csvLines, csvRecord } from "../../src/export/export-csv.js";
import { jsonlLines, toJsonlRecord } from "../../src/export/export-jsonl.js";
import { canonicalHeaderName, ooniBlocking, ooniLines, ooniReportId, toOoniWebConnectivity } from "../../src/export/export-ooni.js";
import { Store, type MeasurementWithRun, type RunRecord } from "../../src/store/store.js";
import { dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";
import { seedRun, type SeedRow } from "../helpers/seed.js";

const RUN: RunRecord = {
  id: "3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c",
  startedAt: "2025-05-01T10:00:00.000Z",
  finishedAt: "2025-05-01T10:00:09.000Z",
  state: "completed",
  version: "0.1.0",
  pid: 4242,
  hostnameHash: "abcdefabcdef",
  networkLabel: "Rostelecom, Moscow",
  probeAsn: 12389,
  probeCc: "ru",
  options: {},
  targetCount: 1,
  summary: null,
  canary: null,
};

// Observation times count from the run's start; this measurement started 2 s into the run.
// Every field spelled out, as the export must carry each one into its output.
const OBSERVATIONS: Observation[] = [
  { step: "dns", engine: "system", resolver: "system", hostname: "web.test", qtype: "ANY", t0: 2000, t: 2012, failure: null, addresses: ["198.51.100.7", "2001:db8::7"] },
  {
    step: "dns",
    engine: "udp",
    resolver: "192.0.2.53:53",
    hostname: "web.test",
    qtype: "A",
    t0: 2001,
    t: 3001,
    failure: null,
    addresses: ["203.0.113.66"],
    responses: [
      { t: 2005, rcode: "NOERROR", addresses: ["203.0.113.66"], cnames: [] },
      { t: 2040, rcode: "NOERROR", addresses: ["198.51.100.7"], cnames: ["edge.web.test"] },
    ],
  },
  { step: "tcp", address: "198.51.100.7:443", t0: 3002, t: 3030, failure: null },
  { step: "tcp", address: "[2001:db8::7]:443", t0: 3002, t: 3010, failure: "network_unreachable" },
  {
    step: "tls",
    address: "198.51.100.7:443",
    serverName: "web.test",
    version: "TLSv1.3",
    alpn: "http/1.1",
    t0: 3030,
    t: 3090,
    failure: null,
    certificates: [{ subject: "CN=web.test", issuer: "CN=Test CA", sans: ["web.test"], validFrom: "x", validTo: "y", fingerprint256: "AA:BB" }],
    verified: true,
    verifyFailure: null,
  },
  {
    step: "http",
    address: "198.51.100.7:443",
    url: "https://web.test/",
    hop: 0,
    t0: 3100,
    t: 3150,
    failure: null,
    requestHeaders: { "user-agent": "Mozilla/5.0", accept: "*/*" },
    status: 302,
    headers: { location: "https://web.test/home", "content-length": "0" },
    title: null,
    bodyLength: 0,
    bodyTruncated: false,
    bodySha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    bodySample: "",
    location: "https://web.test/home",
  },
  {
    step: "http",
    address: "198.51.100.7:443",
    url: "https://web.test/home",
    hop: 1,
    t0: 3150,
    t: 3250,
    failure: null,
    requestHeaders: { "user-agent": "Mozilla/5.0", accept: "*/*" },
    status: 200,
    headers: { "content-type": "text/html", "x-cache-status": "HIT" },
    title: "Home",
    bodyLength: 5000,
    bodyTruncated: false,
    bodySha256: "0000",
    bodySample: "<title>Home</title>",
    location: null,
  },
];

const CONTROL: ControlObservation = {
  helper: "https://control.example/",
  t0: 3000,
  t: 3400,
  failure: null,
  status: 200,
  response: {
    tcp_connect: { "198.51.100.7:443": { status: true, failure: null }, "[2001:db8::7]:443": { status: true, failure: null } },
    tls_handshake: { "198.51.100.7:443": { server_name: "web.test", status: true, failure: null } },
    http_request: { failure: null, status_code: 200, body_length: 5100, title: "Home", headers: { "content-type": "text/html" } },
    dns: { failure: null, addrs: ["198.51.100.7"] },
    ip_info: { "198.51.100.7": { asn: 0, flags: 11 } },
  },
};

const VERDICT: Verdict = { status: "blocked", layer: "dns", failure: null, evidence: ["resolver 192.0.2.53:53 sent 2 different answers"] };

function row(over: Partial<MeasurementWithRun["measurement"]> = {}, run: Partial<RunRecord> = {}): MeasurementWithRun {
  return {
    run: { ...RUN, ...run },
    measurement: {
      id: "m-1",
      runId: RUN.id,
      target: "https://web.test/",
      service: "Web",
      verdict: VERDICT,
      observations: OBSERVATIONS,
      control: CONTROL,
      startedAt: "2025-05-01T10:00:02.000Z",
      finishedAt: "2025-05-01T10:00:03.500Z",
      durationMs: 1500,
      ...over,
    },
  };
}

describe("CSV", () => {
  const fields: Array<[string | number | null, string]> = [
    ["plain", "plain"],
    ["", ""],
    [null, ""],
    [42, "42"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    ["unknown_failure: x", "unknown_failure: x"],
  ];
  for (const [input, quoted] of fields) {
    it(`writes ${JSON.stringify(input)} as ${JSON.stringify(quoted)}`, () => expect(csvField(input)).toBe(quoted));
  }

  it("ends every record with CRLF", () => expect(csvRecord(["a", null, 1])).toBe("a,,1\r\n"));

  it("writes a header and the summary columns, which a strict reader reads back exactly", () => {
    const awkward = row({ id: "m-2", target: 'https://web.test/a,b?q="x"', service: "Line\nBreak", verdict: { status: "anomaly", layer: "tls", failure: "connection_reset", evidence: [] } });
    const text = [...csvLines([row(), awkward])].join("");
    const rows = parseCsv(text).map((r) => r.fields);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows[1]).toEqual(["m-1", RUN.id, "Rostelecom, Moscow", "https://web.test/", "Web", "blocked", "dns", "", "2025-05-01T10:00:02.000Z", "2025-05-01T10:00:03.500Z", "1500"]);
    expect(rows[2]).toEqual(["m-2", RUN.id, "Rostelecom, Moscow", 'https://web.test/a,b?q="x"', "Line\nBreak", "anomaly", "tls", "connection_reset", "2025-05-01T10:00:02.000Z", "2025-05-01T10:00:03.500Z", "1500"]);
    expect(rows).toHaveLength(3);
  });

  it("names the network by its key: the label, else the ASN, else nothing", () => {
    const network = (run: Partial<RunRecord>) => parseCsv([...csvLines([row({}, run)])].join(""))[1]!.fields[2];
    expect(network({ networkLabel: "  home  " })).toBe("home");
    expect(network({ networkLabel: null })).toBe("AS12389");
    expect(network({ networkLabel: null, probeAsn: null })).toBe("");
  });
});

describe("JSONL", () => {
  it("puts one measurement a line with its run's network, verdict, observations and control", () => {
    const lines = [...jsonlLines([row(), row({ id: "m-2" })])];
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.endsWith("\n") && !l.slice(0, -1).includes("\n"), "one line each").toBe(true);
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(doc).toEqual(toJsonlRecord(row()));
    expect(Object.keys(doc)).toEqual([
      "id", "run_id", "run_started_at", "network", "network_label", "probe_asn", "probe_cc", "reachprobe_version", "target", "service",
      "status", "layer", "failure", "evidence", "started_at", "finished_at", "duration_ms", "observations", "control",
    ]);
    expect(doc).toMatchObject({ id: "m-1", run_id: RUN.id, network: "Rostelecom, Moscow", network_label: "Rostelecom, Moscow", probe_asn: 12389, probe_cc: "ru", status: "blocked", layer: "dns", failure: null });
    expect(doc.observations).toEqual(OBSERVATIONS);
    expect(doc.control).toEqual(CONTROL);
  });
});

describe("OONI", () => {
  const ooni = toOoniWebConnectivity(row(), { softwareVersion: "9.9.9" });
  const tk = ooni.test_keys;

  it("fills the base keys, with OONI's placeholders for what it does not know", () => {
    expect(ooni).toMatchObject({
      data_format_version: "0.2.0",
      input: "https://web.test/",
      measurement_start_time: "2025-05-01 10:00:02",
      test_start_time: "2025-05-01 10:00:00",
      probe_asn: "AS12389",
      probe_cc: "RU",
      probe_ip: "127.0.0.1",
      probe_network_name: "",
      resolver_asn: "AS0",
      resolver_ip: "127.0.0.2",
      software_name: "reachprobe",
      software_version: "0.1.0",
      test_name: "web_connectivity",
      test_runtime: 1.5,
      test_helpers: { backend: { address: "https://control.example/", type: "https" } },
    });
    expect(ooni.annotations).toMatchObject({ engine_name: "reachprobe", reachprobe_run_id: RUN.id, reachprobe_measurement_id: "m-1" });
    // Nothing says where the probe was unless asked (export --network-label).
    expect(JSON.stringify(ooni)).not.toContain("Rostelecom");
    const labelled = toOoniWebConnectivity(row(), { softwareVersion: "9.9.9", networkLabel: true });
    expect(labelled.probe_network_name).toBe("Rostelecom, Moscow");
    expect(labelled.annotations.network_label).toBe("Rostelecom, Moscow");
    for (const v of Object.values(ooni.annotations)) expect(typeof v).toBe("string");
    expect(ooni.report_id).toMatch(/^20250501T100000Z_webconnectivity_RU_12389_reachprobe_[0-9a-f]{16}$/);
    expect(ooni.report_id.split("_")).toHaveLength(6);
    expect(ooniReportId(RUN)).toBe(ooni.report_id);
  });

  it("uses AS0 and ZZ when the run has no ASN or country, and never a real address", () => {
    const anon = toOoniWebConnectivity(row({}, { probeAsn: null, probeCc: null, networkLabel: null, version: null }), { softwareVersion: "9.9.9" });
    expect(anon).toMatchObject({ probe_asn: "AS0", probe_cc: "ZZ", probe_ip: "127.0.0.1", probe_network_name: "", software_version: "9.9.9" });
    expect(anon.report_id).toMatch(/_ZZ_0_reachprobe_/);
  });

  it("lists each DNS lookup as a query, getaddrinfo as ANY, and late UDP answers as duplicates", () => {
    expect(tk.queries).toEqual([
      {
        engine: "getaddrinfo",
        resolver_address: "",
        hostname: "web.test",
        query_type: "ANY",
        answers: [
          { answer_type: "A", ipv4: "198.51.100.7", ttl: null },
          { answer_type: "AAAA", ipv6: "2001:db8::7", ttl: null },
        ],
        failure: null,
        t0: 0,
        t: 0.012,
        tags: ["depth=0", "classic"],
        transaction_id: 1,
      },
      {
        engine: "udp",
        resolver_address: "192.0.2.53:53",
        hostname: "web.test",
        query_type: "A",
        answers: [{ answer_type: "A", ipv4: "203.0.113.66", ttl: null }],
        failure: null,
        rcode: 0,
        t0: 0.001,
        // When the answer used arrived, not when the 1 s listening window closed.
        t: 0.005,
        tags: ["depth=0"],
        transaction_id: 2,
      },
    ]);
    expect(tk.x_dns_duplicate_responses).toEqual([
      {
        engine: "udp",
        resolver_address: "192.0.2.53:53",
        hostname: "web.test",
        query_type: "A",
        answers: [
          { answer_type: "A", ipv4: "198.51.100.7", ttl: null },
          { answer_type: "CNAME", hostname: "edge.web.test", ttl: null },
        ],
        failure: null,
        rcode: 0,
        t0: 0.001,
        t: 0.04,
        tags: ["depth=0"],
        transaction_id: 2,
      },
    ]);
  });

  it("lists TCP connects with ip, port and status, blocked where the control connected and the probe did not", () => {
    expect(tk.tcp_connect).toEqual([
      { ip: "198.51.100.7", port: 443, status: { success: true, failure: null, blocked: false }, t0: 1.002, t: 1.03, tags: ["depth=0"], transaction_id: 3 },
      { ip: "2001:db8::7", port: 443, status: { success: false, failure: "network_unreachable", blocked: true }, t0: 1.002, t: 1.01, tags: ["depth=0"], transaction_id: 4 },
    ]);
  });

  it("lists TLS handshakes, without peer certificates when the record has no DER (made before it was kept)", () => {
    expect(tk.tls_handshakes).toHaveLength(1);
    expect(tk.tls_handshakes[0]).toMatchObject({
      network: "tcp",
      address: "198.51.100.7:443",
      server_name: "web.test",
      tls_version: "TLSv1.3",
      negotiated_protocol: "http/1.1",
      no_tls_verify: false,
      peer_certificates: [],
      failure: null,
      t0: 1.03,
      t: 1.09,
      transaction_id: 3,
    });
    expect(tk.tls_handshakes[0]!.x_certificates[0]!.fingerprint256).toBe("AA:BB");
  });

  it("lists HTTP requests last first, with canonical header names and the stored body sample", () => {
    expect(tk.requests.map((r) => r.request.url)).toEqual(["https://web.test/home", "https://web.test/"]);
    const final = tk.requests[0]!;
    // The second request went over the connection kept alive from the first: the same transaction.
    expect(final).toMatchObject({ failure: null, t0: 1.15, t: 1.25, tags: ["depth=1"], transaction_id: 3, x_body_length: 5000 });
    expect(tk.requests[1]!.transaction_id).toBe(3);
    expect(final.request).toMatchObject({
      method: "GET",
      headers: { "User-Agent": "Mozilla/5.0", Accept: "*/*" },
      headers_list: [["Accept", "*/*"], ["User-Agent", "Mozilla/5.0"]],
    });
    // 19 bytes of a 5000-byte body were kept: the body is truncated.
    expect(final.response).toEqual({
      code: 200,
      headers: { "Content-Type": "text/html", "X-Cache-Status": "HIT" },
      headers_list: [["Content-Type", "text/html"], ["X-Cache-Status", "HIT"]],
      body: "<title>Home</title>",
      body_is_truncated: true,
    });
    // The empty redirect body is whole: its hash is the hash of nothing.
    expect(tk.requests[1]!.response).toMatchObject({ code: 302, body: "", body_is_truncated: false });
  });

  it("carries the control's answer in the helper's format, and the verdict as blocking/accessible", () => {
    expect(tk.control).toEqual({ ...CONTROL.response, http_request: { ...CONTROL.response!.http_request, headers: { "Content-Type": "text/html" } } });
    expect(tk).toMatchObject({ control_failure: null, dns_experiment_failure: null, http_experiment_failure: null, blocking: "dns", accessible: false });
    expect(tk.x_reachprobe).toEqual({ status: "blocked", layer: "dns", failure: null, evidence: VERDICT.evidence });
  });

  it("says there was no control when none was asked", () => {
    const m = toOoniWebConnectivity(row({ control: null }), { softwareVersion: "0.1.0" });
    // Not an unknown_failure: OONI's fastpath would call the measurement failed (docs/ooni-pipeline.md).
    expect(m.test_keys).toMatchObject({ control: null, control_failure: null });
    expect(m.test_helpers).toEqual({});
    expect(m.test_keys.tcp_connect[1]!.status.blocked).toBeNull();
  });

  it("reports the failures of the classic steps", () => {
    const obs: Observation[] = [
      dnsObs("x.test", ["192.0.2.1"]),
      tcpObs("192.0.2.1:443"),
      tlsObs("192.0.2.1:443", "x.test", { failure: "connection_reset" }),
    ];
    const m = toOoniWebConnectivity(row({ target: "https://x.test/", observations: obs, startedAt: RUN.startedAt, verdict: { status: "blocked", layer: "tls", failure: "connection_reset", evidence: [] } }), { softwareVersion: "0.1.0" });
    expect(m.test_keys).toMatchObject({ dns_experiment_failure: null, http_experiment_failure: "connection_reset", blocking: "http-failure", accessible: false, requests: [] });
  });

  it("reports the failed connect of a redirect hop as the web step's failure", () => {
    const obs: Observation[] = [
      dnsObs("x.test", ["192.0.2.1"]),
      tcpObs("192.0.2.1:443"),
      tlsObs("192.0.2.1:443", "x.test"),
      httpObs("192.0.2.1:443", "https://x.test/", { status: 302, headers: { location: "https://y.test/" }, location: "https://y.test/" }),
      dnsObs("y.test", ["192.0.2.2"], { t0: 30, t: 35, hop: 1 }),
      tcpObs("192.0.2.2:443", { t0: 35, t: 40, hop: 1 }),
      tlsObs("192.0.2.2:443", "y.test", { t0: 40, t: 50, failure: "connection_reset", hop: 1 }),
    ];
    const m = toOoniWebConnectivity(row({ target: "https://x.test/", observations: obs, startedAt: RUN.startedAt, verdict: { status: "anomaly", layer: "tls", failure: "connection_reset", evidence: [] } }), { softwareVersion: "0.1.0" });
    expect(m.test_keys).toMatchObject({ dns_experiment_failure: null, http_experiment_failure: "connection_reset" });
    expect(m.test_keys.tls_handshakes.map((t) => t.failure)).toEqual([null, "connection_reset"]);
  });

  it("keeps the swaps out of tcp_connect, tls_handshakes and requests, and lists them tagged in x_swaps", () => {
    const obs: Observation[] = [
      dnsObs("x.test", ["192.0.2.1"]),
      tcpObs("192.0.2.1:443"),
      tlsObs("192.0.2.1:443", "x.test", { failure: "connection_reset" }),
      tcpObs("192.0.2.1:443", { t0: 21, t: 22, purpose: "sni_swap" }),
      tlsObs("192.0.2.1:443", "example.com", { t0: 22, t: 25, purpose: "sni_swap", verified: false, verifyFailure: "ssl_invalid_hostname" }),
    ];
    const m = toOoniWebConnectivity(row({ target: "https://x.test/", observations: obs, startedAt: RUN.startedAt, verdict: { status: "anomaly", layer: "tls", failure: "connection_reset", evidence: [] } }), { softwareVersion: "0.1.0" });
    const tk = m.test_keys;
    expect(tk.tcp_connect.map((c) => c.tags)).toEqual([["depth=0"]]);
    expect(tk.tls_handshakes.map((t) => [t.server_name, t.failure, t.no_tls_verify])).toEqual([["x.test", "connection_reset", false]]);
    expect(tk.http_experiment_failure).toBe("connection_reset");
    expect(tk.x_swaps.tcp_connect.map((c) => [c.ip, c.status.success, c.status.blocked, c.tags])).toEqual([["192.0.2.1", true, false, ["depth=0", "sni_swap"]]]);
    expect(tk.x_swaps.tls_handshakes.map((t) => [t.server_name, t.failure, t.no_tls_verify, t.tags])).toEqual([["example.com", null, true, ["depth=0", "sni_swap"]]]);

    const plain: Observation[] = [
      dnsObs("y.test", ["192.0.2.2"]),
      tcpObs("192.0.2.2:80"),
      httpObs("192.0.2.2:80", "http://y.test/", { failure: "connection_reset", requestHeaders: { Host: "y.test", Accept: "*/*" } }),
      tcpObs("192.0.2.2:80", { t0: 31, t: 32, purpose: "host_swap" }),
      httpObs("192.0.2.2:80", "http://y.test/", { t0: 32, t: 40, purpose: "host_swap", swappedHost: "example.com", requestHeaders: { Host: "example.com", Accept: "*/*" }, status: 200, headers: {} }),
    ];
    const h = toOoniWebConnectivity(row({ target: "http://y.test/", observations: plain, startedAt: RUN.startedAt, verdict: { status: "anomaly", layer: "http", failure: "connection_reset", evidence: [] } }), { softwareVersion: "0.1.0" }).test_keys;
    expect(h.requests.map((r) => [r.failure, r.request.headers.Host, r.tags])).toEqual([["connection_reset", "y.test", ["depth=0"]]]);
    expect(h.http_experiment_failure).toBe("connection_reset");
    expect(h.x_swaps.requests.map((r) => [r.request.url, r.request.headers.Host, r.response.code, r.tags])).toEqual([["http://y.test/", "example.com", 200, ["depth=0", "host_swap"]]]);
    expect(h.x_swaps.tcp_connect.map((c) => c.tags)).toEqual([["depth=0", "host_swap"]]);
    // The swap's request went over the swap's own connection.
    expect(h.x_swaps.requests[0]!.transaction_id).toBe(h.x_swaps.tcp_connect[0]!.transaction_id);
    expect(h.requests[0]!.transaction_id).toBe(h.tcp_connect[0]!.transaction_id);
    expect(h.tcp_connect).toHaveLength(1);
  });

  it("lists the address swap in x_swaps, tagged, apart from the target's own connect to the same witness address", () => {
    // The probe connects to every resolver's address; the swap opens its own connection to the witness's.
    const obs: Observation[] = [
      dnsObs("z.test", ["192.0.2.83"]),
      dnsObs("z.test", ["192.0.2.11"], { engine: "udp", resolver: "192.0.2.53:53", qtype: "A" }),
      tcpObs("192.0.2.83:80"),
      tcpObs("192.0.2.11:80"),
      httpObs("192.0.2.83:80", "http://z.test/", { requestHeaders: { Host: "z.test", Accept: "*/*" }, status: 200, headers: {}, title: "Access Denied" }),
      tcpObs("192.0.2.11:80", { t0: 31, t: 32, purpose: "address_swap" }),
      httpObs("192.0.2.11:80", "http://z.test/", { t0: 32, t: 40, purpose: "address_swap", requestHeaders: { Host: "z.test", Accept: "*/*" }, status: 200, headers: {}, title: "z.test" }),
    ];
    const tk = toOoniWebConnectivity(row({ target: "http://z.test/", observations: obs, startedAt: RUN.startedAt, verdict: { status: "blocked", layer: "dns", failure: null, evidence: [] } }), { softwareVersion: "0.1.0" }).test_keys;
    expect(tk.requests.map((r) => [r.request.url, r.response.code, r.tags])).toEqual([["http://z.test/", 200, ["depth=0"]]]);
    expect(tk.tcp_connect.map((c) => [c.ip, c.tags])).toEqual([
      ["192.0.2.83", ["depth=0"]],
      ["192.0.2.11", ["depth=0"]],
    ]);
    expect(tk.x_swaps.tcp_connect.map((c) => [c.ip, c.tags])).toEqual([["192.0.2.11", ["depth=0", "address_swap"]]]);
    expect(tk.x_swaps.requests.map((r) => [r.request.url, r.request.headers.Host, r.tags])).toEqual([["http://z.test/", "z.test", ["depth=0", "address_swap"]]]);
    // The swap's request went over the swap's own connection, not the target's connect to the same address.
    expect(tk.x_swaps.requests[0]!.transaction_id).toBe(tk.x_swaps.tcp_connect[0]!.transaction_id);
    expect(tk.x_swaps.requests[0]!.transaction_id).not.toBe(tk.tcp_connect[1]!.transaction_id);
  });

  const mapping: Array<[Pick<Verdict, "status" | "layer" | "failure">, unknown, unknown]> = [
    [{ status: "ok", layer: null, failure: null }, false, true],
    [{ status: "down", layer: null, failure: "dns_nxdomain_error" }, false, false],
    [{ status: "inconclusive", layer: null, failure: "generic_timeout_error" }, null, null],
    [{ status: "blocked", layer: "dns", failure: "dns_bogon_error" }, "dns", false],
    [{ status: "anomaly", layer: "dns", failure: "dns_servfail_error" }, "dns", false],
    [{ status: "blocked", layer: "tcp", failure: "generic_timeout_error" }, "tcp_ip", false],
    [{ status: "anomaly", layer: "tcp", failure: "connection_refused" }, "tcp_ip", false],
    [{ status: "blocked", layer: "tls", failure: "connection_reset" }, "http-failure", false],
    [{ status: "blocked", layer: "http", failure: null }, "http-diff", false],
    [{ status: "anomaly", layer: "http", failure: "http_request_failed" }, "http-failure", false],
  ];
  for (const [verdict, blocking, accessible] of mapping) {
    it(`maps ${verdict.status}/${verdict.layer ?? "-"}/${verdict.failure ?? "-"} to blocking ${JSON.stringify(blocking)}, accessible ${JSON.stringify(accessible)}`, () => {
      expect(ooniBlocking(verdict)).toEqual({ blocking, accessible });
    });
  }

  it("writes Go's canonical header names", () => {
    expect(["content-type", "x-cache-status", "etag", "www-authenticate"].map(canonicalHeaderName)).toEqual(["Content-Type", "X-Cache-Status", "Etag", "Www-Authenticate"]);
  });

  it("writes one JSON object a line", () => {
    const lines = [...ooniLines([row(), row({ id: "m-2" })], { softwareVersion: "0.1.0" })];
    expect(lines.map((l) => (JSON.parse(l) as { annotations: Record<string, string> }).annotations.reachprobe_measurement_id)).toEqual(["m-1", "m-2"]);
  });
});

describe("Store.iterateMeasurements", () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "reachprobe-export-"));
    store = Store.open(join(dir, "r.db"), { hostname: "test" });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function addRun(startedAt: string, label: string | null, targets: string[]): string {
    const rows = targets.map((target): SeedRow => [target, "S", { status: "ok", layer: null, failure: null, evidence: [] }]);
    return seedRun(store, { at: startedAt, network: { label, asn: 64500, cc: "RU" }, rows, spacingMs: 1000, durationMs: 1 }).runId;
  }

  it("reads every measurement with its run, run by run and in order, and filters by time and network", () => {
    // Inserted out of time order: the read orders by the runs' start.
    const late = addRun("2025-05-03T00:00:00.000Z", "home", ["https://c.test/"]);
    const early = addRun("2025-05-01T00:00:00.000Z", "office", ["https://a.test/", "https://b.test/"]);
    const all = [...store.iterateMeasurements()];
    expect(all.map((r) => [r.run.id, r.measurement.target])).toEqual([
      [early, "https://a.test/"],
      [early, "https://b.test/"],
      [late, "https://c.test/"],
    ]);
    expect(all[0]!.run).toMatchObject({ networkLabel: "office", probeAsn: 64500, probeCc: "RU", state: "completed" });
    expect([...store.iterateMeasurements({ network: "home" })].map((r) => r.measurement.target)).toEqual(["https://c.test/"]);
    expect([...store.iterateMeasurements({ since: "2025-05-01T00:00:01.000Z" })].map((r) => r.measurement.target)).toEqual(["https://b.test/", "https://c.test/"]);
    expect([...store.iterateMeasurements({ since: "2025-05-02T00:00:00.000Z", network: "office" })]).toEqual([]);
    // An unlabelled run is on the network of its ASN.
    addRun("2025-05-04T00:00:00.000Z", null, ["https://d.test/"]);
    expect([...store.iterateMeasurements({ network: "AS64500" })].map((r) => r.measurement.target)).toEqual(["https://d.test/"]);
  });

  it("exports a stored measurement exactly as the measurement the probe made (samples, headers, chains in blobs)", () => {
    const sample = `<title>Home</title>${"<p>Главная страница ✓</p>\n".repeat(400)}`.slice(0, 8000);
    const observations = OBSERVATIONS.map((o) =>
      o.step === "http" && o.hop === 1 ? { ...o, headers: { ...o.headers, date: "Thu, 01 May 2025 10:00:03 GMT", "set-cookie": "a=b" }, bodySample: sample } : o,
    );
    const control = { ...CONTROL, response: { ...CONTROL.response!, http_request: { ...CONTROL.response!.http_request, headers: { date: "Thu, 01 May 2025 10:00:03 GMT", "content-type": "text/html" } } } };
    const runId = store.startRun({ id: RUN.id, startedAt: RUN.startedAt, version: "0.1.0", options: {}, targetCount: 1, networkLabel: RUN.networkLabel, probeAsn: RUN.probeAsn, probeCc: RUN.probeCc });
    store.addMeasurement(runId, { id: "m-1", target: "https://web.test/", service: "Web", verdict: VERDICT, observations, control, startedAt: "2025-05-01T10:00:02.000Z", finishedAt: "2025-05-01T10:00:03.500Z", durationMs: 1500 });
    store.finishRun(runId, "completed");
    expect(store.db.prepare("SELECT observations_json FROM measurements").pluck().get()).not.toContain("Главная");
    const stored = [...store.iterateMeasurements()];
    const made = [{ run: stored[0]!.run, measurement: { ...stored[0]!.measurement, observations, control } }];
    expect([...jsonlLines(stored)]).toEqual([...jsonlLines(made)]);
    expect([...csvLines(stored)]).toEqual([...csvLines(made)]);
    expect([...ooniLines(stored, { softwareVersion: "0.1.0" })]).toEqual([...ooniLines(made, { softwareVersion: "0.1.0" })]);
    expect([...jsonlLines(stored)][0]).toContain(JSON.stringify(sample));
  });

  it("releases the connection when a reader stops early", () => {
    addRun("2025-05-01T00:00:00.000Z", null, ["https://a.test/", "https://b.test/"]);
    for (const r of store.iterateMeasurements()) {
      expect(r.measurement.target).toBe("https://a.test/");
      break;
    }
    // A statement still iterating would make this throw "connection is busy".
    expect(store.getRun([...store.iterateMeasurements()][0]!.run.id)).toBeDefined();
  });
});
