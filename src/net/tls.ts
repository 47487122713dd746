/**
 * TLS handshake over an already connected socket, so that "TCP connected, then the handshake
 * was reset" can be told from a dropped SYN. Verification is done by hand after the handshake
 * so that a substituted certificate is still recorded.
 */
import tls from "node:tls";
import net from "node:net";
import type { Failure } from "./failures.js";
import { classifyTlsError } from "./classify.js";
import { abortReason, type StepSignal } from "./deadline.js";

/** What a certificate in the chain says about itself. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  sans: string[];
  validFrom: string;
  validTo: string;
  /** SHA-256 fingerprint, colon-separated hex as Node prints it. */
  fingerprint256: string;
  /** The certificate itself: its DER bytes, base64 (what OONI's peer_certificates hold). Absent in records made before it was kept. */
  der?: string;
}

/** A handshake's outcome; the caller destroys `socket`. */
export interface TlsHandshakeResult {
  socket: tls.TLSSocket | null;
  failure: Failure | null;
  version?: string;
  alpn?: string | null;
  /** The negotiated cipher suite's IANA name (e.g. TLS_AES_128_GCM_SHA256); absent when the handshake failed. */
  cipherSuite?: string;
  certificates: CertificateInfo[];
  verified: boolean;
  verifyFailure: Failure | null;
}

/** Options for a handshake. */
export interface TlsHandshakeOptions {
  /** SNI and the name to verify; an IP literal is verified against IP SANs and sends no SNI. */
  serverName: string;
  alpn?: string[];
  signal: StepSignal;
  /** Extra trust (tests); otherwise Node's store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Certificates kept per chain, so a hostile server cannot make us record thousands. */
  maxChain?: number;
}

/** Reads the peer chain, leaf first, stopping at a self-issued certificate or the cap. */
function chainOf(sock: tls.TLSSocket, max: number): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true) as tls.DetailedPeerCertificate;
  const seen = new Set<string>();
  while (cert && cert.fingerprint256 && out.length < max && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push({
      subject: formatName(cert.subject),
      issuer: formatName(cert.issuer),
      sans: (cert.subjectaltname ?? "").split(/,\s*/).filter(Boolean),
      validFrom: new Date(cert.valid_from).toISOString(),
      validTo: new Date(cert.valid_to).toISOString(),
      fingerprint256: cert.fingerprint256,
      ...(cert.raw ? { der: cert.raw.toString("base64") } : {}),
    });
    cert = cert.issuerCertificate;
  }
  return out;
}

function cipherOf(sock: tls.TLSSocket): { cipherSuite?: string } {
  const c = sock.getCipher() as (tls.CipherNameAndProtocol & { standardName?: string }) | undefined;
  const name = c?.standardName || c?.name;
  return name ? { cipherSuite: name } : {};
}

function formatName(name: tls.Certificate | undefined): string {
  if (!name) return "";
  return Object.entries(name)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
    .join(", ");
}

/** Performs the handshake on `socket` and reports version, ALPN, chain and verification. */
export function tlsHandshake(socket: net.Socket, opts: TlsHandshakeOptions): Promise<TlsHandshakeResult> {
  const isIpName = net.isIP(opts.serverName) !== 0;
  return new Promise((resolve) => {
    const fail = (failure: Failure) => {
      cleanup();
      sock.destroy();
      resolve({ socket: null, failure, certificates: [], verified: false, verifyFailure: null });
    };
    if (opts.signal.aborted) {
      socket.destroy();
      return resolve({ socket: null, failure: classifyTlsError(abortReason(opts.signal)), certificates: [], verified: false, verifyFailure: null });
    }
    const sock = tls.connect({
      socket,
      // QUIRK: `host` is the name Node verifies the certificate against. Without it Node uses
      // the name the socket was connected to, which it does not keep for a socket connected to
      // an IP literal, and falls back to "localhost" (seen: a certificate valid for 127.0.0.1
      // was ssl_invalid_hostname). An IP literal is verified against the certificate's IP
      // SANs and sends no SNI, as a browser does.
      host: opts.serverName,
      ...(isIpName ? {} : { servername: opts.serverName }),
      ALPNProtocols: opts.alpn ?? ["h2", "http/1.1"],
      rejectUnauthorized: false,
      ...(opts.ca ? { ca: opts.ca } : {}),
    });
    const onAbort = () => fail(classifyTlsError(abortReason(opts.signal)));
    const onError = (err: Error) => fail(classifyTlsError(err));
    // A peer that closes without an alert ends the socket before 'secureConnect'.
    const onClose = () => fail("eof_error");
    const cleanup = () => {
      opts.signal.removeEventListener("abort", onAbort);
      sock.removeListener("error", onError);
      sock.removeListener("close", onClose);
    };
    opts.signal.addEventListener("abort", onAbort, { once: true });
    sock.once("error", onError);
    sock.once("close", onClose);
    sock.once("secureConnect", () => {
      cleanup();
      // After the handshake the socket may still error (peer reset); swallow so it never crashes us.
      sock.on("error", () => {});
      const certificates = chainOf(sock, opts.maxChain ?? 10);
      let verifyFailure: Failure | null = null;
      if (!sock.authorized) {
        verifyFailure = classifyTlsError({ code: String(sock.authorizationError ?? "CERT_UNTRUSTED") });
      } else {
        const leaf = sock.getPeerCertificate();
        const idErr = tls.checkServerIdentity(opts.serverName, leaf);
        if (idErr) verifyFailure = classifyTlsError(idErr);
      }
      resolve({
        socket: sock,
        failure: verifyFailure,
        version: sock.getProtocol() ?? undefined,
        alpn: sock.alpnProtocol || null,
        ...cipherOf(sock),
        certificates,
        verified: verifyFailure === null,
        verifyFailure,
      });
    });
  });
}
