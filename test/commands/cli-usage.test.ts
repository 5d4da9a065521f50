/** For people: a typo'd command gets the nearest one (exit 2), `flash help [cmd]` and `-V` work, and a folder that
 * does not exist is one line with the nearest folder, not a stack trace. */
import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { REPO, runFlash } from "../helpers/workspace";

describe("the flash command line", () => {
  test("an unknown command is a usage error with the nearest command", () => {
    const typo = runFlash(REPO, ["rnu"]);
    expect(typo.code).toBe(2);
    expect(typo.out.trim().split("\n")).toHaveLength(1);
    expect(typo.out).toContain('unknown command "rnu". Did you mean "flash run"?');
    const far = runFlash(REPO, ["zzzzzzzz"]);
    expect(far.code).toBe(2);
    expect(far.out).not.toContain("Did you mean");
    expect(far.out).toContain("Commands: run, init");
  });

  test("flash help, flash help <command> and -V", () => {
    const help = runFlash(REPO, ["help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("USAGE flash run|");
    const deploy = runFlash(REPO, ["help", "deploy"]);
    expect(deploy.code).toBe(0);
    expect(deploy.out).toContain("USAGE flash deploy");
    const version = runFlash(REPO, ["-V"]);
    expect(version.code).toBe(0);
    expect(version.out).toStartWith(pkg.version);
  });

  test("a folder that does not exist is one line naming the nearest folder, without a stack trace", () => {
    for (const cmd of ["run", "build"]) {
      const gone = runFlash(REPO, [cmd, "/nonexistent"]);
      expect(gone.code, cmd).toBe(1);
      expect(gone.out.trim().split("\n"), cmd).toEqual([
        "[error] /nonexistent: no such folder (pass a workspace, category or example folder)",
      ]);
    }
    const typo = runFlash(REPO, ["run", "01_getting_stared"]);
    expect(typo.code).toBe(1);
    expect(typo.out).toContain("01_getting_stared: no such folder (did you mean 01_getting_started?)");
  });
});
