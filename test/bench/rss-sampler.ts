import { readFileSync } from 'node:fs';

/** Reads a process's resident set size in MiB from /proc (Linux). */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * RSS of the program a launcher started: the processes below `pid` (tsx runs the program in a
 * child Node process), or `pid` itself when it has no children.
 */
export function programRssMiB(pid: number): number {
  const children = childrenOf(pid);
  if (children.length === 0) return rssMiB(pid);
  return children.reduce((sum, child) => sum + programRssMiB(child), 0);
}

/** Samples the RSS of some processes every `intervalMs` and keeps the peak of each. */
export function sampleRss(pids: Record<string, number>, intervalMs = 200) {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((name) => [name, 0]));
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids))
      peak[name] = Math.max(peak[name] ?? 0, programRssMiB(pid) || 0);
  }, intervalMs);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      return peak;
    },
  };
}
