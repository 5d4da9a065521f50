#!/usr/bin/env bun
/**
 * Run a command (the test suite) and fail when a process it started is still running after it exits:
 * `bun scripts/test/leaks.ts bun test --parallel=2`. It lists each leftover (pid and command line), kills it, and
 * exits 1 (or the command's own code when that already failed).
 *
 * On Linux this process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a process orphaned during the
 * run (an emulated worker whose server died, a `sh -c` wrapper's child) is re-parented here instead of to PID 1 and
 * stays countable as a descendant; the orphans that exit are reaped as they go. Elsewhere, processes are found by a
 * variable set in the command's environment, which a child started with a fresh environment does not carry.
 * LEAK_CHECK_GRACE_MS (default 5000) is how long processes still stopping when the command ends may take.
 *
 * `--tmp-in-ram` (before the command) gives the command a TMPDIR on /dev/shm for the run where the machine has one
 * (scripts/test/ram-tmp.ts), and removes it afterwards, saying how many entries the tests left in it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { ramTmpDir, removeRamTmpDir } from "./ram-tmp";

const MARK = "LEAK_CHECK_RUN";
/** How long processes told to stop as the suite ended may take (a worker's SIGTERM grace is 2–3 s). */
const GRACE_MS = Number(process.env.LEAK_CHECK_GRACE_MS) || 5_000;

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmd: string;
}

/** Every process visible in /proc, with its parent, state and (unless `withCommand` is false) command line. */
function processes(withCommand = true): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = withCommand ? readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim() : "";
      out.push({ pid: Number(entry), state: fields[0]!, ppid: Number(fields[1]), cmd });
    } catch {
      // it ended while we looked
    }
  }
  return out;
}

/** True when the process's environment carries this run's mark (readable for our own processes only). */
function marked(pid: number, run: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${MARK}=${run}`);
  } catch {
    return false;
  }
}

/** Live processes of this run: descendants of this process (with the subreaper) and any carrying the mark. */
function leftovers(run: string): Proc[] {
  const all = processes().filter((p) => p.state !== "Z");
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (!ours.has(p.pid) && ours.has(p.ppid)) {
        ours.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => p.pid !== process.pid && (ours.has(p.pid) || marked(p.pid, run)));
}

/** Linux libc calls through FFI: become a subreaper, and reap one exited child by pid. */
function linuxCalls(): { reap: (pid: number) => void } | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
      waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    });
    const PR_SET_CHILD_SUBREAPER = 36;
    if (libc.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) return undefined;
    const WNOHANG = 1;
    return { reap: (pid) => void libc.symbols.waitpid(pid, null, WNOHANG) };
  } catch {
    return undefined; // musl or no FFI: the environment mark alone
  }
}

async function main(args: string[]): Promise<number> {
  const inRam = args[0] === "--tmp-in-ram";
  const argv = inRam ? args.slice(1) : args;
  if (argv.length === 0) {
    console.error("usage: bun scripts/test/leaks.ts [--tmp-in-ram] <command> [args…]");
    return 2;
  }
  const tmp = inRam ? ramTmpDir() : undefined;
  if (tmp) console.log(`temp folders of this run in RAM: TMPDIR=${tmp}`);
  try {
    return await check(argv, tmp);
  } finally {
    if (tmp) {
      const left = removeRamTmpDir(tmp);
      if (left.length > 0)
        console.log(`${left.length} temp entries the tests left in ${tmp}, removed: ${left.slice(0, 40).join(" ")}`);
    }
  }
}

/** Run the command and check that it left no process behind. */
async function check(argv: string[], tmp: string | undefined): Promise<number> {
  const run = `${process.pid}-${Date.now()}`;
  const linux = linuxCalls();
  const env = { ...process.env, [MARK]: run, ...(tmp ? { TMPDIR: tmp } : {}) };
  const child = Bun.spawn(argv, { env, stdio: ["inherit", "inherit", "inherit"] });
  // Orphans re-parented here become zombies when they exit: reap them (never the command itself, Bun waits for it).
  const reaper = linux
    ? setInterval(() => {
        for (const p of processes(false))
          if (p.state === "Z" && p.ppid === process.pid && p.pid !== child.pid) linux.reap(p.pid);
      }, 500)
    : undefined;
  const code = await child.exited;
  const deadline = Date.now() + GRACE_MS;
  let left = leftovers(run);
  while (left.length > 0 && Date.now() < deadline) {
    await Bun.sleep(100);
    left = leftovers(run);
  }
  clearInterval(reaper);
  if (left.length === 0) {
    console.log(`no process left behind (${linux ? "subreaper" : "environment mark"})`);
    return code;
  }
  console.error(`\n${left.length} process(es) left running after the tests:`);
  for (const p of left) console.error(`  ${p.pid}  ${p.cmd.slice(0, 300)}`);
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // A SIGKILL is delivered, not awaited: wait until each is gone (or a zombie, reaped when it is ours), so "killed"
  // holds when this exits.
  const killedBy = Date.now() + 5_000;
  while (Date.now() < killedBy) {
    const states = new Map(processes(false).map((p) => [p.pid, p]));
    const running = left.filter((p) => {
      const now = states.get(p.pid);
      if (now?.state === "Z" && now.ppid === process.pid) linux?.reap(p.pid);
      return now !== undefined && now.state !== "Z";
    });
    if (running.length === 0) break;
    await Bun.sleep(20);
  }
  return code || 1;
}

process.exit(await main(process.argv.slice(2)));
