/**
 * What OONI's pipeline makes of `reachprobe export --format ooni` (docs/ooni-pipeline.md): a
 * binary body from a loopback server comes out byte for byte through run, store and export;
 * every address in bodies and header values is scrubbed; the fastpath keeps and scores the
 * measurements as their verdicts say; the certificates, cipher suite, repeated headers,
 * transaction ids and the helper's words are where OONI's readers look; and every export,
 * goldens included, passes a field-by-field check of OONI's archival format.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flatten } from "../../src/analysis/table.js";
import { ooniArchitecture, ooniControl, ooniPlatform, toOoniMeasurement, toOoniWebConnectivity, type OoniMeasurement, type OoniTcpConnectMeasurement } from "../../src/export/export-ooni.js";
import { SCRUBBED, scrubAddresses, scrubBytes } from "../../src/net/scrub.js";
import { bodySampleBytes, bodySampleText, encodeBodySample } from "../../src/probes/body-sample.js";
import { dnsFailureFromHelper, helperDnsFailure, type ControlResponse } from "../../src/probes/control-wire.js";
import type { Observation } from "../../src/probes/observation.js";
import type { MeasurementWithRun, RunRecord } from "../../src/store/store.js";
import { parseTarget } from "../../src/targets/parse.js";
import { runCli } from "../helpers/cli.js";
import { fastpathDiscard, fastpathScore } from "../helpers/ooni-fastpath.js";
import { ooniConformance } from "../helpers/ooni-conformance.js";
import { certInfo, controlObs, dnsObs, httpObs, tcpObs, tlsObs } from "../helpers/observations.js";

/** The body of issue 15: a PNG signature, a NUL, bytes that are not UTF-8, then "AB". */
const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x41, 0x42]);

const RUN: RunRecord = {
  id: "run-1",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:00:05.000Z",
  state: "completed",
  version: "0.1.0",
  pid: 1,
  hostnameHash: "x",
  networkLabel: "Home, Flat 3",
  probeAsn: 64500,
  probeCc: "DE",
  options: {},
  targetCount: 1,
  summary: null,
  canary: null,
};

function row(observations: Observation[], over: Partial<MeasurementWithRun["measurement"]> = {}, run: Partial<RunRecord> = {}): MeasurementWithRun {
  return {
    run: { ...RUN, ...run },
    measurement: {
      id: "m-1",
      runId: RUN.id,
      target: "http://web.test/",
      service: "Web",
      verdict: { status: "ok", layer: null, failure: null, evidence: [] },
      observations,
      control: null,
      startedAt: RUN.startedAt,
      finishedAt: RUN.finishedAt!,
      durationMs: 100,
      ...over,
    },
  };
}

const export1 = (r: MeasurementWithRun) => toOoniWebConnectivity(r, { softwareVersion: "0.1.0" });

