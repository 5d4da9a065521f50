/** The example name flash init suggests for a free-form title. */
import { expect, test } from "bun:test";
import { suggestName } from "../../../core/workspace/init";

test("suggestName", () => {
  expect(suggestName("Image Resize", ["01_a", "04_b"])).toBe("05_image_resize");
  expect(suggestName("2-thing")).toBe("02_thing");
  expect(suggestName("CamelCase")).toBe("01_camel_case");
  expect(suggestName("!!!")).toBe("01_example");
});
