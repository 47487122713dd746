/** The doctor's `network` check from routing tables as Linux prints them (src/doctor/route.ts). */
import { describe, expect, it } from "vitest";
import { judgeRoute } from "../../src/doctor/route.js";

const HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
const V4_DEFAULT = `${HEADER}eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
const V4_LAN_ONLY = `${HEADER}eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
// What a namespace with only lo shows: the kernel's ::/0 reject route on lo.
const V6_LO_ONLY =
  "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n" +
  "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n";
const V6_DEFAULT = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n";

describe("the network check", () => {
  it("fails with no default route, as in a namespace with only lo", () => {
    const c = judgeRoute({ v4: HEADER, v6: V6_LO_ONLY });
    expect(c.status).toBe("fail");
    expect(c.message).toMatch(/no route to the internet.*exit 5/);
    expect(judgeRoute({ v4: V4_LAN_ONLY, v6: "" }).status).toBe("fail");
  });

  it("passes with a default route in either family", () => {
    expect(judgeRoute({ v4: V4_DEFAULT, v6: V6_LO_ONLY })).toMatchObject({ status: "ok", message: expect.stringContaining("IPv4 via eth0") });
    expect(judgeRoute({ v4: HEADER, v6: V6_DEFAULT })).toMatchObject({ status: "ok", message: expect.stringContaining("IPv6 via eth0") });
  });

  it("is not checked where there are no tables", () => {
    expect(judgeRoute({ v4: null, v6: null }).status).toBe("skip");
  });
});
