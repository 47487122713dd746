/**
 * TLS trust as the doctor judges it: PEM files parsed with Node's X.509 parser (certificates
 * taken from Node's own bundled store, so no network and no openssl), expiry against a given clock.
 */
import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { describe, expect, it, test } from "vitest";
import { judgeBundledCa, judgeExtraCa, parsePemCertificates } from "../../src/doctor/ca.js";

const [PEM_A, PEM_B] = rootCertificates as [string, string];
const A = new X509Certificate(PEM_A);
const validTo = new Date(A.validTo);
const during = new Date(validTo.getTime() - 86_400_000);
const after = new Date(validTo.getTime() + 86_400_000);
const before = new Date(new Date(A.validFrom).getTime() - 86_400_000);
const KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";

describe("parsePemCertificates", () => {
  it("finds every certificate with its subject, issuer and dates", () => {
    const pem = parsePemCertificates(`# a comment\n${PEM_A}\n\n${PEM_B}`);
    expect(pem.certificates).toHaveLength(2);
    expect(pem.broken).toEqual([]);
    expect(pem.certificates[0]).toMatchObject({ validTo, ca: true, fingerprint256: A.fingerprint256 });
    expect(pem.certificates[0]!.subject).not.toContain("\n");
    expect(pem.certificates[0]!.subject.length).toBeGreaterThan(0);
  });

  it("reports a block that does not parse, and keeps the others", () => {
    const broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    const pem = parsePemCertificates(PEM_A + broken);
    expect(pem.certificates).toHaveLength(1);
    expect(pem.broken).toHaveLength(1);
    expect(pem.broken[0]).toMatch(/^block 2: /);
  });

  it("lists blocks that are not certificates", () => {
    expect(parsePemCertificates(PEM_A + KEY).otherBlocks).toEqual(["PRIVATE KEY"]);
  });

  it("finds nothing in text that is not PEM", () => {
    expect(parsePemCertificates("\u0030\u0082\u0001 binary DER")).toEqual({ certificates: [], broken: [], otherBlocks: [] });
  });
});

describe("judgeExtraCa", () => {
  const P = "/etc/reachprobe/ca.pem";
  // [case, file, clock, status, message, fix]
  const cases: Array<[string, Parameters<typeof judgeExtraCa>[0]["file"] | "unset", Date, string, RegExp, RegExp | null]> = [
    ["unset", "unset", during, "ok", /not set/, null],
    ["a valid CA", { text: PEM_A }, during, "ok", /1 certificate \(.+ until \d{4}-\d\d-\d\d\)$/, null],
    ["two valid CAs", { text: PEM_A + PEM_B }, during, "ok", /2 certificates/, null],
    ["a missing file", { code: "ENOENT", message: "no such file" }, during, "fail", /does not exist: Node ignores it/, /point NODE_EXTRA_CA_CERTS at/],
    ["a directory", { code: "EISDIR", message: "is a directory" }, during, "fail", /is a directory/, /one PEM file/],
    ["an unreadable file", { code: "EACCES", message: "permission denied" }, during, "fail", /cannot be read by this user/, /chmod/],
    ["an empty file", { text: "" }, during, "fail", /no PEM certificate/, /PEM form/],
    ["only a key", { text: KEY }, during, "fail", /no certificate, only other PEM blocks/, /PEM form/],
    ["an expired CA", { text: PEM_A }, after, "warn", /1 expired/, /replace the expired/],
    ["a CA not valid yet", { text: PEM_A }, before, "warn", /1 not yet valid/, /clock/],
    ["a CA with a private key beside it", { text: PEM_A + KEY }, during, "warn", /PRIVATE KEY/, /never a private key/],
  ];
  test.each(cases)("%s", (_name, file, now, status, message, fix) => {
    const c = judgeExtraCa(file === "unset" ? { path: undefined, now } : { path: P, file, now });
    expect(c.status, c.message).toBe(status);
    expect(c.message).toMatch(message);
    if (fix) expect(c.fix).toMatch(fix);
    else expect(c.fix).toBeUndefined();
  });

  it("calls a few expired roots in a whole bundle harmless, and lists only a few by name", () => {
    const now = new Date();
    const all = rootCertificates.join("\n");
    const expiredNow = rootCertificates.filter((p) => new Date(new X509Certificate(p).validTo) < now).length;
    const c = judgeExtraCa({ path: "/etc/ssl/certs/ca-certificates.crt", file: { text: all }, now });
    expect(c.status, c.message).toBe("ok");
    expect(c.message).toMatch(new RegExp(`${rootCertificates.length} certificates \\(.*and ${rootCertificates.length - 3} more\\)`));
    if (expiredNow > 0) expect(c.message).toMatch(/harmless in a bundle/);
    expect((c.details?.certificates as unknown[]).length).toBe(rootCertificates.length);
  });
});

describe("judgeBundledCa", () => {
  test.each([
    [{ count: 140, nodeOptions: "", rejectUnauthorized: undefined }, "ok", /140 certificates/],
    [{ count: 140, nodeOptions: "--use-openssl-ca", rejectUnauthorized: undefined }, "ok", /OpenSSL's CA store/],
    [{ count: 140, nodeOptions: "", rejectUnauthorized: "0" }, "warn", /NODE_TLS_REJECT_UNAUTHORIZED=0/],
    [{ count: 0, nodeOptions: "", rejectUnauthorized: undefined }, "fail", /empty/],
  ] as const)("%j -> %s", (input, status, message) => {
    const c = judgeBundledCa(input);
    expect(c.status).toBe(status);
    expect(c.message).toMatch(message);
  });
});
