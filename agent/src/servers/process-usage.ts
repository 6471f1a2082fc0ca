import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { liveGroupMembers } from '../state/process-identity.js';
import type { ResourceUsage } from './server-runtime.js';

let ticksPerSecond: number | undefined;

/** USER_HZ: the unit of /proc's CPU times (100 on every common Linux, asked once to be sure). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface GroupSample {
  cpuTicks: number;
  rssBytes: number;
  processes: number;
}

/** CPU ticks used so far and resident memory of the live members of a process group (from /proc). */
export function sampleGroup(pgid: number): GroupSample {
  let cpuTicks = 0;
  let rssBytes = 0;
  let processes = 0;
  for (const pid of liveGroupMembers(pgid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 (indexes 11 and 12 after the comm).
      cpuTicks += Number(fields[11]) + Number(fields[12]);
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rssBytes += rss ? Number(rss[1]) * 1024 : 0;
      processes++;
    } catch {
      // It ended while we looked.
    }
  }
  return { cpuTicks, rssBytes, processes };
}

/** Resource use of a process group: CPU over `sampleMs`, memory and processes at its end. */
export async function measureGroup(pgid: number, sampleMs: number): Promise<ResourceUsage> {
  const first = sampleGroup(pgid);
  const startedAt = process.hrtime.bigint();
  await new Promise((wake) => setTimeout(wake, sampleMs));
  const second = sampleGroup(pgid);
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const usedSeconds = Math.max(0, second.cpuTicks - first.cpuTicks) / clockTicksPerSecond();
  return {
    cpuPercent: seconds > 0 ? Math.round((usedSeconds / seconds) * 1000) / 10 : 0,
    rssBytes: second.rssBytes,
    processes: second.processes,
  };
}
