import { readdirSync, readFileSync } from 'node:fs';
import type { JournalledProcess } from './execution-journal.js';

/** Fields of /proc/<pid>/stat after "pid (comm) ", which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The process's start time (field 22, clock ticks since boot), or undefined when it is gone. */
export function readProcessStartTime(pid: number): string | undefined {
  // Fields after the comm start at field 3 (state): field 22 is at index 19.
  return statFields(pid)?.[19];
}

/**
 * True while the process identified by pid *and* start time runs (a zombie counts as gone: it
 * only waits to be reaped). A pid reused by another process has another start time.
 */
export function isProcessRunning(process: JournalledProcess): boolean {
  const fields = statFields(process.pid);
  return fields !== undefined && fields[0] !== 'Z' && fields[19] === process.startTime;
}

/** Live (not zombie) members of the process group `pgid`, read from /proc (Linux). */
export function liveGroupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/**
 * Whether a signal to the group led by this journalled process can only reach that group's
 * processes: the leader is the same process (pid and start time), or it is gone and no other
 * process took its pid (a group id stays in use, and so is not handed out again, while members live).
 */
export function isGroupOurs(process: JournalledProcess): boolean {
  const startTime = readProcessStartTime(process.pid);
  return startTime === undefined || startTime === process.startTime;
}
