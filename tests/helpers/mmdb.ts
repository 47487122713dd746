/**
 * A minimal MaxMind DB (MMDB v2) writer for tests: an IPv4 tree of a few networks, each mapped
 * to a small record, so the ASN lookup is tested against the real file format without
 * downloading a database.
 */
import { writeFileSync } from "node:fs";

type Value = string | number | { [k: string]: Value } | Value[];

function ctrl(type: number, size: number): Buffer {
  // Sizes up to 28 fit in the control byte; tests never need more than 65,564.
  const head = (t: number, s: number) => (t <= 7 ? Buffer.from([(t << 5) | s]) : Buffer.from([s, t - 7]));
  if (size < 29) return head(type, size);
  if (size < 29 + 256) return Buffer.concat([head(type, 29), Buffer.from([size - 29])]);
  const rest = size - 285;
  return Buffer.concat([head(type, 30), Buffer.from([rest >> 8, rest & 255])]);
}

function uint(type: number, n: number | bigint): Buffer {
  let hex = BigInt(n).toString(16);
  if (hex === "0") return ctrl(type, 0);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  return Buffer.concat([ctrl(type, bytes.length), bytes]);
}

/** Encodes a value in the MMDB data format (maps, strings, unsigned integers, arrays). */
export function encode(v: Value, intType: "uint16" | "uint32" | "uint64" = "uint32"): Buffer {
  if (typeof v === "string") {
    const b = Buffer.from(v, "utf8");
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof v === "number") return uint(intType === "uint16" ? 5 : intType === "uint32" ? 6 : 9, v);
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map((x) => encode(x))]);
  const entries = Object.entries(v);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

/** Writes an IPv4 MMDB mapping each `a.b.c.d/len` network to its record. */
export function writeMmdb(path: string, networks: Record<string, Record<string, Value>>, databaseType = "GeoLite2-ASN"): void {
  interface Node {
    kids: [Node | number | null, Node | number | null];
    id: number;
  }
  const nodes: Node[] = [];
  const node = (): Node => {
    const n: Node = { kids: [null, null], id: nodes.length };
    nodes.push(n);
    return n;
  };
  const root = node();
  const data: Buffer[] = [];
  let dataLen = 0;
  for (const [cidr, record] of Object.entries(networks)) {
    const [ip, len] = cidr.split("/");
    const bits = ip!.split(".").reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
    const offset = dataLen;
    const enc = encode(record);
    data.push(enc);
    dataLen += enc.length;
    let cur = root;
    const n = Number(len);
    for (let i = 0; i < n; i++) {
      const bit = (bits >>> (31 - i)) & 1;
      if (i === n - 1) cur.kids[bit] = offset;
      else {
        const next = cur.kids[bit];
        if (next && typeof next === "object") cur = next;
        else {
          const made = node();
          cur.kids[bit] = made;
          cur = made;
        }
      }
    }
  }
  const count = nodes.length;
  const rec = (k: Node | number | null) => (k === null ? count : typeof k === "number" ? count + 16 + k : k.id);
  const tree = Buffer.alloc(count * 6);
  for (const n of nodes) {
    for (const [side, k] of n.kids.entries()) {
      const v = rec(k);
      tree.writeUIntBE(v, n.id * 6 + side * 3, 3);
    }
  }
  const meta = Buffer.concat([
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from("MaxMind.com"),
    Buffer.concat([
      ctrl(7, 9),
      encode("node_count"), encode(count, "uint32"),
      encode("record_size"), encode(24, "uint16"),
      encode("ip_version"), encode(4, "uint16"),
      encode("database_type"), encode(databaseType),
      encode("languages"), encode(["en"]),
      encode("binary_format_major_version"), encode(2, "uint16"),
      encode("binary_format_minor_version"), encode(0, "uint16"),
      encode("build_epoch"), encode(1_700_000_000, "uint64"),
      encode("description"), encode({ en: "reachprobe test database" }),
    ]),
  ]);
  writeFileSync(path, Buffer.concat([tree, Buffer.alloc(16), ...data, meta]));
}