describe("a binary body through run, store and export", () => {
  let dir: string;
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "reachprobe-ooni-"));
    server = http.createServer((_req, res) => {
      res.writeHead(200, [
        ["Content-Type", "application/octet-stream"],
        ["Set-Cookie", "a=1; Path=/"],
        ["Set-Cookie", "b=2; Path=/"],
        ["X-Seen-From", "198.51.100.23 and [2001:db8::23]:443"],
        ["Content-Length", String(BINARY.length)],
      ]);
      res.end(BINARY);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("exports the 16 bytes exactly as base64, with their hash, not truncated, repeats and scrubbing kept, and warns that OONI drops it without an ASN", async () => {
    const db = join(dir, "m.db");
    // A loopback IP literal, no resolver, no canary, no helper: nothing leaves the machine.
    const run = await runCli(["run", `http://127.0.0.1:${port}/`, "--no-canary", "--no-system-resolver", "--no-notice", "--db", db]);
    expect(run.code, run.stderr).toBe(0);
    const out = await runCli(["export", "--format", "ooni", "--db", db]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/warning: 1 of 1 measurement has no country or ASN .*OONI's pipeline discards them/);
    const m = JSON.parse(out.stdout) as OoniMeasurement;
    const response = m.test_keys.requests[0]!.response;
    expect(response.body).toEqual({ format: "base64", data: BINARY.toString("base64") });
    expect(Buffer.from((response.body as { data: string }).data, "base64")).toEqual(BINARY);
    expect(response.body_is_truncated).toBe(false);
    expect(m.test_keys.requests[0]!.x_body_sha256).toBe(createHash("sha256").update(BINARY).digest("hex"));
    expect(m.test_keys.requests[0]!.x_body_length).toBe(16);
    expect(response.headers_list.filter(([k]) => k === "Set-Cookie")).toEqual([["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2; Path=/"]]);
    expect(response.headers["X-Seen-From"]).toBe(`${SCRUBBED} and ${SCRUBBED}`);
    expect(m.test_keys.control_failure).toBeNull();
    expect(m.test_keys.tcp_connect[0]!.transaction_id).toBe(m.test_keys.requests[0]!.transaction_id);
    expect(ooniConformance(m)).toEqual([]);
    expect(fastpathDiscard(m)).toBe("probe_cc is ZZ");
  });
});

describe("body samples as bytes", () => {
  it("keeps UTF-8 as text and anything else as base64, and gives the analysis the bytes (written as their UTF-8 view in JSON)", () => {
    expect(encodeBodySample(Buffer.from("<p>новости</p>"))).toEqual({ bodySample: "<p>новости</p>" });
    const f = encodeBodySample(BINARY);
    expect(f).toEqual({ bodySample: BINARY.toString("base64"), bodySampleEncoding: "base64" });
    expect(bodySampleBytes(f)).toEqual(BINARY);
    expect(bodySampleText(f)).toBe(BINARY.toString("utf8"));
    const http = httpObs("192.0.2.1:80", "http://web.test/", { status: 200, ...f });
    const table = flatten(parseTarget("http://web.test/"), [tcpObs("192.0.2.1:80"), http], null);
    expect(table.http[0]!.bodySample).toEqual(BINARY);
    expect(JSON.parse(JSON.stringify(table.http[0]))).toMatchObject({ bodySample: BINARY.toString("utf8") });
  });

  it("exports a UTF-8 body as a string, and a cut or old lossy sample as truncated", () => {
    const text = "<title>Blocked</title>";
    const sha = createHash("sha256").update(text).digest("hex");
    const whole = export1(row([httpObs("192.0.2.1:80", "http://web.test/", { status: 200, bodySample: text, bodySha256: sha, bodyLength: text.length })]));
    expect(whole.test_keys.requests[0]!.response).toMatchObject({ body: text, body_is_truncated: false });
    const cut = export1(row([httpObs("192.0.2.1:80", "http://web.test/", { status: 200, bodySample: text, bodySha256: "0".repeat(64), bodyLength: 100000 })]));
    expect(cut.test_keys.requests[0]!.response.body_is_truncated).toBe(true);
    // A row stored before samples were bytes: the U+FFFD text does not hash to the body's bytes.
    const lossy = export1(row([httpObs("192.0.2.1:80", "http://web.test/", { status: 200, bodySample: BINARY.toString("utf8"), bodySha256: createHash("sha256").update(BINARY).digest("hex"), bodyLength: 16 })]));
    expect(lossy.test_keys.requests[0]!.response.body_is_truncated).toBe(true);
  });
});

describe("scrubbing", () => {
  it("replaces IPv4 and IPv6 addresses, with ports, brackets and URL-encoded colons", () => {
    const cases: Array<[string, string]> = [
      ["Your address is 203.0.113.7.", `Your address is ${SCRUBBED}.`],
      ["at [2001:db8::1]:443 now", `at ${SCRUBBED} now`],
      ["ip=::ffff:198.51.100.2&x", `ip=${SCRUBBED}&x`],
      ["http://[2001:db8::5]/x", `http://${SCRUBBED}/x`],
      ["q=2001%3Adb8%3A%3A1", `q=${SCRUBBED}`],
      ["10.0.0.1:8080", SCRUBBED],
      ["fe80::1 and 192.168.1.1", `${SCRUBBED} and ${SCRUBBED}`],
    ];
    for (const [input, want] of cases) expect(scrubAddresses(input), input).toBe(want);
  });

  it("leaves times, versions and hex words alone", () => {
    for (const t of ["10:20:30 GMT", "v1.2.3", "deadbeef", "Mon, 06 Dec 2026 10:20:30 GMT", "sha256:abcdef"]) expect(scrubAddresses(t)).toBe(t);
  });

  it("changes only the address's bytes in a binary body", () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from("ip 192.0.2.44;"), Buffer.from([0x80])]);
    expect(scrubBytes(bytes)).toEqual(Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from(`ip ${SCRUBBED};`), Buffer.from([0x80])]));
  });

  it("leaves no address from a body or a header in the export, and no network label", () => {
    const page = "<p>Access denied for 100.64.12.34 (2001:db8:1234::99), gateway 10.1.1.1:3128</p>";
    const binary = Buffer.concat([BINARY, Buffer.from(" 198.51.100.200 ")]);
    const obs: Observation[] = [
      tcpObs("192.0.2.1:80"),
      httpObs("192.0.2.1:80", "http://web.test/", {
        status: 403,
        headers: { "x-forwarded-for": "100.64.12.34", via: "1.1 [2001:db8:1234::99]:8080", "set-cookie": "ip=100.64.12.34" },
        headerRepeats: { "set-cookie": ["ip=100.64.12.34", "v6=2001:db8:1234::99"] },
        bodySample: page,
      }),
      httpObs("192.0.2.1:80", "http://web.test/x", { hop: 1, status: 200, ...encodeBodySample(binary) }),
    ];
    const m = export1(row(obs));
    const responses = m.test_keys.requests.map((r) => r.response);
    const text = JSON.stringify(responses.map((r) => [r.headers, r.headers_list, typeof r.body === "string" ? r.body : Buffer.from(r.body.data, "base64").toString("latin1")]));
    for (const a of ["100.64.12.34", "2001:db8:1234::99", "10.1.1.1", "198.51.100.200"]) expect(text).not.toContain(a);
    expect(text).toContain(SCRUBBED);
    // Bytes that are not UTF-8 stay exactly as they were around the scrubbed address.
    const b = responses.find((r) => typeof r.body !== "string")!.body as { data: string };
    expect(Buffer.from(b.data, "base64")).toEqual(Buffer.concat([BINARY, Buffer.from(` ${SCRUBBED} `)]));
    expect(JSON.stringify(m)).not.toContain("Flat 3");
    expect(m.probe_network_name).toBe("");
  });
});

