/**
 * Process groups that must not outlive this process: the workers flash starts (local pool workers, the emulator's
 * workers) each lead a group (`detached`), which holds the programs they start (`ffmpeg`, a GPU job, the handler a
 * start command runs under `sh -c`). A group is killed when its worker is done, and every group still watched is
 * killed by the reaper once this process is gone, however it went (`kill -9` too).
 *
 * The reaper is one `sh` per process: its stdin is a pipe only this process holds, so it reads end-of-file when this
 * process ends, then kills the groups it was told about. A shell loop of builtins costs about a megabyte, once; a
 * watchdog thread in each worker would cost about five per worker. (The kernel already kills a local pool worker
 * whose server died, `PR_SET_PDEATHSIG` in channel.ts, even one spinning in a loop; not the programs it started.)
 */

const REAPER_SCRIPT =
  'g=" "; t=""; while read -r op pid; do case $op in ' +
  '+) g="$g$pid ";; ' +
  '-) n=" "; for x in $g; do [ "$x" = "$pid" ] || n="$n$x "; done; g=$n;; ' +
  // A temp folder to remove once this process is gone: one per line (read keeps its spaces, not a newline).
  'd) t="$t$pid\n";; ' +
  "esac; done; for x in $g; do kill -9 -$x 2>/dev/null; done; " +
  'printf "$t" | while IFS= read -r x; do rm -rf -- "$x"; done';

let reaper: { write(line: string): void } | null | undefined;

/** Tell the reaper (started on first use): `+` watch a group, `-` it is gone, `d` a folder to remove at the end. */
function toReaper(op: "+" | "-" | "d", arg: number | string): void {
  if (reaper === undefined) reaper = startReaper();
  reaper?.write(`${op} ${arg}\n`);
}

function startReaper(): { write(line: string): void } | null {
  try {
    const proc = Bun.spawn(["sh", "-c", REAPER_SCRIPT], {
      stdin: "pipe",
      stdout: "ignore",
      stderr: "ignore",
      detached: true, // a terminal's Ctrl+C must not stop it before this process has stopped its workers
    });
    proc.unref();
    return {
      write(line) {
        try {
          proc.stdin.write(line);
          proc.stdin.flush();
        } catch {
          // the reaper is gone (killed by hand): workers still stop with their owner, the programs they started may not
        }
      },
    };
  } catch {
    return null; // no `sh`: as above
  }
}

/**
 * A temp folder this process made (the emulator's containers and uploads) that must not outlive it: removed by the
 * reaper once this process is gone, however it went, after its groups are killed. Removing it earlier is fine.
 */
export function removeWhenGone(dir: string): void {
  if (/[\n%\\]/.test(dir)) return; // one line of the reaper's list, printed by printf: a mkdtemp path never has these
  toReaper("d", dir);
}

/** Watch the group a just-started worker leads (`detached`): it is killed if this process dies first. */
export function watchGroup(pgid: number): void {
  toReaper("+", pgid);
}

/** The group a worker led is gone (every process of it exited): the reaper stops watching it. */
export function forgetGroup(pgid: number): void {
  toReaper("-", pgid);
}

/**
 * Signal a worker's whole group: the worker and what it started. Once the worker has exited, `SIGKILL` clears what
 * is left of its group and the reaper forgets it.
 */
export function killGroup(pgid: number, signal: "SIGTERM" | "SIGKILL" = "SIGKILL"): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // no such group: the worker started nothing, or it has all exited
  }
  if (signal === "SIGKILL") toReaper("-", pgid);
}
