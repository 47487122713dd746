import { describe, expect, test } from "vitest";
import { cidrContains, classifyAddress, isBogon, parseCidr, parsePublicRanges } from "../../src/net/bogons.js";

const LAB_RANGES = parsePublicRanges("192.0.2.0/24,198.51.100.0/24,203.0.113.0/24");

describe("classifyAddress", () => {
  // [address, expected kind or null for a public address]
  const cases: Array<[string, string | null]> = [
    ["8.8.8.8", null],
    ["93.184.216.34", null],
    ["1.1.1.1", null],
    ["0.0.0.0", "an unspecified address"],
    ["0.1.2.3", 'a reserved "this network" address'],
    ["10.10.34.35", "a private address (RFC 1918)"],
    ["172.16.0.1", "a private address (RFC 1918)"],
    ["172.31.255.255", "a private address (RFC 1918)"],
    ["172.32.0.1", null],
    ["192.168.1.1", "a private address (RFC 1918)"],
    ["100.64.0.1", "a carrier-grade NAT address"],
    ["100.127.255.255", "a carrier-grade NAT address"],
    ["100.128.0.1", null],
    ["127.0.0.1", "a loopback address"],
    ["127.0.0.2", "a loopback address"],
    ["169.254.169.254", "a link-local address"],
    ["192.0.0.8", "a reserved address (IETF protocol assignments)"],
    ["192.0.2.1", "a documentation address"],
    ["198.51.100.7", "a documentation address"],
    ["203.0.113.21", "a documentation address"],
    ["192.88.99.1", "a reserved address (deprecated 6to4 relay)"],
    ["198.18.0.1", "a benchmarking address"],
    ["198.19.255.255", "a benchmarking address"],
    ["198.20.0.1", null],
    ["224.0.0.251", "a multicast address"],
    ["239.255.255.250", "a multicast address"],
    ["240.0.0.1", "a reserved address"],
    ["255.255.255.255", "a broadcast address"],
    ["2001:4860:4860::8888", null],
    ["2a00:1450:4001:80b::200e", null],
    ["::", "an unspecified address"],
    ["::1", "a loopback address"],
    ["[::1]", "a loopback address"],
    ["::7f00:1", "a reserved address (deprecated IPv4-compatible)"],
    ["fe80::1", "a link-local address"],
    ["fe80::1%eth0", "a link-local address"],
    ["febf:ffff::1", "a link-local address"],
    ["fec0::1", "a deprecated site-local address"],
    ["fc00::1", "an IPv6 unique-local address"],
    ["fd12:3456:789a::1", "an IPv6 unique-local address"],
    ["ff02::1", "a multicast address"],
    ["2001:db8::1", "a documentation address"],
    ["2001:DB8:0:0:0:0:0:1", "a documentation address"],
    ["3fff::1", "a documentation address"],
    ["100::1", "a discard-only address"],
    ["2001:2::1", "a benchmarking address"],
    ["2001:10::1", "a reserved address (deprecated ORCHID)"],
    ["64:ff9b:1::1", "a reserved address (local-use NAT64)"],
    ["4000::1", "a reserved address"],
    // IPv4-mapped and NAT64 addresses follow the rules of the IPv4 address inside.
    ["::ffff:127.0.0.1", "a loopback address"],
    ["::ffff:7f00:1", "a loopback address"],
    ["::ffff:10.0.0.1", "a private address (RFC 1918)"],
    ["::ffff:8.8.8.8", null],
    ["64:ff9b::8.8.8.8", null],
    ["64:ff9b::192.168.0.1", "a private address (RFC 1918)"],
    // 6to4 carries its IPv4 address in bits 16 to 47: a private or loopback one makes a bogon.
    ["2002:a00:1::1", "a private address (RFC 1918)"],
    ["2002:7f00:1::", "a loopback address"],
    ["2002:c0a8:101::1", "a private address (RFC 1918)"],
    ["2002:a9fe:a9fe::", "a link-local address"],
    ["2002:808:808::1", null],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "a reserved address (Teredo tunnelling)"],
    ["100:0:0:1::1", "a reserved address (dummy IPv6 prefix)"],
  ];
  test.each(cases)("%s is %s", (ip, kind) => {
    expect(classifyAddress(ip)).toEqual({ bogon: kind !== null, kind });
    expect(isBogon(ip)).toBe(kind !== null);
  });

  const lab: Array<[string, string | null]> = [
    ["192.0.2.53", null],
    ["198.51.100.1", null],
    ["203.0.113.21", null],
    ["::ffff:203.0.113.21", null],
    // Only the ranges given become public: loopback and other documentation space stay bogons.
    ["127.0.0.2", "a loopback address"],
    ["10.0.0.1", "a private address (RFC 1918)"],
    ["2001:db8::1", "a documentation address"],
  ];
  test.each(lab)("with the lab's --public-ranges, %s is %s", (ip, kind) => {
    expect(classifyAddress(ip, LAB_RANGES)).toEqual({ bogon: kind !== null, kind });
  });

  test("an IPv6 public range makes an IPv6 documentation address public", () => {
    expect(classifyAddress("2001:db8::53", parsePublicRanges("2001:db8::/32"))).toEqual({ bogon: false, kind: null });
  });

  test.each(["", "example.com", "256.1.1.1", "1.2.3", "01.2.3.4", "::g"])("%j is not an address and throws, naming it", (bad) => {
    expect(() => classifyAddress(bad)).toThrow(`"${bad}" is not an IPv4 or IPv6 address`);
  });
});

