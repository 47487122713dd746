/** A throwaway CA and leaf certificates for loopback TLS servers, made with the openssl CLI. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A key and certificate pair in PEM. */
export interface Pem {
  key: string;
  cert: string;
}

/** The test CA: its PEM, the file it lives in (for NODE_EXTRA_CA_CERTS), and a signer. */
export interface TestCa extends Pem {
  certFile: string;
  dir: string;
  /** Issues a leaf for the given DNS names / IPs; `days` may be negative for an expired one. */
  issue(names: string[], opts?: { days?: number; notBefore?: string }): Pem;
  /** A self-signed leaf, not from this CA. */
  selfSigned(names: string[]): Pem;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function sanOf(names: string[]): string {
  return names.map((n) => (/^[\d.]+$/.test(n) || n.includes(":") ? `IP:${n}` : `DNS:${n}`)).join(",");
}

/** Creates a CA in a temp directory. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "reachprobe-ca-"));
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=reachprobe test CA"], dir);
  let serial = 1;
  const ca: TestCa = {
    dir,
    certFile: join(dir, "ca.pem"),
    key: readFileSync(join(dir, "ca.key"), "utf8"),
    cert: readFileSync(join(dir, "ca.pem"), "utf8"),
    issue(names, opts = {}) {
      const n = serial++;
      writeFileSync(join(dir, `ext${n}.cnf`), `subjectAltName=${sanOf(names)}\nbasicConstraints=CA:FALSE\n`);
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `leaf${n}.key`, "-out", `leaf${n}.csr`, "-subj", `/CN=${names[0]}`], dir);
      const days = opts.days ?? 30;
      if (days > 0) {
        openssl(["x509", "-req", "-in", `leaf${n}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", String(n + 100), "-days", String(days), "-extfile", `ext${n}.cnf`, "-out", `leaf${n}.pem`], dir);
      } else {
        // An expired certificate, valid for one day long ago. QUIRK: OpenSSL 3.0's `x509`
        // takes no start date, so this goes through `openssl ca`, which needs its little database.
        writeFileSync(join(dir, "index.txt"), "");
        writeFileSync(join(dir, "ca.cnf"), "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n");
        writeFileSync(join(dir, "serial"), `${(n + 100).toString(16).padStart(2, "0")}\n`);
        openssl(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", `leaf${n}.csr`, "-startdate", "20240101000000Z", "-enddate", "20240102000000Z", "-extfile", `ext${n}.cnf`, "-notext", "-out", `leaf${n}.pem`], dir);
      }
      return { key: readFileSync(join(dir, `leaf${n}.key`), "utf8"), cert: readFileSync(join(dir, `leaf${n}.pem`), "utf8") };
    },
    selfSigned(names) {
      const n = serial++;
      openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `self${n}.key`, "-out", `self${n}.pem`, "-days", "30", "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${sanOf(names)}`], dir);
      return { key: readFileSync(join(dir, `self${n}.key`), "utf8"), cert: readFileSync(join(dir, `self${n}.pem`), "utf8") };
    },
  };
  return ca;
}