describe("OONI's fastpath (docs/ooni-pipeline.md)", () => {
  const ok: Observation[] = [tcpObs("192.0.2.1:80"), httpObs("192.0.2.1:80", "http://web.test/", { status: 200 })];

  it("keeps a measurement with a country and an ASN, and drops one without (ZZ, AS0)", () => {
    expect(fastpathDiscard(export1(row(ok)))).toBeNull();
    expect(fastpathDiscard(export1(row(ok, {}, { probeCc: null })))).toBe("probe_cc is ZZ");
    expect(fastpathDiscard(export1(row(ok, {}, { probeAsn: null })))).toBe("probe_asn is AS0");
  });

  it("does not call a measurement made without a helper failed: its control_failure is null", () => {
    const m = export1(row(ok));
    expect(m.test_keys).toMatchObject({ control: null, control_failure: null });
    expect(fastpathScore(m)).toEqual({ anomaly: false, failure: false });
  });

  it("calls failed a measurement whose helper gave no answer, and scores verdicts as their blocking says", () => {
    const noAnswer = export1(row(ok, { control: controlObs(null, { failure: null }) }));
    expect(noAnswer.test_keys.control_failure).toMatch(/^unknown_failure/);
    expect(fastpathScore(noAnswer).failure).toBe(true);
    const cases: Array<[MeasurementWithRun["measurement"]["verdict"], { anomaly: boolean; failure: boolean }]> = [
      [{ status: "blocked", layer: "tcp", failure: "generic_timeout_error", evidence: [] }, { anomaly: true, failure: false }],
      [{ status: "anomaly", layer: "http", failure: null, evidence: [] }, { anomaly: true, failure: false }],
      [{ status: "down", layer: null, failure: "dns_nxdomain_error", evidence: [] }, { anomaly: false, failure: false }],
      [{ status: "inconclusive", layer: null, failure: null, evidence: [] }, { anomaly: false, failure: true }],
    ];
    for (const [verdict, want] of cases) expect(fastpathScore(export1(row(ok, { verdict }))), verdict.status).toEqual(want);
  });
});