describe("parseCidr", () => {
  const good: Array<[string, string, 4 | 6, number]> = [
    ["192.0.2.0/24", "192.0.2.0/24", 4, 24],
    [" 203.0.113.0/24 ", "203.0.113.0/24", 4, 24],
    ["192.0.2.77/24", "192.0.2.0/24", 4, 24],
    ["10.1.2.3", "10.1.2.3/32", 4, 32],
    ["0.0.0.0/0", "0.0.0.0/0", 4, 0],
    ["172.16.5.4/12", "172.16.0.0/12", 4, 12],
    ["2001:db8::/32", "2001:db8::/32", 6, 32],
    ["2001:DB8:1:2::5/64", "2001:db8:1:2::/64", 6, 64],
    ["::1", "::1/128", 6, 128],
    ["::/0", "::/0", 6, 0],
    ["fe80::1/10", "fe80::/10", 6, 10],
    ["2001:0:0:1:0:0:0:1/128", "2001:0:0:1::1/128", 6, 128],
    ["::ffff:192.0.2.1/128", "::ffff:c000:201/128", 6, 128],
  ];
  test.each(good)("%j parses to %s", (text, canonical, family, prefix) => {
    const c = parseCidr(text);
    expect(c.text).toBe(canonical);
    expect(c.family).toBe(family);
    expect(c.prefix).toBe(prefix);
  });

  const bad: Array<[string, RegExp]> = [
    ["", /invalid CIDR "": "" is not an IPv4 or IPv6 address/],
    ["192.0.2.0/33", /invalid CIDR "192.0.2.0\/33": prefix length must be a whole number from 0 to 32/],
    ["2001:db8::/129", /invalid CIDR "2001:db8::\/129": prefix length must be a whole number from 0 to 128/],
    ["192.0.2.0/", /prefix length/],
    ["192.0.2.0/-1", /prefix length/],
    ["192.0.2.0/24/8", /prefix length/],
    ["192.0.2/24", /"192.0.2" is not an IPv4 or IPv6 address/],
    ["example.com/24", /"example.com" is not an IPv4 or IPv6 address/],
    ["fe80::1%eth0/64", /is not an IPv4 or IPv6 address/],
  ];
  test.each(bad)("%j is refused with a message naming it", (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
    try {
      parseCidr(text);
    } catch (err) {
      expect((err as { code?: string }).code).toBe("E_CIDR");
    }
  });

  test("cidrContains checks membership, IPv4-mapped addresses included", () => {
    const c = parseCidr("203.0.113.0/24");
    expect(cidrContains(c, "203.0.113.255")).toBe(true);
    expect(cidrContains(c, "203.0.114.0")).toBe(false);
    expect(cidrContains(c, "::ffff:203.0.113.9")).toBe(true);
    expect(cidrContains(c, "2001:db8::1")).toBe(false);
    expect(cidrContains(c, "not an address")).toBe(false);
    expect(cidrContains(parseCidr("::/0"), "2001:db8::1")).toBe(true);
  });
});

describe("parsePublicRanges", () => {
  test("reads the lab's list", () => {
    expect(LAB_RANGES.map((c) => c.text)).toEqual(["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]);
  });
  test("tolerates blanks and empty items", () => {
    expect(parsePublicRanges(" 192.0.2.0/24 , ,2001:db8::/32,").map((c) => c.text)).toEqual(["192.0.2.0/24", "2001:db8::/32"]);
    expect(parsePublicRanges("")).toEqual([]);
  });
  test("names the bad item", () => {
    expect(() => parsePublicRanges("192.0.2.0/24,198.51.100.0/40")).toThrow('invalid CIDR "198.51.100.0/40"');
  });
});
