import { describe, expect, test } from "bun:test";
import { parseDuration } from "../../core/base/duration";
import { sinceTimestamp } from "../../core/deploy/logs";

describe("one duration syntax", () => {
  test("ms, s, m, h, d and a bare number (milliseconds), for --cold-start and --since alike", () => {
    expect(["500ms", "1.5s", "2m", "1h", "1d", "250"].map((v) => parseDuration(v))).toEqual([
      500, 1500, 120_000, 3_600_000, 86_400_000, 250,
    ]);
    const now = Date.parse("2026-01-01T01:00:00Z");
    expect(sinceTimestamp("500ms", now)).toBe("2026-01-01T00:59:59.500Z");
    expect(sinceTimestamp("1h", now)).toBe("2026-01-01T00:00:00.000Z");
    expect(sinceTimestamp("2025-12-31T00:00:00Z", now)).toBe("2025-12-31T00:00:00.000Z");
  });

  test("a bad value names the flag and the examples", () => {
    expect(() => parseDuration("soon", "--cold-start")).toThrow(
      '--cold-start: "soon" is not a duration (examples: 500ms',
    );
    expect(() => sinceTimestamp("10 parsecs")).toThrow("--since");
  });
});
