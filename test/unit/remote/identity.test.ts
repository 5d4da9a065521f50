// Pure tests of remote identity: the export name of a value in a module's exports (module + export name).
import { describe, expect, test } from "bun:test";
import { exportNameOf } from "../../../core/remote/identity";

describe("exportNameOf", () => {
  const fn = () => 1;
  class Model {
    static load() {}
    predict() {}
  }

  test("finds a value by identity among the exports, not by its own name", () => {
    const renamed = function original() {};
    expect(exportNameOf({ a: 1, fn }, fn)).toBe("fn");
    expect(exportNameOf({ alias: renamed }, renamed)).toBe("alias");
    expect(exportNameOf({ other: () => 1 }, fn)).toBeUndefined();
  });

  test("names a static or prototype method of an exported class Class.method", () => {
    expect(exportNameOf({ Model }, Model.load)).toBe("Model.load");
    expect(exportNameOf({ Model }, Model.prototype.predict)).toBe("Model.predict");
    expect(exportNameOf({ Exported: Model }, Model)).toBe("Exported");
  });
});
