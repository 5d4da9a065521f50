// Pure tests of the Runpod client's retry pacing and secret redaction (no sockets).
import { describe, expect, test } from "bun:test";
import { backoff, redact } from "../../../core/runpod/http";

describe("backoff", () => {
  test("doubles per retry from the base, with ±50 % jitter, and never passes the cap", () => {
    for (let i = 0; i < 200; i++) {
      const first = backoff(1, { baseDelayMs: 100, maxDelayMs: 1000 });
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(150);
      const third = backoff(3, { baseDelayMs: 100, maxDelayMs: 1000 });
      expect(third).toBeGreaterThanOrEqual(200);
      expect(third).toBeLessThanOrEqual(600);
      expect(backoff(20, { baseDelayMs: 100, maxDelayMs: 1000 })).toBeLessThanOrEqual(1500);
    }
  });
});

describe("redact", () => {
  test("removes the key, also URL-encoded, and leaves short or absent secrets alone", () => {
    const key = "rpa_SECRET/+=KEY";
    expect(redact(`auth ${key} and ${encodeURIComponent(key)}`, key)).toBe("auth *** and ***");
    expect(redact("abc", "ab")).toBe("abc");
    expect(redact("abc", undefined)).toBe("abc");
  });
});
