/**
 * The TLS trust setup: the certificates in NODE_EXTRA_CA_CERTS (the lab and private CAs use it)
 * and Node's bundled store. Pure: the caller reads the file and passes its text or read error.
 */
import { X509Certificate } from "node:crypto";
import { check, showTime, type Check } from "./check.js";
import { plural } from "../base/plural.js";

/** One certificate from a PEM file, as shown to a person. */
export interface CertSummary {
  /** The common name, or the whole subject when it has none. */
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
  /** True when it may sign other certificates (basicConstraints CA:TRUE). */
  ca: boolean;
  fingerprint256: string;
}

/** What a PEM text holds. */
export interface PemContents {
  certificates: CertSummary[];
  /** Certificate blocks that did not parse, with why. */
  broken: string[];
  /** Labels of other PEM blocks (e.g. `PRIVATE KEY`), which do not belong in a CA file. */
  otherBlocks: string[];
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The most specific readable name in a distinguished name: CN, else OU, else O. */
function commonName(dn: string): string {
  const parts = dn.split("\n");
  for (const key of ["CN=", "OU=", "O="]) {
    const part = parts.find((p) => p.startsWith(key));
    if (part) return part.slice(key.length);
  }
  return parts.join(", ");
}

/** Certificates listed by name in a message; the rest are counted. */
const SHOWN = 3;

/**
 * Above this many certificates the file is a whole bundle (a system store), where a few expired
 * roots are normal and harmless: the others still verify. Below it, an expired CA is the one
 * that matters, and worth a warning.
 */
const BUNDLE_SIZE = 10;

function listed(names: string[]): string {
  return names.length <= SHOWN ? names.join(", ") : `${names.slice(0, SHOWN).join(", ")} and ${names.length - SHOWN} more`;
}

/** Parses every PEM block in `text`; certificates are parsed with Node's own X.509 parser. */
export function parsePemCertificates(text: string): PemContents {
  const out: PemContents = { certificates: [], broken: [], otherBlocks: [] };
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] ?? "";
    if (label !== "CERTIFICATE" && label !== "TRUSTED CERTIFICATE") {
      out.otherBlocks.push(label);
      continue;
    }
    try {
      const c = new X509Certificate(m[0]);
      out.certificates.push({
        subject: commonName(c.subject),
        issuer: commonName(c.issuer),
        validFrom: new Date(c.validFrom),
        validTo: new Date(c.validTo),
        ca: c.ca,
        fingerprint256: c.fingerprint256,
      });
    } catch (err) {
      out.broken.push(`block ${out.certificates.length + out.broken.length + 1}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** What the doctor knows about NODE_EXTRA_CA_CERTS. */
export interface ExtraCaInput {
  /** The variable's value, undefined when unset. */
  path: string | undefined;
  /** The file's text, or why it could not be read (an errno code such as ENOENT, and the message). */
  file?: { text: string } | { code: string | undefined; message: string };
  now: Date;
}

/** Judges NODE_EXTRA_CA_CERTS: unset is fine; set, it must name a readable file of valid certificates. */
export function judgeExtraCa(input: ExtraCaInput): Check {
  const path = input.path;
  if (path === undefined || path === "") {
    return check("ca.extra", "ok", "NODE_EXTRA_CA_CERTS is not set: TLS trusts Node's bundled CAs (set it only to trust a private CA, as the lab does)");
  }
  const unusable = (why: string, fix: string, details?: Record<string, unknown>) =>
    check("ca.extra", "fail", `NODE_EXTRA_CA_CERTS=${path} ${why}: Node ignores it, so servers signed by that CA fail with ssl_unknown_authority`, fix, { path, ...details });
  const file = input.file;
  if (!file) return unusable("was not read", "check the path");
  if (!("text" in file)) {
    if (file.code === "ENOENT") return unusable("does not exist", "point NODE_EXTRA_CA_CERTS at the CA's PEM file (an absolute path), or unset it");
    if (file.code === "EISDIR") return unusable("is a directory", "point NODE_EXTRA_CA_CERTS at one PEM file holding the CA certificates (cat them into one file)");
    if (file.code === "EACCES" || file.code === "EPERM") return unusable("cannot be read by this user", `make it readable (chmod a+r ${path}); it holds only public certificates`);
    return unusable(`cannot be read (${file.message})`, "point NODE_EXTRA_CA_CERTS at a readable PEM file, or unset it");
  }
  const pem = parsePemCertificates(file.text);
  const certs = pem.certificates;
  const details = {
    path,
    certificates: certs.map((c) => ({ subject: c.subject, issuer: c.issuer, valid_from: c.validFrom.toISOString(), valid_to: c.validTo.toISOString(), ca: c.ca, fingerprint256: c.fingerprint256 })),
    broken: pem.broken,
    other_blocks: pem.otherBlocks,
  };
  if (certs.length === 0) {
    const why = pem.broken.length > 0 ? `holds no certificate Node can parse (${pem.broken[0]})` : /-----BEGIN/.test(file.text) ? "holds no certificate, only other PEM blocks" : "holds no PEM certificate (a DER file?)";
    return unusable(why, `put the CA certificate in PEM form there (openssl x509 -inform der -in CA.der -out ${path})`, details);
  }
  const list = listed(certs.map((c) => `${c.subject} until ${c.validTo.toISOString().slice(0, 10)}`));
  const expired = certs.filter((c) => c.validTo < input.now);
  const early = certs.filter((c) => c.validFrom > input.now);
  const bundle = certs.length > BUNDLE_SIZE;
  const problems: string[] = [];
  const notes: string[] = [];
  const fixes: string[] = [];
  if (expired.length > 0) {
    const text = `${expired.length} expired (${listed(expired.map((c) => `${c.subject} on ${showTime(c.validTo)}`))})`;
    if (bundle && expired.length < certs.length) notes.push(`${text}, harmless in a bundle`);
    else {
      problems.push(text);
      fixes.push("replace the expired certificates with current ones (or check the clock)");
    }
  }
  if (early.length > 0) {
    problems.push(`${early.length} not yet valid (${listed(early.map((c) => `${c.subject} before ${showTime(c.validFrom)}`))})`);
    fixes.push("check the system clock: a certificate valid only in the future means the clock is behind");
  }
  if (pem.broken.length > 0) {
    problems.push(`${plural(pem.broken.length, "block")} did not parse (${pem.broken[0]})`);
    fixes.push("remove or fix the blocks that do not parse: Node may ignore the whole file");
  }
  if (pem.otherBlocks.length > 0) {
    problems.push(`it also holds ${pem.otherBlocks.join(", ")} (not certificates)`);
    fixes.push("keep only certificates in that file, never a private key");
  }
  const found = `NODE_EXTRA_CA_CERTS=${path}: ${plural(certs.length, "certificate")} (${list})${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`;
  if (problems.length > 0) return check("ca.extra", "warn", `${found}; ${problems.join("; ")}`, fixes.join("; "), details);
  return check("ca.extra", "ok", found, undefined, details);
}

/** What the doctor knows about Node's own trust store and the switches that change it. */
export interface BundledCaInput {
  /** tls.rootCertificates.length */
  count: number;
  /** NODE_OPTIONS and the process's own flags, where --use-openssl-ca would show. */
  nodeOptions: string;
  /** NODE_TLS_REJECT_UNAUTHORIZED's value, if set. */
  rejectUnauthorized: string | undefined;
}

/** Judges the trust store: the bundled CAs, and whether certificate checks were switched off. */
export function judgeBundledCa(input: BundledCaInput): Check {
  const details = { bundled: input.count, node_options: input.nodeOptions || null, node_tls_reject_unauthorized: input.rejectUnauthorized ?? null };
  if (input.rejectUnauthorized === "0") {
    return check(
      "ca.bundled",
      "warn",
      "NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off: HTTPS to the control helper and DoH trusts anyone, and certificate substitution can go unseen",
      "unset NODE_TLS_REJECT_UNAUTHORIZED (use NODE_EXTRA_CA_CERTS to trust a private CA instead)",
      details,
    );
  }
  if (/--use-openssl-ca\b/.test(input.nodeOptions)) {
    return check("ca.bundled", "ok", `Node uses OpenSSL's CA store (--use-openssl-ca: SSL_CERT_FILE / SSL_CERT_DIR) instead of its ${input.count} bundled CAs`, undefined, details);
  }
  if (input.count === 0) {
    return check("ca.bundled", "fail", "Node's bundled CA store is empty: no HTTPS site can be verified", "install an official Node.js build (https://nodejs.org)", details);
  }
  return check("ca.bundled", "ok", `Node's bundled CA store: ${input.count} certificates`, undefined, details);
}
