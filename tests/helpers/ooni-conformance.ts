/**
 * A checker of OONI's archival format for web_connectivity 0.4.x (and tcp_connect, ts-008, for
 * tcp:// targets), field by field, written from
 * the format as docs/ooni-pipeline.md describes it (OONI's df-000-base, df-001-httpt,
 * df-002-dnst, df-005-tcpconnect, df-006-tlshandshake and the helper's control format): each
 * field OONI's readers decode is present with the type they decode it as. Returns every
 * mismatch as "path: what is wrong"; empty when the measurement conforms.
 */
import { isIP } from "node:net";

type Check = (v: unknown, path: string, errors: string[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const str: Check = (v, p, e) => void (typeof v !== "string" && e.push(`${p}: not a string`));
const num: Check = (v, p, e) => void ((typeof v !== "number" || !Number.isFinite(v)) && e.push(`${p}: not a number`));
const int: Check = (v, p, e) => void (!Number.isInteger(v) && e.push(`${p}: not an integer`));
const bool: Check = (v, p, e) => void (typeof v !== "boolean" && e.push(`${p}: not a boolean`));
const nullable = (c: Check): Check => (v, p, e) => void (v !== null && c(v, p, e));
const optional = (c: Check): Check => (v, p, e) => void (v !== undefined && c(v, p, e));
const failure = nullable(str);
const matches = (re: RegExp): Check => (v, p, e) => void ((typeof v !== "string" || !re.test(v)) && e.push(`${p}: ${JSON.stringify(v)} does not match ${re}`));
const oneOf = (...values: unknown[]): Check => (v, p, e) => void (!values.includes(v) && e.push(`${p}: ${JSON.stringify(v)} is not one of ${JSON.stringify(values)}`));
const list = (c: Check): Check => (v, p, e) => {
  if (!Array.isArray(v)) return void e.push(`${p}: not a list`);
  v.forEach((x, i) => c(x, `${p}[${i}]`, e));
};
const map = (c: Check): Check => (v, p, e) => {
  if (!isObj(v)) return void e.push(`${p}: not an object`);
  for (const [k, x] of Object.entries(v)) c(x, `${p}.${k}`, e);
};
const shape = (fields: Record<string, Check>): Check => (v, p, e) => {
  if (!isObj(v)) return void e.push(`${p}: not an object`);
  for (const [k, c] of Object.entries(fields)) {
    if (!(k in v) && !isOptional(c)) e.push(`${p}.${k}: missing`);
    else c(v[k], `${p}.${k}`, e);
  }
};
const OPTIONAL = new WeakSet<Check>();
const opt = (c: Check): Check => {
  const o = optional(c);
  OPTIONAL.add(o);
  return o;
};
const isOptional = (c: Check) => OPTIONAL.has(c);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const binary = shape({ format: oneOf("base64"), data: matches(BASE64) });
/** df-001-httpt's MaybeBinaryData: a string, or {"format": "base64", "data": ...}. */
const maybeBinary: Check = (v, p, e) => (typeof v === "string" ? undefined : binary(v, p, e));
const OONI_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const tags = nullable(list(str));
const headerPair: Check = (v, p, e) => {
  if (!Array.isArray(v) || v.length !== 2) return void e.push(`${p}: not a [name, value] pair`);
  maybeBinary(v[0], `${p}[0]`, e);
  maybeBinary(v[1], `${p}[1]`, e);
};
const CANONICAL = /^[A-Z0-9][a-z0-9]*(?:-[A-Z0-9][a-z0-9]*)*$/;
const canonicalMap = (c: Check): Check => (v, p, e) => {
  map(c)(v, p, e);
  if (isObj(v)) for (const k of Object.keys(v)) if (!CANONICAL.test(k)) e.push(`${p}: header name ${JSON.stringify(k)} is not in Go's canonical form`);
};

const answer = shape({
  answer_type: oneOf("A", "AAAA", "CNAME"),
  ipv4: opt((v, p, e) => void (isIP(String(v)) !== 4 && e.push(`${p}: not an IPv4 address`))),
  ipv6: opt((v, p, e) => void (isIP(String(v)) !== 6 && e.push(`${p}: not an IPv6 address`))),
  hostname: opt(str),
  ttl: nullable(int),
});
const query = shape({
  answers: nullable(list(answer)),
  engine: str,
  failure,
  hostname: str,
  query_type: str,
  resolver_address: str,
  rcode: opt(int),
  t0: opt(num),
  t: num,
  tags,
  transaction_id: int,
});
const tcpConnect = shape({
  ip: (v, p, e) => void (isIP(String(v)) === 0 && e.push(`${p}: not an address`)),
  port: int,
  status: shape({ success: bool, failure, blocked: opt(nullable(bool)) }),
  t0: opt(num),
  t: num,
  tags,
  transaction_id: int,
});
const tlsHandshake = shape({
  network: str,
  address: str,
  cipher_suite: str,
  failure,
  negotiated_protocol: str,
  no_tls_verify: bool,
  peer_certificates: nullable(list(binary)),
  server_name: str,
  t0: opt(num),
  t: num,
  tags,
  tls_version: str,
  transaction_id: int,
});
const httpHeaders = { headers_list: list(headerPair), headers: map(maybeBinary) };
const request = shape({
  network: opt(str),
  address: opt(str),
  failure,
  request: shape({
    body: maybeBinary,
    body_is_truncated: bool,
    ...httpHeaders,
    method: str,
    tor: shape({ exit_ip: nullable(str), exit_name: nullable(str), is_tor: bool }),
    x_transport: str,
    url: str,
  }),
  response: shape({ body: maybeBinary, body_is_truncated: bool, code: int, ...httpHeaders }),
  t0: opt(num),
  t: num,
  tags,
  transaction_id: int,
});
const control = nullable(
  shape({
    tcp_connect: map(shape({ status: nullable(bool), failure })),
    tls_handshake: opt(map(shape({ status: nullable(bool), failure, server_name: nullable(str) }))),
    http_request: shape({ body_length: nullable(int), failure, title: nullable(str), headers: nullable(canonicalMap(str)), status_code: nullable(int) }),
    // The helper's words for its lookup's failure (dns_name_error, not dns_nxdomain_error).
    dns: shape({ failure: oneOf(null, "dns_name_error", "dns_server_failure", "unknown_error"), addrs: nullable(list(str)) }),
  }),
);

// df-000-base: what every measurement carries, whatever its test.
const base = {
  annotations: map(str),
  data_format_version: str,
  extensions: opt(map(int)),
  measurement_start_time: matches(OONI_TIME),
  probe_asn: matches(/^AS\d+$/),
  probe_cc: matches(/^[A-Z]{2}$/),
  probe_ip: str,
  probe_network_name: str,
  report_id: str,
  resolver_asn: matches(/^AS\d+$/),
  resolver_ip: str,
  resolver_network_name: str,
  software_name: str,
  software_version: str,
  test_helpers: nullable(map(shape({ address: str, type: str }))),
  test_runtime: num,
  test_start_time: matches(OONI_TIME),
};

const webConnectivity = shape({
  ...base,
  input: nullable(str),
  test_name: oneOf("web_connectivity"),
  test_version: matches(/^0\.4\.\d+$/),
  test_keys: shape({
    queries: nullable(list(query)),
    tcp_connect: nullable(list(tcpConnect)),
    tls_handshakes: nullable(list(tlsHandshake)),
    requests: nullable(list(request)),
    control,
    control_failure: failure,
    dns_experiment_failure: failure,
    http_experiment_failure: failure,
    blocking: (v, p, e) => void (v !== false && v !== null && typeof v !== "string" && e.push(`${p}: not false, null or a string`)),
    accessible: nullable(bool),
    client_resolver: nullable(str),
    socksproxy: nullable(str),
  }),
});

// ts-008's input: an endpoint, host:port ([v6]:port), never a URL; OONI's fastpath asserts it is there.
const ENDPOINT = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
// A failure string as OONI writes them: snake_case words, or unknown_failure with its message.
const FAILURE_WORD = /^(?:[a-z0-9]+(?:_[a-z0-9]+)+|unknown_failure: .+)$/;

const tcpConnectTest = shape({
  ...base,
  input: matches(ENDPOINT),
  test_name: oneOf("tcp_connect"),
  test_version: matches(/^0\.\d+\.\d+$/),
  test_keys: shape({
    // The one key OONI's tcp_connect writes and its fastpath scores: "success" or the failure.
    connection: (v, p, e) => void ((typeof v !== "string" || (v !== "success" && !FAILURE_WORD.test(v))) && e.push(`${p}: ${JSON.stringify(v)} is neither "success" nor a failure string`)),
    // df-002 and df-005 templates, when written, in their own shapes.
    queries: opt(nullable(list(query))),
    tcp_connect: opt(nullable(list(tcpConnect))),
  }),
});

const measurement: Check = (v, p, e) => {
  const name = isObj(v) ? v.test_name : undefined;
  if (name === "tcp_connect") return tcpConnectTest(v, p, e);
  webConnectivity(v, p, e);
};

/** Every way `m` departs from OONI's archival format for web_connectivity 0.4.x, or for tcp_connect (ts-008) when that is its test_name. */
export function ooniConformance(m: unknown): string[] {
  const errors: string[] = [];
  measurement(m, "$", errors);
  return errors;
}
