import { describe, expect, test } from "bun:test";
import { httpUrl } from "../../../core/base/net";

describe("httpUrl", () => {
  test("an IPv6 host goes in brackets; IPv4 hosts and names do not", () => {
    expect(httpUrl("::1", 8080)).toBe("http://[::1]:8080");
    expect(httpUrl("::", 80)).toBe("http://[::]:80");
    expect(httpUrl("127.0.0.1", 3000)).toBe("http://127.0.0.1:3000");
    expect(httpUrl("localhost", 3000)).toBe("http://localhost:3000");
  });
});
