/** `flash completion bash|zsh|fish`: scripts that complete commands, subcommands and flags, read from the commands. */
import { describe, expect, test } from "bun:test";
import { REPO, runFlash } from "../helpers/workspace";

/** What the bash completion offers for a command line typed so far (the last word is being completed). */
function complete(script: string, line: string[]): string[] {
  const words = line.map((w) => `'${w}'`).join(" ");
  const cmd = `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _flash; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = Bun.spawnSync(["bash", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  return r.stdout.toString().split("\n").filter(Boolean);
}

describe("flash completion", () => {
  test("bash completes commands, subcommands and each command's flags", () => {
    const r = runFlash(REPO, ["completion", "bash"]);
    expect(r.code).toBe(0);
    expect(complete(r.out, ["flash", "ru"])).toEqual(["run"]);
    expect(complete(r.out, ["flash", "app", "l"])).toEqual(["list"]);
    expect(complete(r.out, ["flash", "env", "get", "--j"])).toEqual(["--json"]);
    expect(complete(r.out, ["flash", "deploy", "--dr"])).toEqual(["--dry-run"]);
    expect(complete(r.out, ["flash", "init", "--no-"])).toEqual(["--no-install"]);
  });

  test("zsh wraps the bash completion; fish lists commands, subcommands and flags; an unknown shell is exit 2", () => {
    const zsh = runFlash(REPO, ["completion", "zsh"]);
    expect(zsh.out).toContain("bashcompinit");
    expect(zsh.out).toContain("complete -o default -F _flash flash");
    const fish = runFlash(REPO, ["completion", "fish"]);
    expect(fish.out).toContain("complete -c flash -n __fish_use_subcommand -a deploy -d ");
    expect(fish.out).toContain('complete -c flash -n "__fish_seen_subcommand_from app" -a list');
    expect(fish.out).toContain('complete -c flash -n "__fish_seen_subcommand_from deploy" -l dry-run');
    const bad = runFlash(REPO, ["completion", "tcsh"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('Unknown shell "tcsh"');
  });
});