describe("TLS, headers, transactions and the helper's words", () => {
  it("writes the chain as base64 DER and the cipher suite, and leaves the DER out of x_certificates", () => {
    const der = Buffer.from("3082010a0282010100", "hex").toString("base64");
    const tls = tlsObs("192.0.2.1:443", "web.test", { version: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", certificates: [certInfo("CN=web.test", "CN=CA", { der })] });
    const m = export1(row([tcpObs("192.0.2.1:443"), tls], { target: "https://web.test/" }));
    const h = m.test_keys.tls_handshakes[0]!;
    expect(h).toMatchObject({ cipher_suite: "TLS_AES_128_GCM_SHA256", peer_certificates: [{ format: "base64", data: der }], tags: ["depth=0"] });
    expect(h.x_certificates[0]).not.toHaveProperty("der");
    expect(h.transaction_id).toBe(m.test_keys.tcp_connect[0]!.transaction_id);
  });

  it("gives each lookup its own transaction, tags the classic one, and joins each redirect hop's connect to its requests", () => {
    const obs: Observation[] = [
      dnsObs("web.test", ["192.0.2.1"]),
      dnsObs("web.test", ["192.0.2.1"], { engine: "udp", resolver: "192.0.2.53:53", qtype: "A" }),
      tcpObs("192.0.2.1:80"),
      httpObs("192.0.2.1:80", "http://web.test/", { status: 302, location: "http://other.test/" }),
      dnsObs("other.test", ["192.0.2.2"], { hop: 1 }),
      tcpObs("192.0.2.2:80", { hop: 1 }),
      httpObs("192.0.2.2:80", "http://other.test/", { hop: 1, status: 200 }),
    ];
    const tk = export1(row(obs)).test_keys;
    expect(tk.queries.map((q) => [q.hostname, q.tags, q.transaction_id])).toEqual([
      ["web.test", ["depth=0", "classic"], 1],
      ["web.test", ["depth=0"], 2],
      ["other.test", ["depth=1"], 4],
    ]);
    expect(tk.tcp_connect.map((c) => [c.ip, c.tags, c.transaction_id])).toEqual([
      ["192.0.2.1", ["depth=0"], 3],
      ["192.0.2.2", ["depth=1"], 5],
    ]);
    expect(tk.requests.map((r) => [r.request.url, r.tags, r.transaction_id])).toEqual([
      ["http://other.test/", ["depth=1"], 5],
      ["http://web.test/", ["depth=0"], 3],
    ]);
  });

  it("writes the control as OONI's helper does, and reads OONI's helper's words back as reachprobe's", () => {
    expect(["dns_nxdomain_error", "dns_no_answer", "dns_servfail_error", "dns_refused_error", "generic_timeout_error", null].map((f) => helperDnsFailure(f as never))).toEqual([
      "dns_name_error", null, "dns_server_failure", "dns_server_failure", "unknown_error", null,
    ]);
    expect(dnsFailureFromHelper({ failure: "dns_name_error", addrs: [] })).toBe("dns_nxdomain_error");
    expect(dnsFailureFromHelper({ failure: "dns_server_failure", addrs: [] })).toBe("dns_servfail_error");
    expect(dnsFailureFromHelper({ failure: null, addrs: [] })).toBe("dns_no_answer");
    expect(dnsFailureFromHelper({ failure: "dns_server_failure", addrs: [], x_failure: "dns_refused_error" })).toBe("dns_refused_error");
    // A row stored by an older helper (reachprobe's words) still reads the same.
    expect(dnsFailureFromHelper({ failure: "dns_nxdomain_error" as never, addrs: [] })).toBe("dns_nxdomain_error");
    const old: ControlResponse = {
      tcp_connect: {},
      tls_handshake: {},
      http_request: { failure: "dns_nxdomain_error", status_code: -1, body_length: -1, title: "", headers: { "content-type": "text/html" } },
      dns: { failure: "dns_nxdomain_error", addrs: [] },
      ip_info: {},
    };
    expect(ooniControl(old)).toMatchObject({ dns: { failure: "dns_name_error" }, http_request: { headers: { "Content-Type": "text/html" } } });
    // The analysis sees NXDOMAIN from OONI's helper as from reachprobe's.
    const table = flatten(parseTarget("http://web.test/"), [], controlObs({ ...old, dns: { failure: "dns_name_error", addrs: [] } }));
    expect(table.dns.find((d) => d.role === "control")?.failure).toBe("dns_nxdomain_error");
  });
});

describe("conformance to OONI's archival format", () => {
  const fixtures = fileURLToPath(new URL("../fixtures/", import.meta.url));
  const goldens = readdirSync(fixtures).filter((d) => existsSync(join(fixtures, d, "ooni.json")));

  it("finds goldens to check", () => expect(goldens.length).toBeGreaterThan(5));

  for (const name of goldens) {
    it(`${name}: every field as OONI's readers decode it`, () => {
      const m = JSON.parse(readFileSync(join(fixtures, name, "ooni.json"), "utf8")) as unknown;
      expect(ooniConformance(m)).toEqual([]);
    });
  }

  it("reports a field of the wrong type", () => {
    const m = JSON.parse(JSON.stringify(export1(row([tcpObs("192.0.2.1:80")])))) as Record<string, Record<string, unknown>>;
    m.test_keys!.control_failure = 3;
    (m.test_keys!.tcp_connect as Array<Record<string, unknown>>)[0]!.port = "80";
    expect(ooniConformance(m)).toEqual(["$.test_keys.tcp_connect[0].port: not an integer", "$.test_keys.control_failure: not a string"]);
  });

  it("takes every address in an answer as the address it is", () => {
    const m = export1(row([dnsObs("web.test", ["192.0.2.1", "2001:db8::1"])]));
    expect(m.test_keys.queries[0]!.answers.map((a) => a.ipv4 ?? a.ipv6).every((a) => isIP(a!) !== 0)).toBe(true);
    expect(ooniConformance(m)).toEqual([]);
  });
});

describe("tcp:// targets as OONI's tcp_connect", () => {
  const tcpRow = (target: string, observations: Observation[], verdict: MeasurementWithRun["measurement"]["verdict"] = { status: "ok", layer: null, failure: null, evidence: [] }) =>
    row(observations, { target, verdict });
  const out = (r: MeasurementWithRun) => toOoniMeasurement(r, { softwareVersion: "0.1.0" }) as OoniTcpConnectMeasurement;

  it("writes test_name tcp_connect, the endpoint as input, connection success, and conforms; the fastpath keeps it as no anomaly", () => {
    const m = out(tcpRow("tcp://chat.test:8080", [dnsObs("chat.test", ["192.0.2.7"]), tcpObs("192.0.2.7:8080")]));
    expect(m.test_name).toBe("tcp_connect");
    expect(m.test_version).toBe("0.1.0");
    expect(m.input).toBe("chat.test:8080");
    expect(m.test_keys.connection).toBe("success");
    expect(m.test_keys.tcp_connect.map((c) => [c.ip, c.port, c.status.success])).toEqual([["192.0.2.7", 8080, true]]);
    expect(m.test_keys.queries.map((q) => q.hostname)).toEqual(["chat.test"]);
    expect(m.extensions).toEqual({ dnst: 0, tcpconnect: 0 });
    // Its own report, as OONI's probes open one per test.
    expect(m.report_id).toMatch(/^20260101T000000Z_tcpconnect_DE_64500_reachprobe_[0-9a-f]{16}$/);
    expect(m.report_id.split("_").at(-1)).not.toBe(export1(row([])).report_id.split("_").at(-1));
    expect(ooniConformance(m)).toEqual([]);
    expect(fastpathDiscard(m)).toBeNull();
    expect(fastpathScore(m)).toEqual({ anomaly: false, failure: false });
  });

  it("writes the first connect's failure when none worked, and the lookup's when none was tried; OONI's fastpath calls both an anomaly", () => {
    const refused = out(tcpRow("tcp://chat.test:443", [dnsObs("chat.test", ["192.0.2.7", "192.0.2.8"]), tcpObs("192.0.2.7:443", { failure: "connection_refused" }), tcpObs("192.0.2.8:443", { failure: "generic_timeout_error" })], { status: "blocked", layer: "tcp", failure: "connection_refused", evidence: ["RST"] }));
    expect(refused.test_keys.connection).toBe("connection_refused");
    expect(refused.test_keys.x_reachprobe).toMatchObject({ status: "blocked", layer: "tcp" });
    expect(fastpathScore(refused)).toEqual({ anomaly: true, failure: false });
    expect(ooniConformance(refused)).toEqual([]);

    const nx = out(tcpRow("tcp://gone.test:443", [dnsObs("gone.test", [], { failure: "dns_nxdomain_error" })], { status: "blocked", layer: "dns", failure: "dns_nxdomain_error", evidence: [] }));
    expect(nx.test_keys.connection).toBe("dns_nxdomain_error");
    expect(nx.test_keys.tcp_connect).toEqual([]);
    expect(ooniConformance(nx)).toEqual([]);
  });

  it("writes an IPv6 endpoint in brackets, and a swap's connect is not the target's", () => {
    const m = out(tcpRow("tcp://[2001:db8::1]:5222", [tcpObs("[2001:db8::1]:5222", { failure: "connection_reset" }), tcpObs("[2001:db8::1]:5222", { purpose: "sni_swap" })]));
    expect(m.input).toBe("[2001:db8::1]:5222");
    expect(m.test_keys.connection).toBe("connection_reset");
    expect(m.test_keys.tcp_connect).toHaveLength(1);
    expect(ooniConformance(m)).toEqual([]);
  });

  it("the checker refuses a URL as input, a connection that is not a word, and a missing connection", () => {
    const m = JSON.parse(JSON.stringify(out(tcpRow("tcp://chat.test:443", [tcpObs("192.0.2.7:443")])))) as Record<string, unknown> & { test_keys: Record<string, unknown> };
    m.input = "tcp://chat.test:443";
    m.test_keys.connection = "Connection refused!";
    expect(ooniConformance(m)).toEqual([
      '$.input: "tcp://chat.test:443" does not match /^(?:[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]):\\d{1,5}$/',
      '$.test_keys.connection: "Connection refused!" is neither "success" nor a failure string',
    ]);
    delete m.test_keys.connection;
    expect(ooniConformance(m)).toContain("$.test_keys.connection: missing");
  });

  it("other targets stay web_connectivity", () => {
    expect(toOoniMeasurement(row([]), { softwareVersion: "0.1.0" }).test_name).toBe("web_connectivity");
  });
});

describe("annotations", () => {
  it("carry the platform and architecture the run recorded, in OONI's words, and nothing when it recorded none", () => {
    expect(export1(row([], {}, { options: { platform: "linux", architecture: "amd64" } })).annotations).toMatchObject({ platform: "linux", architecture: "amd64" });
    const old = export1(row([], {}, { options: { list: null } })).annotations;
    expect(old).not.toHaveProperty("platform");
    expect(old).not.toHaveProperty("architecture");
    expect([ooniPlatform("linux"), ooniPlatform("darwin"), ooniPlatform("win32"), ooniPlatform("aix")]).toEqual(["linux", "macos", "windows", "unknown"]);
    expect([ooniArchitecture("x64"), ooniArchitecture("arm64"), ooniArchitecture("ia32"), ooniArchitecture("riscv64")]).toEqual(["amd64", "arm64", "386", "riscv64"]);
  });
});
