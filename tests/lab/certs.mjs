/**
 * Certificate authorities for the lab, made with the openssl CLI at set-up: the lab CA (trusted
 * by the client through NODE_EXTRA_CA_CERTS) that signs the internet's servers, and the censor's
 * CA (never trusted) that signs its interception certificates.
 *
 * Same recipe as tests/helpers/certs.ts, in plain JavaScript because `lab:up` and `lab:demo`
 * run with plain `node`, which on Node 20 cannot import TypeScript.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function openssl(args, cwd) {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function sanOf(names) {
  return names.map((n) => (/^[\d.]+$/.test(n) || n.includes(":") ? `IP:${n}` : `DNS:${n}`)).join(",");
}

/**
 * Creates a CA named `cn` in `dir` and returns its certificate file and a signer that writes
 * `<base>.key` / `<base>.pem` for a leaf covering `names` (DNS names or IP addresses).
 */
export function makeCa(dir, cn) {
  mkdirSync(dir, { recursive: true });
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", `/CN=${cn}`], dir);
  let serial = 100;
  return {
    dir,
    certFile: join(dir, "ca.pem"),
    issue(base, names) {
      const n = serial++;
      writeFileSync(join(dir, `${base}.cnf`), `subjectAltName=${sanOf(names)}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", `/CN=${names[0]}`], dir);
      openssl(["x509", "-req", "-in", `${base}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", String(n), "-days", "30", "-extfile", `${base}.cnf`, "-out", `${base}.pem`], dir);
      return { keyFile: join(dir, `${base}.key`), certFile: join(dir, `${base}.pem`) };
    },
    /** A leaf covering `names` that expired in 2020 (`openssl ca` sets past dates; `x509 -days` cannot). */
    issueExpired(base, names) {
      const n = serial++;
      writeFileSync(join(dir, `${base}.index`), "");
      writeFileSync(join(dir, `${base}.serial`), `${n.toString(16).padStart(4, "0")}\n`);
      writeFileSync(
        join(dir, `${base}.cnf`),
        `[ca]\ndefault_ca = d\n[d]\ndatabase = ${base}.index\nnew_certs_dir = .\nserial = ${base}.serial\ndefault_md = sha256\npolicy = p\nx509_extensions = ext\n[p]\ncommonName = supplied\n[ext]\nsubjectAltName = ${sanOf(names)}\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n`,
      );
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", `/CN=${names[0]}`], dir);
      openssl(["ca", "-batch", "-config", `${base}.cnf`, "-cert", "ca.pem", "-keyfile", "ca.key", "-in", `${base}.csr`, "-out", `${base}.pem`, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext"], dir);
      return { keyFile: join(dir, `${base}.key`), certFile: join(dir, `${base}.pem`) };
    },
  };
}
