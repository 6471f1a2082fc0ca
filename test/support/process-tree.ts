import { readdirSync, readFileSync } from 'node:fs';
import type { ManagedProcess } from './processes.js';

// Processes seen through /proc (Linux), for tests that kill things on purpose, by pid only.

/**
 * kill -9 of a started process and everything in its process group (tsx and the program it runs),
 * as on a crash. Process groups the program detached (an agent's commands) are not touched.
 */
export async function killHard(child: ManagedProcess): Promise<void> {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await child.exited;
}

/** kill -9 of a process group, quietly. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** PIDs of the processes whose command line (arguments joined by spaces) passes `test`. */
export function processesWhere(test: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (test(cmdline)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Every process below `pid` (children, their children…), read from /proc. */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${current}/task/${current}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      // exited meanwhile
    }
    found.push(...children);
    pending.push(...children);
  }
  return found;
}

/** CPU seconds used so far by a process and everything below it (utime + stime from /proc). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const each of [pid, ...descendantsOf(pid)]) {
    try {
      const stat = readFileSync(`/proc/${each}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}
